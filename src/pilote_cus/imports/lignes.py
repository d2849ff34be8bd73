"""Line numbers of a refused CSV file: DuckDB's rejected lines, and the line where each record starts."""

import bisect
import csv
import re
from pathlib import Path

import duckdb

from ..progression import Steps
from .erreurs import Anomaly, ErrorReport, catalogue

ANOMALY_SENTINEL = "PILOTE_CUS_ANOMALIE"  # raised by error() in the validating COPY at the first bad row

REJECT_CODES = {  # DuckDB's reject_errors.error_type → our error code
    "MISSING COLUMNS": "NOMBRE_CHAMPS",
    "TOO MANY COLUMNS": "NOMBRE_CHAMPS",
    "UNQUOTED VALUE": "GUILLEMETS",
    "INVALID UNICODE": "ENCODAGE_MIXTE",
}


def irregular(path: Path) -> bool:
    """Blank lines or quotes: records and lines may not match one to one."""
    with path.open("rb") as handle:
        while chunk := handle.read(32 * 1024 * 1024):
            if b'"' in chunk or b"\n\n" in chunk or b"\n\r\n" in chunk:
                return True
    return False


def report_rejected_lines(con: duckdb.DuckDBPyConnection, report: ErrorReport) -> list[int]:
    """Add an anomaly per line DuckDB could not read (table reject_errors); return those lines."""
    rejects = con.sql(
        "SELECT line, any_value(error_type), any_value(error_message), any_value(csv_line) "
        "FROM reject_errors GROUP BY line ORDER BY line"
    ).fetchall()
    for line, kind, text, raw in rejects:
        code = REJECT_CODES.get(kind, "LIGNE_ILLISIBLE")
        found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text or "")
        detail = (
            f"{found.group(2)} champ(s) au lieu de {found.group(1)}."
            if found and code == "NOMBRE_CHAMPS"
            else catalogue()[code].titre + "."
        )
        report.add(Anomaly(code, f"Ligne {line} : {detail}", line, None, (raw or "")[:200]))
    return [r[0] for r in rejects]


class RecordLines:
    """Maps the n-th record DuckDB accepted to the line where it starts in the file.

    With `exact` (a file with blank lines or quoted fields, which may span lines), the records are re-read
    with Python's csv module; otherwise record n starts at line n + 2 once the rejected lines are skipped.
    """

    def __init__(self, path: Path, encoding: str, delimiter: str, rejected_lines: list[int], exact: bool):
        self.rejected = sorted(set(rejected_lines))
        self.starts: list[int] | None = None
        if not exact:
            return
        self.starts = []
        rejected = set(self.rejected)
        with path.open(encoding=encoding, newline="", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            next(reader, None)  # header row, or the transmission file's header line
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


def copy_validated(con: duckdb.DuckDBPyConnection, steps: Steps, label: str, copy_sql: str) -> bool:
    """Run a validating COPY (which raises ANOMALY_SENTINEL at the first bad row, see the importers);
    False when a row was refused or a line could not be read: the slow pass then says what and where."""
    try:
        steps.query(con, label, copy_sql)
    except duckdb.InvalidInputException as error:
        if ANOMALY_SENTINEL in str(error):
            return False
        raise
    rejected = con.sql("SELECT count(*) FROM reject_errors").fetchone()
    return not (rejected and rejected[0])
