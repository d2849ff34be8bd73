"""The engagements of a bilan or an evaluation as a ministry-style spreadsheet (XLSX or ODS), and its read-back.

Layout (the objectives workbook's conventions, `indicateurs.objectifs.write_template`): a sheet
« Engagements » with the title in A1, the document's facts in rows 2-3, the header on row 5 (bold, blue
fill, frozen, filterable) and one row per engagement from row 6; a sheet « Lisez-moi » with the provenance
and the meaning of each column. Numbers are numeric cells (never text), so that a reader can sum and filter.

The same bytes for the same data: the workbook dates are the publication's, the archive members are
dated with it too (no clock time), so a file can be compared with the previous one.

`lire` reads either format back into the rows that were written (a round trip), and names the sheet, the
row and the column of whatever a hand-edited file breaks.
"""

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from .rendu import DocumentError

SHEET = "Engagements"
README = "Lisez-moi"
HEADER_ROW = 5
Nature = Literal["texte", "nombre"]


@dataclass(frozen=True)
class Colonne:
    cle: str
    titre: str
    nature: Nature
    largeur: int
    definition: str


COLONNES = (
    Colonne("code", "Code indicateur", "texte", 14, "Code de l'indicateur du catalogue (avec sa ventilation)."),
    Colonne("libelle", "Libellé", "texte", 55, "Libellé de l'indicateur."),
    Colonne("politique", "Politique", "texte", 22, "Politique de la convention dont relève l'engagement."),
    Colonne("maille", "Maille", "texte", 12, "Maille du territoire : bailleur (tout le parc) ou département."),
    Colonne("territoire", "Territoire", "texte", 14, "Code du territoire (SIREN du bailleur ou n° de département)."),
    Colonne("periode", "Période", "texte", 11, "Année, ou cumul de la période évaluée (2019-2021)."),
    Colonne("unite", "Unité", "texte", 16, "Unité du réalisé et de l'objectif."),
    Colonne("objectif", "Objectif", "nombre", 12, "Objectif signé dans la convention."),
    Colonne("numerateur", "Numérateur", "nombre", 13, "Numérateur publié."),
    Colonne("denominateur", "Dénominateur", "nombre", 13, "Dénominateur publié (vide pour un dénombrement)."),
    Colonne("realise", "Réalisé", "nombre", 12, "Valeur publiée de l'indicateur."),
    Colonne(
        "statut", "Statut", "texte", 20, "atteint, partiellement atteint, non atteint, non calculable, non publié."
    ),
    Colonne("avis_etat", "Avis de l'État", "texte", 28, "Avis de l'État (évaluations à 3 et 6 ans)."),
    Colonne("commentaire_etat", "Commentaire de l'État", "texte", 40, "Commentaire de l'État sur l'engagement."),
    Colonne("explication_bailleur", "Explication du bailleur", "texte", 40, "Explication donnée par le bailleur."),
)
NUMBER_FORMAT = "#,##0.00"
DECIMALES = 6  # numbers are written rounded (a spreadsheet keeps 15 significant digits): the read-back is exact
HEADER_FILL = "DDE5F4"


class TableurError(DocumentError):
    """A spreadsheet that cannot be read back; the message names the sheet, the row and the column."""


@dataclass
class Classeur:
    """What a spreadsheet holds besides its rows: a title, a few facts, the provenance, a fixed date."""

    titre: str
    faits: list[tuple[str, str]]  # e.g. ("Organisme", "…"), ("Année", "2023"): rows 2-3 and the read-me
    provenance: str
    date: str  # ISO date of the data (publication); the workbook's created/modified date


def _fixed_moment(date: str) -> datetime:
    try:
        return datetime.fromisoformat(date[:10])
    except ValueError:
        return datetime(2024, 1, 1)


def _cell_value(colonne: Colonne, row: dict[str, Any]) -> Any:
    value = row.get(colonne.cle)
    if colonne.nature == "nombre":
        return None if value is None else round(float(value), DECIMALES)
    return "" if value is None else str(value)


# --- XLSX ---------------------------------------------------------------------------------------------------


def xlsx(rows: Sequence[dict[str, Any]], classeur: Classeur) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    moment = _fixed_moment(classeur.date)
    book = Workbook()
    book.properties.creator = "Pilote CUS"
    book.properties.title = classeur.titre
    book.properties.created = moment
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet["A1"] = classeur.titre
    sheet["A1"].font = Font(bold=True, size=14)
    for offset, (label, value) in enumerate(classeur.faits[:2], start=2):
        sheet.cell(offset, 1, label).font = Font(bold=True)
        sheet.cell(offset, 2, value)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    for index, colonne in enumerate(COLONNES, start=1):
        cell = sheet.cell(HEADER_ROW, index, colonne.titre)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(index)].width = colonne.largeur
    for offset, row in enumerate(rows, start=HEADER_ROW + 1):
        for index, colonne in enumerate(COLONNES, start=1):
            value = _cell_value(colonne, row)
            cell = sheet.cell(offset, index, value if value != "" else None)
            if colonne.nature == "nombre":
                cell.number_format = NUMBER_FORMAT
    last = get_column_letter(len(COLONNES))
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 3)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(rows), 1)}"
    readme = book.create_sheet(README)
    readme.column_dimensions["A"].width = 28
    readme.column_dimensions["B"].width = 90
    for line in _readme_lines(classeur):
        readme.append(list(line))
        if line[0] and not line[1]:
            readme.cell(readme.max_row, 1).font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return _fixed_zip(out.getvalue(), moment, xlsx_core=True)


def xlsx_feuilles(feuilles: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]], classeur: Classeur) -> bytes:
    """Several tables (sheet name, headers, rows) in the same layout, and the read-me (the regional synthesis)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    moment = _fixed_moment(classeur.date)
    book = Workbook()
    book.properties.creator = "Pilote CUS"
    book.properties.title = classeur.titre
    book.properties.created = moment
    book.remove(book.worksheets[0])
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    for name, headers, rows in feuilles:
        sheet = book.create_sheet(name[:31])
        sheet["A1"] = f"{classeur.titre} — {name}"
        sheet["A1"].font = Font(bold=True, size=14)
        for offset, (label, value) in enumerate(classeur.faits[:2], start=2):
            sheet.cell(offset, 1, label).font = Font(bold=True)
            sheet.cell(offset, 2, value)
        for index, title in enumerate(headers, start=1):
            cell = sheet.cell(HEADER_ROW, index, title)
            cell.font = Font(bold=True)
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(50, len(title) + 6))
        for offset, row in enumerate(rows, start=HEADER_ROW + 1):
            for index, value in enumerate(row, start=1):
                cell = sheet.cell(offset, index, value)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    cell.number_format = "#,##0" if isinstance(value, int) else NUMBER_FORMAT
        sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 2)
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(headers))}{HEADER_ROW + max(len(rows), 1)}"
    readme = book.create_sheet(README)
    readme.column_dimensions["A"].width = 28
    readme.column_dimensions["B"].width = 90
    for line in [(classeur.titre, ""), *classeur.faits, ("Provenance", classeur.provenance)]:
        readme.append(list(line))
    out = io.BytesIO()
    book.save(out)
    return _fixed_zip(out.getvalue(), moment, xlsx_core=True)


def _readme_lines(classeur: Classeur) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = [(classeur.titre, ""), *classeur.faits, ("Provenance", classeur.provenance)]
    lines += [("", ""), ("Colonnes de la feuille « Engagements »", "")]
    lines += [(c.titre, c.definition) for c in COLONNES]
    return lines


def _fixed_zip(data: bytes, moment: datetime, xlsx_core: bool = False) -> bytes:
    """The same archive with every member dated `moment` (and the XLSX modified date too)."""
    stamp = (moment.year, moment.month, moment.day, 0, 0, 0)
    iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if xlsx_core and info.filename == "docProps/core.xml":
                text = re.sub(
                    r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{iso}\g<2>", content.decode()
                )
                content = text.encode()
            member = zipfile.ZipInfo(info.filename, stamp)
            member.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, content)
    return out.getvalue()


# --- ODS ----------------------------------------------------------------------------------------------------


def ods(rows: Sequence[dict[str, Any]], classeur: Classeur) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableColumnProperties, TextProperties
    from odf.table import Table, TableColumn

    moment = _fixed_moment(classeur.date)
    doc = OpenDocumentSpreadsheet()
    _ods_meta(doc, classeur, moment)
    bold = Style(name="gras", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(bold)
    sheet = Table(name=SHEET)
    for index, colonne in enumerate(COLONNES):
        width = Style(name=f"col{index}", family="table-column")
        width.addElement(TableColumnProperties(columnwidth=f"{colonne.largeur * 0.19:.2f}cm"))
        doc.automaticstyles.addElement(width)
        sheet.addElement(TableColumn(stylename=width))
    sheet.addElement(_ods_row([classeur.titre], bold))
    for label, value in classeur.faits[:2]:
        sheet.addElement(_ods_row([label, value]))
    sheet.addElement(_ods_row([]))
    sheet.addElement(_ods_row([c.titre for c in COLONNES], bold))
    for row in rows:
        sheet.addElement(_ods_row([_cell_value(c, row) for c in COLONNES]))
    doc.spreadsheet.addElement(sheet)
    readme = Table(name=README)
    for line in _readme_lines(classeur):
        readme.addElement(_ods_row(list(line)))
    doc.spreadsheet.addElement(readme)
    _stable_namespaces()
    out = io.BytesIO()
    doc.write(out)
    return _fixed_zip(out.getvalue(), moment)


def _stable_namespaces() -> None:
    """odfpy declares the namespaces met so far in the process (a class attribute): declare them all, in a
    fixed order, so that the same data gives the same bytes whatever was written before."""
    from odf.element import Element
    from odf.namespaces import nsdict

    Element.namespaces.clear()
    Element.namespaces.update(sorted(nsdict.items(), key=lambda item: item[1]))


def _ods_meta(doc: Any, classeur: Classeur, moment: datetime) -> None:
    from odf.dc import Date, Title
    from odf.meta import CreationDate

    doc.meta.addElement(Title(text=classeur.titre))
    doc.meta.addElement(CreationDate(text=moment.isoformat()))
    doc.meta.addElement(Date(text=moment.isoformat()))


def _ods_row(values: Sequence[Any], style: Any = None) -> Any:
    from odf.table import TableCell, TableRow
    from odf.text import P

    row = TableRow()
    for value in values:
        if value is None or value == "":
            row.addElement(TableCell())
        elif isinstance(value, int | float):
            cell = TableCell(valuetype="float", value=repr(float(value)))
            cell.addElement(P(text=repr(float(value)).replace(".", ",")))
            row.addElement(cell)
        else:
            cell = TableCell(valuetype="string", stylename=style) if style else TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            row.addElement(cell)
    return row


# --- read-back ----------------------------------------------------------------------------------------------


def lire(path: Path) -> list[dict[str, Any]]:
    """The engagement rows of a spreadsheet written by `xlsx` or `ods` (perhaps edited by hand)."""
    path = Path(path)
    try:
        head = path.read_bytes()[:4]
    except OSError as error:
        raise TableurError(f"{path.name} : fichier illisible ({error.strerror or error}).") from None
    if head != b"PK\x03\x04":
        raise TableurError(f"{path.name} n'est pas un classeur XLSX ou ODS (ce n'est pas une archive).")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype").decode() if "mimetype" in names else ""
    except zipfile.BadZipFile:
        raise TableurError(f"{path.name} est endommagé : l'archive du classeur est illisible.") from None
    if "opendocument.spreadsheet" in mimetype:
        sheets = _ods_sheets(path)
    elif "xl/workbook.xml" in names:
        sheets = _xlsx_sheets(path)
    else:
        raise TableurError(f"{path.name} n'est ni un classeur XLSX ni un classeur ODS.")
    if SHEET not in sheets:
        raise TableurError(f"{path.name} : feuille « {SHEET} » absente (feuilles : {', '.join(sheets) or 'aucune'}).")
    return _rows(path.name, sheets[SHEET])


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _rows(file_name: str, grid: list[list[Any]]) -> list[dict[str, Any]]:
    header_index = next(
        (i for i, row in enumerate(grid) if row and str(row[0] or "").strip() == COLONNES[0].titre), None
    )
    if header_index is None:
        raise TableurError(
            f"{file_name}, feuille « {SHEET} » : ligne d'en-tête introuvable "
            f"(elle commence par « {COLONNES[0].titre} », ligne {HEADER_ROW} du modèle)."
        )
    header = [str(v).strip() if v is not None else "" for v in grid[header_index]]
    position = {name: i for i, name in enumerate(header) if name}
    missing = [c.titre for c in COLONNES if c.titre not in position]
    if missing:
        raise TableurError(
            f"{file_name}, feuille « {SHEET} », ligne {header_index + 1} : "
            f"colonne(s) absente(s) : {', '.join(missing)}."
        )
    rows = []
    for number, raw in enumerate(grid[header_index + 1 :], start=header_index + 2):
        if all(v is None or str(v).strip() == "" for v in raw):
            continue
        row: dict[str, Any] = {}
        for colonne in COLONNES:
            index = position[colonne.titre]
            value = raw[index] if index < len(raw) else None
            row[colonne.cle] = _read_value(file_name, number, index, colonne, value)
        rows.append(row)
    return rows


def _read_value(file_name: str, number: int, index: int, colonne: Colonne, value: Any) -> Any:
    if colonne.nature == "texte":
        return "" if value is None else str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise TableurError(
            f"{file_name}, feuille « {SHEET} », ligne {number}, colonne « {colonne.titre} » "
            f"({_column_letter(index)}) : « {value} » n'est pas un nombre."
        ) from None


def _xlsx_sheets(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise TableurError(f"{path.name} est endommagé : classeur XLSX illisible.") from None
    try:
        return {name: [list(r) for r in book[name].iter_rows(values_only=True)] for name in book.sheetnames}
    except Exception:
        raise TableurError(f"{path.name} est endommagé : une feuille du classeur XLSX est illisible.") from None
    finally:
        book.close()


def _ods_sheets(path: Path) -> dict[str, list[list[Any]]]:
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow

    try:
        doc = load(str(path))
    except Exception:  # odfpy raises XML and zip errors of many kinds
        raise TableurError(f"{path.name} est endommagé : classeur ODS illisible.") from None
    sheets: dict[str, list[list[Any]]] = {}
    for table in doc.spreadsheet.getElementsByType(Table):
        grid: list[list[Any]] = []
        for row in table.getElementsByType(TableRow):
            values: list[Any] = []
            for cell in row.getElementsByType(TableCell):
                repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
                values.extend([_ods_value(cell)] * min(repeat, 1000))
            grid.extend([values] * min(int(row.getAttribute("numberrowsrepeated") or 1), 1000))
        sheets[str(table.getAttribute("name"))] = grid
    return sheets


def _ods_value(cell: Any) -> Any:
    from odf import teletype
    from odf.text import P

    kind = cell.getAttribute("valuetype")
    if kind in ("float", "percentage", "currency"):
        raw = cell.getAttribute("value")
        try:
            return float(raw)
        except (TypeError, ValueError):
            return raw  # reported with its row and column by the caller
    text = "\n".join(teletype.extractText(p) for p in cell.getElementsByType(P))
    return text if text != "" else None
