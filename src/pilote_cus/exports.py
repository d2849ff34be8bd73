"""Writing result tables in the formats users ask for: CSV, JSON, XLSX."""

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMATS = ("csv", "json", "xlsx")
XLSX_MAX_ROWS = 1_048_575


class ExportError(Exception):
    pass


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _header_cell(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


def write_table(
    table: pa.Table, fmt: str, output: Path | None, sheet: str, metadata: dict[str, str] | None = None
) -> Path | None:
    """Write `table`; with no output path, CSV and JSON go to standard output."""
    rows = [[_plain(v) for v in row.values()] for row in table.to_pylist()]
    names = table.column_names
    if fmt == "xlsx":
        if output is None:
            raise ExportError("Le format xlsx demande un fichier de sortie (--sortie FICHIER.xlsx).")
        if len(rows) > XLSX_MAX_ROWS:
            raise ExportError(
                f"{len(rows)} lignes : au-delà de la limite d'un classeur XLSX "
                f"({XLSX_MAX_ROWS + 1} lignes). Choisissez une maille moins fine ou le format csv."
            )
        book = Workbook(write_only=True)
        data = book.create_sheet(sheet[:31])
        data.freeze_panes = "A2"
        for index, name in enumerate(names):
            data.column_dimensions[get_column_letter(index + 1)].width = max(12, len(name) + 4)
        data.auto_filter.ref = f"A1:{get_column_letter(len(names))}{len(rows) + 1}"
        data.append([_header_cell(data, name) for name in names])
        for row in rows:
            data.append(row)
        info = book.create_sheet("Source")
        info.column_dimensions["A"].width = 20
        info.column_dimensions["B"].width = 80
        for key, value in (metadata or {}).items():
            info.append([_header_cell(info, key), value])
        output.parent.mkdir(parents=True, exist_ok=True)
        book.save(output)
        return output
    if fmt == "json":
        text = json.dumps([dict(zip(names, row, strict=True)) for row in rows], ensure_ascii=False, indent=1)
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        raise ExportError(f"Format inconnu : {fmt} (formats : {', '.join(FORMATS)}).")
    if output is None:
        sys.stdout.write(text)
        return None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return output
