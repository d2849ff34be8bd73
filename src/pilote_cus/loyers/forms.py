"""Forms of the rent pages (DSFR markup); every message is French, numbers accept a decimal comma."""

from datetime import date
from typing import Any, ClassVar

from django import forms
from django.forms import formset_factory

from ..conventions.forms import Formulaire
from .lecture import BASE_LABELS, COLUMN_HELP, HOUSEHOLD_COLUMNS

DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}


class Nombre(forms.FloatField):
    """A number typed the French way (1,05 or 1 200,50) or the English way."""

    widget = forms.TextInput(attrs=DECIMAL)
    default_error_messages: ClassVar[dict[str, Any]] = {"invalid": "Saisissez un nombre (par exemple 1,05)."}

    def to_python(self, value: Any) -> float | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)


def coefficient_field(code: str) -> str:
    return f"coefficient_{code}"


def label_field(code: str) -> str:
    return f"libelle_{code}"


class LoyersMaximauxForm(Formulaire):
    """A coefficient and a label per class of the adopted classement, the authorised masse and the IRL."""

    base = forms.ChoiceField(
        label="Loyer maximal actuel",
        choices=list(BASE_LABELS.items()),
        initial="apl",
        required=False,
        help_text="Le loyer maximal par m² de chaque logement est ce loyer divisé par sa surface (SURFMODE).",
    )
    masse_autorisee = Nombre(
        label="Masse autorisée des loyers maximaux (€ par mois)",
        required=False,
        min_value=0.01,
        help_text="Vide : la masse actuelle des logements simulés.",
    )
    irl_pct = Nombre(
        label="Révision selon l'IRL (%)",
        required=False,
        min_value=-99,
        max_value=100,
        help_text="Variation annuelle de l'indice de référence des loyers, par exemple 3,5. Vide : pas de révision.",
    )
    date_irl = forms.DateField(
        label="Date d'effet de la révision",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Le 1er juillet de l'année en cours si elle est vide.",
    )

    def __init__(self, *args: Any, classes: list[dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.classes = classes
        for c in classes:
            code = str(c["nom"])
            self.fields[coefficient_field(code)] = Nombre(
                label=f"Coefficient de la classe {code}",
                min_value=0.000001,
                max_value=10,
                initial=1.0,
                error_messages={"min_value": "Coefficient strictement positif attendu.", "max_value": "10 au plus."},
            )
            self.fields[label_field(code)] = forms.CharField(
                label=f"Libellé de la classe {code} (LIBSEGPATRIM)",
                max_length=50,
                initial=str(c.get("libelle") or f"Classe {code}")[:50],
            )

    def class_rows(self) -> list[tuple[Any, Any, Any]]:
        return [
            (str(c["nom"]), self[coefficient_field(str(c["nom"]))], self[label_field(str(c["nom"]))])
            for c in self.classes
        ]

    def rule_mapping(self) -> dict[str, dict[str, Any]]:
        data = self.cleaned_data
        return {
            str(c["nom"]): {
                "libelle": data[label_field(str(c["nom"]))],
                "coefficient": data[coefficient_field(str(c["nom"]))],
            }
            for c in self.classes
        }

    def irl_date(self) -> date:
        return self.cleaned_data.get("date_irl") or date(date.today().year, 7, 1)


class SimulationSLSForm(Formulaire):
    menages = forms.FileField(
        label="Fichier des ménages (CSV ou XLSX)",
        help_text="Une ligne par ménage ; colonnes : " + ", ".join(HOUSEHOLD_COLUMNS) + ".",
    )
    annee = forms.IntegerField(
        label="Année de la simulation",
        min_value=2000,
        max_value=2100,
        help_text="Année d'application du SLS : plafonds de ressources et SLR de cette année.",
    )
    a_20_pct = Nombre(
        label="CDPR à 20 % de dépassement",
        min_value=0,
        help_text="Coefficient de dépassement du plafond de ressources au seuil de 20 %.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["annee"].initial = date.today().year + 1


class TrancheForm(Formulaire):
    de = forms.IntegerField(label="De (%)", min_value=0, required=False)
    a = forms.IntegerField(label="À (%)", min_value=0, required=False)
    par_point = Nombre(label="Par point", min_value=0, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = [data.get(k) is not None for k in ("de", "a", "par_point")]
        if any(filled) and not all(filled):
            raise forms.ValidationError("Renseignez les trois valeurs de la tranche, ou aucune.")
        return data


TranchesFormSet = formset_factory(TrancheForm, extra=1, can_delete=True, max_num=20, validate_max=True)


class RetenirForm(Formulaire):
    nom = forms.CharField(label="Nom du barème", max_length=120)
    charge = forms.CharField(widget=forms.HiddenInput)


COLONNES_MENAGES = [(c, COLUMN_HELP[c]) for c in HOUSEHOLD_COLUMNS]
