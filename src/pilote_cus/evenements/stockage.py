"""Writing event tables into the warehouse, and reading them back as one view per table.

A snapshot of kind `<nom>` holds `<nom>.parquet` (declared columns, typed, plus `annee` and
`departement`) and records in its provenance the years it covers (`annees`). A later import of a year
replaces that year only: for each year, readers take the most recent snapshot covering it. A register
(`nature = "registre"`, e.g. equipment) is replaced as a whole by each import.

With `keep_others` (the web application's shared warehouse), an import replaces the rows of the landlords
in the file only: before publication, the snapshot receives the other landlords' rows of the years it covers
(of the whole register) from the snapshots readers took them from until then.
"""

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from ..entrepot.completion import Previous, add_other_landlords
from ..entrepot.entrepot import Snapshot, Warehouse
from ..geographie.referentiel import DEPARTEMENT_SQL
from .schema import EventSchema


def stored_select(schema: EventSchema, source: str) -> str:
    """SELECT turning `source` (a relation with the declared columns, already typed) into the stored table."""
    columns = schema.by_name()
    outputs = [f'CAST("{c.nom}" AS {c.sql_type}) AS "{c.nom}"' for c in schema.colonnes]
    if "annee" not in columns:
        reference = schema.date_reference
        outputs.append(
            f'CAST(year("{reference}") AS SMALLINT) AS annee' if reference else "CAST(NULL AS SMALLINT) AS annee"
        )
    if "departement" not in columns:
        commune = DEPARTEMENT_SQL.format(c='"depcom"') if "depcom" in columns else "NULL"
        outputs.append(f"CAST({commune} AS VARCHAR) AS departement")
    return f"SELECT {', '.join(outputs)} FROM {source}"


def write_event_snapshot(
    con: duckdb.DuckDBPyConnection,
    warehouse: Warehouse,
    schema: EventSchema,
    source: str,
    provenance: dict[str, Any],
    keep_others: bool = False,
) -> Snapshot:
    """Publish a new snapshot of `schema.nom` from `source` (validated rows). The caller holds the lock.

    With `keep_others`, the other landlords' rows of the years covered are kept (see the module docstring).
    """
    select = stored_select(schema, source)
    previous = snapshots_by_year(warehouse, schema) if keep_others else []
    with warehouse.new_snapshot(schema.nom, 0, provenance) as folder:
        target = folder / f"{schema.nom}.parquet"
        con.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        if keep_others:
            done = add_other_landlords(con, target, "organisme", _previous_rows(schema, target, previous, con))
            provenance.update(organismes=done.landlords, complete_par=done.sources)
        years, rows = con.execute(
            "SELECT list(DISTINCT annee ORDER BY annee) FILTER (annee IS NOT NULL), count(*) "
            f"FROM read_parquet('{target}')"
        ).fetchone() or ([], 0)
        provenance["annees"] = [int(y) for y in (years or [])]
        provenance["lignes"] = int(rows)
    snapshot = warehouse.history(schema.nom)[-1]
    return snapshot


def _previous_rows(
    schema: EventSchema,
    target: Path,
    previous: list[tuple[Snapshot, list[int] | None]],
    con: duckdb.DuckDBPyConnection,
) -> list[Previous]:
    """The rows readers take today for the years `target` covers (the whole register), by snapshot."""
    table = schema.nom
    if schema.nature == "registre":
        return [Previous(snapshot, snapshot.table(table)) for snapshot, _ in previous]
    row = con.execute(f"SELECT list(DISTINCT annee) FROM read_parquet('{target}') WHERE annee IS NOT NULL").fetchone()
    covered = set(row[0] or []) if row else set()
    kept = []
    for snapshot, years in previous:
        common = sorted(covered if years is None else covered & set(years))
        if common:
            kept.append(Previous(snapshot, snapshot.table(table), f"annee IN ({', '.join(map(str, common))})"))
    return kept


def snapshots_by_year(warehouse: Warehouse, schema: EventSchema) -> list[tuple[Snapshot, list[int] | None]]:
    """The snapshots to read for `schema`, each with the years to take from it (None: everything)."""
    history = warehouse.history(schema.nom)
    if not history:
        return []
    if schema.nature == "registre":
        return [(history[-1], None)]
    chosen: dict[int, Snapshot] = {}
    for snapshot in history:  # oldest first: later snapshots override the years they cover
        for year in snapshot.provenance.get("annees", []):
            chosen[int(year)] = snapshot
    grouped: dict[str, tuple[Snapshot, list[int]]] = {}
    for year, snapshot in sorted(chosen.items()):
        grouped.setdefault(snapshot.id, (snapshot, []))[1].append(year)
    return list(grouped.values())


def empty_select(schema: EventSchema) -> str:
    columns = ", ".join(f'CAST(NULL AS {t}) AS "{n}"' for n, t in schema.stored_columns().items())
    return f"SELECT {columns} WHERE false"


def event_view_sql(
    warehouse: Warehouse, schema: EventSchema, chosen: list[tuple[Snapshot, list[int] | None]] | None = None
) -> tuple[str, list[str]]:
    """SQL of the view of `schema` over the warehouse, and the ids of the snapshots it reads (`chosen`, if
    the caller already has snapshots_by_year)."""
    parts, ids = [], []
    declared = schema.stored_columns()
    for snapshot, years in snapshots_by_year(warehouse, schema) if chosen is None else chosen:
        path: Path = snapshot.table(schema.nom)
        # a snapshot stored before a column was added to the schema (an optional one) reads it as empty
        present = set(pq.read_schema(path).names)
        names = ", ".join(f'"{n}"' if n in present else f'CAST(NULL AS {t}) AS "{n}"' for n, t in declared.items())
        where = "" if years is None else f" WHERE annee IN ({', '.join(str(y) for y in years)})"
        parts.append(f"SELECT {names} FROM read_parquet('{path}'){where}")
        ids.append(snapshot.id)
    return (" UNION ALL ".join(parts) if parts else empty_select(schema)), ids
