"""The common renderer on a small document: standalone HTML, tagged and reproducible PDF, page numbers."""

import io

from pypdf import PdfReader

from pilote_cus.rapports.modele import Document, Paragraphe, Partie, Tableau, Titre
from pilote_cus.rapports.rendu import document_html, document_pdf


def petit_document() -> Document:
    return Document(
        titre="Essai de rendu",
        sous_titre="Bailleur d'essai — 2025-2030",
        bandeau="Convention d'utilité sociale 2025-2030",
        couverture=[("Organisme", "Bailleur d'essai")],
        parties=[
            Partie(
                "Première partie",
                "premiere",
                [
                    Titre("Un tableau", 3, "un-tableau"),
                    Tableau("Logements", ["Département", "Logements"], [["69", 12345]], ["texte", "nombre"]),
                    Paragraphe("Programme d'actions : réhabiliter."),
                ],
            ),
            Partie("Deuxième partie", "deuxieme", [Paragraphe("Fin.")], paysage=True),
        ],
        provenance="Données : essai.",
        date="2026-01-01",
    )


def test_html_autonome_sans_chemin_du_serveur() -> None:
    html = document_html(petit_document())
    assert "file://" not in html and html.count("data:font/woff2;base64,") == 4
    assert 'href="#un-tableau"' in html and "12\u202f345" in html
    # for WeasyPrint on this machine, the fonts stay files
    assert "file://" in document_html(petit_document(), autonome=False)


def test_pdf_balise_reproductible_et_pagine() -> None:
    first, second = document_pdf(petit_document()), document_pdf(petit_document())
    assert first == second
    reader = PdfReader(io.BytesIO(first))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/Lang"] == "fr"
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    assert len(pages) == 4  # cover, contents, one page per part
    assert "Page 3 sur 4" in pages[2] and "Page 1 sur" not in pages[0]  # no footer on the cover
    assert "12 345" in pages[2].replace("\u202f", " ")
    sommaire = pages[1]
    assert "Première partie" in sommaire and "Un tableau" in sommaire and "Deuxième partie" in sommaire
    assert reader.pages[3].mediabox.width > reader.pages[3].mediabox.height  # landscape part
