"""The RPLS register schema, declared in rpls_schema.toml and validated when loaded."""

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from ..declarations import DeclarationError, load, parse

ColumnType = Literal["texte", "entier", "decimal", "annee", "mois_annee", "code", "commune", "qpv"]


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nom: str
    libelle: str
    type: ColumnType
    position: int | None = None
    longueur_max: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    codes: tuple[str, ...] = ()
    non_applicable: tuple[str, ...] = ()
    colonne_obligatoire: bool = False
    valeur_obligatoire: bool = False
    unique: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> "Column":
        if self.type == "code" and not self.codes:
            raise ValueError(f"{self.nom} : un champ de type code doit lister ses codes")
        if self.codes and self.type != "code":
            raise ValueError(f"{self.nom} : seule une colonne de type code peut lister des codes")
        return self

    @property
    def field(self) -> str:
        """Name of the column in the warehouse."""
        return self.nom.lower()


class RplsSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nombre_champs_transmission: int
    colonnes: tuple[Column, ...]

    @model_validator(mode="after")
    def _unique(self) -> "RplsSchema":
        names = [c.nom for c in self.colonnes]
        positions = [c.position for c in self.colonnes if c.position is not None]
        if len(set(names)) != len(names):
            raise ValueError("nom de colonne déclaré deux fois")
        if len(set(positions)) != len(positions):
            raise ValueError("position de transmission déclarée deux fois")
        if any(p < 1 or p > self.nombre_champs_transmission for p in positions):
            raise ValueError("position de transmission hors du nombre de champs")
        return self

    def by_name(self) -> dict[str, Column]:
        return {c.nom: c for c in self.colonnes}

    def transmission_names(self) -> list[str]:
        """Field names of the transmission layout, in order; undocumented positions get CHAMP_NN."""
        named = {c.position: c.nom for c in self.colonnes if c.position is not None}
        return [named.get(p, f"CHAMP_{p:02d}") for p in range(1, self.nombre_champs_transmission + 1)]


SchemaError = DeclarationError


def parse_schema(text: str, source: str) -> RplsSchema:
    return parse(RplsSchema, text, source)


@cache
def rpls_schema() -> RplsSchema:
    return load(RplsSchema, __package__, "rpls_schema.toml")
