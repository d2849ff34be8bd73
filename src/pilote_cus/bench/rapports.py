"""`cus bench --suite rapports`: the convention of a 100 000-dwelling landlord, as PDF, HTML and DOCX.

One run: a synthetic landlord's six years are generated and imported through the real importers into a
throw-away workspace, the indicators are published into its application database, the demo's conventions
and objectives are created (`web.peuplement.peupler`), then the convention document is built and rendered
three times per format (median). The baseline, measured in the same run, is a one-page document through the
same renderer: the fixed cost of WeasyPrint on this machine. Target: the PDF in at most 20 s.
"""

import json
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from ..entrepot.entrepot import Warehouse
from ..progression import Steps, console, number
from .rpls import Measure, measured

DWELLINGS = 100_000
FIRST_YEAR, YEARS = 2019, 6
RUNS = 3
TARGET_PDF_S = 20.0


def _median(function: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _prepare(work: Path, seed: int, figures: dict[str, Measure]) -> Any:
    from ..comptes.models import Organisme
    from ..conventions.models import Convention, Statut
    from ..evenements.import_evenements import import_events
    from ..indicateurs.objectifs import Objective
    from ..patrimoine.historique import generate_history
    from ..patrimoine.import_rpls import import_rpls
    from ..tableaux.models import Resultat
    from ..tableaux.publication import publier
    from ..web.peuplement import peupler

    warehouse = Warehouse(work)
    with Steps() as steps:
        with steps.step("Historique synthétique et imports", 100) as advance, measured() as m:
            history = generate_history(work / "entrees", DWELLINGS, seed, first_year=FIRST_YEAR, years=YEARS)
            advance(40)
            for vintage, path in sorted(history.rpls_files.items()):
                import_rpls(path, warehouse, vintage=vintage)
            advance(40)
            for name, path in history.event_files.items():
                import_events(warehouse, name, path)
            advance(20)
        figures["historique et imports"] = m
        with steps.step("Publication des indicateurs", 100) as advance, measured() as m:
            publier(warehouse, progress=advance)
        figures["publication des résultats"] = m
    landlord = history.landlords[0]
    with measured() as m:
        organisme = Organisme.objects.get(code=landlord.siret)
        mine = Resultat.objects.filter(organisme=organisme, generation=2, maille="departement").exclude(valeur=None)
        objectives = [
            Objective(
                r.code,
                "departement",
                r.code_territoire,
                r.periode,
                round((r.valeur or 0.0) * (0.9 if i % 2 else 1.2), 2),
            )
            for i, r in enumerate(mine.order_by("code", "code_territoire", "periode"))
        ]
        peupler(warehouse, landlord.siret, landlord.raison_sociale, objectives, FIRST_YEAR, YEARS)
    figures["conventions et objectifs"] = m
    return Convention.objects.get(organisme=organisme, statut=Statut.SUIVI)


def _baseline() -> float:
    from ..rapports.modele import Document, Paragraphe, Partie
    from ..rapports.rendu import document_pdf

    document = Document(
        "Référence",
        "Une page",
        "Banc d'essai",
        [("Objet", "mesure")],
        [Partie("Texte", "texte", [Paragraphe("x")])],
        "",
    )
    document_pdf(document)  # warm-up: fonts and WeasyPrint's first import
    seconds, _ = _median(lambda: document_pdf(document))
    return seconds


def run_bench_rapports(root: Path, seed: int) -> tuple[int, dict[str, Any]]:
    from pypdf import PdfReader

    from ..rapports import convention as document_convention
    from ..rapports.docx import document_docx
    from ..rapports.rendu import document_html, document_pdf
    from ..web.serveur import prepare

    work = root / "bench" / f"rapports-{datetime.now():%Y%m%d%H%M%S}"
    work.mkdir(parents=True, exist_ok=True)
    console.print(
        f"[bold]Banc d'essai des documents[/] : convention d'un bailleur de {number(DWELLINGS)} logements "
        f"× {YEARS} millésimes, médiane de {RUNS} rendus par format."
    )
    prepare(str(work))
    from django.conf import settings

    settings.DATA_DIR = work
    figures: dict[str, Measure] = {}
    convention = _prepare(work, seed, figures)
    baseline = _baseline()
    build, document = _median(lambda: document_convention.construire(convention))
    html_s, html = _median(lambda: document_html(document))
    with measured() as memory:
        pdf_s, pdf = _median(lambda: document_pdf(document))
    from ..rapports.docx import svg_png

    def docx_uncached() -> bytes:
        svg_png.cache_clear()  # each run converts its charts to PNG again, as a fresh process would
        return document_docx(document)

    docx_s, docx = _median(docx_uncached)
    pages = len(PdfReader(str(_write(work, "convention.pdf", pdf))).pages)
    _write(work, "convention.docx", docx)
    _write(work, "convention.html", html.encode("utf-8"))
    total_pdf = build + pdf_s
    results = {
        "logements": DWELLINGS,
        "objectifs": convention.objectifs.count(),
        "preparation_s": {k: round(m.seconds, 2) for k, m in figures.items()},
        "construction_document_s": round(build, 3),
        "html_s": round(html_s, 3),
        "pdf_s": round(pdf_s, 3),
        "pdf_total_s": round(total_pdf, 3),
        "docx_s": round(docx_s, 3),
        "reference_une_page_pdf_s": round(baseline, 3),
        "rapport_reference": round(pdf_s / baseline, 1) if baseline else None,
        "pages_pdf": pages,
        "taille_pdf_octets": len(pdf),
        "taille_docx_octets": len(docx),
        "memoire_max_pdf_mo": round(memory.peak_bytes / 2**20),
        "objectif_pdf_s": TARGET_PDF_S,
        "objectif_atteint": total_pdf <= TARGET_PDF_S,
    }
    table = Table(title=f"Convention, {number(DWELLINGS)} logements (médiane de {RUNS})", title_justify="left")
    table.add_column("mesure")
    table.add_column("valeur", justify="right")
    for label, value in (
        ("construction du document (entrepôt + base)", f"{build:.2f} s"),
        ("HTML", f"{html_s:.2f} s"),
        ("PDF (WeasyPrint)", f"{pdf_s:.2f} s"),
        ("DOCX", f"{docx_s:.2f} s"),
        ("référence : PDF d'une page", f"{baseline:.2f} s"),
        ("pages du PDF", str(pages)),
        ("taille du PDF", f"{len(pdf) / 1024:.0f} Kio"),
        ("taille du DOCX", f"{len(docx) / 1024:.0f} Kio"),
    ):
        table.add_row(label, value)
    console.print(table)
    console.print(
        f"Convention en PDF (construction + rendu) : {total_pdf:.1f} s (objectif ≤ {TARGET_PDF_S:.0f} s : "
        f"{'atteint' if results['objectif_atteint'] else 'non atteint'}) ; "
        f"{results['rapport_reference']}× le PDF d'une page."
    )
    output = work / f"resultats-rapports-{datetime.now():%Y%m%d-%H%M%S}.json"
    output.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"Résultats : {output}")
    return (0 if results["objectif_atteint"] else 1), results


def _write(work: Path, name: str, content: bytes) -> Path:
    path = work / name
    path.write_bytes(content)
    return path
