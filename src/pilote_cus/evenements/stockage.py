"""Writing event tables into the warehouse, and reading them back as one view per table.

A snapshot of kind `<nom>` holds `<nom>.parquet` (declared columns, typed, plus `annee` and
`departement`) and records in its provenance the years it covers (`annees`). A later import of a year
replaces that year only: for each year, readers take the most recent snapshot covering it. A register
(`nature = "registre"`, e.g. equipment) is replaced as a whole by each import.
"""

from pathlib import Path
from typing import Any

import duckdb

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
) -> Snapshot:
    """Publish a new snapshot of `schema.nom` from `source` (validated rows). The caller holds the lock."""
    select = stored_select(schema, source)
    with warehouse.new_snapshot(schema.nom, 0, provenance) as folder:
        target = folder / f"{schema.nom}.parquet"
        con.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        years, rows = con.execute(
            "SELECT list(DISTINCT annee ORDER BY annee) FILTER (annee IS NOT NULL), count(*) "
            f"FROM read_parquet('{target}')"
        ).fetchone() or ([], 0)
        provenance["annees"] = [int(y) for y in (years or [])]
        provenance["lignes"] = int(rows)
    snapshot = warehouse.history(schema.nom)[-1]
    return snapshot


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
    names = ", ".join(f'"{n}"' for n in schema.stored_columns())
    for snapshot, years in snapshots_by_year(warehouse, schema) if chosen is None else chosen:
        path: Path = snapshot.table(schema.nom)
        where = "" if years is None else f" WHERE annee IN ({', '.join(str(y) for y in years)})"
        parts.append(f"SELECT {names} FROM read_parquet('{path}'){where}")
        ids.append(snapshot.id)
    return (" UNION ALL ".join(parts) if parts else empty_select(schema)), ids
