"""From a document's data to HTML, PDF and DOCX — without any external service.

HTML comes from a Django template extending `rapports/base.html` (print CSS: A4 pages, running header and
footer, page numbers, table of contents through `target-counter`, French hyphenation). WeasyPrint turns
it into a tagged PDF (PDF/UA-1: the text is text, tables and headings are structure) with the Marianne and
Spectral fonts of the DSFR package embedded. Charts are inline SVG, hence vector graphics in the PDF.

Reproducible: the same inputs give the same bytes. The documents carry no clock time; their date is the
publication or snapshot date they state, and the PDF identifier is derived from the content.
"""

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import dsfr

FONTS = Path(dsfr.__file__).parent / "static" / "dsfr" / "dist" / "fonts"
FORMATS = ("pdf", "html", "docx")


class DocumentError(ValueError):
    """A document cannot be produced (missing convention, no publication…); the message is in French."""


def font_faces() -> str:
    """@font-face rules pointing at the fonts shipped in django-dsfr (no network, no system font needed)."""
    faces = [
        ("Marianne", "Marianne-Regular", 400, "normal"),
        ("Marianne", "Marianne-Regular_Italic", 400, "italic"),
        ("Marianne", "Marianne-Bold", 700, "normal"),
        ("Marianne", "Marianne-Bold_Italic", 700, "italic"),
        ("Spectral", "Spectral-Regular", 400, "normal"),
        ("Spectral", "Spectral-ExtraBold", 800, "normal"),
    ]
    rules = []
    for family, stem, weight, style in faces:
        path = FONTS / f"{stem}.woff"
        if path.exists():
            rules.append(
                f"@font-face {{ font-family: '{family}'; src: url('{path.as_uri()}'); "
                f"font-weight: {weight}; font-style: {style}; }}"
            )
    return "\n".join(rules)


def render_html(template: str, context: dict[str, Any]) -> str:
    """The document as a standalone HTML page (the template extends rapports/base.html)."""
    from django.template.loader import render_to_string

    return render_to_string(template, {"font_faces": font_faces(), **context})


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


def document_html(document: Any) -> str:
    """A `modele.Document` as a standalone HTML page."""
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
    )


def document_pdf(document: Any) -> bytes:
    return html_to_pdf(document_html(document))
