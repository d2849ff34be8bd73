import hashlib

import duckdb
import pytest

from pilote_cus.patrimoine import etat_des_lieux
from pilote_cus.patrimoine.import_rpls import import_rpls
from pilote_cus.patrimoine.modele import register_stock
from pilote_cus.patrimoine.synthetique import generate_rpls


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_file_other_seed_other_file(tmp_path):
    a, b, c = (tmp_path / f"{n}_2024.csv" for n in "abc")
    generate_rpls(a, 3_000, 11)
    generate_rpls(b, 3_000, 11)
    generate_rpls(c, 3_000, 12)
    assert _sha(a) == _sha(b) != _sha(c)


@pytest.mark.parametrize("size", [1_000, 4_321])
def test_exact_size(tmp_path, size):
    path = tmp_path / "s_2024.csv"
    summary = generate_rpls(path, size, 3, encoding="utf-8")
    assert summary.dwellings == size
    assert path.read_text(encoding="utf-8").count("\n") == size + 1


def test_refuses_sizes_out_of_range(tmp_path):
    with pytest.raises(ValueError, match="hors de"):
        generate_rpls(tmp_path / "x.csv", 999, 1)


def test_distributions_follow_published_figures(tmp_path, warehouse):
    """Shapes of shared/domain/CHIFFRES.md (SDES): tolerances allow for the sampling of ensembles."""
    path = tmp_path / "synthetique_2024.csv"
    generate_rpls(path, 60_000, 5)
    result = import_rpls(path, warehouse)
    assert result.snapshot.provenance["encodage"] == "latin-1"
    table = etat_des_lieux.compute(warehouse, ("france",)).table.to_pylist()
    share = {(r["variable"], r["modalite"]): r for r in table}
    assert share[("type_construction", "collectif")]["part"] == pytest.approx(85, abs=1)
    assert share[("pieces", "3-4")]["part"] == pytest.approx(37 + 27.8, abs=3)
    assert share[("qpv", "qpv")]["part"] == pytest.approx(31, abs=6)
    assert share[("vacance", "taux")]["part"] == pytest.approx(2.9, abs=0.7)
    assert share[("vacance_plus_3_mois", "taux")]["part"] == pytest.approx(1.4, abs=0.5)
    assert share[("mobilite", "taux")]["part"] == pytest.approx(9.3, abs=1.5)
    assert 6.0 <= share[("loyer_m2", "moyen")]["nombre"] <= 7.2
    departements = {r["code"] for r in etat_des_lieux.compute(warehouse, ("departement",)).table.to_pylist()}
    assert {"69", "31", "93", "2A", "971"} <= departements


def test_transmission_layout_goes_through_the_same_import(tmp_path, warehouse):
    path = tmp_path / "transmission.csv"
    summary = generate_rpls(path, 2_500, 9, layout="transmission", vintage=2023)
    result = import_rpls(path, warehouse)
    assert result.snapshot.vintage == 2023
    assert result.snapshot.provenance["format"] == "transmission"
    con = duckdb.connect()
    register_stock(con, result.snapshot)
    organismes = con.sql("SELECT organisme_id, raison_sociale, logements FROM organismes").fetchall()
    landlord = summary.landlords[0]
    assert organismes == [(landlord.numero, landlord.raison_sociale, result.dwellings)]
    ensembles = con.sql("SELECT count(*), sum(logements), sum(batiments) FROM ensembles").fetchone()
    assert ensembles[1] == result.dwellings and ensembles[0] > 10
    batiments = con.sql("SELECT count(*), sum(logements) FROM batiments").fetchone()
    assert batiments == (ensembles[2], result.dwellings)
    # every dwelling of a building belongs to the building's ensemble
    assert con.sql(
        "SELECT count(*) FROM logements l JOIN batiments b USING (batiment_id) "
        "WHERE l.en_stock AND l.ensemble_id <> b.ensemble_id"
    ).fetchone() == (0,)
