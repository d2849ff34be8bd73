"""The indicators on Spark (`cus indicateurs --moteur spark`) are the indicators on DuckDB, to the row.

One warehouse for the module: six RPLS vintages of a synthetic landlord and a random table for every
event schema, drawn from the stock (same landlords, communes, dwellings, segments) so that every
indicator has a numerator. Decimals are multiples of 0.25: their sums are exact in either engine.
"""

import csv
import datetime
import math
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from pilote_cus import cli
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.evenements.schema import EventSchema, event_schemas
from pilote_cus.evenements.stockage import write_event_snapshot
from pilote_cus.geographie.referentiel import load_cog
from pilote_cus.indicateurs import spark as spark_engine
from pilote_cus.indicateurs.catalogue import catalogue
from pilote_cus.indicateurs.moteur import Period, collect_sources, make_plan, run_duckdb
from pilote_cus.patrimoine.import_rpls import import_rpls
from pilote_cus.patrimoine.synthetique import generate_rpls

pytestmark = pytest.mark.lent

FIRST, LAST = 2019, 2024
MAILLES = ["france", "region", "departement", "epci", "bailleur", "segment"]
EVENTS_PER_TABLE = 1_500
FROM_STOCK = {"organisme": "organisme_id", "depcom": "depcom", "ident_rep": "ident_rep", "segment": "codsegpatrim"}


def _column(schema: EventSchema, name: str, stock: pa.Table, rng: np.random.Generator) -> list[Any]:
    column = schema.by_name()[name]
    n = stock.num_rows
    if name in FROM_STOCK:
        return stock[FROM_STOCK[name]].to_pylist()
    if column.type == "departement":  # one landlord reports its costs for all its départements at once
        first = stock["organisme_id"][0].as_py()
        return [
            None if o == first else d
            for o, d in zip(stock["organisme_id"].to_pylist(), stock["departement"].to_pylist(), strict=True)
        ]
    if column.type == "texte":
        return [f"{name}-{i}" if name in schema.cle else f"{name}-{i % 40}" for i in range(n)]
    if column.type == "code":
        return [column.codes[i] for i in rng.integers(0, len(column.codes), n)]
    if column.type == "booleen":
        return [bool(v) for v in rng.integers(0, 2, n)]
    if column.type == "entier":
        low = int(column.minimum or 0)
        high = low + 12 if column.maximum is None else min(int(column.maximum), low + 12)
        return [int(v) for v in rng.integers(low, high + 1, n)]
    if column.type == "decimal":
        return [int(v) / 4 for v in rng.integers(0, 1_600, n)]
    if column.type == "annee":
        return [int(v) for v in rng.integers(FIRST - 1, LAST + 1, n)]
    if column.type == "date":
        start = datetime.date(FIRST - 1, 1, 1).toordinal()
        return [datetime.date.fromordinal(start + int(v)) for v in rng.integers(0, 365 * (LAST - FIRST + 2), n)]
    raise AssertionError(f"type de colonne sans générateur de test : {column.type}")


def _events(schema: EventSchema, stock: pa.Table, rng: np.random.Generator) -> pa.Table:
    drawn = stock.take(pa.array(rng.integers(0, stock.num_rows, EVENTS_PER_TABLE)))
    columns = {}
    for column in schema.colonnes:
        values = _column(schema, column.nom, drawn, rng)
        if not column.obligatoire and column.type != "departement":
            missing = rng.random(len(values)) < 0.1
            values = [None if m else v for v, m in zip(values, missing, strict=True)]
        columns[column.nom] = values
    return pa.table(columns)


def _write_events(warehouse: Warehouse, seed: int) -> None:
    con = duckdb.connect()
    latest = warehouse.current("rpls", LAST).table("logements")
    stock = con.sql(
        "SELECT organisme_id, depcom, ident_rep, codsegpatrim, departement "
        f"FROM read_parquet('{latest}') ORDER BY ident_rep"
    ).to_arrow_table()
    rng = np.random.default_rng(seed)
    for schema in event_schemas().values():
        events = _events(schema, stock, rng)
        con.register("evenements", events)
        with warehouse.lock():
            write_event_snapshot(con, warehouse, schema, "evenements", {"source": "test"})
            if schema.nom == "operations":  # a later import replacing some years: the view picks per year
                recent = f"(SELECT * FROM evenements WHERE year(date_evenement) >= {LAST - 2} USING SAMPLE 50%)"
                write_event_snapshot(con, warehouse, schema, recent, {"source": "test, reprise"})
        con.unregister("evenements")
    con.close()


@pytest.fixture(scope="session")
def spark():
    return spark_engine.spark_session()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spark")
    warehouse = Warehouse(root)
    for n, vintage in enumerate(range(FIRST, LAST + 1)):
        path = root / f"rpls-{vintage}.csv"
        generate_rpls(path, 1_500, 20 + n, vintage=vintage, landlords=3)
        import_rpls(path, warehouse)
    _write_events(warehouse, seed=3)
    return root


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["code"], row["ventilation"], row["maille"], row["code_territoire"], row["periode"]


def test_spark_gives_the_duckdb_results_for_every_indicator(data_dir, spark):
    yearly = [Period(str(y), y, y) for y in range(FIRST, LAST + 1)]
    cumulated = [Period(f"{a}-{b}", a, b) for a, b in ((FIRST, FIRST + 2), (FIRST + 3, LAST), (FIRST, LAST))]
    indicators = list(catalogue().indicators)
    con = duckdb.connect()
    sources = collect_sources(con, Warehouse(data_dir), range(FIRST, LAST + 1))
    plan = make_plan(sources, indicators, yearly + cumulated, MAILLES)  # one plan: Spark starts its jobs once

    expected = {_key(r): r for r in run_duckdb(con, plan)}
    got = {_key(r): r for r in spark_engine.run_spark(con, plan)}

    assert {i.generation for i in indicators} == {1, 2}
    numerators = {(k[0], k[4]) for k, r in expected.items() if r["maille"] == "france" and r["numerateur"]}
    assert {code for code, _ in numerators} == {i.code for i in indicators}, "un indicateur sans numérateur"
    assert {period for _, period in numerators} == {p.label for p in yearly + cumulated}
    assert {k[2] for k in expected} == set(MAILLES)
    assert set(got) == set(expected)
    for key, row in expected.items():
        other = got[key]
        assert (other["numerateur"], other["denominateur"]) == (row["numerateur"], row["denominateur"]), key
        if row["valeur"] is None:
            assert other["valeur"] is None, key
        else:
            assert math.isclose(other["valeur"], row["valeur"], rel_tol=1e-9, abs_tol=1e-9), key
        assert {type(v) for v in other.values()} <= {str, float, type(None)}
        assert [type(v) for v in other.values()] == [type(v) for v in row.values()], key


def _indicators_csv(data_dir: Path, output: Path, engine: str, *extra: str) -> list[dict[str, str]]:
    args = ["indicateurs", "--generation", "2", "--annee", str(LAST), "--cumul", "3", "--code", "PS-2", *extra]
    args += ["--code", "PP-2", "--maille", "region", "--maille", "epci", "--maille", "bailleur", "--moteur", engine]
    args += ["--format", "csv", "--sortie", str(output), "--data-dir", str(data_dir)]
    assert cli.main(args) == 0
    with output.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_cus_indicateurs_moteur_spark_with_the_cog(data_dir, spark, cog_dir, tmp_path, capsys):
    with_cog = tmp_path / "donnees"
    shutil.copytree(data_dir, with_cog)
    load_cog(Warehouse(with_cog), cog_dir)  # the geography as Parquet views (the gazetteer above: tables)

    by_spark = _indicators_csv(with_cog, tmp_path / "spark.csv", "spark")
    assert "par spark" in capsys.readouterr().err
    by_duckdb = _indicators_csv(with_cog, tmp_path / "duckdb.csv", "duckdb")

    assert by_spark == by_duckdb
    assert {(r["code"], r["maille"]) for r in by_spark} >= {("PS-2", "epci"), ("PP-2", "region")}
    assert {r["periode"] for r in by_spark} == {f"{LAST - 2}-{LAST}"}


def test_one_landlord_filtered_from_the_reading_on_spark_as_on_duckdb(data_dir, spark, tmp_path):
    snapshot = Warehouse(data_dir).current("rpls", LAST)
    con = duckdb.connect()
    path = snapshot.table("logements")
    landlords = [
        r[0] for r in con.execute(f"SELECT DISTINCT organisme_id FROM read_parquet('{path}') ORDER BY 1").fetchall()
    ]
    extra = ("--organisme", landlords[0], "--code", "SR-1")
    by_spark = _indicators_csv(data_dir, tmp_path / "spark.csv", "spark", *extra)
    by_duckdb = _indicators_csv(data_dir, tmp_path / "duckdb.csv", "duckdb", *extra)
    assert by_spark == by_duckdb
    assert {r["code_territoire"] for r in by_duckdb if r["maille"] == "bailleur"} == {landlords[0]}


def test_nested_ctes_keep_their_place():
    sql = (
        "SELECT * FROM (WITH d AS (SELECT 1 AS x) SELECT x FROM d) AS a "
        "UNION ALL SELECT * FROM (WITH d AS (SELECT 2 AS x) SELECT x FROM d) AS b"
    )
    spark_sql = spark_engine.to_spark_sql(sql)
    assert spark_sql.count("WITH d AS") == 2
    assert not spark_sql.startswith("WITH")


def test_without_java_a_french_message(monkeypatch):
    monkeypatch.setattr(spark_engine, "_local", None)
    monkeypatch.setattr(spark_engine, "_java", lambda: None)
    with pytest.raises(spark_engine.SparkError, match="Java est introuvable"):
        spark_engine.spark_session()
