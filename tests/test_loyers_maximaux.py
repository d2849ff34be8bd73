"""Redistribution of maximum rents by class (LOYERS_SLS_PLAFONDS.md §2), on five hand-computed dwellings."""

from datetime import date
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from pilote_cus.loyers.loyers_maximaux import (
    IrlRevision,
    RentError,
    distribution,
    export_rpls_fields,
    fit_rule,
    impact,
    read_rule,
    redistribute,
    revise_irl,
    rpls_fields,
    rule_from_mapping,
)

# id, ensemble, class, financing, surface m², current maximum rent €/m², current rent € (monthly)
DWELLINGS = [
    ("L1", "E1", "A", "PLUS", 50.0, 6.0, 280.0),
    ("L2", "E1", "A", "PLAI", 70.0, 5.0, 340.0),
    ("L3", "E2", "B", "PLS", 60.0, 7.0, 410.0),
    ("L4", "E3", "C", "PLI", 40.0, 10.0, 420.0),
    ("L5", "E2", "B", "PLUS", 50.0, 6.0, 300.0),
]
COLUMNS = ("logement_id", "ensemble_id", "classe", "financement", "surface", "loyer_max_m2", "loyer")
RULE = {
    "A": {"libelle": "Service rendu élevé", "coefficient": 1.10},
    "B": {"libelle": "Service rendu moyen", "coefficient": 1.00},
    "C": {"libelle": "Service rendu faible", "coefficient": 0.80},
}
# new monthly maximum rents: 50 × 6.60, 70 × 5.50, 60 × 7.00, 40 × 8.00, 50 × 6.00
NEW_MAXIMUM = {"L1": 330.0, "L2": 385.0, "L3": 420.0, "L4": 320.0, "L5": 300.0}


@pytest.fixture
def dwellings() -> list[dict]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in DWELLINGS]


@pytest.fixture
def rule():
    return rule_from_mapping(RULE, "grille", classes=["A", "B", "C"])


def by_id(table, column: str) -> dict:
    return {row["logement_id"]: row[column] for row in table.to_pylist()}


def test_coefficients_par_classe_appliques(dwellings, rule) -> None:
    result = redistribute(dwellings, rule, 1770)
    assert by_id(result.logements, "loyer_max_mensuel") == NEW_MAXIMUM
    assert by_id(result.logements, "loyer_max_m2") == {"L1": 6.6, "L2": 5.5, "L3": 7.0, "L4": 8.0, "L5": 6.0}
    ensembles = {row["ensemble_id"]: row for row in result.ensembles.to_pylist()}
    assert ensembles["E1"]["logements"] == 2
    assert (ensembles["E1"]["masse_actuelle"], ensembles["E1"]["masse_nouvelle"]) == (650.0, 715.0)
    assert ensembles["E1"]["loyer_max_m2"] == 5.96  # 715 / 120 m²


def test_masse_respectee(dwellings, rule) -> None:
    result = redistribute(dwellings, rule, 1770)
    assert (result.masse_actuelle, result.masse_nouvelle) == (1770.0, 1755.0)
    assert result.respecte_masse and result.depassement == 0
    assert "dans la limite autorisée de 1 770,00 €" in result.message()


def test_masse_depassee_puis_ajustee(dwellings, rule) -> None:
    result = redistribute(dwellings, rule, 1700)
    assert not result.respecte_masse
    assert result.depassement == 55.0
    assert result.facteur_ajustement == pytest.approx(1700 / 1755)
    assert "dépasse la masse autorisée (1 700,00 €) de 55,00 €" in result.message()
    assert "Multipliez les coefficients par 0.968661" in result.message()
    fitted = fit_rule(rule, result)
    assert fitted.classes["A"].coefficient == pytest.approx(1.10 * 1700 / 1755)
    refitted = redistribute(dwellings, fitted, 1700)
    assert refitted.respecte_masse
    assert 1700 - 0.05 <= refitted.masse_nouvelle <= 1700  # each dwelling rounded down to the cent


def test_regle_invalide_refusee(dwellings, tmp_path: Path) -> None:
    with pytest.raises(RentError, match="classe\\(s\\) sans coefficient : C"):
        rule_from_mapping({"A": 1.1, "B": 1.0}, "grille", classes=["A", "B", "C"])
    with pytest.raises(RentError, match="classe\\(s\\) sans coefficient : C"):
        redistribute(dwellings, rule_from_mapping({"A": 1.1, "B": 1.0}), 1770)
    for bad in (0, -1.0, "un", True):
        with pytest.raises(RentError, match="coefficient strictement positif attendu"):
            rule_from_mapping({"A": bad})
    path = tmp_path / "grille.toml"
    path.write_text('[classes.A]\nlibelle = "Bon"\ncoefficient = 1.1\ncoef = 2\n', encoding="utf-8")
    with pytest.raises(RentError, match=r"grille\.toml, classe « A » : clé inconnue : coef"):
        read_rule(path)
    path.write_text('[classes.A]\nlibelle = "Bon"\ncoefficient = 1.1\n', encoding="utf-8")
    assert read_rule(path).classes["A"].coefficient == 1.1


def test_logement_invalide_refuse(dwellings, rule) -> None:
    dwellings[2]["surface"] = 0
    dwellings[3]["financement"] = "HLM/O"
    with pytest.raises(RentError, match="logement L3 : surface; logement L4 : financement"):
        redistribute(dwellings, rule, 1770)


def test_impact_par_logement_et_plafond_locataire_en_place(dwellings, rule) -> None:
    result = redistribute(dwellings, rule, 1770)
    capped = impact(result.logements)
    # L1 and L2 may rise to 330 / 385 but a sitting tenant's rent is capped at + 5 %; L3 reaches its maximum;
    # L4's rent is above the new maximum and comes down to it; L5 does not move
    assert by_id(capped, "loyer_applicable") == {"L1": 294.0, "L2": 357.0, "L3": 420.0, "L4": 320.0, "L5": 300.0}
    assert by_id(capped, "ecart_mensuel") == {"L1": 14.0, "L2": 17.0, "L3": 10.0, "L4": -100.0, "L5": 0.0}
    assert by_id(capped, "plafonne_locataire_en_place") == {
        "L1": True,
        "L2": True,
        "L3": False,
        "L4": False,
        "L5": False,
    }
    signs = by_id(capped, "sens")
    assert signs["L4"] == "baisse : gain pour le locataire"
    assert signs["L1"] == "hausse : perte pour le locataire"
    assert signs["L5"] == "inchangé"
    uncapped = impact(result.logements, cap_sitting_tenant=False)
    assert by_id(uncapped, "ecart_mensuel") == {"L1": 50.0, "L2": 45.0, "L3": 10.0, "L4": -100.0, "L5": 0.0}


def test_distribution_des_evolutions(dwellings, rule) -> None:
    summary = distribution(impact(redistribute(dwellings, rule, 1770).logements))
    assert summary.tranches.to_pylist() == [
        {"tranche": "inchangé", "logements": 1},
        {"tranche": "moins de -10 %", "logements": 1},
        {"tranche": "de 0 à moins de 5 %", "logements": 1},
        {"tranche": "de 5 à moins de 10 %", "logements": 2},
    ]
    assert summary.resume["baisses"] == 1
    assert summary.resume["hausses"] == 3
    assert summary.resume["inchanges"] == 1
    assert summary.resume["plafonnes_locataire_en_place"] == 2
    assert (summary.resume["ecart_min"], summary.resume["ecart_median"], summary.resume["ecart_max"]) == (
        -100.0,
        10.0,
        17.0,
    )
    assert summary.resume["variation_min_pct"] == -23.81  # 320 / 420 - 1


def test_revision_irl_et_plafond_cinq_pour_cent(dwellings, rule) -> None:
    revision = IrlRevision(date(2026, 7, 1), 3.5)
    revised = revise_irl(redistribute(dwellings, rule, 1770).logements, revision)
    assert by_id(revised, "loyer_max_m2")["L1"] == 6.83  # 6.60 × 1.035 = 6.831
    assert by_id(revised, "loyer_max_mensuel")["L1"] == 341.55  # 50 × 6.831
    assert by_id(revised, "loyer_max_mensuel")["L4"] == 331.2  # 40 × 8.28
    assert by_id(revised, "date_revision_irl")["L1"] == date(2026, 7, 1)
    capped = impact(revised, revision)
    assert by_id(capped, "loyer_applicable")["L1"] == 304.29  # 280 × 1.035 × 1.05
    assert by_id(capped, "loyer_applicable")["L4"] == 331.2
    assert by_id(impact(revised, revision, cap_sitting_tenant=False), "loyer_applicable")["L1"] == 341.55
    with pytest.raises(RentError, match="Variation de l'IRL invalide"):
        IrlRevision(date(2026, 7, 1), -100)


def test_champs_rpls_remplis_et_exportes(dwellings, rule, tmp_path: Path) -> None:
    logements = redistribute(dwellings, rule, 1770).logements
    fields = {row["IDENT_REP"]: row for row in rpls_fields(logements).to_pylist()}
    assert {k: v["CUS"] for k, v in fields.items()} == {"L1": "13", "L2": "11", "L3": "14", "L4": "16", "L5": "13"}
    assert {k: v["LOYERMAXCUS"] for k, v in fields.items()} == NEW_MAXIMUM
    assert fields["L4"]["CODSEGPATRIM"] == "C"
    assert fields["L4"]["LIBSEGPATRIM"] == "Service rendu faible"
    output = export_rpls_fields(logements, "csv", tmp_path / "cus.csv")
    assert output is not None
    exported = pacsv.read_csv(output).to_pylist()
    assert exported[0]["LOYERMAXCUS"] == 330
    assert list(exported[0]) == ["IDENT_REP", "CODSEGPATRIM", "LIBSEGPATRIM", "CUS", "LOYERMAXCUS"]
