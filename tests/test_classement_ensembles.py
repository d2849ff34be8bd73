"""The landlord's ensembles read from the warehouse's RPLS snapshot, and the Lambert-93 conversion."""

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
    lift = result.detail(some["id"], "ascenseur")
    assert (lift.raw_value, lift.explanation) == (None, "ascenseur : non renseigné → 0 point")
    assert len(result.ensembles) == len(rows)
