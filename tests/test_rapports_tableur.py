"""The engagements spreadsheet: XLSX and ODS written from rows, read back identical; numbers are numeric
cells; same data, same bytes; a damaged or hand-broken file gives a French error naming sheet, row, column."""

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from odf.opendocument import load
from odf.table import Table, TableCell, TableRow
from openpyxl import load_workbook

from pilote_cus.rapports.tableur import Classeur, TableurError, lire, ods, xlsx, xlsx_feuilles

CLASSEUR = Classeur(
    "Bilan annuel 2023 — Habitat du Rhône",
    [("Organisme", "Habitat du Rhône (OPH-A)"), ("Convention", "CUS 2019-2024")],
    "Données : publication du 2026-03-14, catalogue 2026.1, instantanés rpls-2024.",
    "2026-03-14",
)
LIGNES: list[dict[str, Any]] = [
    {
        "code": "PP-1-PLAI",
        "libelle": "Logements agréés « PLAI » ; financés",
        "politique": "Politique patrimoniale",
        "maille": "departement",
        "territoire": "69",
        "periode": "2023",
        "unite": "logements",
        "objectif": 120.0,
        "numerateur": 1234567.0,
        "denominateur": None,
        "realise": 1234567.0,
        "statut": "atteint",
        "avis_etat": "",
        "commentaire_etat": "",
        "explication_bailleur": "",
    },
    {
        "code": "SR-1",
        "libelle": "Réclamations traitées en moins de 30 jours",
        "politique": "Qualité du service rendu",
        "maille": "bailleur",
        "territoire": "OPH-A",
        "periode": "2019-2021",
        "unite": "%",
        "objectif": 85.5,
        "numerateur": 7.0,
        "denominateur": 15.0,
        "realise": 46.666667,
        "statut": "non atteint",
        "avis_etat": "Engagement non respecté",
        "commentaire_etat": "Écart important.\nÀ expliquer.",
        "explication_bailleur": "Changement de logiciel d'astreinte.",
    },
]


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_aller_retour(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"engagements.{fmt}"
    path.write_bytes(xlsx(LIGNES, CLASSEUR) if fmt == "xlsx" else ods(LIGNES, CLASSEUR))
    assert lire(path) == LIGNES


def test_xlsx_mise_en_forme_du_ministere(tmp_path: Path) -> None:
    path = tmp_path / "engagements.xlsx"
    path.write_bytes(xlsx(LIGNES, CLASSEUR))
    book = load_workbook(path)
    assert book.sheetnames == ["Engagements", "Lisez-moi"]
    sheet = book["Engagements"]
    assert sheet["A1"].value == CLASSEUR.titre and sheet["A1"].font.b
    assert [sheet.cell(5, i).value for i in (1, 8, 11)] == ["Code indicateur", "Objectif", "Réalisé"]
    assert sheet.cell(5, 1).font.b and sheet.cell(5, 1).fill.fgColor.rgb.endswith("DDE5F4")
    assert sheet.freeze_panes == "C6"
    assert sheet.cell(6, 9).value == 1234567 and sheet.cell(6, 9).data_type == "n"
    assert sheet.cell(6, 9).number_format == "#,##0.00"
    assert sheet.column_dimensions["B"].width == 55
    readme = [tuple(r) for r in book["Lisez-moi"].iter_rows(values_only=True)]
    assert ("Provenance", CLASSEUR.provenance) in readme
    assert book.properties.created.isoformat() == "2026-03-14T00:00:00"


def test_ods_nombres_en_cellules_numeriques(tmp_path: Path) -> None:
    path = tmp_path / "engagements.ods"
    path.write_bytes(ods(LIGNES, CLASSEUR))
    doc = load(str(path))
    sheets = {str(t.getAttribute("name")): t for t in doc.spreadsheet.getElementsByType(Table)}
    assert list(sheets) == ["Engagements", "Lisez-moi"]
    rows = sheets["Engagements"].getElementsByType(TableRow)
    first = rows[5].getElementsByType(TableCell)
    objective = first[7]
    assert objective.getAttribute("valuetype") == "float" and float(objective.getAttribute("value")) == 120.0
    assert first[0].getAttribute("valuetype") == "string"


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_memes_donnees_memes_octets_dates_de_la_publication(fmt: str) -> None:
    write = xlsx if fmt == "xlsx" else ods
    first, second = write(LIGNES, CLASSEUR), write(LIGNES, CLASSEUR)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 3, 14, 0, 0, 0)}
        if fmt == "xlsx":
            assert "<dcterms:modified" in archive.read("docProps/core.xml").decode()
            assert "2026-03-14T00:00:00Z" in archive.read("docProps/core.xml").decode()
        else:
            assert archive.namelist()[0] == "mimetype"
            assert archive.infolist()[0].compress_type == zipfile.ZIP_STORED


def test_xlsx_cellule_abimee(tmp_path: Path) -> None:
    path = tmp_path / "engagements.xlsx"
    path.write_bytes(xlsx(LIGNES, CLASSEUR))
    book = load_workbook(path)
    book["Engagements"]["H7"] = "beaucoup"
    book.save(path)
    with pytest.raises(TableurError) as error:
        lire(path)
    assert str(error.value) == (
        "engagements.xlsx, feuille « Engagements », ligne 7, colonne « Objectif » (H) : "
        "« beaucoup » n'est pas un nombre."
    )


def test_xlsx_saisi_a_la_main_en_texte_francais(tmp_path: Path) -> None:
    """A number typed as French text (« 1 234,5 ») is read as the number."""
    path = tmp_path / "engagements.xlsx"
    path.write_bytes(xlsx(LIGNES, CLASSEUR))
    book = load_workbook(path)
    book["Engagements"]["H6"] = "1\u202f234,5"
    book.save(path)
    assert lire(path)[0]["objectif"] == 1234.5


def test_ods_cellule_abimee(tmp_path: Path) -> None:
    path = tmp_path / "engagements.ods"
    content = ods(LIGNES, CLASSEUR)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = {i.filename: archive.read(i.filename) for i in archive.infolist()}
    xml = members["content.xml"].decode()
    needle = 'office:value="85.5"'
    assert needle in xml
    members["content.xml"] = xml.replace(needle, 'office:value="85,5 %"').encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(out.getvalue())
    with pytest.raises(
        TableurError, match=r"feuille « Engagements », ligne 7, colonne « Objectif » \(H\) : « 85,5 % »"
    ):
        lire(path)


def test_fichiers_illisibles(tmp_path: Path) -> None:
    truncated = tmp_path / "coupe.xlsx"
    truncated.write_bytes(xlsx(LIGNES, CLASSEUR)[:900])
    with pytest.raises(TableurError, match=r"coupe\.xlsx est endommagé"):
        lire(truncated)
    text = tmp_path / "texte.ods"
    text.write_text("code;objectif\n", encoding="utf-8")
    with pytest.raises(TableurError, match=r"texte\.ods n'est pas un classeur XLSX ou ODS"):
        lire(text)
    other = tmp_path / "autre.xlsx"
    other.write_bytes(xlsx_feuilles([("Conventions", ["Bailleur"], [["X"]])], CLASSEUR))
    with pytest.raises(TableurError, match=r"feuille « Engagements » absente \(feuilles : Conventions, Lisez-moi\)"):
        lire(other)


def test_colonne_supprimee(tmp_path: Path) -> None:
    path = tmp_path / "engagements.xlsx"
    path.write_bytes(xlsx(LIGNES, CLASSEUR))
    book = load_workbook(path)
    book["Engagements"].delete_cols(11)
    book.save(path)
    with pytest.raises(TableurError, match=r"ligne 5 : colonne\(s\) absente\(s\) : Réalisé"):
        lire(path)
