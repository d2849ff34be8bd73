"""From a document's data to HTML, PDF and DOCX — without any external service.

HTML comes from a Django template extending `rapports/base.html` (print CSS: A4 pages, running header and
footer, page numbers, table of contents through `target-counter`, French hyphenation). WeasyPrint turns
it into a tagged PDF (PDF/UA-1: the text is text, tables and headings are structure) with the Marianne and
Spectral fonts of the DSFR package embedded. Charts are inline SVG, hence vector graphics in the PDF.

Reproducible: the same inputs give the same bytes. The documents carry no clock time; their date is the
publication or snapshot date they state, and the PDF identifier is derived from the content.
"""

import base64
import hashlib
import io
import os
from functools import cache
from pathlib import Path
from typing import Any

import dsfr

FONTS = Path(dsfr.__file__).parent / "static" / "dsfr" / "dist" / "fonts"
FORMATS = ("pdf", "html", "docx")


class DocumentError(ValueError):
    """A document cannot be produced (missing convention, no publication…); the message is in French."""


FACES = (
    ("Marianne", "Marianne-Regular", 400, "normal"),
    ("Marianne", "Marianne-Regular_Italic", 400, "italic"),
    ("Marianne", "Marianne-Bold", 700, "normal"),
    ("Marianne", "Marianne-Bold_Italic", 700, "italic"),
)


@cache
def font_faces(inline: bool = False) -> str:
    """@font-face rules for the Marianne fonts shipped in django-dsfr (no network, no system font needed).

    `inline`: the fonts themselves, as data URIs (WOFF2, about 230 KB) — for an HTML file that is read on
    another machine; otherwise file paths, which WeasyPrint reads on this one."""
    rules = []
    for family, stem, weight, style in FACES:
        if inline:
            path = FONTS / f"{stem}.woff2"
            if not path.exists():
                continue
            source = f"data:font/woff2;base64,{base64.b64encode(path.read_bytes()).decode()}"
            kind = " format('woff2')"
        else:
            path = FONTS / f"{stem}.woff"
            if not path.exists():
                continue
            source, kind = path.as_uri(), ""
        rules.append(
            f"@font-face {{ font-family: '{family}'; src: url('{source}'){kind}; "
            f"font-weight: {weight}; font-style: {style}; }}"
        )
    return "\n".join(rules)


def render_html(template: str, context: dict[str, Any], autonome: bool = True) -> str:
    """The document as a standalone HTML page (the template extends rapports/base.html); `autonome`: with the
    fonts inside, so that the file reads the same anywhere (False: for WeasyPrint on this machine)."""
    from django.template.loader import render_to_string

    return render_to_string(template, {"font_faces": font_faces(inline=autonome), **context})


def html_to_pdf(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1), identical bytes for an identical HTML."""
    from weasyprint import HTML

    # fontTools stamps the embedded font subsets with the clock unless SOURCE_DATE_EPOCH is set
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1704067200")  # 2024-01-01, any fixed value
    identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()
    out = io.BytesIO()
    HTML(string=html, base_url=str(FONTS)).write_pdf(
        out, pdf_variant="pdf/ua-1", pdf_identifier=identifier, uncompressed_pdf=False
    )
    return out.getvalue()


def document_html(document: Any, autonome: bool = True) -> str:
    """A `modele.Document` as a standalone HTML page (fonts included unless `autonome` is False)."""
    return render_html(
        "rapports/document.html",
        {
            "document": document,
            "titre": document.titre,
            "auteur": document.auteur,
            "pied": f"{document.titre} — {document.sous_titre}",
            "date_document": document.date,
            "sommaire": document.sommaire(),
        },
        autonome,
    )


def document_pdf(document: Any) -> bytes:
    return html_to_pdf(document_html(document, autonome=False))
