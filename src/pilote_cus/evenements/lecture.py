"""Reading an event file as landlords send it: what kind of file it is, its header, and XLSX sheets.

A CSV file is read by DuckDB directly. An XLSX workbook is copied, row by row, into a UTF-8 CSV whose
first column `__ligne` keeps the Excel row number, so that both go through the same SQL validation and
every anomaly names the row the landlord sees in Excel.
"""

import csv
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from ..imports.erreurs import Anomaly, ErrorReport
from ..imports.texte import TextHead, UnreadableFile
from .schema import EventColumn, EventSchema

LINE_COLUMN = "__ligne"
DELIMITERS = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"
_ZIP_SIGNATURE = b"PK\x03\x04"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _refuse(code: str, message: str) -> UnreadableFile:
    return UnreadableFile(Anomaly(code, message, 1 if code != "FICHIER_INTROUVABLE" else None))


def file_kind(path: Path) -> str:
    """ "xlsx" or "csv" (any other text: the CSV reader says what is wrong); refuse other formats."""
    if not path.is_file():
        raise _refuse("FICHIER_INTROUVABLE", f"Fichier introuvable : {path}")
    with path.open("rb") as handle:
        signature = handle.read(8)
    if signature.startswith(_OLE_SIGNATURE):
        raise _refuse(
            "FORMAT_NON_PRIS_EN_CHARGE",
            f"{path.name} est un classeur Excel 97-2003 (XLS) ou un classeur protégé par un mot de passe : "
            "enregistrez-le au format XLSX (sans mot de passe) ou CSV.",
        )
    if not signature.startswith(_ZIP_SIGNATURE):
        return "csv"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError):
        raise _refuse(
            "CLASSEUR_ILLISIBLE", f"{path.name} : archive ZIP ou classeur XLSX endommagé (tronqué ?)."
        ) from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    shown = "un classeur OpenDocument (ODS)" if mimetype.startswith(_ODS_MIMETYPE) else "une archive ZIP"
    raise _refuse(
        "FORMAT_NON_PRIS_EN_CHARGE",
        f"{path.name} est {shown} : enregistrez les données au format XLSX ou CSV (séparateur point-virgule).",
    )


@dataclass(frozen=True)
class Header:
    """The header of a file, matched against a schema."""

    fields: tuple[str, ...]  # name given to each field of the file: declared name, or __autre_N
    present: tuple[str, ...]  # declared columns found in the header
    ignored: tuple[str, ...]  # unknown columns, as written in the file: read, not stored

    def missing(self, schema: EventSchema) -> list[str]:
        return [c.nom for c in schema.colonnes if c.nom not in self.present]


def _normalised(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower()


def match_header(raw: list[str], schema: EventSchema, report: ErrorReport, line: int) -> Header:
    """Name the file's fields after the declared columns (case and surrounding spaces ignored)."""
    declared = schema.by_name()
    if len(raw) > 1 and not raw[-1].strip():  # lines ending with a separator
        raw = raw[:-1]
    fields: list[str] = []
    present: list[str] = []
    ignored: list[str] = []
    for index, text in enumerate(raw, start=1):
        name = _normalised(text)
        if not name:
            report.add(
                Anomaly("COLONNE_SANS_NOM", f"La colonne n° {index} de l'en-tête n'a pas de nom.", line, f"n° {index}")
            )
        elif name in present:
            shown = text.strip()
            report.add(
                Anomaly("COLONNE_EN_DOUBLE", f"La colonne {shown} apparaît plusieurs fois dans l'en-tête.", line, shown)
            )
        elif name in declared:
            fields.append(name)
            present.append(name)
            continue
        else:
            ignored.append(text.strip())
        fields.append(f"__autre_{index}")
    for column in schema.colonnes:
        if column.obligatoire and column.nom not in present:
            report.add(
                Anomaly(
                    "COLONNE_OBLIGATOIRE_ABSENTE",
                    f"La colonne obligatoire {column.nom} ({column.libelle}) est absente de l'en-tête.",
                    line,
                    column.nom,
                )
            )
    return Header(tuple(fields), tuple(present), tuple(ignored))


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _known(fields: list[str], schema: EventSchema) -> int:
    declared = schema.by_name()
    return len({_normalised(f) for f in fields} & set(declared))


def csv_header(head: TextHead, schema: EventSchema, report: ErrorReport) -> tuple[Header, str] | None:
    """The header and the separator of a CSV file: the one that finds most declared names (`;` if tied)."""
    line = head.first_line
    scores = {d: _known(_split(line, d), schema) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: scores[d])  # first of the best: ';' wins ties
    if scores[delimiter] == 0:
        hint = " : les champs sont-ils séparés par « | » ?" if _known(_split(line, "|"), schema) else "."
        report.add(_unknown_header(schema, 1, line, hint))
        return None
    return match_header(_split(line, delimiter), schema, report, 1), delimiter


def _unknown_header(schema: EventSchema, line: int, text: str, hint: str = ".") -> Anomaly:
    expected = ", ".join(c.nom for c in schema.colonnes if c.obligatoire)
    return Anomaly(
        "ENTETE_NON_RECONNU",
        f"La ligne {line} ne contient aucun nom de colonne du format {schema.nom} (attendus notamment : "
        f"{expected}){hint}",
        line,
        None,
        text[:200],
    )


@dataclass(frozen=True)
class CsvSource:
    """What DuckDB reads: the landlord's CSV, its UTF-8 copy, or the CSV copy of an XLSX sheet."""

    path: Path
    encoding: str
    delimiter: str
    header: Header
    excel: bool  # the first column, __ligne, is the Excel row number

    @property
    def fields(self) -> tuple[str, ...]:
        return (LINE_COLUMN, *self.header.fields) if self.excel else self.header.fields


# --- XLSX -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetCopy:
    sheet: str
    header: Header
    rows: int


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def cell_text(value: Any, column: EventColumn | None, epoch: datetime) -> str | None:
    """The text of a cell as a CSV export would give it, for the column's type."""
    kind = column.type if column else "texte"
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat() if kind == "date" or value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | float):
        if kind == "date" and value > 0:
            serial = from_excel(value, epoch)  # a date typed as a number (cell without a date format)
            return serial.date().isoformat() if isinstance(serial, datetime) else str(value)
        text = _number_text(float(value)) if isinstance(value, float) else str(value)
        widths = {"commune": 5, "departement": 2}  # Excel drops the leading zero of 01001 or 01
        return text.zfill(widths[kind]) if kind in widths and isinstance(value, int) else text
    return str(value)


def _first_filled_row(rows: Iterator[tuple[int, tuple[Any, ...]]]) -> tuple[int, list[str]] | None:
    for number, values in rows:
        raw = [("" if v is None else str(v)) for v in values]
        while raw and not raw[-1].strip():
            raw.pop()
        if raw:
            return number, raw
    return None


def _sheet(book: Any, schema: EventSchema) -> Any:
    for sheet in book.worksheets:
        if sheet.title.strip().lower() == schema.nom:
            return sheet
    return book.worksheets[0]


def xlsx_to_csv(
    path: Path,
    schema: EventSchema,
    target: Path,
    report: ErrorReport,
    progress: Callable[[int], None] | None = None,
) -> SheetCopy | None:
    """Copy the sheet into `target` (UTF-8, `;`, first column the Excel row); None if it cannot be read."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of errors on a damaged workbook
        report.add(Anomaly("CLASSEUR_ILLISIBLE", f"{path.name} : classeur XLSX illisible ({type(error).__name__}).", 1))
        return None
    try:
        sheet = _sheet(book, schema)
        sheet.reset_dimensions()  # some writers record wrong dimensions: read every cell there is
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        found = _first_filled_row(rows)
        if found is None:
            report.add(Anomaly("AUCUNE_LIGNE", f"La feuille « {sheet.title} » de {path.name} est vide.", 1))
            return None
        number, raw = found
        if not _known(raw, schema):
            report.add(_unknown_header(schema, number, " | ".join(raw)))
            return None
        header = match_header(raw, schema, report, number)
        declared = schema.by_name()
        columns = [declared.get(name) for name in header.fields]
        width = len(columns)
        stray: set[int] = set()
        count = 0
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\n")
            writer.writerow([LINE_COLUMN, *header.fields])
            for number, values in rows:
                texts = [cell_text(v, c, book.epoch) for v, c in zip(values, columns, strict=False)]
                if len(values) > width:
                    for index, value in enumerate(values[width:], start=width + 1):
                        if cell_text(value, None, book.epoch) is not None and index not in stray:
                            stray.add(index)
                            report.add(
                                Anomaly(
                                    "COLONNE_SANS_NOM",
                                    f"La colonne n° {index} contient des valeurs mais n'a pas de nom dans l'en-tête.",
                                    number,
                                    f"n° {index}",
                                    str(value)[:200],
                                )
                            )
                if all(t is None for t in texts):
                    continue
                writer.writerow([number, *texts, *([None] * (width - len(texts)))])
                count += 1
                if progress and count % 10_000 == 0:
                    progress(10_000)
        return SheetCopy(sheet.title, header, count)
    finally:
        book.close()
