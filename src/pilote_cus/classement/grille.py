"""The classement grid as data: a TOML declaration validated on load.

A grid has a version, validity dates, criteria (source, parameters, scale, weight) and class thresholds on the
total score. Every error names the file, the line, the criterion and the field, in French.
"""

import math
import re
import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

Source = Literal["bpe", "arrets", "qpv", "bailleur", "saisie"]
LANDLORD_FIELDS = {
    "ascenseur": "ascenseur",
    "etiquette_dpe": "étiquette DPE",
    "annee_construction": "année de construction",
    "taux_vacance": "taux de vacance",
    "taux_rotation": "taux de rotation",
    "reclamations_par_logement": "réclamations par logement",
}
SHIPPED_GRID = "grille_type.toml"
_STRICT = ConfigDict(extra="forbid")


class GrilleError(ValueError):
    """An invalid grid; the message lists every problem with file, line, criterion and field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source} : grille invalide :\n" + "\n".join(f"- {p}" for p in problems))


class BpeParameters(BaseModel):
    model_config = _STRICT
    types: list[str] = Field(min_length=1)
    perimetre: Literal["commune", "iris"] = "commune"


class StopsParameters(BaseModel):
    model_config = _STRICT
    distance_m: float = Field(gt=0, le=5000)


class QpvParameters(BaseModel):
    model_config = _STRICT


class LandlordParameters(BaseModel):
    model_config = _STRICT
    champ: Literal[
        "ascenseur",
        "etiquette_dpe",
        "annee_construction",
        "taux_vacance",
        "taux_rotation",
        "reclamations_par_logement",
    ]


class EnteredParameters(BaseModel):
    """A value entered by hand: either one of the labelled levels `valeurs` (the value is the level's rank,
    0 for the first), or a number between the optional `minimum` and `maximum`."""

    model_config = _STRICT
    champ: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    valeurs: list[str] | None = Field(default=None, min_length=2)
    minimum: float | None = None
    maximum: float | None = None

    def check(self, raw: Any) -> float:
        """The entered value as a number, or a `ValueError` with a French message naming the allowed values."""
        try:
            number = float(str(raw).strip().replace(",", "."))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"valeur non numérique « {raw} »{self._allowed()}")
        if self.valeurs is not None and (not number.is_integer() or not 0 <= number < len(self.valeurs)):
            raise ValueError(f"valeur « {raw} » hors du barème{self._allowed()}")
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            raise ValueError(f"valeur « {raw} » hors du barème{self._allowed()}")
        return number

    def label(self, value: float) -> str:
        shown = str(int(value)) if value.is_integer() else f"{value:g}".replace(".", ",")
        if self.valeurs is not None and value.is_integer() and 0 <= value < len(self.valeurs):
            return f"{shown} ({self.valeurs[int(value)]})"
        return shown

    def _allowed(self) -> str:
        if self.valeurs is not None:
            return " (attendu : " + ", ".join(f"{i} = {v}" for i, v in enumerate(self.valeurs)) + ")"
        if self.minimum is not None and self.maximum is not None:
            return f" (attendu : un nombre de {self.minimum:g} à {self.maximum:g})"
        if self.minimum is not None:
            return f" (attendu : un nombre supérieur ou égal à {self.minimum:g})"
        if self.maximum is not None:
            return f" (attendu : un nombre inférieur ou égal à {self.maximum:g})"
        return " (attendu : un nombre)"


PARAMETERS: dict[str, type[BaseModel]] = {
    "bpe": BpeParameters,
    "arrets": StopsParameters,
    "qpv": QpvParameters,
    "bailleur": LandlordParameters,
    "saisie": EnteredParameters,
}


class Scale(BaseModel):
    """`croissant`: value ≥ threshold earns its points; `decroissant`: value ≤ threshold earns its points."""

    model_config = _STRICT
    sens: Literal["croissant", "decroissant"]
    seuils: list[float] = Field(min_length=1)
    points: list[float] = Field(min_length=1)
    points_sinon: float = 0.0

    def apply(self, value: float) -> float:
        if self.sens == "croissant":
            earned = [p for s, p in zip(self.seuils, self.points, strict=True) if value >= s]
            return earned[-1] if earned else self.points_sinon
        earned = [p for s, p in zip(self.seuils, self.points, strict=True) if value <= s]
        return earned[0] if earned else self.points_sinon

    @property
    def maximum(self) -> float:
        return max([*self.points, self.points_sinon])


class Criterion(BaseModel):
    model_config = _STRICT
    nom: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    libelle: str = Field(min_length=1)
    source: Source
    parametres: dict[str, Any] = Field(default_factory=dict)
    bareme: Scale
    poids: float
    _parameters: BaseModel | None = PrivateAttr(default=None)

    @property
    def parameters(self) -> Any:
        return self._parameters


class GradeClass(BaseModel):
    model_config = _STRICT
    nom: str = Field(min_length=1)
    libelle: str = Field(min_length=1)
    score_min: float


class Grid(BaseModel):
    model_config = _STRICT
    version: str = Field(min_length=1)
    nom: str = Field(min_length=1)
    valide_du: date
    valide_au: date
    criteres: list[Criterion] = Field(min_length=1)
    classes: list[GradeClass] = Field(min_length=2)

    @property
    def maximum_score(self) -> float:
        return sum(c.bareme.maximum * c.poids for c in self.criteres)

    def class_for(self, total: float) -> str:
        reached = [c.nom for c in self.classes if total >= c.score_min]
        return reached[-1]

    def criterion(self, name: str) -> Criterion:
        return next(c for c in self.criteres if c.nom == name)


def _line(text: str, table: str | None, index: int | None, field: str) -> int | None:
    """Best-effort line number of `field` inside the `index`-th `[[table]]` block (or at the top level)."""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if re.match(r"^\s*\[\[?[\w.]+\]\]?\s*(#.*)?$", line)]
    if table is None or index is None:
        start, stop = 0, headers[0] if headers else len(lines)
    else:
        starts = [i for i in headers if re.match(rf"^\s*\[\[{table}\]\]", lines[i])]
        if index >= len(starts):
            return None
        start = starts[index]
        following = [i for i in headers if i > start and not re.match(rf"^\s*\[{table}\.", lines[i])]
        stop = following[0] if following else len(lines)
    parts = field.split(".")
    key = parts[-1]
    for i in range(start, stop):
        if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]) or re.match(
            rf"^\s*\[{table}\.{re.escape(key)}\]", lines[i]
        ):
            return i + 1
    return start + 1 if table else None


_KINDS = {
    "extra_forbidden": "clé inconnue",
    "missing": "champ obligatoire absent",
    "too_short": "liste vide ou trop courte",
    "string_pattern_mismatch": "nom invalide (minuscules, chiffres et « _ », commençant par une lettre)",
    "greater_than": "doit être strictement positif",
    "less_than_equal": "valeur trop grande",
}


def _where(source_text: str, loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] in ("criteres", "classes") and isinstance(loc[1], int):
        table, index = str(loc[0]), loc[1]
        field = ".".join(str(p) for p in loc[2:]) or table
        items = raw.get(table) or []
        name = items[index].get("nom", f"n° {index + 1}") if index < len(items) else f"n° {index + 1}"
        kind = "critère" if table == "criteres" else "classe"
        line = _line(source_text, table, index, field)
        return (
            f"ligne {line}, {kind} « {name} », champ « {field} »" if line else f"{kind} « {name} », champ « {field} »"
        )
    field = ".".join(str(p) for p in loc) or "(racine)"
    line = _line(source_text, None, None, field)
    return f"ligne {line}, champ « {field} »" if line else f"champ « {field} »"


def _describe(item: Any) -> str:
    kind = item["type"]
    if kind == "literal_error":
        return f"valeur non admise « {item['input']} » (attendu : {item['ctx']['expected']})"
    if kind in _KINDS:
        return _KINDS[kind]
    return f"valeur invalide « {item.get('input')} » ({item['msg']})"


def _structure_problems(
    error: ValidationError, text: str, raw: dict[str, Any], prefix: tuple[Any, ...] = ()
) -> list[str]:
    return [f"{_where(text, prefix + tuple(item['loc']), raw)} : {_describe(item)}" for item in error.errors()]


def _criterion_problems(grid: Grid, text: str, raw: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    measured: dict[str, str] = {}

    def report(index: int, field: str, message: str) -> None:
        problems.append(f"{_where(text, ('criteres', index, *field.split('.')), raw)} : {message}")

    for index, criterion in enumerate(grid.criteres):
        if criterion.nom in seen:
            report(index, "nom", "critère déjà déclaré plus haut dans la grille")
        seen[criterion.nom] = criterion.libelle
        try:
            criterion._parameters = PARAMETERS[criterion.source].model_validate(criterion.parametres)
        except ValidationError as error:
            problems += _structure_problems(error, text, raw, ("criteres", index, "parametres"))
        else:
            what = f"{criterion.source}:{sorted(criterion.parametres.items())}"
            if what in measured:
                report(index, "parametres", f"mesure la même chose que le critère « {measured[what]} »")
            measured[what] = criterion.nom
            entered = criterion._parameters
            if isinstance(entered, EnteredParameters):
                if entered.valeurs is not None and (entered.minimum is not None or entered.maximum is not None):
                    report(
                        index, "parametres.valeurs", "donnez soit des valeurs nommées, soit un minimum et un maximum"
                    )
                if entered.minimum is not None and entered.maximum is not None and entered.maximum <= entered.minimum:
                    report(index, "parametres.maximum", "doit être strictement supérieur au minimum")
            if isinstance(criterion._parameters, BpeParameters):
                for code in criterion._parameters.types:
                    if not re.fullmatch(r"[A-G]\d{3}", code):
                        report(index, "parametres.types", f"code d'équipement BPE invalide « {code} » (ex. D201)")
        if criterion.poids <= 0:
            report(index, "poids", f"doit être strictement positif (reçu {criterion.poids:g})")
        scale = criterion.bareme
        if len(scale.seuils) != len(scale.points):
            report(index, "bareme.points", f"{len(scale.points)} points pour {len(scale.seuils)} seuils")
        if any(b <= a for a, b in zip(scale.seuils, scale.seuils[1:], strict=False)):
            report(index, "bareme.seuils", "les seuils doivent être strictement croissants")
        if any(p < 0 for p in [*scale.points, scale.points_sinon]):
            report(index, "bareme.points", "les points ne peuvent pas être négatifs")
        steps = list(zip(scale.points, scale.points[1:], strict=False))
        if scale.sens == "croissant" and any(b < a for a, b in steps):
            report(index, "bareme.points", "barème croissant : les points ne peuvent pas diminuer d'un seuil à l'autre")
        if scale.sens == "decroissant" and any(b > a for a, b in steps):
            report(
                index, "bareme.points", "barème décroissant : les points ne peuvent pas augmenter d'un seuil à l'autre"
            )
    return problems


def _grid_problems(grid: Grid, text: str, raw: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if grid.valide_au <= grid.valide_du:
        problems.append(f"{_where(text, ('valide_au',), raw)} : doit être postérieure à valide_du ({grid.valide_du})")
    names = [c.nom for c in grid.classes]
    for index, grade in enumerate(grid.classes):
        if grade.nom in names[:index]:
            problems.append(f"{_where(text, ('classes', index, 'nom'), raw)} : classe déjà déclarée")
    thresholds = [c.score_min for c in grid.classes]
    if thresholds[0] != 0:
        problems.append(f"{_where(text, ('classes', 0, 'score_min'), raw)} : la première classe doit commencer à 0")
    for index in range(1, len(thresholds)):
        if thresholds[index] <= thresholds[index - 1]:
            problems.append(
                f"{_where(text, ('classes', index, 'score_min'), raw)} : les seuils de classe doivent être "
                "strictement croissants (de la classe la moins bien notée à la mieux notée)"
            )
    if not problems and thresholds[-1] > grid.maximum_score:
        problems.append(
            f"{_where(text, ('classes', len(thresholds) - 1, 'score_min'), raw)} : seuil {thresholds[-1]:g} "
            f"inatteignable (score maximal de la grille : {grid.maximum_score:g})"
        )
    return problems


def parse_grid(text: str, source: str) -> Grid:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise GrilleError(source, [f"TOML illisible : {error}"]) from None
    try:
        grid = Grid.model_validate(raw)
    except ValidationError as error:
        raise GrilleError(source, _structure_problems(error, text, raw)) from None
    problems = _criterion_problems(grid, text, raw)
    if not problems:
        problems = _grid_problems(grid, text, raw)
    if problems:
        raise GrilleError(source, problems)
    return grid


def load_grid(path: Path) -> Grid:
    """Load and validate a grid file; `grid.version` says which version was read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise GrilleError(str(path), [f"fichier illisible ({error.strerror or error})"]) from None
    return parse_grid(text, str(path))


def shipped_grid() -> Grid:
    """The example grid shipped with the product (`classement/grilles/grille_type.toml`)."""
    text = resources.files("pilote_cus.classement").joinpath("grilles", SHIPPED_GRID).read_text(encoding="utf-8")
    return parse_grid(text, f"grilles/{SHIPPED_GRID}")
