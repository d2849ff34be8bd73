"""Plausible signed objectives for the synthetic landlord, so the demo shows statuses of every kind.

Shapes follow what signed CUS look like (INDICATORS.md, section D): PS-1 at the legal floor of 25 %
each year, PS-3 at 5 % a year, SR-1 rising over the period; other engagements start from the
landlord's first-year result and move in the catalogue's direction ("hausse": up, "baisse": down),
with a deterministic spread so that some are met, some partly met and some missed. Never present
them as real objectives.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

from .catalogue import Catalogue, Indicator
from .objectifs import Objective
from .service import output_code

FIXED = {"PS-1": 25.0, "PS-3": 5.0}  # % a year, from a signed CUS (SFHE) and the law's floor for PS-1
RISING = {"SR-1": 1.6}  # points a year


def _maille(indicator: Indicator) -> str:
    return indicator.declinaison[0] if indicator.declinaison else "departement"


def synthetic_objectives(
    cat: Catalogue,
    yearly: Sequence[dict[str, Any]],
    cumulated: Sequence[dict[str, Any]],
    first_year: int,
    seed: int,
) -> list[Objective]:
    """Objectives per engagement × territory × year (and at 3 and 6 years for cumulated engagements).

    `yearly` and `cumulated` are result rows (service.compute) of the first years and of the horizons.
    """
    rng = np.random.default_rng(seed)
    by_code = cat.by_code()
    first_values: dict[tuple[str, str, str], float] = {}
    for row in yearly:
        if row["periode"] == str(first_year) and row["valeur"] is not None:
            first_values[(row["code"], row["maille"], row["code_territoire"])] = row["valeur"]
    objectives: list[Objective] = []
    for (code, maille, territory), start in sorted(first_values.items()):
        indicator = _indicator(code, by_code)
        if indicator is None or indicator.parent or maille != _maille(indicator):
            continue
        if indicator.periode == "cumulee":
            continue
        spread = rng.normal(0, 0.08)
        for offset in range(6):
            year = first_year + offset
            target = _target(indicator, code, start, offset, spread)
            objectives.append(Objective(code, maille, territory, str(year), round(target, 2)))
    for row in cumulated:
        indicator = _indicator(row["code"], by_code)
        if indicator is None or indicator.parent or indicator.periode != "cumulee":
            continue
        if row["maille"] != _maille(indicator) or row["valeur"] is None:
            continue
        factor = 1 + rng.normal(0.02, 0.12)
        objectives.append(
            Objective(row["code"], row["maille"], row["code_territoire"], row["periode"], round(row["valeur"] * factor))
        )
    return objectives


def _indicator(code: str, by_code: dict[str, Indicator]) -> Indicator | None:
    if code in by_code:
        return by_code[code]
    for indicator in by_code.values():
        if any(output_code(indicator, v) == code for v in indicator.ventilations):
            return indicator
    return None


def _target(indicator: Indicator, code: str, start: float, offset: int, spread: float) -> float:
    if code in FIXED:
        return FIXED[code]
    if code in RISING:
        return start + RISING[code] * (offset + 1)
    step = 0.02 * (offset + 1)
    trend = step if indicator.sens == "hausse" else -step / 2
    target = start * (1 + trend + spread)
    if indicator.unite == "%":
        target = min(target, 100.0)
    return max(target, 0.0)
