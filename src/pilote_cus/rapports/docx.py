"""A `modele.Document` as a Word file (DOCX), for the parties who amend the text before signing.

Same model as the PDF: cover, table of contents (a Word TOC field whose current result is the static list
of parts, so it reads well before Word updates it), real heading styles (part → Heading 1, level-3 title →
Heading 2, level-4 → Heading 3), tables whose header row repeats on every page, page numbers in the footer
(PAGE and NUMPAGES fields), landscape sections for wide parts. Each chart is rasterised offline (a one-chart
PDF by WeasyPrint, then `pdftoppm`) and always followed by the table of its figures; without `pdftoppm`
the table alone stands for the chart.

Reproducible: the core properties carry the document's date, never the clock, and the ZIP entries are
rewritten with a fixed timestamp, so the same document gives the same bytes.
"""

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from docx import Document as WordDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from .modele import Document, Encadre, Figure, Paragraphe, Partie, Signatures, Tableau, Titre
from .texte import cellule
from .texte import typographie as typo

BLUE = RGBColor(0x00, 0x00, 0x91)
GREY = RGBColor(0x55, 0x55, 0x55)
STATUS_COLOURS = {
    "statut-atteint": RGBColor(0x18, 0x75, 0x3C),
    "statut-partiellement-atteint": RGBColor(0xB3, 0x40, 0x00),
    "statut-non-atteint": RGBColor(0xCE, 0x05, 0x00),
}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FONT = "Arial"  # Marianne is embedded in the PDF; Word files use a font every reader has


def _field(paragraph: Any, instruction: str, result: str = "") -> None:
    """A complex field (PAGE, NUMPAGES…) inside one paragraph."""
    for kind, text in (("begin", None), ("instr", instruction), ("separate", None), ("result", result), ("end", None)):
        run = paragraph.add_run()
        if kind == "instr":
            node = OxmlElement("w:instrText")
            node.set(qn("xml:space"), "preserve")
            node.text = f" {text} "
            run._r.append(node)
        elif kind == "result":
            run.text = text or ""
        else:
            node = OxmlElement("w:fldChar")
            node.set(qn("w:fldCharType"), kind)
            run._r.append(node)


def _fld_char(paragraph: Any, kind: str) -> None:
    node = OxmlElement("w:fldChar")
    node.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(node)


def _setup_styles(word: Any) -> None:
    styles = word.styles
    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "fr-FR")
    rpr.append(lang)
    for name, size in (("Heading 1", 16), ("Heading 2", 13), ("Heading 3", 11), ("Title", 26)):
        style = styles[name]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.color.rgb = BLUE
    styles["Caption"].font.color.rgb = GREY


def _settings(word: Any) -> None:
    """Ask Word to refresh the fields (table of contents, page count) when the file is opened."""
    settings = word.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    # the schema orders the settings: updateFields comes right before these
    following = ("w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat", "w:docVars", "w:rsids")
    successor = next((node for node in settings if node.tag in {qn(t) for t in following}), None)
    if successor is None:
        settings.append(update)
    else:
        successor.addprevious(update)


def _footer(section: Any, text: str) -> None:
    section.footer.is_linked_to_previous = False
    paragraph = section.footer.paragraphs[0]
    paragraph.text = ""
    run = paragraph.add_run(f"{text}\t")
    run.font.size = Pt(8)
    paragraph.add_run("Page ").font.size = Pt(8)
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" sur ").font.size = Pt(8)
    _field(paragraph, "NUMPAGES", "1")
    for r in paragraph.runs:
        r.font.size = Pt(8)
        r.font.color.rgb = GREY
    tabs = paragraph.paragraph_format.tab_stops
    tabs.add_tab_stop(section.page_width - section.left_margin - section.right_margin, alignment=2)  # right


def _orient(section: Any, landscape: bool) -> None:
    width, height = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    section.left_margin = section.right_margin = Mm(17)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)


def _cover(word: Any, doc: Document) -> None:
    bandeau = word.add_paragraph()
    run = bandeau.add_run(doc.bandeau)
    run.bold = True
    run.font.color.rgb = BLUE
    word.add_paragraph(doc.titre, style="Title")
    subtitle = word.add_paragraph()
    subtitle.add_run(doc.sous_titre).font.size = Pt(14)
    if doc.couverture:
        table = word.add_table(rows=0, cols=2)
        for label, value in doc.couverture:
            cells = table.add_row().cells
            cells[0].text = ""
            cells[0].paragraphs[0].add_run(label).bold = True
            cells[1].text = typo(str(value))
            cells[0].width, cells[1].width = Cm(5), Cm(12)
    note = word.add_paragraph()
    note.paragraph_format.space_before = Pt(24)
    run = note.add_run(doc.provenance)
    run.font.size = Pt(8)
    run.font.color.rgb = GREY
    note.add_run().add_break(WD_BREAK.PAGE)


def _contents(word: Any, doc: Document) -> None:
    """A TOC field whose shown result is the static list of parts (updated by Word to add page numbers)."""
    word.add_heading("Sommaire", level=1)
    entries = doc.sommaire()
    first = word.add_paragraph()
    _fld_char(first, "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = ' TOC \\o "1-2" \\h \\z \\u '
    first.add_run()._r.append(instr)
    _fld_char(first, "separate")
    last = first
    for index, entry in enumerate(entries):
        paragraph = first if index == 0 else word.add_paragraph()
        paragraph.add_run(entry["titre"])
        if entry["niveau"] == 3:
            paragraph.paragraph_format.left_indent = Cm(0.6)
        last = paragraph
    _fld_char(last, "end")


def _paragraphs(word: Any, text: str, note: bool = False) -> None:
    for chunk in [c.strip() for c in re.split(r"\n\s*\n", typo(text)) if c.strip()]:
        paragraph = word.add_paragraph()
        for index, line in enumerate(chunk.split("\n")):
            if index:
                paragraph.add_run().add_break()
            run = paragraph.add_run(line)
            if note:
                run.font.size = Pt(8)
                run.font.color.rgb = GREY


def _repeat_header(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)
    cant_split = OxmlElement("w:cantSplit")
    trpr.append(cant_split)


def _shade(cell: Any, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _table(word: Any, tableau: Tableau) -> None:
    caption = word.add_paragraph(tableau.legende, style="Caption")
    caption.paragraph_format.keep_with_next = True
    aligns = tableau.alignements
    table = word.add_table(rows=1, cols=len(tableau.colonnes))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    _repeat_header(header)
    for index, title in enumerate(tableau.colonnes):
        cell = header.cells[index]
        _shade(cell, "E3E3FD")
        paragraph = cell.paragraphs[0]
        run = paragraph.add_run(title)
        run.bold = True
        run.font.size = Pt(8.5)
        run.font.color.rgb = BLUE
        if index < len(aligns) and aligns[index] == "nombre":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row_index, values in enumerate(tableau.lignes):
        row = table.add_row()
        colour = STATUS_COLOURS.get(tableau.classes[row_index] if row_index < len(tableau.classes) else "")
        for index, value in enumerate(values[: len(tableau.colonnes)]):
            paragraph = row.cells[index].paragraphs[0]
            run = paragraph.add_run(cellule(value))
            run.font.size = Pt(8.5)
            if index == 0:
                run.bold = True
            if colour is not None:
                run.font.color.rgb = colour
            if index < len(aligns) and aligns[index] == "nombre":
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if tableau.note:
        _paragraphs(word, tableau.note, note=True)
    else:
        word.add_paragraph()


@lru_cache(maxsize=256)
def svg_png(svg: str) -> bytes | None:
    """The chart as a PNG (150 dpi), rendered offline; None when `pdftoppm` is not installed."""
    if shutil.which("pdftoppm") is None:
        return None
    from .rendu import html_to_pdf

    html = (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Graphique</title><style>"
        "@page { size: 180mm 110mm; margin: 2mm; } body { margin: 0; } svg { width: 100%; height: auto; }"
        f"</style></head><body>{svg}</body></html>"
    )
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "figure.pdf"
        pdf.write_bytes(html_to_pdf(html))
        done = subprocess.run(
            ["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(Path(tmp) / "figure")],
            capture_output=True,
            check=False,
        )
        png = Path(tmp) / "figure.png"
        return png.read_bytes() if done.returncode == 0 and png.exists() else None


def _figure(word: Any, figure: Figure, width: Any) -> None:
    png = svg_png(figure.svg)
    if png is not None:
        picture = word.add_paragraph()
        picture.paragraph_format.keep_with_next = True
        picture.add_run().add_picture(io.BytesIO(png), width=width)
        # alternative text: the chart's <title>
        title = re.search(r"<title>(.*?)</title>", figure.svg, re.S)
        for prop in picture._p.iter(qn("wp:docPr")):
            prop.set("descr", (title.group(1) if title else figure.legende).strip())
    word.add_paragraph(figure.legende, style="Caption")
    if figure.tableau is not None:
        _table(word, figure.tableau)
    elif png is None:
        _paragraphs(word, "(Graphique non reproduit dans ce format.)", note=True)


def _encadre(word: Any, encadre: Encadre) -> None:
    table = word.add_table(rows=1, cols=1)
    cell = table.rows[0].cells[0]
    _shade(cell, "F5F5FE")
    cell.paragraphs[0].add_run(encadre.titre).bold = True
    for chunk in [c.strip() for c in re.split(r"\n\s*\n", typo(encadre.texte)) if c.strip()]:
        cell.add_paragraph(chunk)
    word.add_paragraph()


def _signatures(word: Any, signatures: Signatures) -> None:
    items = signatures.signataires
    table = word.add_table(rows=(len(items) + 1) // 2, cols=2)
    table.style = "Table Grid"
    for index, s in enumerate(items):
        cell = table.rows[index // 2].cells[index % 2]
        cell.paragraphs[0].add_run(s.get("organisation", "")).bold = True
        cell.add_paragraph(f"{s.get('nom', '')}, {s.get('qualite', '')}")
        cell.add_paragraph(f"Signé le {s['date']}" if s.get("date") else "Date et signature :")
        for _ in range(4):
            cell.add_paragraph()
    for row in table.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    if signatures.lieu:
        word.add_paragraph(f"Fait à {signatures.lieu}.")


def _bloc(word: Any, bloc: Any, width: Any) -> None:
    if isinstance(bloc, Titre):
        word.add_heading(bloc.texte, level=2 if bloc.niveau <= 3 else 3)
    elif isinstance(bloc, Paragraphe):
        _paragraphs(word, bloc.texte, note=bloc.classe == "note")
    elif isinstance(bloc, Tableau):
        _table(word, bloc)
    elif isinstance(bloc, Figure):
        _figure(word, bloc, width)
    elif isinstance(bloc, Encadre):
        _encadre(word, bloc)
    elif isinstance(bloc, Signatures):
        _signatures(word, bloc)


def _part(word: Any, partie: Partie, footer: str, landscape: bool) -> bool:
    """A part on a new page; a new section when the orientation changes. Returns the orientation."""
    if partie.paysage != landscape:
        section = word.add_section(WD_SECTION.NEW_PAGE)
        _orient(section, partie.paysage)
        _footer(section, footer)
    else:
        word.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    word.add_heading(partie.titre, level=1)
    section = word.sections[-1]
    width = min(section.page_width - section.left_margin - section.right_margin, Mm(170))
    for bloc in partie.blocs:
        _bloc(word, bloc, width)
    return partie.paysage


def _core(word: Any, doc: Document) -> None:
    props = word.core_properties
    when = datetime.fromisoformat(doc.date) if doc.date else datetime(2024, 1, 1)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
    props.title = doc.titre
    props.subject = doc.sous_titre
    props.author = doc.auteur
    props.last_modified_by = doc.auteur
    props.language = "fr-FR"
    props.comments = doc.provenance[:255]  # the core properties are limited to 255 characters
    props.created = when
    props.modified = when
    props.last_printed = when
    props.revision = 1
    props.keywords = "convention d'utilité sociale"


def _fixed_zip(data: bytes) -> bytes:
    """The same entries in the same order, each with a fixed timestamp (python-docx stamps the clock)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def document_docx(doc: Document) -> bytes:
    """The document as DOCX bytes (identical for an identical document)."""
    word = WordDocument()
    _setup_styles(word)
    _settings(word)
    first = word.sections[0]
    _orient(first, False)
    first.different_first_page_header_footer = True
    footer = f"{doc.titre} — {doc.sous_titre}"
    _footer(first, footer)
    _core(word, doc)
    _cover(word, doc)
    _contents(word, doc)
    landscape = False
    for partie in doc.parties:
        landscape = _part(word, partie, footer, landscape)
    closing = word.add_paragraph()
    closing.paragraph_format.space_before = Pt(12)
    run = closing.add_run(doc.provenance)
    run.font.size = Pt(8)
    run.font.color.rgb = GREY
    out = io.BytesIO()
    word.save(out)
    return _fixed_zip(out.getvalue())
