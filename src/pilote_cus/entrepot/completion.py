"""Replacement landlord by landlord: a new snapshot completed with the other landlords' rows.

The web application runs one warehouse for every landlord of a territory: an import must replace the rows
of the landlords present in the file only. The importer writes the file's rows into the pending snapshot
(`Warehouse.new_snapshot`), then `add_other_landlords` appends the rows of the previous snapshot(s) whose
landlord is not in the file, before publication. Readers keep reading one table per snapshot and never see
a state where the other landlords' rows are missing.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .entrepot import Snapshot


@dataclass(frozen=True)
class Previous:
    """Rows that may be kept: a table of a published snapshot, restricted by an SQL condition."""

    snapshot: Snapshot
    table: Path
    where: str = "true"  # e.g. the years covered by an event file


@dataclass(frozen=True)
class Completion:
    landlords: list[str]  # the landlords of the new file (their rows replace the previous ones)
    sources: list[str]  # ids of the snapshots the other landlords' rows came from
    rows: int  # rows appended


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read(table: Path) -> str:
    return f"read_parquet({_literal(str(table))})"


def _columns(con: duckdb.DuckDBPyConnection, table: Path) -> dict[str, str]:
    """Name → type of the columns of a Parquet file, in order."""
    return {name: kind for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {_read(table)}").fetchall()}


def add_other_landlords(
    con: duckdb.DuckDBPyConnection, target: Path, column: str, previous: list[Previous]
) -> Completion:
    """Append to `target` (a Parquet table of a pending snapshot) the rows of `previous` whose landlord
    (`column`) has no row in `target`. The columns keep the order and types of `target`; columns found only
    in a previous table (unknown columns kept by the RPLS import) are added at the end, empty for the new rows.
    """
    landlords = [
        str(row[0])
        for row in con.execute(
            f"SELECT DISTINCT {_quote(column)} FROM {_read(target)} WHERE {_quote(column)} IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    others = f"{_quote(column)} NOT IN ({', '.join(map(_literal, landlords))})" if landlords else "true"
    kept: list[tuple[Previous, dict[str, str]]] = []
    rows = 0
    for source in previous:
        where = f"({source.where}) AND {others}"
        row = con.execute(f"SELECT count(*) FROM {_read(source.table)} WHERE {where}").fetchone()
        if row and row[0]:
            kept.append((Previous(source.snapshot, source.table, where), _columns(con, source.table)))
            rows += int(row[0])
    if not kept:
        return Completion(landlords, [], 0)

    columns = _columns(con, target)
    added: dict[str, str] = {}
    for _, found in kept:
        added |= {name: kind for name, kind in found.items() if name not in columns and name not in added}

    def select(table: Path, found: dict[str, str], where: str) -> str:
        outputs = [
            f"CAST({_quote(name) if name in found else 'NULL'} AS {kind}) AS {_quote(name)}"
            for name, kind in (columns | added).items()
        ]
        return f"SELECT {', '.join(outputs)} FROM {_read(table)} WHERE {where}"

    parts = [select(target, columns, "true")] + [select(p.table, found, p.where) for p, found in kept]
    complete = target.with_name(f".{target.stem}-complet.parquet")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"COPY ({' UNION ALL '.join(parts)}) TO {_literal(str(complete))} (FORMAT parquet, COMPRESSION zstd)")
    os.replace(complete, target)
    return Completion(landlords, [p.snapshot.id for p, _ in kept], rows)
