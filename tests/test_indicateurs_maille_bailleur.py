"""The landlord × département maille: computed in the same pass as the others, summing to them."""

from collections import defaultdict

import pytest

from pilote_cus.evenements.import_evenements import import_events
from pilote_cus.geographie.referentiel import load_cog
from pilote_cus.indicateurs.moteur import yearly_sql
from pilote_cus.indicateurs.service import compute
from pilote_cus.patrimoine.import_rpls import import_rpls
from test_indicateurs_moteur import LANDLORD_A, LANDLORD_B, attribution, attributions, by_key, dwelling, rpls

MAILLES = ["bailleur_departement", "bailleur", "departement", "france"]


@pytest.fixture
def two_landlords(warehouse, tmp_path, cog_dir):
    """A in Lyon (69) and Toulouse (31), B in Lyon (69) and Grenoble (38); attributions in 2022 and 2023."""
    load_cog(warehouse, cog_dir, 2026)
    for vintage in (2022, 2023):
        stock = [dwelling(f"A{n:09d}", "69123") for n in range(3)] + [dwelling("A000000009", "31555")]
        stock += [dwelling(f"B{n:09d}", "38185", LANDLORD_B) for n in range(2)]
        stock += [dwelling("B000000009", "69123", LANDLORD_B)]
        import_rpls(rpls(tmp_path, vintage, stock), warehouse, vintage=vintage)
    rows = [attribution("a1", "15/03/2022", "69123", dalo=True), attribution("a2", "20/06/2023", "31555")]
    rows += [attribution(f"b{n}", "10/02/2023", "38185", dalo=n == 0, landlord=LANDLORD_B) for n in range(4)]
    rows += [attribution("b9", "10/02/2023", "69123", dalo=True, landlord=LANDLORD_B)]
    import_events(warehouse, "attributions", attributions(tmp_path, rows))
    return warehouse


def test_territory_code_is_landlord_and_departement(two_landlords):
    result = by_key(compute(two_landlords, generation=2, mailles=MAILLES, codes=["PS-3"], annee=2023).rows)
    a_31 = result[("PS-3", "bailleur_departement", f"{LANDLORD_A}|31", "2023")]
    assert (a_31["numerateur"], a_31["denominateur"]) == (0, 1)
    b_69 = result[("PS-3", "bailleur_departement", f"{LANDLORD_B}|69", "2023")]
    assert (b_69["numerateur"], b_69["denominateur"], b_69["valeur"]) == (1, 1, pytest.approx(100.0))
    assert ("PS-3", "bailleur_departement", f"{LANDLORD_A}|38", "2023") not in result


@pytest.mark.parametrize("cumul", [None, 2])
def test_sums_equal_the_landlord_and_departement_mailles(two_landlords, cumul):
    rows = compute(two_landlords, generation=2, mailles=MAILLES, cumul=cumul).rows
    pairs = [r for r in rows if r["maille"] == "bailleur_departement"]
    assert {r["code_territoire"].split("|")[1] for r in pairs} == {"69", "31", "38"}
    by_landlord: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_departement: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in pairs:
        landlord, departement = r["code_territoire"].split("|")
        for sums, territory in ((by_landlord, landlord), (by_departement, departement)):
            total = sums[(r["code"], territory, r["periode"])]
            total[0] += r["numerateur"] or 0
            total[1] += r["denominateur"] or 0
    checked = 0
    for r in rows:
        if r["maille"] in ("bailleur", "departement"):
            sums = by_landlord if r["maille"] == "bailleur" else by_departement
            numerator, denominator = sums[(r["code"], r["code_territoire"], r["periode"])]
            assert numerator == pytest.approx(r["numerateur"] or 0), r
            assert denominator == pytest.approx(r["denominateur"] or 0), r
            checked += 1
    assert checked > 20


def test_other_mailles_do_not_pay_for_the_pair():
    assert "bailleur_departement" not in yearly_sql(["bailleur", "departement"])
    assert "bailleur_departement" in yearly_sql(["bailleur_departement"])
