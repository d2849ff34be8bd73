import duckdb
import pytest

from pilote_cus.geographie.referentiel import ReferenceDataError, gazetteer, load_cog


def test_load_cog_2026(warehouse, cog_dir):
    snapshot = load_cog(warehouse, cog_dir, 2026)
    communes = snapshot.table("communes")
    rows = dict(duckdb.sql(f"SELECT code, epci FROM '{communes}' WHERE code IN ('69123', '69381', '2A004')").fetchall())
    assert rows == {"69123": "200046977", "69381": "200046977", "2A004": "242010056"}  # arrondissement → EPCI
    assert snapshot.provenance["communes"] > 34_000


def test_builtin_gazetteer_agrees_with_the_cog(warehouse, cog_dir):
    snapshot = load_cog(warehouse, cog_dir, 2026)
    cog = {
        r[0]: r[1:]
        for r in duckdb.sql(f"SELECT code, libelle, dep, reg, epci FROM '{snapshot.table('communes')}'").fetchall()
    }
    gaz = gazetteer()
    for c in gaz.communes:
        assert cog[c.code] == (c.nom, c.departement, gaz.departements[c.departement]["region"], c.epci), c.code


def test_missing_cog_file_is_named(warehouse, tmp_path):
    (tmp_path / "communes_2026.csv").write_text("code,nom\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"commune_epci_2026\.csv"):
        load_cog(warehouse, tmp_path)


def test_missing_cog_column_is_named(warehouse, tmp_path, cog_dir):
    for name in ("commune_epci_2026.csv", "departements.json", "regions.json"):
        (tmp_path / name).write_bytes((cog_dir / name).read_bytes())
    (tmp_path / "communes_2026.csv").write_text("code,nom,departement,type,commune\n01001,A,01,x,\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"communes_2026\.csv : colonne.*region"):
        load_cog(warehouse, tmp_path)
    assert warehouse.history() == []
