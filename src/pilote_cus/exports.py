"""Writing result tables in the formats users ask for: CSV, JSON, XLSX."""

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
from openpyxl import Workbook

FORMATS = ("csv", "json", "xlsx")
XLSX_MAX_ROWS = 1_048_575


class ExportError(Exception):
    pass


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


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
        data.append(names)
        for row in rows:
            data.append(row)
        info = book.create_sheet("Source")
        for key, value in (metadata or {}).items():
            info.append([key, value])
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
