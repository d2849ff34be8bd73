"""Supplément de loyer de solidarité for one household: national scale or the landlord's CUS modulation.

Monthly SLS = surface habitable × CDPR × SLR, due from 20 % of overrun of the dwelling's ceiling, capped so
that rent + SLS ≤ 30 % of resources; none in QPV, ZRR, PLH-exempted zones or for PLI dwellings. The scale,
bounds and SLR are data (`sls.toml`). Source: ../shared/domain/LOYERS_SLS_PLAFONDS.md §3.
"""

import math
import tomllib
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from .plafonds import CeilingError, Ceilings

ZONES_SLS = (1, 2, 3, 4)


@cache
def scale() -> dict[str, Any]:
    return tomllib.loads(resources.files(__package__).joinpath("sls.toml").read_text(encoding="utf-8"))


def _stepped(overrun: int, at_20: float, steps: list[dict[str, Any]], key: str) -> float:
    value = at_20
    for step in steps:
        points = max(0, min(overrun, step["a"]) - step["de"] + 1)
        value += points * step[key]
    return round(value, 6)


def _points(overrun_pct: float) -> int:
    """Whole points of overrun; rounded first so that 22 % computed as 21.999999… stays 22."""
    return math.floor(round(overrun_pct, 6))


def cdpr_national(overrun_pct: float) -> float:
    """The national CDPR for an overrun (whole points, from 20 %)."""
    overrun = _points(overrun_pct)
    if overrun < scale()["seuil_depassement_pct"]:
        return 0.0
    national = scale()["cdpr_national"]
    return _stepped(overrun, national["a_20_pct"], national["tranches"], "par_point")


def modulation_bounds(overrun_pct: float) -> tuple[float, float]:
    """Lowest and highest CDPR a CUS may set for this overrun (generation-1 rules, zones A, B1, B2)."""
    overrun = _points(overrun_pct)
    if overrun < scale()["seuil_depassement_pct"]:
        return 0.0, 0.0
    m = scale()["modulation"]
    return (
        _stepped(overrun, m["a_20_pct"]["min"], m["tranches"], "min"),
        _stepped(overrun, m["a_20_pct"]["max"], m["tranches"], "max"),
    )


def slr(zone_sls: int, year: int) -> float:
    if zone_sls not in ZONES_SLS:
        raise CeilingError(f"Zone SLS inconnue : {zone_sls} (de 1 à 4).")
    dated = sorted((d, v) for d, v in scale()["slr"].items() if d <= f"{year}-01-01")
    if not dated:
        raise CeilingError(f"Aucun SLR en vigueur en {year} dans le barème.")
    return float(dated[-1][1][str(zone_sls)])


@dataclass(frozen=True)
class SlsCase:
    surface: float
    ressources: float
    categorie: int
    zone_plafonds: str
    zone_sls: int
    financement: str
    annee: int
    loyer: float | None = None
    qpv: bool = False
    zrr: bool = False
    exoneration_plh: bool = False
    cdpr_modulee: float | None = None  # the landlord's CDPR for this overrun (CUS modulation), if any
    apl: bool = False  # receives the APL: not surveyed, no SLS (CCH L.441-9)
    sans_reponse: bool = False  # did not answer the resources survey: provisional flat-rate SLS


@dataclass(frozen=True)
class SlsResult:
    plafond: float | None
    depassement_pct: float | None
    cdpr: float | None
    slr: float | None
    sls_avant_plafonnement: float
    sls: float
    motif: str  # why no SLS, or why it is capped; empty when the full SLS is due
    frais: float = 0.0  # handling fee added to a flat-rate SLS (no answer to the survey)


def overrun_without_answer() -> int:
    """The overrun a household that did not answer the survey is deemed to have (sls.toml)."""
    return int(scale()["defaut_de_reponse"]["depassement_pct"])


def _within_bounds(cdpr: float, overrun: float) -> float:
    low, high = modulation_bounds(overrun)
    if not low <= cdpr <= high:
        raise CeilingError(
            f"CDPR modulé {cdpr} hors des bornes de la CUS pour {_points(overrun)} % de "
            f"dépassement ({low:.2f} – {high:.2f})."
        )
    return cdpr


def _flat_rate(case: SlsCase, ceiling: float) -> SlsResult:
    """No answer to the survey: SLS at the CDPR of the deemed overrun (national, or the CUS's), plus the fee;
    no 30 % cap since the resources are unknown."""
    rules = scale()["defaut_de_reponse"]
    overrun = overrun_without_answer()
    cdpr = cdpr_national(overrun) if case.cdpr_modulee is None else _within_bounds(case.cdpr_modulee, overrun)
    reference = slr(case.zone_sls, case.annee)
    amount = round(case.surface * cdpr * reference, 2)
    reason = (
        f"défaut de réponse à l'enquête sur les ressources : SLS forfaitaire provisoire (dépassement réputé de "
        f"{overrun} %) et {rules['frais_dossier']:.0f} € de frais de dossier"
    )
    return SlsResult(ceiling, None, cdpr, reference, amount, amount, reason, float(rules["frais_dossier"]))


def compute(case: SlsCase, ceilings: Ceilings) -> SlsResult:
    """One household's monthly SLS, with the reason when none (or less) is due."""
    if case.surface <= 0 or case.ressources < 0:
        raise CeilingError("La surface doit être positive et les ressources ne peuvent pas être négatives.")
    exemptions = [
        (case.apl, "ménage bénéficiaire de l'APL : non enquêté, pas de SLS (CCH L.441-9)"),
        (case.financement == "PLI", "logement PLI : pas de SLS"),
        (case.qpv, "logement en quartier prioritaire de la politique de la ville (QPV) : pas de SLS"),
        (case.zrr, "logement en zone de revitalisation rurale (ZRR) : pas de SLS"),
        (case.exoneration_plh, "zone exonérée par le programme local de l'habitat (PLH) : pas de SLS"),
    ]
    for applies, reason in exemptions:
        if applies:
            return SlsResult(None, None, None, None, 0.0, 0.0, reason)
    ceiling = ceilings.plafond(case.financement, case.annee, case.zone_plafonds, case.categorie)
    if case.sans_reponse:
        return _flat_rate(case, ceiling)
    overrun = (case.ressources / ceiling - 1) * 100
    threshold = scale()["seuil_depassement_pct"]
    if _points(overrun) < threshold:
        reason = f"dépassement du plafond de {overrun:.1f} % : SLS dû à partir de {threshold} %"
        return SlsResult(ceiling, round(overrun, 2), None, None, 0.0, 0.0, reason)
    cdpr = cdpr_national(overrun) if case.cdpr_modulee is None else _within_bounds(case.cdpr_modulee, overrun)
    reference = slr(case.zone_sls, case.annee)
    before = round(case.surface * cdpr * reference, 2)
    sls, reason = before, ""
    if case.loyer is not None:
        room = max(0.0, scale()["plafonnement_part_ressources"] * case.ressources / 12 - case.loyer)
        if before > room:
            sls = round(room, 2)
            reason = "plafonné : loyer principal + SLS ≤ 30 % des ressources mensuelles"
    return SlsResult(ceiling, round(overrun, 2), cdpr, reference, before, sls, reason)


def as_dict(result: SlsResult) -> dict[str, Any]:
    return asdict(result)
