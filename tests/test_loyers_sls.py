"""Resource ceilings (dated parameters) and the SLS: the worked examples of LOYERS_SLS_PLAFONDS.md, every cap
and exemption, and the `cus sls` command."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pilote_cus import cli
from pilote_cus.loyers.plafonds import CeilingError, household_category, read_ceilings
from pilote_cus.loyers.sls import SlsCase, cdpr_national, compute, modulation_bounds

CEILINGS_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "plafonds" / "parametres_logement_social_openfisca.csv"
)
# PLUS ceilings (€/year) of LOYERS_SLS_PLAFONDS.md §4 (arrêtés of 18/12/2023, 23/12/2024, 19/12/2025):
# category → {year: (Paris and bordering, rest of Île-de-France, other regions)}
PLUS = {
    1: {2024: (26044, 26044, 22642), 2025: (26687, 26687, 23201), 2026: (26920, 26920, 23403)},
    3: {2024: (51025, 46789, 36362), 2025: (52284, 47944, 37259), 2026: (52740, 48362, 37584)},
    6: {2024: (81562, 74662, 58200), 2025: (83575, 76504, 59636), 2026: (84304, 77171, 60156)},
}
EXTRA_PERSON_2026 = (9394, 8598, 6710)


@pytest.fixture(scope="module")
def ceilings():
    return read_ceilings(CEILINGS_FILE)


@pytest.mark.parametrize("category", sorted(PLUS))
@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_plafonds_plus_egaux_aux_arretes(ceilings, category: int, year: int) -> None:
    for zone, expected in zip(("paris", "idf", "autres"), PLUS[category][year], strict=True):
        assert ceilings.plafond("PLUS", year, zone, category) == expected
        assert ceilings.plafond("PLS", year, zone, category) == round(expected * 1.3)


def test_grand_menage_et_plai_2022(ceilings) -> None:
    assert ceilings.plafond("PLUS", 2026, "autres", 8) == 60156 + 2 * EXTRA_PERSON_2026[2]
    assert ceilings.plafond("PLAI", 2022, "paris", 4) == 31287  # the complete 2022 PLAI table of the domain file


def test_annee_absente_et_pli_refuses_en_francais(ceilings) -> None:
    with pytest.raises(CeilingError, match=r"PLAI 2025 absent .* dernière valeur connue : 01/01/2022"):
        ceilings.plafond("PLAI", 2025, "autres", 1)
    with pytest.raises(CeilingError, match="plafonds PLI"):
        ceilings.plafond("PLI", 2026, "autres", 1)


def test_fichier_errone_nomme_ligne_et_colonne(tmp_path: Path) -> None:
    bad = tmp_path / "plafonds.csv"
    bad.write_text(
        "parametre,date_effet,valeur\n"
        "logement_social.plu.par_categorie_de_menage.categorie_1.autres_regions,2026-01-01,23403\n"
        "logement_social.plu.par_categorie_de_menage.categorie_2.autres_regions,2026-01-01,trente mille\n",
        encoding="utf-8",
    )
    with pytest.raises(CeilingError, match=r"ligne 3, colonne valeur : nombre attendu, « trente mille »"):
        read_ceilings(bad)


@pytest.mark.parametrize(
    ("composition", "category"),
    [
        ((1, 0, False, False), 1),
        ((1, 0, False, True), 2),  # one disabled person
        ((2, 0, False, False), 2),
        ((2, 0, True, False), 3),  # young couple
        ((2, 1, False, False), 3),  # one person + one dependant
        ((3, 1, False, False), 3),  # couple + child
        ((3, 2, False, False), 4),  # one person + two dependants
        ((4, 0, False, True), 5),  # four incl. one disabled
        ((8, 6, False, False), 8),  # beyond 6: one more category per person (single parent: + 1)
    ],
)
def test_categorie_de_menage(composition: tuple, category: int) -> None:
    assert household_category(*composition) == category


def test_exemples_du_fichier_de_domaine() -> None:
    assert cdpr_national(22) == pytest.approx(0.39)  # 0.27 + 2 × 0.06
    assert cdpr_national(19.9) == 0.0
    assert cdpr_national(60) == pytest.approx(0.27 + 39 * 0.06 + 0.08)
    assert modulation_bounds(40) == pytest.approx((0.73, 1.84))  # 0.13 + 20 × 0.030 ; 0.34 + 20 × 0.075


def _case(**changes) -> SlsCase:
    base = {
        "surface": 70.0,
        "ressources": 23403 * 1.22,
        "categorie": 1,
        "zone_plafonds": "autres",
        "zone_sls": 4,
        "financement": "PLUS",
        "annee": 2026,
    }
    return SlsCase(**{**base, **changes})


def test_sls_national_plafonne_et_module(ceilings) -> None:
    full = compute(_case(), ceilings)
    assert full.depassement_pct == pytest.approx(22.0) and full.cdpr == pytest.approx(0.39)
    assert full.sls == pytest.approx(round(70 * 0.39 * 0.28, 2)) and full.motif == ""
    rent = 0.30 * 23403 * 1.22 / 12 - 5.0  # only 5 € left under 30 % of resources
    capped = compute(_case(loyer=rent), ceilings)
    assert capped.sls_avant_plafonnement == full.sls and capped.sls == pytest.approx(5.0)
    assert "30 %" in capped.motif
    paris = compute(_case(zone_sls=1, cdpr_modulee=0.20), ceilings)
    assert paris.cdpr == 0.20 and paris.sls == pytest.approx(round(70 * 0.20 * 2.78, 2))
    with pytest.raises(CeilingError, match="hors des bornes"):
        compute(_case(cdpr_modulee=2.0), ceilings)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"qpv": True}, "QPV"),
        ({"zrr": True}, "ZRR"),
        ({"exoneration_plh": True}, "PLH"),
        ({"financement": "PLI"}, "PLI"),
        ({"ressources": 23403 * 1.19}, "à partir de 20 %"),
    ],
)
def test_exonerations(ceilings, changes: dict, reason: str) -> None:
    result = compute(_case(**changes), ceilings)
    assert result.sls == 0.0 and reason in result.motif


def test_commande_cus_sls(tmp_path: Path, capsys) -> None:
    data = str(tmp_path / "donnees")
    args = [
        "sls",
        "--surface",
        "70",
        "--ressources",
        str(23403 * 1.22),
        "--categorie",
        "1",
        "--zone-plafonds",
        "autres",
        "--zone-sls",
        "4",
        "--financement",
        "PLUS",
        "--annee",
        "2026",
        "--data-dir",
        data,
    ]
    assert cli.main([*args, "--format", "json"]) == 2  # no ceilings loaded yet
    assert "cus referentiel plafonds" in " ".join(capsys.readouterr().err.split())
    assert cli.main(["referentiel", "plafonds", "--from", str(CEILINGS_FILE), "--data-dir", data]) == 0
    capsys.readouterr()
    assert cli.main([*args, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["plafond"] == 23403 and result["cdpr"] == pytest.approx(0.39) and result["sls"] == 7.64
    assert cli.main([*args, "--qpv"]) == 0
    assert "pas de SLS" in " ".join(capsys.readouterr().err.split())


def test_sls_forfaitaire_sans_reponse_et_apl() -> None:
    """No answer: CDPR of a 200 % overrun (0.27 + 39 × 0.06 + 90 × 0.08 + 51 × 0.10 = 14.91), 60 m² × 14.91 × 1.11
    (zone 3) = 993.01 € a month, no 30 % cap, 25 € of fees; the exemptions still come first; APL: no SLS."""

    ceilings = read_ceilings(CEILINGS_FILE)
    base = SlsCase(60, 0.0, 2, "autres", 3, "PLUS", 2024, loyer=500.0, sans_reponse=True)
    assert cdpr_national(200) == 14.91
    result = compute(base, ceilings)
    assert (result.cdpr, result.sls, result.frais) == (14.91, 993.01, 25.0)
    assert result.depassement_pct is None and "défaut de réponse" in result.motif
    assert compute(replace(base, qpv=True), ceilings).sls == 0.0
    apl = compute(replace(base, sans_reponse=False, apl=True), ceilings)
    assert apl.sls == 0.0 and "APL" in apl.motif
    # a modulated CDPR outside the CUS bounds at 200 % is refused
    with pytest.raises(CeilingError, match="hors des bornes"):
        compute(replace(base, cdpr_modulee=20.0), ceilings)
