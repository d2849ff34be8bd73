"""Locating every anomaly of a refused event file: line, column, value, code and French message.

Works on the table `brut` (one row per record DuckDB accepted, in file order, with its anomalies) and on
DuckDB's rejected lines; line numbers are those of the file (or of the Excel sheet).
"""

import bisect
import csv
import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from ..entrepot.entrepot import Snapshot
from ..geographie.referentiel import COMMUNE_PATTERN
from ..imports.erreurs import Anomaly, ErrorReport, catalogue
from .controles import key_filter, known_communes, message, quote
from .lecture import CsvSource
from .schema import EventSchema

REPORTED_PER_CODE = 100_000
_REJECT_CODES = {
    "MISSING COLUMNS": "NOMBRE_CHAMPS",
    "TOO MANY COLUMNS": "NOMBRE_CHAMPS",
    "UNQUOTED VALUE": "GUILLEMETS",
    "INVALID UNICODE": "ENCODAGE_MIXTE",
}


def _irregular(path: Path) -> bool:
    """Blank lines or quotes: records and lines may not match one to one."""
    with path.open("rb") as handle:
        while chunk := handle.read(32 * 1024 * 1024):
            if b'"' in chunk or b"\n\n" in chunk or b"\n\r\n" in chunk:
                return True
    return False


class CsvLines:
    """Maps the n-th record DuckDB accepted to the line where it starts in the file.

    When the file has blank lines or quoted fields (which may span lines), the records are re-read with
    Python's csv module; otherwise record n starts at line n + 2 once the rejected lines are skipped.
    """

    def __init__(self, source: CsvSource, rejected_lines: list[int]):
        self.rejected = sorted(set(rejected_lines))
        self.starts: list[int] | None = None
        if source.excel or not _irregular(source.path):
            return
        self.starts = []
        rejected = set(self.rejected)
        with source.path.open(encoding=source.encoding, newline="", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=source.delimiter)
            next(reader, None)
            previous_end = reader.line_num
            for record in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if record and start not in rejected:
                    self.starts.append(start)

    def line(self, row: int) -> int:
        if self.starts is not None:
            return self.starts[row] if row < len(self.starts) else row + 2
        line, skipped = row + 2, 0
        while (now := bisect.bisect_right(self.rejected, line)) != skipped:
            line += now - skipped
            skipped = now
        return line


def _rejected_rows(con: duckdb.DuckDBPyConnection, report: ErrorReport) -> list[int]:
    rejects = con.sql(
        "SELECT line, any_value(error_type), any_value(error_message), any_value(csv_line) "
        "FROM reject_errors GROUP BY line ORDER BY line"
    ).fetchall()
    for line, kind, text, raw in rejects:
        code = _REJECT_CODES.get(kind, "LIGNE_ILLISIBLE")
        found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text or "")
        detail = (
            f"{found.group(2)} champ(s) au lieu de {found.group(1)}."
            if found and code == "NOMBRE_CHAMPS"
            else catalogue()[code].titre + "."
        )
        report.add(Anomaly(code, f"Ligne {line} : {detail}", line, None, (raw or "")[:200]))
    return [r[0] for r in rejects]


Line = Callable[[int, int | None], int]  # (rowid in `brut`, Excel row or None) → line of the file


def collect_anomalies(
    con: duckdb.DuckDBPyConnection, source: CsvSource, schema: EventSchema, cogs: list[Snapshot], report: ErrorReport
) -> None:
    """The full report, from the ordered table `brut` and DuckDB's rejected lines."""
    rejected = _rejected_rows(con, report)
    lines = CsvLines(source, rejected)

    def line(rowid: int, excel_row: int | None) -> int:
        return excel_row if excel_row is not None else lines.line(rowid)

    _value_anomalies(con, schema, line, report)
    _duplicate_keys(con, schema, line, report)
    if cogs:
        _unknown_communes(con, schema, cogs, line, report)
    count_row = con.sql("SELECT count(*) FROM brut").fetchone()
    if not (count_row and count_row[0]) and not rejected:
        report.add(Anomaly("AUCUNE_LIGNE", "Le fichier ne contient aucune ligne de données après l'en-tête.", 2))


def _value_anomalies(con: duckdb.DuckDBPyConnection, schema: EventSchema, line: Line, report: ErrorReport) -> None:
    declared = schema.by_name()
    row_errors = "SELECT rowid, __ligne, unnest(_erreurs) AS e FROM brut WHERE _erreurs IS NOT NULL"
    for code, total in con.sql(f"SELECT e.e, count(*) FROM ({row_errors}) GROUP BY 1").fetchall():
        rows = con.sql(
            f"SELECT rowid, __ligne, e.c, e.v, e.o FROM ({row_errors}) WHERE e.e = '{code}' "
            f"ORDER BY rowid LIMIT {REPORTED_PER_CODE}"
        ).fetchall()
        blank = code == "VALEUR_OBLIGATOIRE_ABSENTE"  # blank values are shown empty
        anomalies = [
            Anomaly(code, message(declared[c], code, v, o), line(r, x), c, None if blank else v)
            for r, x, c, v, o in rows
        ]
        report.add_counted(anomalies, code, total)


def _duplicate_keys(con: duckdb.DuckDBPyConnection, schema: EventSchema, line: Line, report: ErrorReport) -> None:
    if not schema.cle:
        return
    keys = ", ".join(quote(n) for n in schema.cle)
    same = " AND ".join(f"b.{quote(n)} IS NOT DISTINCT FROM d.{quote(n)}" for n in schema.cle)
    shown = " || ' | ' || ".join(f"coalesce(CAST(b.{quote(n)} AS VARCHAR), '')" for n in schema.cle)
    # the duplicated keys first: a list per key over millions of distinct keys would take half a minute
    duplicates = con.sql(
        f"WITH d AS (SELECT {keys} FROM brut WHERE {key_filter(schema)} GROUP BY {keys} HAVING count(*) > 1) "
        f"SELECT {shown}, list([b.rowid, CAST(b.__ligne AS BIGINT)] ORDER BY b.rowid) FROM brut b JOIN d ON {same} "
        f"GROUP BY ALL ORDER BY min(b.rowid) LIMIT {REPORTED_PER_CODE}"
    ).fetchall()
    names = ", ".join(schema.cle)
    for value, rows in duplicates:
        first = line(*rows[0])
        for row in rows[1:]:
            text = f"Clé ({names}) = « {value} » : déjà présente à la ligne {first}."
            report.add(Anomaly("CLE_EN_DOUBLE", text, line(*row), names, value))


def _unknown_communes(
    con: duckdb.DuckDBPyConnection, schema: EventSchema, cogs: list[Snapshot], line: Line, report: ErrorReport
) -> None:
    vintages = ", ".join(str(s.vintage) for s in cogs)
    for column in (c.nom for c in schema.colonnes if c.type == "commune"):
        unknown = (
            f"FROM brut WHERE regexp_full_match({quote(column)}, '{COMMUNE_PATTERN}') "
            f"AND {quote(column)} NOT IN {known_communes(cogs)}"
        )
        total_row = con.sql(f"SELECT count(*) {unknown}").fetchone()
        if not (total_row and total_row[0]):
            continue
        rows = con.sql(
            f"SELECT rowid, __ligne, {quote(column)} {unknown} ORDER BY rowid LIMIT {REPORTED_PER_CODE}"
        ).fetchall()
        text = "{column} = « {value} » : commune absente du COG {vintages}."
        anomalies = [
            Anomaly("COMMUNE_INCONNUE", text.format(column=column, value=v, vintages=vintages), line(r, x), column, v)
            for r, x, v in rows
        ]
        report.add_counted(anomalies, "COMMUNE_INCONNUE", total_row[0])
