"""Schemas of the event files, declared as data in schemas/<nom>.toml and validated when loaded.

The schema is the contract between the importers (which validate a landlord's file against it), the
warehouse (one Parquet table `<nom>.parquet` per snapshot, columns named and typed as declared, plus the
derived columns `annee` and `departement`) and the indicator catalogue (whose SQL may only read declared
columns: the catalogue loader checks it).
"""

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from ..declarations import parse

ColumnType = Literal["texte", "entier", "decimal", "annee", "date", "booleen", "code", "commune", "departement"]
SQL_TYPES: dict[str, str] = {
    "texte": "VARCHAR",
    "entier": "INTEGER",
    "decimal": "DOUBLE",
    "annee": "SMALLINT",
    "date": "DATE",
    "booleen": "BOOLEAN",
    "code": "VARCHAR",
    "commune": "VARCHAR",
    "departement": "VARCHAR",
}
# Columns every stored event table gets in addition to the declared ones.
DERIVED: dict[str, str] = {"annee": "SMALLINT", "departement": "VARCHAR"}


class EventColumn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nom: str
    libelle: str
    type: ColumnType
    longueur_max: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    codes: tuple[str, ...] = ()
    obligatoire: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> "EventColumn":
        if self.nom != self.nom.lower() or not self.nom.replace("_", "").isalnum():
            raise ValueError(f"{self.nom} : nom de colonne attendu en minuscules sans accent (lettres, chiffres, _)")
        if self.type == "code" and not self.codes:
            raise ValueError(f"{self.nom} : un champ de type code doit lister ses codes")
        if self.codes and self.type != "code":
            raise ValueError(f"{self.nom} : seule une colonne de type code peut lister des codes")
        return self

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


class EventSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nom: str
    libelle: str
    description: str
    nature: Literal["evenements", "registre"] = "evenements"
    # column giving the year an event belongs to (a date or a year); none for a register
    date_reference: str | None = None
    cle: tuple[str, ...] = ()  # columns whose combination must be unique in a file
    colonnes: tuple[EventColumn, ...]

    @model_validator(mode="after")
    def _coherent(self) -> "EventSchema":
        names = [c.nom for c in self.colonnes]
        if len(set(names)) != len(names):
            raise ValueError("nom de colonne déclaré deux fois")
        if "organisme" not in names:  # indicators are computed landlord by landlord (and filtered by landlord)
            raise ValueError("organisme : colonne à déclarer dans tout fichier d'événements")
        for name in (*self.cle, *([self.date_reference] if self.date_reference else [])):
            if name not in names:
                raise ValueError(f"{name} : colonne citée mais non déclarée")
        if self.nature == "evenements":
            if not self.date_reference:
                raise ValueError("date_reference : obligatoire pour un fichier d'événements")
            if self.by_name()[self.date_reference].type not in ("date", "annee"):
                raise ValueError(f"{self.date_reference} : la date de référence doit être de type date ou annee")
        return self

    def by_name(self) -> dict[str, EventColumn]:
        return {c.nom: c for c in self.colonnes}

    def stored_columns(self) -> dict[str, str]:
        """Name → SQL type of every column of the stored table, derived ones included."""
        columns = {c.nom: c.sql_type for c in self.colonnes}
        for name, sql_type in DERIVED.items():
            columns.setdefault(name, sql_type)
        return columns

    @property
    def table(self) -> str:
        return self.nom


def parse_event_schema(text: str, source: str) -> EventSchema:
    return parse(EventSchema, text, source)


@cache
def event_schemas() -> dict[str, EventSchema]:
    """Every shipped event schema, by name (the name used by `cus importer NAME`)."""
    folder = resources.files(__package__).joinpath("schemas")
    schemas = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            schema = parse_event_schema(entry.read_text(encoding="utf-8"), f"schemas/{entry.name}")
            if schema.nom != entry.name.removesuffix(".toml"):
                raise ValueError(f"schemas/{entry.name} : le nom déclaré ({schema.nom}) diffère du nom du fichier")
            schemas[schema.nom] = schema
    return schemas
