"""The catalogue of CUS indicators, one TOML declaration per indicator (catalogue/g1, catalogue/g2).

Each declaration carries the regulatory description (code, generation, policy, engagement, label,
definition, numerator, denominator, unit, period, declination, direction, legal reference, certainty)
and one SQL query, in DuckDB's dialect, over the warehouse views:

- `parc`: the RPLS stock, one row per dwelling and vintage, `annee` = the vintage (stock at 1 January);
- one view per event schema (`operations`, `attributions`, `vacances`…), see evenements/schemas.

The query returns the indicator at its finest grain, with exactly the columns of BASE_COLUMNS; the
engine rolls it up to every territory and period. Loading checks every declaration: fields, units,
that the SQL parses, reads only known tables and columns, and returns the expected columns; an error
names the file, the indicator and the faulty field or column.
"""

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.qualify import qualify

from ..declarations import DeclarationError, describe
from ..evenements.schema import event_schemas
from ..patrimoine.import_rpls import DERIVED_TYPES as RPLS_DERIVED_TYPES
from ..patrimoine.import_rpls import SQL_TYPES as RPLS_TYPES
from ..patrimoine.schema import rpls_schema

CATALOGUE_VERSION = "2026.11-1"
# The stock counted once by the characteristics most indicators use: the view `parc_agrege` (one row per
# combination, `logements` = dwellings). Indicators that need the dwelling itself read `parc`.
STOCK_CUBE = (
    "annee",
    "organisme_id",
    "depcom",
    "departement",
    "codsegpatrim",
    "en_stock",
    "en_qpv",
    "dpeenergie",
    "pmr",
    "mode",
)
BASE_COLUMNS = (
    "annee",
    "organisme",
    "depcom",
    "departement",
    "segment",
    "ventilation",
    "numerateur",
    "denominateur",
)
UNITS = {
    "%": "pourcentage (numérateur / dénominateur × 100)",
    "logements": "nombre de logements (numérateur seul)",
    "places": "nombre de places (numérateur seul)",
    "attributions": "nombre d'attributions (numérateur seul)",
    "€ HT par logement": "euros hors taxes par logement (numérateur / dénominateur)",
    "pannes par équipement": "pannes par équipement et par an (numérateur / dénominateur)",
    "logements par gardien": "logements par gardien en équivalent temps plein (numérateur / dénominateur)",
}
COUNT_UNITS = ("logements", "places", "attributions")
POLICIES = ("patrimoniale", "sociale", "qualite_de_service", "gestion")
MAILLES = ("france", "region", "departement", "epci", "commune", "segment", "bailleur")
# Engine only (the published dashboards, not the command line): one landlord in one département, territory
# code "<organisme>|<departement>", computed in the same pass as the other mailles.
ENGINE_MAILLES = (*MAILLES, "bailleur_departement")

Certainty = Literal["verifie", "a_confirmer"]
CERTAINTY_LABELS = {"verifie": "vérifié", "a_confirmer": "à confirmer"}
POLICY_LABELS = {
    "patrimoniale": "Politique patrimoniale",
    "sociale": "Politique sociale",
    "qualite_de_service": "Qualité du service rendu",
    "gestion": "Performance de gestion",
}
DIRECTION_LABELS = {"hausse": "plus haut est mieux", "baisse": "plus bas est mieux"}


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    generation: Literal[1, 2]
    politique: Literal["patrimoniale", "sociale", "qualite_de_service", "gestion"]
    engagement: str
    libelle: str
    definition: str
    numerateur: str
    denominateur: str | None = None
    unite: str
    periode: Literal["annuelle", "cumulee"]  # how the objective is set: per year, or at 3 and 6 years
    declinaison: tuple[Literal["departement", "epci", "segment", "bailleur"], ...]
    sens: Literal["hausse", "baisse"]  # "hausse": higher is better
    tolerance: float = 0.1  # relative gap still counted as "partiellement atteint"
    # Σnum/Σden over the years ("somme"), or Σnum over the den of the first year ("premiere_annee", shares of
    # an initial stock, e.g. dwellings renovated over 6 years among the stock at the start)
    cumul: Literal["somme", "premiere_annee"] = "somme"
    ventilations: dict[str, str] = {}  # value of the ventilation column → label
    total: bool = True  # also publish the sum over ventilations
    parent: str | None = None  # a share attached to another indicator (e.g. its part outside QPV)
    optionnel: bool = False
    reference: str
    certitude: Certainty
    note: str | None = None
    sql: str

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not value or value != value.strip().upper() or " " in value:
            raise ValueError("code attendu en majuscules, sans espace (ex. G1-A1, PP-1)")
        return value

    @field_validator("unite")
    @classmethod
    def _unit(cls, value: str) -> str:
        if value not in UNITS:
            raise ValueError(f"unité inconnue « {value} » (attendu : {', '.join(UNITS)})")
        return value

    @field_validator("tolerance")
    @classmethod
    def _tolerance(cls, value: float) -> float:
        if not 0 <= value < 1:
            raise ValueError("tolérance attendue entre 0 et 1 (écart relatif)")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> "Indicator":
        if self.unite in COUNT_UNITS and self.denominateur:
            raise ValueError(f"une unité « {self.unite} » se compte sans dénominateur")
        if self.unite not in COUNT_UNITS and not self.denominateur:
            raise ValueError(f"l'unité « {self.unite} » demande un dénominateur")
        return self

    @property
    def is_count(self) -> bool:
        return self.unite in COUNT_UNITS

    @property
    def scale(self) -> float:
        return 100.0 if self.unite == "%" else 1.0

    @property
    def to_confirm(self) -> bool:
        return self.certitude == "a_confirmer"


@dataclass(frozen=True)
class Catalogue:
    version: str
    indicators: tuple[Indicator, ...]

    def generation(self, generation: int) -> list[Indicator]:
        return [i for i in self.indicators if i.generation == generation]

    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}


@cache
def tables_read(sql: str) -> frozenset[str]:
    """Tables a query reads (its own WITH names excepted)."""
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return frozenset(t.name for t in tree.find_all(exp.Table) if t.name) - ctes


def warehouse_schema() -> dict[str, dict[str, str]]:
    """Table → column → SQL type of every view an indicator may read."""
    parc = {c.field: RPLS_TYPES.get(c.type, "VARCHAR") for c in rpls_schema().colonnes}
    parc.update(RPLS_DERIVED_TYPES)
    parc["annee"] = "SMALLINT"
    tables = {"parc": parc, "parc_agrege": {c: parc[c] for c in STOCK_CUBE} | {"logements": "BIGINT"}}
    for name, schema in event_schemas().items():
        tables[name] = schema.stored_columns()
    return tables


def check_sql(indicator: Indicator, source: str, schema: dict[str, dict[str, str]]) -> None:
    """Raise DeclarationError if the SQL of `indicator` is not a valid base query over `schema`."""
    where = f"{source} : indicateur {indicator.code} : sql"
    try:
        tree = sqlglot.parse_one(indicator.sql, dialect="duckdb")
    except ParseError as error:
        raise DeclarationError(f"{where} : requête illisible : {error}") from None
    if not isinstance(tree, exp.Query):
        raise DeclarationError(f"{where} : une requête SELECT est attendue")
    for name in sorted(tables_read(indicator.sql)):
        if name not in schema:
            known = ", ".join(sorted(schema))
            raise DeclarationError(f"{where} : table inconnue « {name} » (tables connues : {known})")
    try:
        qualified = qualify(tree.copy(), schema=dict(schema), dialect="duckdb", validate_qualify_columns=True)
    except OptimizeError as error:
        message = str(error).split(". Line:")[0]
        if message.startswith("Column '"):
            name = message.split("'")[1]
            message = f"colonne inconnue « {name} » (absente des tables lues : {', '.join(sorted(schema))})"
        raise DeclarationError(f"{where} : {message}") from None
    names = tuple(qualified.named_selects) if isinstance(qualified, exp.Query) else ()
    if names != BASE_COLUMNS:
        raise DeclarationError(
            f"{where} : colonnes renvoyées {', '.join(names)} ; attendu, dans cet ordre : {', '.join(BASE_COLUMNS)}"
        )


def parse_indicator(text: str, source: str, schema: dict[str, dict[str, str]] | None = None) -> Indicator:
    try:
        indicator = Indicator.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise DeclarationError(f"{source} : TOML illisible : {error}") from None
    except ValidationError as error:
        raise DeclarationError(f"{source} : déclaration invalide : {describe(error)}") from None
    check_sql(indicator, source, schema or warehouse_schema())
    return indicator


def _files(folder: Traversable | Path) -> list[Traversable | Path]:
    found: list[Traversable | Path] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found += _files(entry)
        elif entry.name.endswith(".toml"):
            found.append(entry)
    return found


def load_catalogue(folder: Traversable | Path | None = None, version: str = CATALOGUE_VERSION) -> Catalogue:
    root = folder or resources.files(__package__).joinpath("catalogue")
    schema = warehouse_schema()
    indicators: list[Indicator] = []
    seen: dict[str, str] = {}
    for entry in _files(root):
        source = f"catalogue/{entry.name}"
        indicator = parse_indicator(entry.read_text(encoding="utf-8"), source, schema)
        if indicator.code in seen:
            raise DeclarationError(f"{source} : code {indicator.code} déjà déclaré dans {seen[indicator.code]}")
        if entry.name.removesuffix(".toml") != indicator.code:
            raise DeclarationError(f"{source} : le fichier doit s'appeler {indicator.code}.toml")
        seen[indicator.code] = source
        indicators.append(indicator)
    codes = {i.code for i in indicators}
    for indicator in indicators:
        if indicator.parent and indicator.parent not in codes:
            raise DeclarationError(f"catalogue/{indicator.code}.toml : parent inconnu « {indicator.parent} »")
    return Catalogue(version, tuple(ordered(indicators)))


def ordered(indicators: list[Indicator]) -> list[Indicator]:
    """Generation, then code, each share right after the indicator it belongs to."""
    result: list[Indicator] = []
    for parent in sorted((i for i in indicators if not i.parent), key=lambda i: (i.generation, i.code)):
        result.append(parent)
        result += sorted((i for i in indicators if i.parent == parent.code), key=lambda i: i.code)
    return result + [i for i in indicators if i not in result]


@cache
def catalogue() -> Catalogue:
    return load_catalogue()
