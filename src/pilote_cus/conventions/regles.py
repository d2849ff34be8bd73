"""Regulatory parameters of the convention, read from the data files of this package."""

import tomllib
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


@cache
def duree_annees() -> int:
    return int(_toml("echeances.toml")["convention"]["duree_annees"])


@cache
def horizons() -> tuple[int, ...]:
    return tuple(int(h) for h in _toml("echeances.toml")["convention"]["horizons_evaluation"])


@cache
def plafond_par_logement() -> Decimal:
    return Decimal(str(_toml("sanctions.toml")["plafond_par_logement_euros"]))


def periode_horizon(annee_debut: int, horizon: int) -> str:
    """The cumulated period an evaluation at `horizon` years looks at (2019, 3 → 2019-2021)."""
    return f"{annee_debut}-{annee_debut + horizon - 1}"


def plafond_penalite(logements: int | None, exoneration_tfpb: Decimal | None) -> Decimal | None:
    """100 € per dwelling plus the last year's TFPB exemption; None while a term is unknown."""
    if logements is None or exoneration_tfpb is None:
        return None
    return plafond_par_logement() * logements + exoneration_tfpb
