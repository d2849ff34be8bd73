"""Simulation of an SLS modulation on eight hand-computed households (LOYERS_SLS_PLAFONDS.md §3, 2026 ceilings)."""

from pathlib import Path

import pytest

from pilote_cus.loyers.plafonds import CeilingError, read_ceilings
from pilote_cus.loyers.simulation import scale_from_mapping, simulate

CEILINGS_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "plafonds" / "parametres_logement_social_openfisca.csv"
)
PLUS_1_AUTRES_2026 = 23403
PLUS_3_AUTRES_2026 = 37584
# CDPR 0.20 at 20 %, then + 0.05 / 0.07 / 0.10 per point: inside the CUS bounds everywhere
SCALE = {
    "a_20_pct": 0.20,
    "tranches": [
        {"de": 21, "a": 59, "par_point": 0.05},
        {"de": 60, "a": 149, "par_point": 0.07},
        {"de": 150, "a": 100000, "par_point": 0.10},
    ],
}


def household(ident: str, **fields) -> dict:
    base = {
        "menage_id": ident,
        "surface": 50.0,
        "ressources": 24000.0,
        "categorie": 1,
        "zone_plafonds": "autres",
        "zone_sls": 4,
        "financement": "PLUS",
        "loyer": 400.0,
    }
    return {**base, **fields}


HOUSEHOLDS = [
    household("M1", qpv=True, ressources=PLUS_1_AUTRES_2026 * 2),
    household("M2", zrr=True, ressources=PLUS_1_AUTRES_2026 * 2),
    household("M3", exoneration_plh=True, ressources=PLUS_1_AUTRES_2026 * 2),
    household("M4", financement="PLI", ressources=PLUS_1_AUTRES_2026 * 2),
    # 10 % over the ceiling: no SLS
    household("M5", ressources=PLUS_1_AUTRES_2026 * 1.10, loyer=350.0),
    # 40 %: national 50 × 1.47 × 0.28 = 20.58, modulated 50 × (0.20 + 20 × 0.05) × 0.28 = 16.80
    household("M6", ressources=PLUS_1_AUTRES_2026 * 1.40, loyer=300.0),
    # 100 %, zone 1: 80 × 5.89 × 2.78 = 1309.94 (modulated 80 × 5.02 × 2.78 = 1116.45), both capped at
    # 30 % × 46806 / 12 − 1000 = 170.15
    household("M7", ressources=PLUS_1_AUTRES_2026 * 2, surface=80.0, zone_sls=1, loyer=1000.0),
    # 22 %, category 3, zone 2: national 60 × 0.39 × 2.22 = 51.95, modulated 60 × 0.30 × 2.22 = 39.96
    household("M8", ressources=PLUS_3_AUTRES_2026 * 1.22, categorie=3, surface=60.0, zone_sls=2),
]


@pytest.fixture(scope="module")
def simulation():
    return simulate(HOUSEHOLDS, 2026, read_ceilings(CEILINGS_FILE), scale_from_mapping(SCALE))


def by_id(simulation, column: str) -> dict:
    return {row["menage_id"]: row[column] for row in simulation.menages.to_pylist()}


def test_sls_par_menage(simulation) -> None:
    assert by_id(simulation, "sls_national") == {
        "M1": 0.0, "M2": 0.0, "M3": 0.0, "M4": 0.0, "M5": 0.0, "M6": 20.58, "M7": 170.15, "M8": 51.95,
    }  # fmt: skip
    assert by_id(simulation, "sls_module") == {
        "M1": 0.0, "M2": 0.0, "M3": 0.0, "M4": 0.0, "M5": 0.0, "M6": 16.8, "M7": 170.15, "M8": 39.96,
    }  # fmt: skip
    assert by_id(simulation, "cdpr_module")["M6"] == 1.2
    assert by_id(simulation, "cdpr_national")["M8"] == 0.39
    assert by_id(simulation, "plafonne_national") == by_id(simulation, "plafonne_module")
    assert [k for k, v in by_id(simulation, "plafonne_module").items() if v] == ["M7"]
    assert by_id(simulation, "taux_effort_national_pct")["M7"] == 30.0


def test_resume_recettes_et_assujettis(simulation) -> None:
    assert simulation.resume == {
        "menages": 8,
        "menages_assujettis": 3,
        "menages_exoneres": 4,
        "menages_sls_forfaitaire": 0,
        "frais_dossier": 0.0,
        "plafonnes_30_pct_national": 1,
        "plafonnes_30_pct_module": 1,
        "recette_mensuelle_nationale": 242.68,
        "recette_mensuelle_modulee": 226.91,
        "recette_annuelle_nationale": 2912.16,
        "recette_annuelle_modulee": 2722.92,
    }


def test_exonerations_par_motif(simulation) -> None:
    reasons = {row["motif"]: row["menages"] for row in simulation.exonerations.to_pylist()}
    assert len(reasons) == 4 and set(reasons.values()) == {1}
    assert any("QPV" in r for r in reasons) and any("ZRR" in r for r in reasons)
    assert any("PLH" in r for r in reasons) and any("PLI" in r for r in reasons)


def test_taux_effort_par_tranche(simulation) -> None:
    # exempted: 400 / 3900.50 = 10.26 %; M5 16.32 %, M6 11.74 %, M8 11.83 %; M7 capped at 30 %
    expected = {
        "moins de 10 %": 0,
        "de 10 à moins de 20 %": 7,
        "de 20 à moins de 25 %": 0,
        "de 25 à moins de 30 %": 0,
        "de 30 à moins de 35 %": 1,
        "35 % et plus": 0,
    }
    rows = simulation.taux_effort.to_pylist()
    assert {r["tranche"]: r["menages_national"] for r in rows} == expected
    assert {r["tranche"]: r["menages_module"] for r in rows} == expected
    assert [r["tranche"] for r in rows] == list(expected)
    deciles = simulation.deciles_taux_effort.to_pylist()
    assert [d["decile"] for d in deciles] == list(range(1, 10))
    assert deciles[4]["taux_effort_national_pct"] == 11.0  # median of 8 rates: (10.26 + 11.74) / 2
    assert deciles[4]["taux_effort_module_pct"] == 10.89  # (10.26 + M8 11.51) / 2


def test_bareme_module_hors_bornes_refuse() -> None:
    too_high = {**SCALE, "a_20_pct": 0.35}
    with pytest.raises(CeilingError, match=r"hors des bornes de la CUS à 20 % de dépassement : CDPR 0.350"):
        scale_from_mapping(too_high)
    # 0.12 per point from 60 %: 0.20 + 39 × 0.05 + 90 × 0.12 = 12.95 > 0.34 + 39 × 0.075 + 90 × 0.09 = 11.365
    steep = {**SCALE, "tranches": [SCALE["tranches"][0], {"de": 60, "a": 149, "par_point": 0.12}, SCALE["tranches"][2]]}
    with pytest.raises(CeilingError, match="hors des bornes de la CUS à 149 % de dépassement"):
        scale_from_mapping(steep)
    gap = {**SCALE, "tranches": [SCALE["tranches"][0], SCALE["tranches"][2]]}
    with pytest.raises(CeilingError, match="tranche 150–100000 % invalide"):
        scale_from_mapping(gap)
    with pytest.raises(CeilingError, match="Barème modulé illisible"):
        scale_from_mapping({"a_20_pct": 0.2})


def test_menage_sans_reponse_et_menage_apl() -> None:
    """No answer to the survey: CDPR of a 200 % overrun — national 0.27 + 39 × 0.06 + 90 × 0.08 + 51 × 0.10
    = 14.91, modulated 0.20 + 39 × 0.05 + 90 × 0.07 + 51 × 0.10 = 13.55 — on 50 m² in zone 4 (SLR 0.28):
    208.74 and 189.70 per month, not capped (resources unknown), plus 25 € of fees. APL: not surveyed, no SLS."""
    households = [
        household("F1", ressources=None, sans_reponse=True),
        household("A1", ressources=None, apl=True),
    ]
    result = simulate(households, 2026, read_ceilings(CEILINGS_FILE), scale_from_mapping(SCALE))
    assert by_id(result, "cdpr_national") == {"A1": None, "F1": 14.91}
    assert by_id(result, "cdpr_module")["F1"] == 13.55
    assert by_id(result, "sls_national") == {"A1": 0.0, "F1": 208.74}
    assert by_id(result, "sls_module")["F1"] == 189.7
    assert by_id(result, "forfaitaire") == {"A1": False, "F1": True}
    assert by_id(result, "taux_effort_national_pct") == {"A1": None, "F1": None}
    assert result.resume["menages_sls_forfaitaire"] == 1 and result.resume["frais_dossier"] == 25.0
    assert result.resume["menages_assujettis"] == 1 and result.resume["menages_exoneres"] == 1
    motifs = {row["motif"]: row["menages"] for row in result.exonerations.to_pylist()}
    assert motifs == {"ménage bénéficiaire de l'APL : non enquêté, pas de SLS (CCH L.441-9)": 1}
    with pytest.raises(CeilingError, match="ressources absentes"):
        simulate([household("X", ressources=None)], 2026, read_ceilings(CEILINGS_FILE), scale_from_mapping(SCALE))
