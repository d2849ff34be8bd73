"""État des lieux on a real-format open-data file, against figures computed by hand.

Fixture: tests/fixtures/rpls_opendata_2024_reel.csv (Latin-1, CRLF, decimal commas, undocumented
columns FINANAUTRE and DATCONV). 10 lines; line 9 (0000000009) left the stock in 2023 (demolished,
SORTIEPATRIM 4) so 9 dwellings are in the stock on 1 January 2024. See the hand computation in the
comments of each expectation.
"""

from pathlib import Path

import pytest

from pilote_cus.geographie.referentiel import load_cog
from pilote_cus.patrimoine import etat_des_lieux
from pilote_cus.patrimoine.import_rpls import import_rpls

FIXTURE = Path(__file__).parent / "fixtures" / "rpls_opendata_2024_reel.csv"


@pytest.fixture
def figures(warehouse, cog_dir):
    load_cog(warehouse, cog_dir, 2026)
    import_rpls(FIXTURE, warehouse)
    result = etat_des_lieux.compute(warehouse)
    rows = result.table.to_pylist()
    return {(r["maille"], r["code"], r["variable"], r["modalite"]): r for r in rows}, rows


# (variable, modalite) → (nombre, part) for France: 9 dwellings in stock.
FRANCE = {
    ("logements", "total"): (9, 100.0),
    ("type_construction", "collectif"): (7, 77.78),  # lines 1 2 3 5 6 7 10
    ("type_construction", "individuel"): (2, 22.22),  # lines 4 8
    ("dpe_energie", "A-B-C"): (4, 44.44),  # B C A C
    ("dpe_energie", "D"): (2, 22.22),
    ("dpe_energie", "E-F-G"): (2, 22.22),  # E G
    ("dpe_energie", "inconnu"): (1, 11.11),  # line 5, DPE 01/1900
    ("dpe_ges", "A-B-C"): (5, 55.56),
    ("dpe_ges", "D"): (0, 0.0),
    ("dpe_ges", "E-F-G"): (3, 33.33),
    ("dpe_ges", "inconnu"): (1, 11.11),
    ("pieces", "1-2"): (3, 33.33),
    ("pieces", "3-4"): (5, 55.56),
    ("pieces", "5+"): (1, 11.11),
    ("qpv", "qpv"): (3, 33.33),
    ("qpv", "hors_qpv"): (6, 66.67),
    ("periode_construction", "avant-1949"): (1, 11.11),
    ("periode_construction", "1949-1974"): (2, 22.22),
    ("periode_construction", "1975-1999"): (2, 22.22),
    ("periode_construction", "2000-2009"): (1, 11.11),
    ("periode_construction", "2010-2019"): (2, 22.22),
    ("periode_construction", "2020-et-apres"): (1, 11.11),
    ("periode_construction", "inconnue"): (0, 0.0),
    # let (mode 1) with rent: 300+420+560+240+315+525 = 2360 € over 50+70+80+30+45+75 = 350 m²
    ("loyer_m2", "moyen"): (6.74, None),
    # vacant offered (mode 2): lines 4 8; offered (modes 1, 2): 6 + 2 = 8
    ("vacance", "taux"): (2, 25.0),
    # vacant for more than 3 months: line 4 (5 months)
    ("vacance_plus_3_mois", "taux"): (1, 12.5),
    # let, not first let in 2023 (line 3 excluded): 1 2 5 7 10; lease started in 2023: 1 7
    ("mobilite", "taux"): (2, 40.0),
}


def test_france_matches_hand_computation(figures):
    by_key, _ = figures
    for (variable, modality), (number, share) in FRANCE.items():
        row = by_key[("france", "FR", variable, modality)]
        assert row["nombre"] == pytest.approx(number, abs=0.005), (variable, modality)
        if share is None:
            assert row["part"] is None
        else:
            assert row["part"] == pytest.approx(share, abs=0.005), (variable, modality)


@pytest.mark.parametrize(
    ("maille", "code", "libelle", "total", "collectif", "loyer", "vacance", "mobilite"),
    [
        # Rhône: lines 1-5; rent 1520/230; vacant 1 of 5 offered; mobility 1 of 3 (1 2 5)
        ("departement", "69", "Rhône", 5, 4, 6.61, 20.0, 33.33),
        # Haute-Garonne: lines 6 7 8 10; rent 840/120; vacant 1 of 3; mobility 1 of 2 (7 10)
        ("departement", "31", "Haute-Garonne", 4, 3, 7.0, 33.33, 50.0),
        ("region", "84", "Auvergne-Rhône-Alpes", 5, 4, 6.61, 20.0, 33.33),
        ("region", "76", "Occitanie", 4, 3, 7.0, 33.33, 50.0),
        ("epci", "200046977", "Métropole de Lyon", 5, 4, 6.61, 20.0, 33.33),
        ("epci", "243100518", "Toulouse Métropole", 4, 3, 7.0, 33.33, 50.0),
        # Lyon: lines 1 2 3; rent 1280/200; no vacancy; mobility 1 of 2
        ("commune", "69123", "Lyon", 3, 3, 6.4, 0.0, 50.0),
        # Villeurbanne: lines 4 5; rent 240/30; vacant 1 of 2; mobility 0 of 1
        ("commune", "69266", "Villeurbanne", 2, 1, 8.0, 50.0, 0.0),
    ],
)
def test_territories(figures, maille, code, libelle, total, collectif, loyer, vacance, mobilite):
    by_key, _ = figures
    assert by_key[(maille, code, "logements", "total")]["libelle"] == libelle
    assert by_key[(maille, code, "logements", "total")]["nombre"] == total
    assert by_key[(maille, code, "type_construction", "collectif")]["nombre"] == collectif
    assert by_key[(maille, code, "loyer_m2", "moyen")]["nombre"] == pytest.approx(loyer, abs=0.005)
    assert by_key[(maille, code, "vacance", "taux")]["part"] == pytest.approx(vacance, abs=0.005)
    assert by_key[(maille, code, "mobilite", "taux")]["part"] == pytest.approx(mobilite, abs=0.005)


def test_long_format_and_order(figures):
    _, rows = figures
    assert list(rows[0]) == list(etat_des_lieux.COLUMNS)
    territories = [(etat_des_lieux.MAILLES.index(r["maille"]), r["code"]) for r in rows]
    assert territories == sorted(territories)  # mailles from the widest, codes in order
    decl = etat_des_lieux.declaration()
    declared = [(b.variable, m.code) for b in decl.repartitions for m in b.modalites]
    declared += [(r.variable, r.modalite) for r in decl.ratios]
    assert [(r["variable"], r["modalite"]) for r in rows[: len(declared)]] == declared
    assert {r["code"] for r in rows if r["maille"] == "commune"} == {"69123", "69266", "31555"}
    # every territory publishes the same variables
    per_territory = {}
    for r in rows:
        per_territory.setdefault((r["maille"], r["code"]), []).append((r["variable"], r["modalite"]))
    assert len({tuple(v) for v in per_territory.values()}) == 1


def test_missing_optional_column_drops_ratio_with_a_note(warehouse, tmp_path):
    text = FIXTURE.read_bytes().decode("latin-1").replace("DUREEVACANCE", "AUTRE_COLONNE")
    path = tmp_path / "rpls_2024.csv"
    path.write_bytes(text.encode("latin-1"))
    import_rpls(path, warehouse)
    result = etat_des_lieux.compute(warehouse, ("france",))
    variables = {r["variable"] for r in result.table.to_pylist()}
    assert "vacance_plus_3_mois" not in variables and "vacance" in variables
    assert any("vacance_plus_3_mois" in note for note in result.notes)


def test_without_cog_uses_departement_from_code_and_names_from_file(warehouse):
    import_rpls(FIXTURE, warehouse)
    result = etat_des_lieux.compute(warehouse, ("departement", "commune", "region"))
    by_key = {(r["maille"], r["code"], r["variable"], r["modalite"]): r for r in result.table.to_pylist()}
    assert by_key[("departement", "69", "logements", "total")]["nombre"] == 5
    assert by_key[("departement", "69", "logements", "total")]["libelle"] == "Rhône"  # built-in gazetteer
    assert by_key[("commune", "69266", "logements", "total")]["libelle"] == "Villeurbanne"


def test_snapshot_keeps_unknown_columns_and_provenance(warehouse):
    result = import_rpls(FIXTURE, warehouse)
    provenance = result.snapshot.provenance
    assert provenance["encodage"] == "latin-1"
    assert provenance["lignes"] == 10 and provenance["logements_au_1er_janvier"] == 9
    assert provenance["colonnes_inconnues_conservees"] == ["FINANAUTRE", "DATCONV"]
    import duckdb

    row = duckdb.sql(
        f"SELECT finanautre, datconv, nomvoie, loyerprinc FROM '{result.snapshot.table('logements')}' "
        "WHERE ident_rep = '0000000001'"
    ).fetchone()
    assert row == ("X1", "01/1990", "DES ÉCOLES", 300.0)


def test_open_data_without_dwelling_identifier_imports(warehouse, tmp_path):
    lines = FIXTURE.read_bytes().decode("latin-1").splitlines()
    header = lines[0].split(";")
    position = header.index("IDENT_REP")
    kept = [";".join(f for i, f in enumerate(line.split(";")) if i != position) for line in lines]
    path = tmp_path / "rpls_2024_sans_identifiant.csv"
    path.write_bytes(("\r\n".join(kept) + "\r\n").encode("latin-1"))
    result = import_rpls(path, warehouse)
    assert result.dwellings == 9
    assert "IDENT_REP" in result.snapshot.provenance["colonnes_absentes"]
