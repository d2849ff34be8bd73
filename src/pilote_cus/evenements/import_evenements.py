"""Import of an event file (CSV or XLSX) into a new warehouse snapshot, validated against its schema.

As for the RPLS (decision 0002): one streaming DuckDB query types and checks every value and writes the
valid rows to a scratch Parquet file, stopping at the first anomaly; duplicate keys and communes unknown to
the COG are then checked on that file. Only then is the snapshot published, with `write_event_snapshot`.
When anything is wrong, a second, ordered reading locates every anomaly (line, column, value, code) and
nothing is written. With `garder_autres` (the web application's shared warehouse), the file replaces the rows
of its own landlords only, for the years it covers (see `stockage`).
"""

import hashlib
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from .. import __version__
from ..entrepot.entrepot import Snapshot, Warehouse
from ..imports.erreurs import Anomaly, ErrorReport, ImportRejected
from ..imports.lignes import ANOMALY_SENTINEL, copy_validated
from ..imports.texte import (
    UnreadableFile,
    is_encoding_error,
    is_windows_1252,
    scan_text_file,
    sniff_text_file,
    to_utf8_copy,
)
from ..patrimoine.import_rpls import CSV_BUFFER_BYTES, MEMORY_LIMIT
from ..progression import Steps
from .controles import (
    Check,
    column_checks,
    key_filter,
    known_communes,
    order_checks,
    quote,
    sql_path,
    typed_column,
    typed_expression,
)
from .lecture import LINE_COLUMN, CsvSource, csv_header, file_kind, xlsx_to_csv
from .localisation import collect_anomalies
from .schema import EventSchema, event_schemas
from .stockage import write_event_snapshot


@dataclass
class EventImportResult:
    snapshot: Snapshot
    rows: int
    years: list[int]  # years covered (empty for a register)
    ignored_columns: list[str]
    seconds: float


@dataclass(frozen=True)
class _Sql:
    """The SQL of one file: typed columns and anomaly conditions generated from the schema."""

    schema: EventSchema
    present: tuple[str, ...]  # declared columns found in the file
    source: str  # "WITH t AS (…)": the file with the typed twin of each declared column present
    any_error: str  # true on a row with at least one anomaly
    errors: str  # list of {c, e, v, o} anomalies of a row
    line: str  # Excel row number, or NULL for a CSV file

    def _typed(self, names: list[str]) -> list[str]:
        declared = self.schema.by_name()
        return [
            f"{typed_column(n)} AS {quote(n)}"
            if n in self.present
            else f"CAST(NULL AS {declared[n].sql_type}) AS {quote(n)}"
            for n in names
        ]

    def copy_to_parquet(self, target: Path) -> str:
        """Fast path: stream the typed rows into `target`, stopping at the first row with an anomaly."""
        outputs = self._typed([c.nom for c in self.schema.colonnes])
        return (
            f"COPY ({self.source} SELECT {', '.join(outputs)} FROM t "
            f"WHERE CASE WHEN {self.any_error} THEN error('{ANOMALY_SENTINEL}') ELSE true END) "
            f"TO '{sql_path(target)}' (FORMAT parquet, COMPRESSION snappy)"
        )

    def ordered_table(self) -> str:
        """Slow path: in file order, the line, the key and commune columns and the anomalies of each row."""
        columns = [
            f"{self.line} AS {LINE_COLUMN}",
            *self._typed(_checked_columns(self.schema)),
            f"CASE WHEN {self.any_error} THEN {self.errors} END AS _erreurs",
        ]
        return f"CREATE TABLE brut AS {self.source} SELECT {', '.join(columns)} FROM t"


def _checked_columns(schema: EventSchema) -> list[str]:
    """Columns checked across rows: the key (duplicates) and the communes (against the COG)."""
    communes = [c.nom for c in schema.colonnes if c.type == "commune"]
    return list(dict.fromkeys([*schema.cle, *communes]))


def build_sql(source: CsvSource, schema: EventSchema) -> _Sql:
    declared = schema.by_name()
    present = [declared[n] for n in source.header.present]
    columns = "{" + ", ".join(f"{quote(n)}: 'VARCHAR'" for n in source.fields) + "}"
    reader = (
        f"read_csv('{sql_path(source.path)}', delim='{source.delimiter}', quote='\"', escape='\"', header=true, "
        f"columns={columns}, auto_detect=false, encoding='{source.encoding}', strict_mode=true, "
        f"ignore_errors=true, store_rejects=true, null_padding=false, buffer_size={CSV_BUFFER_BYTES})"
    )
    typed = ", ".join(f"{typed_expression(c, quote(c.nom))} AS {typed_column(c.nom)}" for c in present)
    checks: list[Check] = [
        check for c in present for check in column_checks(c, quote(c.nom), typed_column(c.nom))
    ] + order_checks(schema, {c.nom for c in present})
    any_error = " OR ".join(f"({check.condition})" for check in checks) or "false"
    items = ", ".join(
        f"CASE WHEN {k.condition} THEN {{'c': '{k.column}', 'e': '{k.code}', 'v': {quote(k.column)}, "
        f"'o': CAST({k.other} AS VARCHAR)}} END"
        for k in checks
    )
    return _Sql(
        schema=schema,
        present=tuple(c.nom for c in present),
        source=f"WITH t AS (SELECT *{', ' + typed if typed else ''} FROM {reader})",
        any_error=any_error,
        errors=f"list_filter([{items}], x -> x IS NOT NULL)",
        line=f"CAST({quote(LINE_COLUMN)} AS INTEGER)" if source.excel else "CAST(NULL AS INTEGER)",
    )


# --- checks across rows, on the fast path's Parquet file or on the slow path's table ------------


def _cross_row_problems(
    con: duckdb.DuckDBPyConnection, relation: str, schema: EventSchema, cogs: list[Snapshot]
) -> int:
    """Number of duplicate keys and unknown communes in `relation`, plus one if it has no row."""
    parts = ["(SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END FROM {r})"]
    if schema.cle:
        keys = ", ".join(quote(n) for n in schema.cle)
        duplicates = f"SELECT 1 FROM {{r}} WHERE {key_filter(schema)} GROUP BY {keys} HAVING count(*) > 1"
        parts.append(f"(SELECT count(*) FROM ({duplicates}))")
    if cogs:
        for column in (c.nom for c in schema.colonnes if c.type == "commune"):
            parts.append(f"(SELECT count(*) FROM {{r}} WHERE {quote(column)} NOT IN {known_communes(cogs)})")
    row = con.sql("SELECT " + " + ".join(p.format(r=relation) for p in parts)).fetchone()
    return int(row[0]) if row else 1


# --- the import itself -----------------------------------------------------------------------


def _connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"memory_limit": MEMORY_LIMIT})


def _loaded_cogs(warehouse: Warehouse) -> list[Snapshot]:
    """Every COG vintage loaded: a commune is accepted if one of them knows it (events span years)."""
    return [warehouse.current("cog", v) for v in sorted({s.vintage for s in warehouse.history("cog")})]


@dataclass
class _Import:
    warehouse: Warehouse
    schema: EventSchema
    report: ErrorReport
    target: Path
    steps: Steps
    cogs: list[Snapshot] = field(default_factory=list)

    def fast(self, source: CsvSource) -> bool | None:
        """True if the file is valid (rows in `target`); False if not; None if DuckDB cannot decode it."""
        con = _connect()
        try:
            con.execute("SET preserve_insertion_order = false")
            copy = build_sql(source, self.schema).copy_to_parquet(self.target)
            if not copy_validated(con, self.steps, "Validation des lignes", copy):
                return False
            relation = f"read_parquet('{sql_path(self.target)}')"
            return _cross_row_problems(con, relation, self.schema, self.cogs) == 0
        except duckdb.Error as error:
            if is_encoding_error(error):
                return None
            raise
        finally:
            con.close()

    def locate(self, source: CsvSource) -> ImportRejected:
        """Slow path: the full report of a refused file."""
        con = _connect()
        try:
            self.steps.query(con, "Localisation des erreurs", build_sql(source, self.schema).ordered_table())
            collect_anomalies(con, source, self.schema, self.cogs, self.report)
        finally:
            con.close()
        if not self.report:  # should not happen: both passes apply the same rules
            self.report.add(Anomaly("LIGNE_ILLISIBLE", "Anomalie détectée sans pouvoir la localiser."))
        return ImportRejected(self.report)

    def publish(self, provenance: dict[str, Any], keep_others: bool) -> Snapshot:
        con = _connect()
        try:
            source = f"read_parquet('{sql_path(self.target)}')"
            return write_event_snapshot(con, self.warehouse, self.schema, source, provenance, keep_others)
        finally:
            con.close()


def _read_csv(job: _Import, path: Path, scratch: Path) -> tuple[CsvSource, dict[str, Any]]:
    """Validate a CSV file into `job.target`; return how it was read, or raise ImportRejected."""
    report = job.report
    head = sniff_text_file(path)
    parsed = csv_header(head, job.schema, report)
    if parsed is None or report:
        raise ImportRejected(report)
    header, delimiter = parsed
    source = CsvSource(path, head.encoding, delimiter, header, excel=False)
    label = head.encoding
    with (
        ThreadPoolExecutor(1) as pool,
        job.steps.step(f"Lecture et empreinte de {path.name}", total=head.size) as advance,
    ):
        scan_future = pool.submit(scan_text_file, path, advance)
        valid = job.fast(source)
        scan = scan_future.result()
    if scan.encoding != head.encoding:  # the head looked like UTF-8, the rest is Latin-1: read again
        source, label = replace(source, encoding=scan.encoding), scan.encoding
        valid = job.fast(source)
    if valid is None and is_windows_1252(path):  # ’, €, œ: Windows-1252, a superset of Latin-1
        source, label = replace(source, path=to_utf8_copy(path, scratch, "cp1252"), encoding="utf-8"), "windows-1252"
        valid = job.fast(source)
    if valid is None:
        report.add(Anomaly("ENCODAGE_NON_RECONNU", f"{path.name} : octets illisibles en {source.encoding}."))
        raise ImportRejected(report)
    if not valid:
        raise job.locate(source)
    return source, {
        "format": "csv",
        "encodage": label + (" avec BOM" if head.has_bom else ""),
        "separateur": {"\t": "tabulation"}.get(delimiter, delimiter),
        "sha256": scan.sha256,
    }


def _read_xlsx(job: _Import, path: Path, scratch: Path) -> tuple[CsvSource, dict[str, Any]]:
    """Copy the sheet into a CSV file, then validate it like a CSV file."""
    copy_path = scratch / f"{path.stem}.xlsx.csv"
    with job.steps.step(f"Lecture du classeur {path.name}", total=None) as advance:
        copy = xlsx_to_csv(path, job.schema, copy_path, job.report, advance)
    if copy is None or job.report:
        raise ImportRejected(job.report)
    source = CsvSource(copy_path, "utf-8", ";", copy.header, excel=True)
    if not job.fast(source):
        raise job.locate(source)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return source, {"format": "xlsx", "encodage": "xlsx", "feuille": copy.sheet, "sha256": digest.hexdigest()}


def import_events(
    warehouse: Warehouse,
    name: str,
    path: Path,
    *,
    report_path: Path | None = None,
    steps: Steps | None = None,
    garder_autres: bool = False,
) -> EventImportResult:
    """Validate `path` against the schema `name` and import it; raise ImportRejected (nothing written) if wrong.

    With `report_path`, a refused file's report is also written there (the command line writes its own).
    Without `garder_autres` the file replaces every landlord's rows of the years it covers (of the register);
    with it, only the rows of the landlords in the file.
    """
    started = time.perf_counter()
    schemas = event_schemas()
    if name not in schemas:
        raise ValueError(f"type de fichier inconnu : {name} (connus : {', '.join(schemas)})")
    schema = schemas[name]
    report = ErrorReport(path.name)
    try:
        return _import(warehouse, schema, path, report, steps or Steps(quiet=True), started, garder_autres)
    except UnreadableFile as unreadable:
        report.add(unreadable.anomaly)
        rejected = ImportRejected(report)
    except ImportRejected as refusal:
        rejected = refusal
    if report_path is not None:
        rejected.report.write_csv(report_path)
    raise rejected


def _import(
    warehouse: Warehouse,
    schema: EventSchema,
    path: Path,
    report: ErrorReport,
    steps: Steps,
    started: float,
    keep_others: bool,
) -> EventImportResult:
    kind = file_kind(path)
    with (
        warehouse.lock(),
        tempfile.TemporaryDirectory(dir=warehouse.root, prefix=".conversion-") as folder,
    ):
        warehouse.remove_abandoned()
        scratch = Path(folder)
        job = _Import(warehouse, schema, report, scratch / f"{schema.nom}.parquet", steps, _loaded_cogs(warehouse))
        reader = _read_xlsx if kind == "xlsx" else _read_csv
        source, how = reader(job, path, scratch)
        provenance: dict[str, Any] = {
            "fichier": path.name,
            "chemin": str(path.resolve()),
            "taille_octets": path.stat().st_size,
            **how,
            "colonnes_ignorees": list(source.header.ignored),
            "colonnes_absentes": source.header.missing(schema),
            "referentiel_geographique": (
                "COG " + ", ".join(str(s.vintage) for s in job.cogs)
                if job.cogs
                else "aucun (format des codes seul vérifié)"
            ),
            "logiciel": f"pilote-cus {__version__}",
            "duree_secondes": round(time.perf_counter() - started, 2),
        }
        snapshot = job.publish(provenance, keep_others)
    return EventImportResult(
        snapshot,
        int(snapshot.provenance["lignes"]),
        [int(y) for y in snapshot.provenance["annees"]],
        list(source.header.ignored),
        time.perf_counter() - started,
    )
