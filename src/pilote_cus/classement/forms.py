"""Forms of the classement pages (DSFR markup); every message is French."""

from typing import Any

from django import forms

from ..comptes.models import Organisme, Utilisateur
from ..conventions.forms import Formulaire
from .grille import Criterion, EnteredParameters

TAILLE_MAX = 5 * 1024 * 1024


ENTREPOT, CSV = "entrepot", "csv"


class CreationForm(Formulaire):
    organisme = forms.ModelChoiceField(queryset=Organisme.objects.none(), label="Organisme")
    grille = forms.FileField(label="Grille de classement (fichier TOML)", help_text="Format .toml, en UTF-8.")
    origine = forms.ChoiceField(
        label="Ensembles à classer",
        choices=[
            (ENTREPOT, "Ensembles de l'entrepôt (RPLS) : dernier instantané importé"),
            (CSV, "Fichier CSV des ensembles"),
        ],
        initial=ENTREPOT,
        widget=forms.RadioSelect,
    )
    ensembles = forms.FileField(
        label="Ensembles immobiliers (fichier CSV)",
        required=False,
        help_text="Seulement pour un fichier CSV. Colonnes : ensemble, depcom, lat, lon, puis les champs bailleur "
        "et saisis utilisés par la grille ; facultatives : nom, classe_forcee et motif_forcage.",
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
        if data.get("origine") == CSV and not data.get("ensembles") and "ensembles" not in self.errors:
            self.add_error("ensembles", "Choisissez le fichier CSV des ensembles.")
        return data


class SaisieForm(Formulaire):
    """One field per criterion entered by hand; the values are checked against the grid by `concertation.saisir`
    (one catalogue of messages for the form and the business function)."""

    def __init__(self, *args: Any, criteres: list[Criterion], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for critere in criteres:
            parametres: EnteredParameters = critere.parameters
            if parametres.valeurs is not None:
                choix = [("", "Non renseigné")] + [(str(i), f"{i} — {v}") for i, v in enumerate(parametres.valeurs)]
                widget: forms.Widget = forms.Select(choices=choix)
                aide = "Niveau constaté."
            else:
                widget = forms.TextInput(attrs={"inputmode": "decimal"})
                aide = f"Un nombre{_bornes(parametres)} ; laissez vide si non renseigné."
            self.fields[critere.nom] = forms.CharField(
                label=critere.libelle, required=False, widget=widget, help_text=aide, max_length=40
            )


def _bornes(parametres: EnteredParameters) -> str:
    if parametres.minimum is not None and parametres.maximum is not None:
        return f" de {parametres.minimum:g} à {parametres.maximum:g}"
    if parametres.minimum is not None:
        return f" supérieur ou égal à {parametres.minimum:g}"
    if parametres.maximum is not None:
        return f" inférieur ou égal à {parametres.maximum:g}"
    return ""


class CommentaireForm(Formulaire):
    ensemble = forms.CharField(widget=forms.HiddenInput)
    critere = forms.ChoiceField(label="Critère concerné", required=False)
    texte = forms.CharField(label="Votre commentaire", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args: Any, criteres: list[dict], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["critere"].choices = [("", "L'ensemble en général")] + [(c["nom"], c["libelle"]) for c in criteres]
