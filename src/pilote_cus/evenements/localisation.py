"""Locating every anomaly of a refused event file: line, column, value, code and French message.

Works on the table `brut` (one row per record DuckDB accepted, in file order, with its anomalies) and on
DuckDB's rejected lines; line numbers are those of the file (or of the Excel sheet).
"""

from collections.abc import Callable

import duckdb

from ..entrepot.entrepot import Snapshot
from ..geographie.referentiel import COMMUNE_PATTERN
from ..imports.erreurs import Anomaly, ErrorReport
from ..imports.lignes import RecordLines, irregular, report_rejected_lines
from .controles import key_filter, known_communes, message, quote
from .lecture import CsvSource
from .schema import EventSchema

REPORTED_PER_CODE = 100_000


Line = Callable[[int, int | None], int]  # (rowid in `brut`, Excel row or None) → line of the file


def collect_anomalies(
    con: duckdb.DuckDBPyConnection, source: CsvSource, schema: EventSchema, cogs: list[Snapshot], report: ErrorReport
) -> None:
    """The full report, from the ordered table `brut` and DuckDB's rejected lines."""
    rejected = report_rejected_lines(con, report)
    exact = not source.excel and irregular(source.path)
    lines = RecordLines(source.path, source.encoding, source.delimiter, rejected, exact)

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
