"""The convention document: built from the synthetic landlord, rendered to PDF, HTML and DOCX."""

import io
import zipfile

import docx
import pytest

from pilote_cus import graphiques
from pilote_cus.rapports.docx import document_docx, typo
from pilote_cus.rapports.modele import Document, Figure, Paragraphe, Partie, Signatures, Tableau, Titre


def _petit_document() -> Document:
    tableau = Tableau(
        "Logements par étiquette", ["Étiquette", "Logements"], [["A", 12], ["B", 12345]], ["texte", "nombre"]
    )
    svg = graphiques.barres_horizontales("Logements par étiquette", {"A": 12, "B": 12345})
    return Document(
        titre="Convention d'utilité sociale",
        sous_titre="Bailleur d'essai",
        bandeau="CUS 2025-2030",
        couverture=[("Organisme", "Bailleur d'essai"), ("Période", "2025-2030")],
        parties=[
            Partie(
                "Synthèse", "synthese", [Titre("Chiffres clés", 3, "cles"), Paragraphe("Note : un ; deux"), tableau]
            ),
            Partie("Engagements", "engagements", [Figure(svg, "Étiquettes", tableau)], paysage=True),
            Partie(
                "Signatures",
                "signatures",
                [
                    Signatures(
                        [{"nom": "Jeanne Martin", "qualite": "directrice", "organisation": "Bailleur", "date": ""}]
                    )
                ],
            ),
        ],
        provenance="Données : publication du 2025-03-01",
        date="2025-03-01",
    )


def test_docx_styles_tableaux_pied_et_octets_identiques() -> None:
    doc = _petit_document()
    first, second = document_docx(doc), document_docx(doc)
    assert first == second
    word = docx.Document(io.BytesIO(first))
    headings = [(p.style.name, p.text) for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "Synthèse") in headings and ("Heading 2", "Chiffres clés") in headings
    table = next(t for t in word.tables if t.rows[0].cells[0].text == "Étiquette")
    assert [c.text for c in table.rows[2].cells] == ["B", "12\u202f345"]
    assert 'w:tblHeader w:val="true"' in table.rows[0]._tr.xml
    assert word.sections[1].orientation == 1  # the engagements part is landscape
    footer = word.sections[0].footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "NUMPAGES" in footer
    assert word.core_properties.created.isoformat().startswith("2025-03-01")
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        document_xml = archive.read("word/document.xml").decode()
    assert "TOC \\o" in document_xml and "Note\u00a0: un\u202f; deux" in document_xml


@pytest.mark.parametrize(
    ("texte", "attendu"),
    [("Oui ! Non ?", "Oui\u202f! Non\u202f?"), ("« citation »", "«\u202fcitation\u202f»"), ("a : b", "a\u00a0: b")],
)
def test_typographie_francaise(texte: str, attendu: str) -> None:
    assert typo(texte) == attendu
