"""Forms of the classement pages (DSFR markup); every message is French."""

from typing import Any

from django import forms

from ..comptes.models import Organisme, Utilisateur
from ..conventions.forms import Formulaire

TAILLE_MAX = 5 * 1024 * 1024


class CreationForm(Formulaire):
    organisme = forms.ModelChoiceField(queryset=Organisme.objects.none(), label="Organisme")
    grille = forms.FileField(label="Grille de classement (fichier TOML)", help_text="Format .toml, en UTF-8.")
    ensembles = forms.FileField(
        label="Ensembles immobiliers (fichier CSV)",
        help_text="Colonnes : ensemble, depcom, lat, lon, puis les champs bailleur et saisis utilisés par la "
        "grille ; facultatives : classe_forcee et motif_forcage.",
    )

    def __init__(self, *args: Any, user: Utilisateur, **kwargs: Any):
        super().__init__(*args, **kwargs)
        organismes = user.organismes.all()
        self.fields["organisme"].queryset = organismes
        if organismes.count() == 1:
            self.fields["organisme"].initial = organismes.first()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for champ in ("grille", "ensembles"):
            fichier = data.get(champ)
            if fichier is not None and fichier.size > TAILLE_MAX:
                self.add_error(champ, "Fichier trop volumineux (5 Mo au plus).")
        return data


class CommentaireForm(Formulaire):
    ensemble = forms.CharField(widget=forms.HiddenInput)
    critere = forms.ChoiceField(label="Critère concerné", required=False)
    texte = forms.CharField(label="Votre commentaire", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args: Any, criteres: list[dict], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["critere"].choices = [("", "L'ensemble en général")] + [(c["nom"], c["libelle"]) for c in criteres]
