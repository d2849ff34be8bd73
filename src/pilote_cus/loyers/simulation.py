"""Simulation of a CUS modulation of the SLS on every household: national and modulated SLS per household
(`sls.compute`, so that every cap and exemption is the one of the single-household calculation), then the
summary in DuckDB SQL: households liable, SLS revenue, effort rate, capped and exempted households.
Rules: ../shared/domain/LOYERS_SLS_PLAFONDS.md §3; effort-rate bands: `simulation_sls.toml`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from ..declarations import load
from . import sls
from .loyers_maximaux import band_table
from .plafonds import CeilingError, Ceilings


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tranches_taux_effort_pct: tuple[float, ...]


@cache
def parameters() -> Parameters:
    return load(Parameters, __package__, "simulation_sls.toml")


@dataclass(frozen=True)
class Band:
    de: int
    a: int
    par_point: float


@dataclass(frozen=True)
class ModulatedScale:
    """The landlord's CDPR: its value at 20 % of overrun, then an increment per whole point by band."""

    a_20_pct: float
    tranches: tuple[Band, ...]

    def cdpr(self, overrun_pct: float) -> float:
        points = sls._points(overrun_pct)
        if points < sls.scale()["seuil_depassement_pct"]:
            return 0.0
        steps = [{"de": b.de, "a": b.a, "par_point": b.par_point} for b in self.tranches]
        return sls._stepped(points, self.a_20_pct, steps, "par_point")


def scale_from_mapping(data: Mapping[str, Any]) -> ModulatedScale:
    """`{"a_20_pct": 0.20, "tranches": [{"de": 21, "a": 59, "par_point": 0.05}, …]}`, validated (`check_scale`)."""
    try:
        bands = tuple(Band(int(t["de"]), int(t["a"]), float(t["par_point"])) for t in data["tranches"])
        scale = ModulatedScale(float(data["a_20_pct"]), bands)
    except (KeyError, TypeError, ValueError) as error:
        raise CeilingError(
            f"Barème modulé illisible ({error}) : a_20_pct et tranches (de, a, par_point) attendus."
        ) from None
    check_scale(scale)
    return scale


def check_scale(scale: ModulatedScale) -> None:
    """Bands contiguous from 21 % to the end of the national scale, and the CDPR within the CUS bounds at every
    overrun: both are piecewise linear in whole points, so checking every band edge of both is enough."""
    threshold = sls.scale()["seuil_depassement_pct"]
    bounds_bands = sls.scale()["modulation"]["tranches"]
    last = bounds_bands[-1]["a"]
    expected = threshold + 1
    for band in scale.tranches:
        if band.de != expected or band.a < band.de or band.par_point < 0:
            raise CeilingError(
                f"Barème modulé : tranche {band.de}–{band.a} % invalide (tranches contiguës à partir de "
                f"{threshold + 1} %, supplément par point positif ou nul)."
            )
        expected = band.a + 1
    if expected <= last:
        raise CeilingError(f"Barème modulé : les tranches s'arrêtent à {expected - 1} % au lieu de {last} %.")
    edges = {threshold, last}
    for band in [*bounds_bands, *({"de": b.de, "a": b.a} for b in scale.tranches)]:
        edges.update(p for p in (band["de"] - 1, band["de"], band["a"]) if threshold <= p <= last)
    for point in sorted(edges):
        low, high = sls.modulation_bounds(point)
        value = scale.cdpr(point)
        if not low <= value <= high:
            raise CeilingError(
                f"Barème modulé hors des bornes de la CUS à {point} % de dépassement : CDPR {value:.3f} "
                f"(bornes {low:.3f} – {high:.3f})."
            )


HOUSEHOLD_FIELDS = (
    "menage_id",
    "surface",
    "ressources",
    "categorie",
    "zone_plafonds",
    "zone_sls",
    "financement",
    "loyer",
)
FLAGS = ("qpv", "zrr", "exoneration_plh", "apl", "sans_reponse")

RESULT_SCHEMA = pa.schema(
    [
        ("menage_id", pa.string()),
        ("surface", pa.float64()),
        ("ressources", pa.float64()),
        ("loyer", pa.float64()),
        ("plafond", pa.float64()),
        ("depassement_pct", pa.float64()),
        ("exoneration", pa.string()),
        ("cdpr_national", pa.float64()),
        ("sls_national", pa.float64()),
        ("plafonne_national", pa.bool_()),
        ("cdpr_module", pa.float64()),
        ("sls_module", pa.float64()),
        ("plafonne_module", pa.bool_()),
        ("forfaitaire", pa.bool_()),
        ("frais", pa.float64()),
    ]
)


def _household_results(row: Mapping[str, Any], year: int, ceilings: Ceilings, scale: ModulatedScale) -> dict:
    missing = [f for f in HOUSEHOLD_FIELDS if f not in row]
    if missing:
        raise CeilingError(f"Ménage {row.get('menage_id', '?')} : champ(s) absent(s) : {', '.join(missing)}.")
    if row["ressources"] is None and not (row.get("sans_reponse") or row.get("apl")):
        raise CeilingError(f"Ménage {row['menage_id']} : ressources absentes (sauf ménage sans réponse ou APL).")
    case = sls.SlsCase(
        surface=row["surface"],
        ressources=row["ressources"] or 0.0,
        categorie=row["categorie"],
        zone_plafonds=row["zone_plafonds"],
        zone_sls=row["zone_sls"],
        financement=row["financement"],
        annee=year,
        loyer=row["loyer"],
        **{flag: bool(row.get(flag)) for flag in FLAGS},
    )
    national = sls.compute(case, ceilings)
    exempt = national.plafond is None
    modulated = national
    if case.sans_reponse and national.cdpr is not None:  # flat rate at the deemed overrun, on the CUS's scale
        modulated = sls.compute(replace(case, cdpr_modulee=scale.cdpr(sls.overrun_without_answer())), ceilings)
    elif national.cdpr is not None and national.plafond:
        cdpr = scale.cdpr((case.ressources / national.plafond - 1) * 100)
        modulated = sls.compute(replace(case, cdpr_modulee=cdpr), ceilings)
    return {
        "menage_id": str(row["menage_id"]),
        "surface": float(case.surface),
        "ressources": float(case.ressources),
        "loyer": None if case.loyer is None else float(case.loyer),
        "plafond": national.plafond,
        "depassement_pct": national.depassement_pct,
        "exoneration": national.motif if exempt else None,
        "cdpr_national": national.cdpr,
        "sls_national": national.sls,
        "plafonne_national": national.sls < national.sls_avant_plafonnement,
        "cdpr_module": modulated.cdpr,
        "sls_module": modulated.sls,
        "plafonne_module": modulated.sls < modulated.sls_avant_plafonnement,
        "forfaitaire": case.sans_reponse and national.cdpr is not None,
        "frais": national.frais,
    }


@dataclass(frozen=True)
class Simulation:
    menages: pa.Table  # one row per household: national and modulated SLS, effort rates
    resume: dict[str, Any]
    taux_effort: pa.Table  # households per effort-rate band, national and modulated
    deciles_taux_effort: pa.Table
    exonerations: pa.Table  # households per exemption reason


def simulate(
    households: pa.Table | Sequence[Mapping[str, Any]], year: int, ceilings: Ceilings, scale: ModulatedScale
) -> Simulation:
    check_scale(scale)
    rows = households.to_pylist() if isinstance(households, pa.Table) else households
    results = pa.Table.from_pylist([_household_results(r, year, ceilings, scale) for r in rows], RESULT_SCHEMA)
    con = duckdb.connect()
    con.register("resultats", results)
    con.register("bandes", band_table(parameters().tranches_taux_effort_pct))
    con.execute("""
        CREATE TEMP TABLE menages AS
        SELECT *, CASE WHEN ressources > 0 THEN round((loyer + sls_national) / (ressources / 12) * 100, 2) END
                      AS taux_effort_national_pct,
                  CASE WHEN ressources > 0 THEN round((loyer + sls_module) / (ressources / 12) * 100, 2) END
                      AS taux_effort_module_pct
        FROM resultats""")
    summary = con.sql("""
        SELECT count(*) AS menages,
               count(*) FILTER (WHERE cdpr_national IS NOT NULL) AS menages_assujettis,
               count(*) FILTER (WHERE exoneration IS NOT NULL) AS menages_exoneres,
               count(*) FILTER (WHERE forfaitaire) AS menages_sls_forfaitaire,
               round(coalesce(sum(frais), 0), 2) AS frais_dossier,
               count(*) FILTER (WHERE plafonne_national) AS plafonnes_30_pct_national,
               count(*) FILTER (WHERE plafonne_module) AS plafonnes_30_pct_module,
               round(coalesce(sum(sls_national), 0), 2) AS recette_mensuelle_nationale,
               round(coalesce(sum(sls_module), 0), 2) AS recette_mensuelle_modulee,
               round(coalesce(sum(sls_national), 0) * 12, 2) AS recette_annuelle_nationale,
               round(coalesce(sum(sls_module), 0) * 12, 2) AS recette_annuelle_modulee
        FROM menages""").to_arrow_table()
    efforts = con.sql("""
        SELECT b.tranche,
               count(m.menage_id) FILTER (WHERE m.taux_effort_national_pct >= b.bas
                                          AND m.taux_effort_national_pct < b.haut) AS menages_national,
               count(m.menage_id) FILTER (WHERE m.taux_effort_module_pct >= b.bas
                                          AND m.taux_effort_module_pct < b.haut) AS menages_module
        FROM bandes b LEFT JOIN menages m ON true GROUP BY b.ordre, b.tranche ORDER BY b.ordre""").to_arrow_table()
    deciles = con.sql("""
        WITH q AS (
            SELECT quantile_cont(taux_effort_national_pct, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) AS n,
                   quantile_cont(taux_effort_module_pct, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) AS m
            FROM menages)
        SELECT d AS decile, round(n[d], 2) AS taux_effort_national_pct, round(m[d], 2) AS taux_effort_module_pct
        FROM q, range(1, 10) r(d) ORDER BY d""").to_arrow_table()
    exemptions = con.sql("""
        SELECT exoneration AS motif, count(*) AS menages FROM menages WHERE exoneration IS NOT NULL
        GROUP BY 1 ORDER BY 1""").to_arrow_table()
    return Simulation(
        con.sql("SELECT * FROM menages ORDER BY menage_id").to_arrow_table(),
        summary.to_pylist()[0],
        efforts,
        deciles,
        exemptions,
    )
