"""`cus bench --suite indicateurs`: every indicator × every declination × 6 years on a national history.

One run, one process: the national history is written into a throw-away warehouse (6 RPLS vintages of
the whole stock and tens of millions of events), then the whole indicator set is computed — both
generations, the 7 mailles, the 6 years and the 3- and 6-year cumulations — by DuckDB (best of 3),
by a plain pandas implementation of the same definitions, and by Spark (local[2]); the results are
compared row by row.
"""

import json
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.table import Table

from ..entrepot.entrepot import Warehouse
from ..geographie.referentiel import load_cog
from ..indicateurs.catalogue import catalogue
from ..indicateurs.moteur import Period, Plan, collect_sources, make_plan, run_duckdb
from ..progression import Steps, console, number
from .rpls import Measure, _best_of, measured

FIRST_YEAR, YEARS = 2019, 6
# the declinations of the catalogue (INDICATORS.md): département, EPCI, segment, landlord, région, France;
# the commune level is available on request but is no indicator's declination
DECLINATIONS = ("france", "region", "departement", "epci", "segment", "bailleur")
KEY = ("code", "ventilation", "maille", "code_territoire", "periode")


def all_periods(first: int = FIRST_YEAR, years: int = YEARS) -> list[Period]:
    periods = [Period(str(y), y, y) for y in range(first, first + years)]
    periods += [Period(f"{first}-{first + h - 1}", first, first + h - 1) for h in (3, 6) if h <= years]
    return periods


def full_plan(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, landlords: Sequence[str] = ()) -> Plan:
    sources = collect_sources(con, warehouse, range(FIRST_YEAR, FIRST_YEAR + YEARS), landlords)
    return make_plan(sources, list(catalogue().indicators), all_periods(), list(DECLINATIONS))


def compare(ours: list[dict[str, Any]], theirs: list[dict[str, Any]], tolerance: float = 1e-6) -> int:
    """Rows present on one side only, or whose numerator, denominator or value differ."""
    left = {tuple(r[k] or "" for k in KEY): r for r in ours}
    right = {tuple(r[k] or "" for k in KEY): r for r in theirs}
    differences = len(left.keys() ^ right.keys())
    for key in left.keys() & right.keys():
        for field in ("numerateur", "denominateur", "valeur"):
            a, b = left[key][field], right[key][field]
            if (a is None) != (b is None) or (a is not None and abs(a - b) > tolerance * max(1.0, abs(a))):
                differences += 1
                break
    return differences


def run_bench_indicateurs(
    root: Path,
    dwellings: int,
    events: int,
    seed: int,
    cog: Path | None,
    spark: bool = True,
    pandas_share: float = 1.0,
) -> tuple[int, dict[str, Any]]:
    """Measure; with `pandas_share` < 1, pandas (and DuckDB beside it) runs on that share of the landlords only:
    pandas needs more than the 24 GB of the reference machine for the whole national history."""
    from ..patrimoine.historique import write_national_history

    work = root / "bench"
    work.mkdir(parents=True, exist_ok=True)
    warehouse = Warehouse(work / f"entrepot-indicateurs-{datetime.now():%Y%m%d%H%M%S}")
    figures: dict[str, Measure] = {}
    counts: dict[str, Any] = {}
    console.print(
        f"[bold]Banc d'essai des indicateurs[/] : {number(dwellings)} logements × {YEARS} millésimes, "
        f"au moins {number(events)} événements, {len(catalogue().indicators)} indicateurs × "
        f"{len(DECLINATIONS)} mailles × {YEARS} ans + cumuls à 3 et 6 ans."
    )
    try:
        with Steps() as steps:
            cog_snapshot = load_cog(warehouse, cog) if cog else None
            with steps.step("Écriture de l'historique national", 100) as advance, measured() as m:
                summary = write_national_history(
                    warehouse,
                    dwellings=dwellings,
                    seed=seed,
                    first_year=FIRST_YEAR,
                    years=YEARS,
                    events=events,
                    cog=cog_snapshot,
                    progress=advance,
                )
            figures["écriture de l'historique national (hors mesure)"] = m
        counts = _counts(warehouse)
        holder: dict[str, Any] = {}

        def duck() -> None:
            con = duckdb.connect()
            try:
                plan = full_plan(con, warehouse)
                holder["plan"] = plan
                holder["duckdb"] = run_duckdb(con, plan)
            finally:
                con.close()

        console.print("Calcul DuckDB (meilleur de 3)…")
        figures["DuckDB : tous les indicateurs"] = _best_of(3, duck)
        landlords = _landlords(warehouse, pandas_share)
        shown = "tous les organismes" if not landlords else f"{len(landlords)} organismes ({pandas_share:.0%})"
        counts["comparaison pandas"] = shown
        console.print(f"Comparaison à pandas sur {shown}…")

        def duck_part() -> None:
            con = duckdb.connect()
            try:
                plan = full_plan(con, warehouse, landlords)
                holder["plan_part"] = plan
                holder["duckdb_part"] = run_duckdb(con, plan)
            finally:
                con.close()

        if landlords:
            figures[f"DuckDB : tous les indicateurs, {shown}"] = _best_of(3, duck_part)
        else:
            holder["plan_part"], holder["duckdb_part"] = holder["plan"], holder["duckdb"]
        suffix = f", {shown}" if landlords else ""
        measure, holder["pandas"] = _pandas(warehouse, holder["plan_part"], landlords)
        figures[f"pandas : tous les indicateurs{suffix}"] = measure
        differences = {"pandas": compare(holder["duckdb_part"], holder["pandas"])}
        if spark:
            console.print("Calcul Spark (local[2])…")
            spark_start, spark_run, spark_rows = _spark(warehouse)
            figures["Spark : démarrage de la session"] = spark_start
            figures["Spark : tous les indicateurs"] = spark_run
            differences["spark"] = compare(holder["duckdb"], spark_rows)
        counts["résultats"] = len(holder["duckdb"])
        counts["historique"] = {k: v for k, v in vars(summary).items() if isinstance(v, int | float | str)}
    finally:
        shutil.rmtree(warehouse.root.parent, ignore_errors=True)
    return _report(work, dwellings, figures, differences, counts)


def _counts(warehouse: Warehouse) -> dict[str, Any]:
    con = duckdb.connect()
    try:
        stock = 0
        for snapshot in warehouse.history("rpls"):
            row = con.execute(f"SELECT count(*) FROM read_parquet('{snapshot.table('logements')}')").fetchone()
            stock += int(row[0]) if row else 0
        events: dict[str, int] = {}
        for snapshot in warehouse.history():
            if snapshot.kind not in ("rpls", "cog", "objectifs"):
                events[snapshot.kind] = events.get(snapshot.kind, 0) + int(snapshot.provenance.get("lignes", 0))
        return {"lignes_parc": stock, "evenements": events, "total_evenements": sum(events.values())}
    finally:
        con.close()


def _pandas(warehouse: Warehouse, plan: Plan, landlords: list[str]) -> tuple[Measure, list[dict[str, Any]]]:
    from .indicateurs_pandas import compute_from_warehouse

    holder: dict[str, Any] = {}
    with measured() as m:
        holder["rows"] = compute_from_warehouse(warehouse, plan, landlords)
    return m, holder["rows"]


def _landlords(warehouse: Warehouse, share: float) -> list[str]:
    """No restriction when `share` is 1, else one landlord in round(1 / share), in identifier order."""
    if share >= 1:
        return []
    snapshot = warehouse.history("rpls")[-1]
    con = duckdb.connect()
    try:
        path = snapshot.table("logements")
        rows = con.execute(f"SELECT DISTINCT organisme_id FROM read_parquet('{path}') ORDER BY 1").fetchall()
    finally:
        con.close()
    step = max(1, round(1 / share))
    return [r[0] for r in rows][::step]


def _spark(warehouse: Warehouse) -> tuple[Measure, Measure, list[dict[str, Any]]]:
    from ..indicateurs.spark import run_spark, spark_session

    with measured() as start:
        spark_session()
    holder: dict[str, Any] = {}
    with measured() as m:
        con = duckdb.connect()
        try:
            holder["rows"] = run_spark(con, full_plan(con, warehouse))
        finally:
            con.close()
    return start, m, holder["rows"]


def _reference(name: str, duck: float, part: float) -> float:
    """The DuckDB time a figure is compared with: the one on the same landlords."""
    return part if ", " in name.split(" : ", 1)[1] else duck


def _report(
    work: Path, dwellings: int, figures: dict[str, Measure], differences: dict[str, int], counts: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    duck = figures["DuckDB : tous les indicateurs"].seconds
    part = next((m.seconds for k, m in figures.items() if k.startswith("DuckDB : tous les indicateurs, ")), duck)
    table = Table(
        title=(
            f"Indicateurs : {number(counts.get('lignes_parc', 0))} lignes de parc (6 millésimes), "
            f"{number(counts.get('total_evenements', 0))} événements, {number(counts.get('résultats', 0))} résultats"
        ),
        title_justify="left",
    )
    for name in ("étape", "secondes", "mémoire max (Go)", "× DuckDB"):
        table.add_column(name, justify="right" if name != "étape" else "left")
    for name, m in figures.items():
        ratio = f"{m.seconds / _reference(name, duck, part):.1f}" if "tous les indicateurs" in name else ""
        table.add_row(name, f"{m.seconds:.2f}", f"{m.peak_bytes / 1e9:.2f}", ratio)
    console.print(table)
    for engine, count in differences.items():
        console.print(f"Écarts de résultats DuckDB / {engine} : {count} ligne(s).")
    payload = {
        "logements": dwellings,
        "volumes": counts,
        "mesures": {
            k: {"secondes": round(m.seconds, 3), "memoire_max_octets": m.peak_bytes, **m.extra}
            for k, m in figures.items()
        },
        "rapports": {
            k: round(m.seconds / _reference(k, duck, part), 2)
            for k, m in figures.items()
            if "tous les indicateurs" in k
        },
        "ecarts": differences,
    }
    output = work / f"resultats-indicateurs-{datetime.now():%Y%m%d-%H%M%S}.json"
    output.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"Résultats : {output}")
    return (0 if not any(differences.values()) else 1), payload
