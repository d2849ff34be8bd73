"""File responses of the application: exports, documents and their refusals, one way for every page."""

import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from django.http import HttpResponse

from ..exports import write_table

TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "geojson": "application/geo+json; charset=utf-8",
}


def fichier(contenu: bytes | str, nom: str, fmt: str) -> HttpResponse:
    """`nom`.`fmt` to download; an HTML document opens in the browser instead."""
    response = HttpResponse(contenu, content_type=TYPES[fmt])
    disposition = "inline" if fmt == "html" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{nom}.{fmt}"'
    return response


def ecrit(nom: str, fmt: str, ecrire: Callable[[Path], object]) -> HttpResponse:
    """The file a writer (`exports.write_table`, `export_rpls_fields`…) produces, sent without staying on disk."""
    with tempfile.TemporaryDirectory(prefix="cus-export-") as dossier:
        chemin = Path(dossier) / f"{nom}.{fmt}"
        ecrire(chemin)
        contenu = chemin.read_bytes()
    return fichier(contenu, nom, fmt)


def table(table: pa.Table, nom: str, fmt: str, feuille: str, metadata: dict[str, str]) -> HttpResponse:
    """A table as CSV or XLSX (`exports.write_table`: the metadata go to a second sheet or a header)."""
    return ecrit(nom, fmt, lambda chemin: write_table(table, fmt, chemin, feuille, metadata))


def refus(message: object) -> HttpResponse:
    """A document that cannot be produced now (no publication yet…): 409 with the French reason."""
    return HttpResponse(str(message), status=409, content_type="text/plain; charset=utf-8")
