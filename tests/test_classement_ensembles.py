"""The landlord's ensembles read from the warehouse's RPLS snapshot (lifts and complaints from the event
files located by programme), and the Lambert-93 conversion."""

from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pilote_cus.classement.ensembles import (
    EnsemblesError,
    ensembles_entrepot,
    lambert93_to_wgs84,
    wgs84_to_lambert93,
)
from pilote_cus.classement.grille import shipped_grid
from pilote_cus.classement.references import ReferenceData
from pilote_cus.classement.score import score
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.evenements.import_evenements import import_events
from web import usines  # tests/web, importable because tests/ is on the path (rootdir import mode)


def test_lambert93_origin_and_round_trip() -> None:
    lat, lon = lambert93_to_wgs84(700_000, 6_600_000)  # the projection's origin: 46°30' N, 3° E
    assert lat == pytest.approx(46.5, abs=1e-9) and lon == pytest.approx(3.0, abs=1e-9)
    x, y = wgs84_to_lambert93(45.758, 4.8325)  # place Bellecour, Lyon: about (842 400, 6 519 250)
    assert x == pytest.approx(842_433, abs=50) and y == pytest.approx(6_519_252, abs=50)
    for point in ((48.8566, 2.3522), (43.6045, 1.444), (50.63, 3.06), (42.7, 9.45)):
        assert lambert93_to_wgs84(*wgs84_to_lambert93(*point)) == pytest.approx(point, abs=1e-9)


def _snapshot(tmp_path: Path, rows: list[dict]) -> Warehouse:
    warehouse = Warehouse(tmp_path)
    with warehouse.lock(), warehouse.new_snapshot("rpls", 2024, {}) as folder:
        pq.write_table(pa.Table.from_pylist(rows), folder / "logements.parquet")
    return warehouse


def _logement(ensemble: int, **fields: object) -> dict:
    row = {
        "organisme_id": "ORG1",
        "ensemble_id": ensemble,
        "en_stock": True,
        "complgeo": "LES ÉRABLES",
        "nomvoie": "RUE DES ÉRABLES",
        "depcom": "69381",
        "iris": "693810101",
        "x": None,
        "y": None,
        "epsg": None,
        "construct": 1970,
        "dpeenergie": "C",
        "mode": "1",
        "bail": date(2015, 1, 1),
    }
    return row | fields


def test_hand_built_snapshot(tmp_path: Path) -> None:
    bellecour = wgs84_to_lambert93(45.758, 4.8325)
    rows = [
        # ensemble 1: three Lambert-93 dwellings at Bellecour, one WGS84 far away (the minority system is ignored)
        _logement(1, x=bellecour[0], y=bellecour[1], epsg=2154, construct=1960, dpeenergie="D"),
        _logement(1, x=bellecour[0] + 100, y=bellecour[1], epsg=2154, construct=1971, dpeenergie="C", mode="2"),
        _logement(1, x=bellecour[0] - 100, y=bellecour[1], epsg=2154, construct=1972, bail=date(2023, 5, 1)),
        _logement(1, x=1.0, y=44.0, epsg=4326, construct=1973, dpeenergie=None, mode="3"),
        _logement(1, en_stock=False, dpeenergie="G"),  # sold: not counted
        # ensemble 2: Martinique (UTM 20N, not converted), no DPE
        _logement(2, complgeo=None, depcom="97209", x=708_000.0, y=1_616_000.0, epsg=5490, dpeenergie=None),
        _logement(3, organisme_id="ORG2"),  # another landlord
        _logement(4, dpeenergie="B", x=4.85, y=45.76, epsg=4326),  # a tie between two labels: the worse one
        _logement(4, dpeenergie="E", x=4.85, y=45.76, epsg=4326),
    ]
    result = ensembles_entrepot(_snapshot(tmp_path, rows), "ORG1")
    assert result.vintage == 2024 and result.sans_coordonnees == ["2"]
    first, second, tie = sorted(result.rows, key=lambda r: r["id"])
    assert (tie["etiquette_dpe"], tie["lat"], tie["lon"]) == ("E", 45.76, 4.85)
    assert (first["id"], first["nom"], first["commune"], first["iris"], first["logements"]) == (
        "1",
        "LES ÉRABLES",
        "69381",
        "693810101",
        4,
    )
    assert (first["lat"], first["lon"]) == pytest.approx((45.758, 4.8325), abs=1e-6)  # mean of x ± 100 m
    assert first["annee_construction"] == 1969  # (1960 + 1971 + 1972 + 1973) / 4 = 1969
    assert (first["etiquette_dpe"], first["etiquette_dpe_pire"]) == ("C", "D")  # C : 2, D : 1
    assert first["repartition_dpe"] == "C : 2, D : 1"
    assert first["taux_vacance"] == pytest.approx(33.33)  # 1 vacant among 3 offered (MODE 1 or 2)
    assert first["taux_rotation"] == pytest.approx(33.33)  # 1 lease started in 2023 among 3 offered
    assert (second["nom"], second["lat"], second["lon"], second["etiquette_dpe"]) == (
        "RUE DES ÉRABLES",
        None,
        None,
        None,
    )


def test_no_snapshot_and_unknown_landlord(tmp_path: Path) -> None:
    with pytest.raises(EnsemblesError, match="aucun instantané RPLS : importez d'abord le RPLS"):
        ensembles_entrepot(Warehouse(tmp_path / "vide"), "ORG1")
    warehouse = _snapshot(tmp_path, [_logement(1)])
    with pytest.raises(EnsemblesError, match="Aucun logement de l'organisme INCONNU dans l'instantané RPLS"):
        ensembles_entrepot(warehouse, "INCONNU")


def test_demo_warehouse_against_an_independent_query() -> None:
    demo = usines.entrepot_demo()
    warehouse = Warehouse(demo.dossier)
    snapshot = warehouse.current("rpls")
    result = ensembles_entrepot(warehouse, demo.code)
    path = str(snapshot.table("logements"))
    dwellings = duckdb.sql(
        f"SELECT ensemble_id, x, y, epsg, mode, dpeenergie FROM read_parquet('{path}') "
        f"WHERE organisme_id = '{demo.code}' AND en_stock"
    ).fetchall()
    by_ensemble: dict[str, list[tuple]] = {}
    for row in dwellings:
        by_ensemble.setdefault(str(row[0]), []).append(row)
    assert len(result.rows) == len(by_ensemble) > 10
    assert {r["id"] for r in result.rows} == set(by_ensemble)
    assert sum(r["logements"] for r in result.rows) == len(dwellings)
    assert {row[3] for row in dwellings} == {4326}  # the synthetic RPLS is in WGS84: x = longitude
    biggest = max(result.rows, key=lambda r: r["logements"])
    mine = by_ensemble[biggest["id"]]
    assert biggest["lon"] == pytest.approx(sum(r[1] for r in mine) / len(mine), abs=1e-6)
    assert biggest["lat"] == pytest.approx(sum(r[2] for r in mine) / len(mine), abs=1e-6)
    offered = [r for r in mine if r[4] in ("1", "2")]
    assert biggest["taux_vacance"] == pytest.approx(100 * sum(r[4] == "2" for r in offered) / len(offered), abs=0.01)
    labels = Counter(r[5] for r in mine if r[5])
    top = max(labels.values())
    assert biggest["etiquette_dpe"] == max(label for label, n in labels.items() if n == top)


def test_demo_ensembles_are_scored() -> None:
    """The warehouse rows go straight into `score` (landlord fields named as the grid's)."""
    demo = usines.entrepot_demo()
    rows = ensembles_entrepot(Warehouse(demo.dossier), demo.code).rows
    grid = shipped_grid()
    grid.criteres = [c for c in grid.criteres if c.source in ("bailleur", "saisie")]
    result = score(rows, grid, ReferenceData())
    some = rows[0]
    dpe = result.detail(some["id"], "performance_energetique")
    assert dpe.explanation.startswith(f"étiquette DPE : {some['etiquette_dpe']} → ")
    # the demo locates its equipment by programme: an ensemble with a lift, one without
    served = next(r["id"] for r in rows if r["ascenseur"] == "oui")
    lift = result.detail(served, "ascenseur")
    assert (lift.raw_value, lift.explanation) == (1.0, "ascenseur : oui → 2 points")
    unserved = next(r["id"] for r in rows if r["ascenseur"] == "non")
    lift = result.detail(unserved, "ascenseur")
    assert (lift.raw_value, lift.explanation) == (0.0, "ascenseur : non → 0 point")
    assert len(result.ensembles) == len(rows)


# --- lifts and complaints located by programme -----------------------------------------------------------

EQUIPEMENTS = """id_equipement;organisme;depcom;programme;type_equipement;annee_mise_en_service;annee_retrait
ASC-1;ORG1;69123; les  érables ;ASCENSEUR;1990;
ASC-2;ORG1;69123;Les Tilleuls;ASCENSEUR;1980;2023
ASC-3;ORG1;69123;Les Tilleuls;ASCENSEUR;2024;
ASC-4;ORG1;69123;LES CÈDRES;ASCENSEUR;1975;2024
ASC-5;ORG1;69123;;ASCENSEUR;1975;
CHA-1;ORG2;69123;LE PARC;CHAUFFERIE;1975;
ASC-6;ORG2;69123;LE PARC;ASCENSEUR;1975;
"""
RECLAMATIONS = """id_reclamation;organisme;depcom;programme;categorie;ecrite;date_reception
R1;ORG1;69123;LES ÉRABLES;TECHNIQUE;oui;02/01/2023
R2;ORG1;69123;Les Érables;PROPRETE;non;15/06/2023
R3;ORG1;69123;LES  ÉRABLES;AUTRE;non;31/12/2023
R4;ORG1;69123;LES ÉRABLES;AUTRE;non;31/12/2022
R5;ORG1;69123;LES ÉRABLES;AUTRE;non;01/01/2024
R6;ORG1;69123;LES TILLEULS;TECHNIQUE;oui;10/03/2022
R7;ORG1;69123;;TECHNIQUE;oui;10/03/2023
R8;ORG2;69123;LE PARC;TECHNIQUE;oui;10/03/2023
"""


def _located(tmp_path: Path, equipements: str = EQUIPEMENTS, reclamations: str = RECLAMATIONS) -> Warehouse:
    """RPLS 2024 of ORG1 (depcom 69123 unless said) and the event files, imported by the real importer."""
    rows = [
        *[_logement(10, complgeo="LES ÉRABLES", depcom="69123") for _ in range(4)],
        _logement(10, complgeo="LES ÉRABLES", depcom="69123", en_stock=False),  # sold: not a dwelling
        *[_logement(16, complgeo="les érables", depcom="69123") for _ in range(2)],  # same name, other case
        *[_logement(11, complgeo="LES TILLEULS", depcom="69123") for _ in range(2)],
        _logement(14, complgeo="LES TILLEULS", depcom="69266"),  # same name, other commune
        *[_logement(12, complgeo="LE PARC", depcom="69123") for _ in range(3)],  # ORG2's events only
        _logement(13, complgeo=None, depcom="69123"),  # no programme name: keyed by street
        _logement(15, complgeo="LES CÈDRES", depcom="69123"),
    ]
    warehouse = _snapshot(tmp_path, rows)
    for name, text in (("equipements", equipements), ("reclamations", reclamations)):
        if text:
            path = tmp_path / f"{name}.csv"
            path.write_text(text, encoding="utf-8")
            import_events(warehouse, name, path)
    return warehouse


def _by_id(warehouse: Warehouse) -> dict[str, tuple]:
    rows = ensembles_entrepot(warehouse, "ORG1").rows
    return {r["id"]: (r["logements"], r["ascenseur"], r["reclamations_par_logement"]) for r in rows}


def test_lifts_and_complaints_by_programme(tmp_path: Path) -> None:
    assert _by_id(_located(tmp_path)) == {
        # a lift in service since 1990; 3 complaints in 2023 (2022 and 2024 not counted) ÷ (4 + 2) dwellings
        # of the two ensembles named « LES ÉRABLES » once capitals and spaces are normalised
        "10": (4, "oui", 0.5),
        "16": (2, "oui", 0.5),
        # lifts withdrawn in 2023 and put into service in 2024: none on 1 January 2024; named by a 2022 complaint
        "11": (2, "non", 0.0),
        "14": (1, None, None),  # the same name in another commune: no match
        "12": (3, None, None),  # only another landlord's events name « LE PARC »
        "13": (1, None, None),
        "15": (1, "oui", None),  # withdrawn in 2024: still in service on 1 January; no complaint named it
    }


def test_complaints_year_not_located_and_old_files(tmp_path: Path) -> None:
    """No complaint located by programme in 2023: the ratio is unknown everywhere (0 would be a lie). Files
    without the column `programme` still import (the column is empty) and bring nothing."""
    only_2022 = "\n".join(line for line in RECLAMATIONS.splitlines() if "/2023" not in line) + "\n"
    found = _by_id(_located(tmp_path / "a", reclamations=only_2022))
    assert (found["10"], found["11"]) == ((4, "oui", None), (2, "non", None))

    def without_programme(text: str) -> str:
        return "\n".join(";".join(f for i, f in enumerate(line.split(";")) if i != 3) for line in text.splitlines())

    warehouse = _located(tmp_path / "b", without_programme(EQUIPEMENTS), without_programme(RECLAMATIONS))
    assert {v[1:] for v in _by_id(warehouse).values()} == {(None, None)}
    for name, rows in (("equipements", 7), ("reclamations", 8)):
        table = str(warehouse.current(name).table(name)) if name == "equipements" else None
        table = table or str(warehouse.history(name)[-1].table(name))
        assert duckdb.sql(f"SELECT count(*), count(programme) FROM read_parquet('{table}')").fetchone() == (rows, 0)


def test_snapshot_written_before_the_column_is_skipped(tmp_path: Path) -> None:
    warehouse = _located(tmp_path, reclamations="")
    old = warehouse.current("equipements").table("equipements")
    pq.write_table(pq.read_table(old).drop(["programme"]), old)  # as stored before `programme` existed
    assert {v[1:] for v in _by_id(warehouse).values()} == {(None, None)}
    assert ensembles_entrepot(warehouse, "ORG1").evenements == []
    # the indicators' view of the events still reads that snapshot: the new column comes back empty
    from pilote_cus.evenements.schema import event_schemas
    from pilote_cus.evenements.stockage import event_view_sql

    sql, ids = event_view_sql(warehouse, event_schemas()["equipements"])
    before = duckdb.sql(f"SELECT count(*) FROM read_parquet('{old}')").fetchone()
    assert ids and duckdb.sql(f"SELECT count(*), count(programme) FROM ({sql})").fetchone() == (before[0], 0)


def test_demo_lifts_and_complaints_against_an_independent_query() -> None:
    demo = usines.entrepot_demo()
    warehouse = Warehouse(demo.dossier)
    snapshot = warehouse.current("rpls")
    result = ensembles_entrepot(warehouse, demo.code)
    vintage = snapshot.vintage
    equipment = warehouse.current("equipements").table("equipements")
    complaints = ", ".join(f"'{s.table('reclamations')}'" for s in warehouse.history("reclamations"))
    expected = duckdb.sql(f"""
        WITH ens AS (
            SELECT ensemble_id::VARCHAR AS id, any_value(depcom) AS depcom, any_value(complgeo) AS complgeo,
                   count(*) AS n
            FROM read_parquet('{snapshot.table("logements")}')
            WHERE organisme_id = '{demo.code}' AND en_stock GROUP BY ensemble_id),
        lifts AS (
            SELECT depcom, programme AS complgeo,
                   bool_or(type_equipement = 'ASCENSEUR' AND annee_mise_en_service <= {vintage - 1}
                           AND coalesce(annee_retrait, 9999) > {vintage - 1}) AS served
            FROM read_parquet('{equipment}') WHERE organisme = '{demo.code}' GROUP BY ALL),
        recs AS (
            SELECT depcom, programme AS complgeo,
                   count(DISTINCT id_reclamation) FILTER (year(date_reception) = {vintage - 1}) AS r
            FROM read_parquet([{complaints}]) WHERE organisme = '{demo.code}' GROUP BY ALL)
        SELECT id, CASE WHEN served THEN 'oui' WHEN NOT served THEN 'non' END, r / n
        FROM ens LEFT JOIN lifts USING (depcom, complgeo) LEFT JOIN recs USING (depcom, complgeo)
    """).fetchall()
    found = {r["id"]: (r["ascenseur"], r["reclamations_par_logement"]) for r in result.rows}
    assert set(found) == {row[0] for row in expected}
    for ensemble, served, ratio in expected:
        assert found[ensemble][0] == served, ensemble
        assert found[ensemble][1] == pytest.approx(ratio, abs=0.005 + 1e-9), ensemble
    lifted = [r for r in result.rows if r["ascenseur"] == "oui"]
    assert 0 < len(lifted) < len(result.rows)  # some ensembles have lifts, some do not
    assert all(r["reclamations_par_logement"] is not None for r in result.rows)  # 0.4 complaints a dwelling a year
    mean = sum(r["reclamations_par_logement"] * r["logements"] for r in result.rows) / sum(
        r["logements"] for r in result.rows
    )
    assert 0.3 < mean < 0.5
