"""Import of an RPLS file (transmission or open-data layout) into a new warehouse snapshot.

Validation runs as SQL in DuckDB over the whole file; if anything is wrong, the full report is
returned and nothing is written. Otherwise the snapshot is written aside and published atomically.
With `garder_autres` (the web application's shared warehouse), the file replaces the dwellings of its own
landlords only: the other landlords' dwellings of the vintage are copied into the snapshot before it is
published (`entrepot.completion`).
"""

import csv
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from .. import __version__
from ..entrepot.completion import Previous, add_other_landlords
from ..entrepot.entrepot import NoSnapshot, Snapshot, Warehouse
from ..geographie.referentiel import COMMUNE_PATTERN, DEPARTEMENT_SQL, cog_for
from ..imports.erreurs import Anomaly, ErrorReport, ImportRejected, catalogue
from ..imports.lignes import ANOMALY_SENTINEL, RecordLines, copy_validated, irregular, report_rejected_lines
from ..imports.texte import (
    TextHead,
    TextScan,
    UnreadableFile,
    is_encoding_error,
    is_windows_1252,
    scan_text_file,
    sniff_text_file,
    to_utf8_copy,
)
from ..progression import Steps
from .schema import Column, RplsSchema, rpls_schema

QPV_PATTERN = r"^QP[0-9]{6}$|^QN[0-9A-Z]{6}$"
MEMORY_LIMIT = "5GB"
CSV_BUFFER_BYTES = 32 * 1024 * 1024  # above DuckDB's default: a national file is read 1.7 s faster
SQL_TYPES = {"entier": "INTEGER", "decimal": "DOUBLE", "annee": "SMALLINT", "mois_annee": "DATE"}
DERIVED_TYPES = {  # columns the import adds to every dwelling, with their types
    "organisme_id": "VARCHAR",
    "ensemble_id": "BIGINT",
    "batiment_id": "BIGINT",
    "departement": "VARCHAR",
    "en_qpv": "BOOLEAN",
    "en_stock": "BOOLEAN",
}
DERIVED = tuple(DERIVED_TYPES)


@dataclass
class Layout:
    kind: str  # "open data" or "transmission"
    file_columns: list[str]  # names given to the file's fields, in order
    vintage: int
    landlord: dict[str, str] = field(default_factory=dict)
    declared_count: int | None = None

    @property
    def has_header_row(self) -> bool:
        return self.kind == "open data"


def _split_line(line: str) -> list[str]:
    return next(csv.reader([line], delimiter=";"), [])


def _vintage_from(path: Path, explicit: int | None, report: ErrorReport) -> int:
    if explicit is not None:
        return explicit
    found = re.search(r"(?<!\d)(20[0-9]{2})(?!\d)", path.name)
    if found:
        return int(found.group(1))
    report.add(
        Anomaly(
            "MILLESIME_INCONNU",
            f"{path.name} : millésime introuvable dans le nom du fichier ; indiquez-le avec --millesime AAAA.",
        )
    )
    return 0


def detect_layout(text: TextHead, schema: RplsSchema, vintage: int | None, report: ErrorReport) -> Layout | None:
    line = text.first_line
    raw = [f.strip() for f in _split_line(line)]
    fields = [f.upper() for f in raw]
    known = schema.by_name()
    if len(set(fields) & set(known)) >= 2:
        return _open_data_layout(text.path, fields, schema, vintage, report)
    if len(raw) == 6 and re.fullmatch(r"\d{4}", raw[0]):
        return _transmission_layout(raw, schema, report)
    if ";" not in line and any(sep in line for sep in (",", "\t", "|")):
        sep = next(s for s in (",", "\t", "|") if s in line)
        shown = {"\t": "tabulation"}.get(sep, f"« {sep} »")
        report.add(
            Anomaly(
                "SEPARATEUR_INCORRECT",
                f"La première ligne est séparée par {shown} et non par des points-virgules.",
                1,
                None,
                line[:200],
            )
        )
    else:
        report.add(
            Anomaly(
                "FORMAT_INCONNU",
                "La première ligne n'est ni un en-tête de colonnes RPLS ni un en-tête de fichier de transmission.",
                1,
                None,
                line[:200],
            )
        )
    return None


def _open_data_layout(
    path: Path, fields: list[str], schema: RplsSchema, vintage: int | None, report: ErrorReport
) -> Layout:
    if fields and fields[-1] == "":  # lines ending with a separator
        fields[-1] = "__FIN_DE_LIGNE"
    names: list[str] = []
    for index, name in enumerate(fields, start=1):
        if not name:
            report.add(
                Anomaly(
                    "COLONNE_SANS_NOM",
                    f"La colonne n° {index} de l'en-tête n'a pas de nom.",
                    1,
                    f"n° {index}",
                )
            )
            name = f"__SANS_NOM_{index}"
        elif name in names:
            report.add(
                Anomaly("COLONNE_EN_DOUBLE", f"La colonne {name} apparaît plusieurs fois dans l'en-tête.", 1, name)
            )
            name = f"{name}__{index}"
        names.append(name)
    for column in schema.colonnes:
        if column.colonne_obligatoire and column.nom not in names:
            report.add(
                Anomaly(
                    "COLONNE_MANQUANTE",
                    f"La colonne obligatoire {column.nom} ({column.libelle}) est absente de l'en-tête.",
                    1,
                    column.nom,
                )
            )
    return Layout("open data", names, _vintage_from(path, vintage, report))


def _transmission_layout(fields: list[str], schema: RplsSchema, report: ErrorReport) -> Layout:
    year, number, name, address, siret, count = fields
    problems = []
    if not 2000 <= int(year) <= 2100:
        problems.append(("annee", year, "année d'enquête hors de 2000–2100"))
    if not number:
        problems.append(("numero", number, "numéro d'organisme absent"))
    if siret and not re.fullmatch(r"\d{14}", siret):
        problems.append(("siret", siret, "le SIRET compte 14 chiffres"))
    if not re.fullmatch(r"\d+", count):
        problems.append(("nombre_enregistrements", count, "nombre entier attendu"))
    for column, value, why in problems:
        report.add(Anomaly("ENTETE_TRANSMISSION", f"En-tête de transmission : {why}.", 1, column, value))
    landlord = {"numero": number, "raison_sociale": name, "adresse": address, "siret": siret}
    declared = int(count) if count.isdigit() else None
    return Layout("transmission", schema.transmission_names(), int(year), landlord, declared)


# --- SQL built from the schema -------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _typed(column: Column, v: str) -> str:
    kind = column.type
    if kind == "entier":
        expr = f"CASE WHEN regexp_full_match({v}, '-?[0-9]+') THEN TRY_CAST({v} AS INTEGER) END"
    elif kind == "decimal":
        expr = f"TRY_CAST(replace({v}, ',', '.') AS DOUBLE)"
    elif kind == "annee":
        expr = f"CASE WHEN length({v}) = 4 THEN TRY_CAST({v} AS SMALLINT) END"
    elif kind == "mois_annee":
        expr = f"CASE WHEN length({v}) = 7 THEN CAST(try_strptime({v}, '%m/%Y') AS DATE) END"
    else:
        expr = v
    if column.non_applicable:
        expr = f"CASE WHEN {v} IN ({_in_list(column.non_applicable)}) THEN NULL ELSE {expr} END"
    return expr


def _checks(column: Column, v: str, t: str, vintage: int) -> list[tuple[str, str]]:
    """(error code, SQL condition true when the value is wrong)."""
    checks = []
    given = f"{v} IS NOT NULL"
    if column.non_applicable:
        given += f" AND {v} NOT IN ({_in_list(column.non_applicable)})"
    if column.valeur_obligatoire:
        checks.append(("VALEUR_MANQUANTE", f"{v} IS NULL OR (starts_with({v}, ' ') AND trim({v}) = '')"))
        given += f" AND NOT (starts_with({v}, ' ') AND trim({v}) = '')"
    kind = column.type
    if kind == "texte" and column.longueur_max:
        checks.append(("TEXTE_TROP_LONG", f"length({v}) > {column.longueur_max}"))
    elif kind == "entier":
        checks.append(("ENTIER_INVALIDE", f"{given} AND {t} IS NULL"))
    elif kind == "decimal":
        checks.append(("NOMBRE_INVALIDE", f"{given} AND ({t} IS NULL OR NOT isfinite({t}))"))
    elif kind == "code":
        # list_contains, not IN: DuckDB turns long IN lists into joins, 2 s slower on a national file
        checks.append(("CODE_INCONNU", f"{given} AND NOT list_contains([{_in_list(column.codes)}], {v})"))
    elif kind == "annee":
        checks.append(("ANNEE_INVALIDE", f"{given} AND ({t} IS NULL OR {t} < 1600 OR {t} > {vintage})"))
    elif kind == "mois_annee":
        checks.append(
            (
                "DATE_INVALIDE",
                f"{given} AND ({t} IS NULL OR {t} < DATE '1900-01-01' OR {t} > DATE '{vintage}-01-01')",
            )
        )
    elif kind == "commune":
        checks.append(("COMMUNE_INVALIDE", f"{given} AND NOT regexp_full_match({v}, '{COMMUNE_PATTERN}')"))
    elif kind == "qpv":
        checks.append(
            (
                "QPV_INVALIDE",
                f"{given} AND {v} NOT IN ('1', '2') AND NOT regexp_full_match({v}, '{QPV_PATTERN}')",
            )
        )
    if kind in ("entier", "decimal") and (column.minimum is not None or column.maximum is not None):
        low = column.minimum if column.minimum is not None else "-infinity"
        high = column.maximum if column.maximum is not None else "infinity"
        checks.append(("HORS_BORNES", f"isfinite({t}) AND ({t} < {low} OR {t} > {high})"))
    return checks


@dataclass(frozen=True)
class ValidationSql:
    """The SQL of one RPLS file: typed columns, anomaly conditions, derived identifiers."""

    source: str  # "WITH t AS (…)": the file with its typed columns
    outputs: list[str]  # columns of the snapshot
    any_error: str  # true on a row with at least one anomaly
    errors: str  # list of {c, e, v} anomalies of a row
    ident: str
    commune: str

    def copy_to_parquet(self, target: Path) -> str:
        """Fast path: stream the file into Parquet, stopping at the first row with an anomaly."""
        return (
            f"COPY ({self.source} SELECT {', '.join(self.outputs)} FROM t "
            f"WHERE CASE WHEN {self.any_error} THEN error('{ANOMALY_SENTINEL}') ELSE true END) "
            f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
        )

    def ordered_table(self) -> str:
        """Slow path, when the file is refused: one row per accepted record, in file order."""
        return (
            f"CREATE TABLE brut AS {self.source} SELECT {self.ident} AS ident_rep, {self.commune} AS depcom, "
            f"CASE WHEN {self.any_error} THEN {self.errors} END AS _erreurs FROM t"
        )


def build_validation_sql(
    path: Path, encoding: str, layout: Layout, schema: RplsSchema, organisme: str | None
) -> ValidationSql:
    known = schema.by_name()
    present = [known[n] for n in layout.file_columns if n in known]
    extras = [n for n in layout.file_columns if n not in known and not n.startswith("__")]
    columns = "{" + ", ".join(f"{_quote(n)}: 'VARCHAR'" for n in layout.file_columns) + "}"
    reader = (
        f"read_csv('{path}', delim=';', quote='\"', escape='\"', header={str(layout.has_header_row).lower()}, "
        f"skip={0 if layout.has_header_row else 1}, columns={columns}, auto_detect=false, "
        f"encoding='{encoding}', strict_mode=true, ignore_errors=true, store_rejects=true, "
        f"null_padding=false, all_varchar=true, buffer_size={CSV_BUFFER_BYTES})"
    )
    typed = ", ".join(f"{_typed(c, _quote(c.nom))} AS {_quote(c.nom + '__t')}" for c in present)
    checks = [
        (c, code, cond)
        for c in present
        for code, cond in _checks(c, _quote(c.nom), _quote(c.nom + "__t"), layout.vintage)
    ]
    any_error = " OR ".join(f"({cond})" for _, _, cond in checks) or "false"
    items = ", ".join(
        f"CASE WHEN {cond} THEN {{'c': '{c.nom}', 'e': '{code}', 'v': {_quote(c.nom)}}} END" for c, code, cond in checks
    )

    def ref(name: str) -> str:
        return _quote(name + "__t") if name in {c.nom for c in present} else "NULL"

    if layout.kind == "transmission":
        organisme_sql = "'" + layout.landlord["numero"].replace("'", "''") + "'"
    else:
        fallback = "'" + (organisme or "INCONNU").replace("'", "''") + "'"
        organisme_sql = f"coalesce({ref('SIRET')}, {fallback})"
    ensemble_key = f"concat_ws('|', {organisme_sql}, {ref('DEPCOM')}, coalesce({ref('COMPLGEO')}, {ref('NOMVOIE')}))"
    building_key = (
        f"concat_ws('|', {ensemble_key}, coalesce({ref('IMMEU')}, concat_ws(' ', {ref('BAT')}, "
        f"{ref('NUMVOIE')}, {ref('TYPVOIE')}, {ref('NOMVOIE')})))"
    )
    qpv = ref("QPV")
    exit_code = ref("SORTIEPATRIM")
    outputs = [f"{ref(c.nom)}::{SQL_TYPES.get(c.type, 'VARCHAR')} AS {_quote(c.field)}" for c in schema.colonnes]
    outputs += [f"t.{_quote(n)} AS {_quote(_extra_field(n))}" for n in extras]
    outputs += [
        f"{organisme_sql} AS organisme_id",
        f"(hash({ensemble_key}) >> 1)::BIGINT AS ensemble_id",
        f"(hash({building_key}) >> 1)::BIGINT AS batiment_id",
        f"{DEPARTEMENT_SQL.format(c=ref('DEPCOM'))} AS departement",
        f"CASE WHEN {qpv} = '1' OR {qpv} LIKE 'Q%' THEN true WHEN {qpv} = '2' THEN false END AS en_qpv",
        f"({exit_code} IS NULL OR {exit_code} = '9') AS en_stock",
    ]
    return ValidationSql(
        source=f"WITH t AS (SELECT *, {typed} FROM {reader})",
        outputs=outputs,
        any_error=any_error,
        errors=f"list_filter([{items}], x -> x IS NOT NULL)",
        ident=ref("IDENT_REP"),
        commune=ref("DEPCOM"),
    )


def _extra_field(name: str) -> str:
    field_name = name.lower()
    return f"x_{field_name}" if field_name in DERIVED else field_name


# --- collecting anomalies -------------------------------------------------------------------


def _message(column: Column | None, code: str, value: Any, vintage: int) -> str:
    title = catalogue()[code].titre.lower()
    label = column.nom if column else "?"
    shown = "vide" if value is None else f"« {value} »"
    detail = ""
    if column is not None:
        if code == "HORS_BORNES":
            detail = f" (attendu entre {column.minimum:g} et {column.maximum:g})"
        elif code == "CODE_INCONNU":
            detail = f" (codes admis : {', '.join(column.codes)})"
        elif code == "ANNEE_INVALIDE":
            detail = f" (attendu : aaaa, de 1600 à {vintage})"
        elif code == "DATE_INVALIDE":
            detail = f" (attendu : mm/aaaa, au plus tard 01/{vintage})"
        elif code == "TEXTE_TROP_LONG":
            detail = f" ({len(str(value))} caractères, au plus {column.longueur_max})"
    return f"{label} = {shown} : {title}{detail}."


def _collect(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    encoding: str,
    layout: Layout,
    schema: RplsSchema,
    report: ErrorReport,
    cog: Snapshot | None,
    exact_lines: bool,
) -> None:
    """Build the full report from the ordered table `brut` and DuckDB's rejected lines."""
    limit = 100_000
    rejected = report_rejected_lines(con, report)
    lines = RecordLines(path, encoding, ";", rejected, exact_lines)
    columns = schema.by_name()

    for code, total in con.sql(
        "SELECT e.e, count(*) FROM (SELECT unnest(_erreurs) AS e FROM brut WHERE _erreurs IS NOT NULL) GROUP BY 1"
    ).fetchall():
        rows = con.sql(
            f"SELECT rowid, e.c, e.v FROM (SELECT rowid, unnest(_erreurs) AS e FROM brut "
            f"WHERE _erreurs IS NOT NULL) WHERE e.e = '{code}' ORDER BY rowid LIMIT {limit}"
        ).fetchall()
        if code == "VALEUR_MANQUANTE":  # blank values are shown as empty
            rows = [(r, c, None) for r, c, _ in rows]
        report.add_counted(
            [Anomaly(code, _message(columns.get(c), code, v, layout.vintage), lines.line(r), c, v) for r, c, v in rows],
            code,
            total,
        )

    duplicates = con.sql(
        "SELECT ident_rep, list(rowid ORDER BY rowid) FROM brut WHERE ident_rep IS NOT NULL "
        f"GROUP BY ident_rep HAVING count(*) > 1 ORDER BY min(rowid) LIMIT {limit}"
    ).fetchall()
    for ident, rows in duplicates:
        first = lines.line(rows[0])
        for row in rows[1:]:
            report.add(
                Anomaly(
                    "IDENTIFIANT_EN_DOUBLE",
                    f"IDENT_REP = « {ident} » figure déjà à la ligne {first}.",
                    lines.line(row),
                    "IDENT_REP",
                    ident,
                )
            )

    if cog is not None:
        unknown = (
            f"FROM brut WHERE regexp_full_match(depcom, '{COMMUNE_PATTERN}') AND depcom NOT IN "
            f"(SELECT code FROM read_parquet('{cog.table('communes')}'))"
        )
        total_row = con.sql(f"SELECT count(*) {unknown}").fetchone()
        if total_row and total_row[0]:
            rows = con.sql(f"SELECT rowid, depcom {unknown} ORDER BY rowid LIMIT {limit}").fetchall()
            report.add_counted(
                [
                    Anomaly(
                        "COMMUNE_INCONNUE",
                        f"DEPCOM = « {v} » : commune absente du COG {cog.vintage}.",
                        lines.line(r),
                        "DEPCOM",
                        v,
                    )
                    for r, v in rows
                ],
                "COMMUNE_INCONNUE",
                total_row[0],
            )

    accepted_row = con.sql("SELECT count(*) FROM brut").fetchone()
    accepted = accepted_row[0] if accepted_row else 0
    _check_counts(layout, accepted, len(rejected), report)


def _check_counts(layout: Layout, accepted: int, rejected: int, report: ErrorReport) -> None:
    if accepted == 0 and not rejected:
        report.add(Anomaly("AUCUN_LOGEMENT", "Le fichier ne contient aucune ligne de logement.", 2))
    if layout.declared_count is not None and layout.declared_count != accepted + rejected:
        report.add(
            Anomaly(
                "NOMBRE_ENREGISTREMENTS",
                f"L'en-tête annonce {layout.declared_count} logement(s), le fichier en contient {accepted + rejected}.",
                1,
                "nombre_enregistrements",
                str(layout.declared_count),
            )
        )


# --- the import itself ---------------------------------------------------------------------


@dataclass
class ImportResult:
    snapshot: Snapshot
    dwellings: int  # in stock on 1 January, in the whole snapshot (other landlords' included if kept)
    seconds: float


def _connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"memory_limit": MEMORY_LIMIT})


def _fast_pass(sql: ValidationSql, target: Path, cog: Snapshot | None, layout: Layout, steps: Steps) -> bool:
    """Stream the file into `target`; False if anything is wrong (the slow pass then says what)."""
    con = _connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        if not copy_validated(con, steps, "Validation et écriture des logements", sql.copy_to_parquet(target)):
            return False
        data = f"read_parquet('{target}')"
        unknown_communes = (
            f"(SELECT count(*) FROM {data} WHERE depcom NOT IN "
            f"(SELECT code FROM read_parquet('{cog.table('communes')}')))"
            if cog
            else "0"
        )
        row = con.sql(f"""
            SELECT (SELECT count(*) FROM (SELECT ident_rep FROM {data} WHERE ident_rep IS NOT NULL
                                          GROUP BY 1 HAVING count(*) > 1)),
                   {unknown_communes}, (SELECT count(*) FROM {data})""").fetchone()
        duplicates, unknown, accepted = row if row else (1, 1, 0)
        probe = ErrorReport("")
        _check_counts(layout, accepted, 0, probe)
        return duplicates == 0 and unknown == 0 and not probe
    finally:
        con.close()


def _slow_pass(
    path: Path,
    encoding: str,
    sql: ValidationSql,
    layout: Layout,
    schema: RplsSchema,
    report: ErrorReport,
    cog: Snapshot | None,
    steps: Steps,
) -> None:
    con = _connect()
    try:
        steps.query(con, "Localisation des erreurs", sql.ordered_table())
        _collect(con, path, encoding, layout, schema, report, cog, irregular(path))
    finally:
        con.close()


@dataclass
class _Reading:
    """How DuckDB reads the file: the original, or a UTF-8 copy of a Windows-1252 file."""

    path: Path
    layout: Layout
    schema: RplsSchema
    organisme: str | None
    cog: Snapshot | None
    target: Path
    steps: Steps
    source: Path = field(init=False)
    encoding: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        self.source = self.path

    def sql(self) -> ValidationSql:
        return build_validation_sql(self.source, self.encoding, self.layout, self.schema, self.organisme)

    def fast(self, encoding: str) -> bool | None:
        """True if the file is valid and written; False if not; None if DuckDB cannot decode it."""
        self.encoding, self.label = encoding, self.label or encoding
        try:
            return _fast_pass(self.sql(), self.target, self.cog, self.layout, self.steps)
        except duckdb.Error as error:
            if is_encoding_error(error):
                return None
            raise

    def report(self, report: ErrorReport) -> None:
        _slow_pass(self.source, self.encoding, self.sql(), self.layout, self.schema, report, self.cog, self.steps)
        if not report:  # should not happen: both passes apply the same rules
            report.add(Anomaly("LIGNE_ILLISIBLE", "Anomalie détectée sans pouvoir la localiser."))


def import_rpls(
    path: Path,
    warehouse: Warehouse,
    *,
    vintage: int | None = None,
    organisme: str | None = None,
    steps: Steps | None = None,
    garder_autres: bool = False,
) -> ImportResult:
    """Validate and import; raise ImportRejected (nothing written) if anything is wrong.

    Without `garder_autres` the snapshot replaces the whole vintage (one landlord's own workspace); with it,
    only the dwellings of the landlords in the file (`organisme_id`, which is `organisme` for rows without
    SIRET) are replaced.
    """
    started = time.perf_counter()
    steps = steps or Steps(quiet=True)
    schema = rpls_schema()
    report = ErrorReport(path.name)
    try:
        head = sniff_text_file(path)
    except UnreadableFile as unreadable:
        report.add(unreadable.anomaly)
        raise ImportRejected(report) from None
    layout = detect_layout(head, schema, vintage, report)
    if layout is None or report:
        raise ImportRejected(report)

    provenance: dict[str, Any] = {}
    reading = steps.step(f"Lecture et empreinte de {path.name}", total=head.size)
    with ThreadPoolExecutor(1) as pool, warehouse.lock(), reading as advance:
        scan_future = pool.submit(scan_text_file, path, advance)
        warehouse.remove_abandoned()
        cog = cog_for(warehouse, layout.vintage)
        with (
            warehouse.new_snapshot("rpls", layout.vintage, provenance) as target,
            tempfile.TemporaryDirectory(dir=warehouse.root, prefix=".conversion-") as scratch,
        ):
            read = _Reading(path, layout, schema, organisme, cog, target / "logements.parquet", steps)
            valid = read.fast(head.encoding)
            try:
                scan = scan_future.result()
            except UnreadableFile as unreadable:
                report.add(unreadable.anomaly)
                raise ImportRejected(report) from None
            if scan.encoding != head.encoding:  # the head looked like UTF-8, the rest is Latin-1: read again
                read.label = ""
                valid = read.fast(scan.encoding)
            if valid is None and is_windows_1252(path):  # ’, €, œ: Windows-1252, a superset of Latin-1
                read.source, read.label = to_utf8_copy(path, Path(scratch), "cp1252"), "windows-1252"
                valid = read.fast("utf-8")
            if valid is None:
                report.add(Anomaly("ENCODAGE_NON_RECONNU", f"{path.name} : octets illisibles en {read.encoding}."))
                raise ImportRejected(report)
            if not valid:
                read.report(report)
                raise ImportRejected(report)
            kept = _keep_others(warehouse, layout.vintage, target, steps) if garder_autres else {}
            provenance.update(_provenance(path, head, scan, read.label, layout, schema, target, cog, started))
            provenance.update(kept)
    snapshot = warehouse.current("rpls", layout.vintage)
    return ImportResult(snapshot, snapshot.provenance["logements_au_1er_janvier"], time.perf_counter() - started)


def _keep_others(warehouse: Warehouse, vintage: int, target: Path, steps: Steps) -> dict[str, Any]:
    """Copy the other landlords' dwellings of the current snapshot of `vintage` into `target` (pending)."""
    try:
        current = warehouse.current("rpls", vintage)
    except NoSnapshot:
        current = None
    previous = [Previous(current, current.table("logements"))] if current else []
    con = _connect()
    try:
        with steps.step("Reprise des logements des autres organismes", total=None):
            done = add_other_landlords(con, target / "logements.parquet", "organisme_id", previous)
    finally:
        con.close()
    return {"organismes": done.landlords, "complete_par": done.sources}


def _provenance(
    path: Path,
    head: TextHead,
    scan: TextScan,
    encoding: str,
    layout: Layout,
    schema: RplsSchema,
    target: Path,
    cog: Snapshot | None,
    started: float,
) -> dict[str, Any]:
    known = schema.by_name()
    row = duckdb.sql(
        f"SELECT count(*), count(*) FILTER (en_stock) FROM read_parquet('{target / 'logements.parquet'}')"
    ).fetchone()
    total, in_stock = row if row else (0, 0)
    return {
        "fichier": path.name,
        "chemin": str(path.resolve()),
        "sha256": scan.sha256,
        "taille_octets": head.size,
        "encodage": encoding + (" avec BOM" if head.has_bom else ""),
        "format": layout.kind,
        "organisme": layout.landlord or None,
        "lignes": total,
        "logements_au_1er_janvier": in_stock,
        "colonnes_inconnues_conservees": [n for n in layout.file_columns if n not in known and not n.startswith("__")],
        "colonnes_absentes": [c.nom for c in schema.colonnes if c.nom not in layout.file_columns],
        "referentiel_geographique": f"COG {cog.vintage}" if cog else "aucun (format des codes seul vérifié)",
        "logiciel": f"pilote-cus {__version__}",
        "duree_secondes": round(time.perf_counter() - started, 2),
    }
