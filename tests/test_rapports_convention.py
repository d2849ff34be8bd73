"""The convention document: built from the synthetic landlord, rendered to PDF, HTML and DOCX."""

import io
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import duckdb
import pytest
from django.conf import settings
from django.db import transaction
from pypdf import PdfReader

from pilote_cus import cli, graphiques
from pilote_cus.comptes.models import Organisme
from pilote_cus.conventions.models import Convention, Statut
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.indicateurs.objectifs import Objective
from pilote_cus.rapports import convention as rapport
from pilote_cus.rapports.docx import document_docx
from pilote_cus.rapports.modele import Document, Figure, Paragraphe, Partie, Signatures, Tableau, Titre
from pilote_cus.rapports.texte import typographie as typo

# the module's fixture writes to the test database (marking the module makes pytest-django create it)
pytestmark = pytest.mark.django_db


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


# --- the synthetic landlord's convention, built once for the module -----------------------------------------

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts" / "rapports"


@dataclass
class Rendu:
    convention: Convention
    document: Document
    pdf: bytes
    texte: str  # the PDF's text, pages joined
    docx: bytes
    dossier: Path


def _demo(dossier: Path) -> Convention:
    from pilote_cus.tableaux.models import Resultat
    from pilote_cus.tableaux.publication import publier
    from pilote_cus.web.peuplement import peupler
    from web import usines  # tests/web, importable because tests/ is on the path (rootdir import mode)

    entrepot = usines.entrepot_demo()
    usines.copie_entrepot(entrepot, dossier)
    publier(Warehouse(dossier))
    organisme = Organisme.objects.get(code=entrepot.code)
    mine = Resultat.objects.filter(organisme=organisme, generation=2, maille="departement").exclude(valeur=None)
    objectives = [
        Objective(r.code, "departement", r.code_territoire, r.periode, round(r.valeur * (0.9 if i % 2 else 1.2), 2))
        for i, r in enumerate(mine.order_by("code", "code_territoire", "periode"))
    ]
    peupler(Warehouse(dossier), entrepot.code, entrepot.nom, objectives, 2019, 6)
    return Convention.objects.get(organisme=organisme, statut=Statut.SUIVI)


@pytest.fixture(scope="module")
def rendu(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendu]:
    dossier = tmp_path_factory.mktemp("convention")
    previous = settings.DATA_DIR
    with django_db_blocker.unblock(), transaction.atomic():
        settings.DATA_DIR = dossier
        try:
            convention = _demo(dossier)
            document = rapport.construire(convention)
            pdf = rapport.rendre(document, "pdf")
            texte = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
            yield Rendu(convention, document, pdf, texte, rapport.rendre(document, "docx"), dossier)
        finally:
            settings.DATA_DIR = previous
            transaction.set_rollback(True)


def _plat(text: str) -> str:
    """Text extracted from the PDF with its spaces normalised (narrow no-break spaces, line breaks)."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def test_sections_attendues(rendu: Rendu) -> None:
    texte = _plat(rendu.texte)
    for titre in (
        "Sommaire",
        "Synthèse",
        "Politique patrimoniale",
        "Politique sociale",
        "Qualité de service",
        "Orientations stratégiques",
        "Programme d'actions",
        "Annexe — Classement des immeubles",
        "Annexe — Supplément de loyer de solidarité",
        "Signatures",
    ):
        assert titre in texte, titre
    assert "Résorber les logements des étiquettes E, F et G avant 2028" in texte


def test_nombre_de_logements_egal_a_l_entrepot(rendu: Rendu) -> None:
    snapshot = Warehouse(rendu.dossier).current("rpls")
    code = rendu.convention.organisme.code
    total, efg = duckdb.sql(
        f"SELECT count(*), count(*) FILTER (WHERE dpeenergie IN ('E', 'F', 'G')) "
        f"FROM read_parquet('{snapshot.table('logements')}') WHERE en_stock AND organisme_id = '{code}'"
    ).fetchone()
    texte = _plat(rendu.texte)
    chiffres = f"{total:,}".replace(",", " ")
    assert f"Logements au 1er janvier {snapshot.vintage} {chiffres}" in texte
    share = f"{100 * efg / total:.1f}".replace(".", ",")
    assert f"Étiquette énergie E, F ou G (%) {share}" in texte
    assert f"instantané RPLS {snapshot.id}" in texte


def test_objectif_ecrit_a_la_francaise(rendu: Rendu) -> None:
    objectif = rendu.convention.objectifs.exclude(valeur=0).filter(periode__contains="-").first()
    assert objectif is not None
    attendu = rapport.valeur(objectif.valeur)
    if objectif.valeur != int(objectif.valeur):
        assert "," in attendu
    texte = _plat(rendu.texte)
    assert objectif.periode in texte and attendu.replace("\u202f", " ") in texte


def test_signataires_et_provenance(rendu: Rendu) -> None:
    texte = _plat(rendu.texte)
    for signataire in rendu.convention.signataires.all():
        assert signataire.nom in texte
    assert "Signé le 30/06/2019" in texte
    assert texte.count("Données : publication du") >= 2  # cover and last page
    assert "Aucun classement au regard du service rendu n\u2019est encore adopté" in texte
    assert not any(f"'{space};" in rendu.texte for space in " \u202f")  # no « d' ;actions » (escaped apostrophe)
    assert "0,27" in texte  # national CDPR at 20 % (sls.toml)


def test_pdf_balise_polices_embarquees_et_reproductible(rendu: Rendu) -> None:
    reader = PdfReader(io.BytesIO(rendu.pdf))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "fr"
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = (font.get("/DescendantFonts") or [font])[0].get_object().get("/FontDescriptor")
            assert descriptor is not None and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
    assert any(f.startswith("Marianne") for f in fonts)
    assert "Page 2 sur" in rendu.texte
    assert rapport.rendre(rendu.document, "pdf") == rendu.pdf
    assert len(reader.pages) >= 8


def test_docx_titres_et_tableau_des_engagements(rendu: Rendu) -> None:
    word = docx.Document(io.BytesIO(rendu.docx))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert "Politique patrimoniale — engagements" in headings and "Signatures" in headings
    table = next(t for t in word.tables if t.rows[0].cells[0].text == "Indicateur")
    objectif = rendu.convention.objectifs.order_by("code", "code_territoire", "periode").first()
    assert objectif is not None
    header = [c.text for c in table.rows[0].cells]
    assert objectif.periode in header or any(objectif.periode in [c.text for c in t.rows[0].cells] for t in word.tables)
    assert rapport.rendre(rendu.document, "docx") == rendu.docx


def test_pages_en_png(rendu: Rendu) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm absent (paquet poppler-utils) : pas de contrôle visuel")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTEFACTS / "convention.pdf"
    pdf.write_bytes(rendu.pdf)
    for old in ARTEFACTS.glob("convention-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTEFACTS / "convention-page")], check=True)
    pages = sorted(ARTEFACTS.glob("convention-page-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(rendu.pdf)).pages)
    assert all(p.stat().st_size > 2000 for p in pages)


def test_cli_ecrit_le_fichier_et_refuse_une_convention_inconnue(
    rendu: Rendu, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sortie = tmp_path / "convention.html"
    code = cli.main(["rapport", "convention", "--convention", str(rendu.convention.pk), "--format", "html",
                     "--sortie", str(sortie)])  # fmt: skip
    assert code == 0 and "Convention d'utilité sociale" in sortie.read_text(encoding="utf-8")
    assert cli.main(["rapport", "convention", "--convention", "999999", "--format", "pdf"]) != 0
    err = capsys.readouterr().err
    assert "Aucune convention n° 999999" in err and "Traceback" not in err
