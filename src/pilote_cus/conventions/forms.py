"""Forms of the convention pages (DSFR markup through DsfrBaseForm); every message is French."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from dsfr.forms import DsfrBaseForm

from ..comptes.models import Collectivite, Organisme, Utilisateur
from ..indicateurs.catalogue import MAILLES
from . import engagements, regles
from .models import Appreciation, Convention, Objectif

PDF_MAX_BYTES = 20 * 1024 * 1024


class Formulaire(DsfrBaseForm):
    """DSFR markup, optional fields marked (django-dsfr's future default, without its transition warning)."""

    def get_context(self) -> dict[str, Any]:
        context = forms.Form.get_context(self)
        context["DSFR_MARK_OPTIONAL_FIELDS"] = True
        return context


MAILLE_LABELS = {
    "france": "France",
    "region": "Région",
    "departement": "Département",
    "epci": "EPCI",
    "commune": "Commune",
    "segment": "Segment de patrimoine",
    "bailleur": "Bailleur (tout son parc)",
}
GENERATIONS = [(2, "Deuxième génération et suivantes"), (1, "Première génération (2009)")]


class ConventionForm(Formulaire):
    organisme = forms.ModelChoiceField(queryset=Organisme.objects.none(), label="Organisme")
    titre = forms.CharField(label="Titre", max_length=200)
    generation = forms.TypedChoiceField(label="Génération d'indicateurs", choices=GENERATIONS, coerce=int, initial=2)
    annee_debut = forms.IntegerField(label="Première année des engagements", min_value=2009, max_value=2100)
    collectivites = forms.ModelMultipleChoiceField(
        queryset=Collectivite.objects.order_by("nom"),
        required=False,
        label="Collectivités signataires ou associées",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: Utilisateur, **kwargs: Any):
        super().__init__(*args, **kwargs)
        organismes = user.organismes.all()
        self.fields["organisme"].queryset = organismes
        if organismes.count() == 1:
            self.fields["organisme"].initial = organismes.first()

    @property
    def annee_fin(self) -> int:
        return int(self.cleaned_data["annee_debut"]) + regles.duree_annees() - 1


class SectionForm(Formulaire):
    texte = forms.CharField(label="Texte", required=False, widget=forms.Textarea(attrs={"rows": 14}))


def _number(raw: str, field: str = "valeur") -> float:
    try:
        return engagements.parse_number(raw)
    except ValueError:
        raise forms.ValidationError(f"« {raw} » n'est pas un nombre (exemple : 12,5).", code="nombre") from None


class ObjectifForm(Formulaire):
    code = forms.ChoiceField(label="Indicateur")
    maille = forms.ChoiceField(
        label="Maille", choices=[(m, MAILLE_LABELS.get(m, m)) for m in MAILLES], initial="departement"
    )
    code_territoire = forms.CharField(label="Code du territoire", max_length=40, help_text="Exemple : 69")
    periode = forms.CharField(label="Période", max_length=9, help_text="Une année (2021) ou un cumul (2019-2021)")
    valeur = forms.CharField(label="Objectif", max_length=30, help_text="Nombre ; virgule décimale acceptée")

    def __init__(self, *args: Any, convention: Convention, instance: Objectif | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {**engagements.as_dict(instance), "valeur": str(instance.valeur).replace(".", ",")}
        super().__init__(*args, **kwargs)
        self.convention = convention
        self.instance = instance
        self.fields["code"].choices = engagements.codes(convention.generation)

    def clean_valeur(self) -> float:
        return _number(self.cleaned_data["valeur"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        data["code_territoire"] = data["code_territoire"].strip()
        data["periode"] = data["periode"].strip()
        problems = engagements.check(
            self.convention, data["code"], data["maille"], data["code_territoire"], data["periode"], data["valeur"]
        )
        if problems:
            for field, message in problems.items():
                self.add_error(field, message)
            return data
        fields = ("code", "maille", "code_territoire", "periode")
        duplicates = Objectif.objects.filter(convention=self.convention, **{f: data[f] for f in fields})
        if self.instance is not None:
            duplicates = duplicates.exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise forms.ValidationError("Cet engagement existe déjà (même indicateur, territoire et période).")
        return data


class ClasseurForm(Formulaire):
    fichier = forms.FileField(label="Classeur des engagements (XLSX)", help_text="Le modèle téléchargé, rempli")

    def clean_fichier(self) -> UploadedFile:
        upload = self.cleaned_data["fichier"]
        head = upload.read(4)
        upload.seek(0)
        if head != b"PK\x03\x04":
            raise forms.ValidationError("Ce fichier n'est pas un classeur XLSX : utilisez le modèle téléchargé.")
        return upload


class CommentaireForm(Formulaire):
    cible = forms.ChoiceField(label="Sujet", required=False)
    texte = forms.CharField(label="Commentaire", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    demande_modification = forms.BooleanField(label="Demande de modification", required=False)

    def __init__(self, *args: Any, cibles: list[tuple[str, str]], etat: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["cible"].choices = cibles
        if not etat:
            del self.fields["demande_modification"]


class ReponseForm(Formulaire):
    reponse_a = forms.IntegerField(widget=forms.HiddenInput)
    texte = forms.CharField(label="Réponse du bailleur", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class SignataireForm(Formulaire):
    nom = forms.CharField(label="Nom", max_length=120)
    qualite = forms.CharField(label="Qualité", max_length=160, help_text="Exemple : Préfète de la région")
    organisation = forms.CharField(label="Organisation", max_length=200)
    date_signature = forms.DateField(
        label="Date de signature",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": "Date attendue au format jj/mm/aaaa."},
    )


class PdfSigneForm(Formulaire):
    pdf = forms.FileField(label="Convention signée (PDF, 20 Mo au plus)")

    def clean_pdf(self) -> UploadedFile:
        upload = self.cleaned_data["pdf"]
        if upload.size > PDF_MAX_BYTES:
            raise forms.ValidationError("Le fichier dépasse 20 Mo : réduisez-le avant de le déposer.")
        head = upload.read(4)
        upload.seek(0)
        if head != b"%PDF":
            raise forms.ValidationError("Ce fichier n'est pas un PDF : déposez la convention signée au format PDF.")
        return upload


class AvisEtatForm(Formulaire):
    avis_etat = forms.ChoiceField(label="Avis de l'État", choices=[("", "—"), *Appreciation.AVIS], required=False)
    commentaire_etat = forms.CharField(
        label="Commentaire de l'État", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExplicationForm(Formulaire):
    explication_bailleur = forms.CharField(
        label="Explication du bailleur", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExonerationForm(Formulaire):
    exoneration_tfpb = forms.CharField(
        label="Exonération de TFPB de la dernière année (€)", required=False, max_length=20
    )

    def clean_exoneration_tfpb(self) -> Decimal | None:
        raw = self.cleaned_data["exoneration_tfpb"].strip()
        if not raw:
            return None
        try:
            value = Decimal(str(engagements.parse_number(raw)))
        except (ValueError, InvalidOperation):
            raise forms.ValidationError(f"« {raw} » n'est pas un montant (exemple : 125 000,50).") from None
        if value < 0:
            raise forms.ValidationError("Le montant ne peut pas être négatif.")
        return value.quantize(Decimal("0.01"))
