"""Downloading the bilan, the evaluation and the regional synthesis: allowed or refused per role and perimeter,
the file's content narrowed to what the user reads (a collectivity: its territory), buttons on the pages."""

import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from pilote_cus.comptes.models import Utilisateur
from pilote_cus.conventions.models import Appreciation, Objectif, Statut
from pilote_cus.rapports.tableur import lire

from . import usines

AVIS = "Objectif de réhabilitation tenu malgré la hausse des coûts."


@pytest.fixture(autouse=True)
def statiques() -> None:
    usines.racine_statique()


@pytest.fixture
def suivi(monde: usines.Monde) -> usines.Monde:
    """Both conventions followed; one published result met by the first landlord in 2021 (69)."""
    for c in (monde.convention, monde.autre_convention):
        c.statut = Statut.SUIVI
        c.save()
    Objectif.objects.create(
        convention=monde.convention, code="PP-2", maille="departement", code_territoire="69", periode="2021", valeur=30
    )
    usines.resultat(monde.organisme, "PP-2", "departement", "69", "2021", 40, 100, 40.0)
    usines.resultat(monde.organisme, "PP-1", "departement", "69", "2019-2021", 2, None, 2.0, unite="logements")
    return monde


def client(user: Utilisateur) -> Client:
    c = Client()
    c.force_login(user)
    return c


def url_bilan(m: usines.Monde, fmt: str = "pdf", annee: int = 2021) -> str:
    return f"{reverse('bilans:bilan', args=[m.convention.pk])}?annee={annee}&format={fmt}"


def rows_of(content: bytes, tmp: Path, fmt: str) -> list[dict]:
    path = tmp / f"t.{fmt}"
    path.write_bytes(content)
    return lire(path)


def test_le_bailleur_telecharge_son_bilan_dans_chaque_format(suivi: usines.Monde, tmp_path: Path) -> None:
    c = client(suivi.bailleur)
    pdf = c.get(url_bilan(suivi))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert f'filename="bilan-2021-convention-{suivi.convention.pk}.pdf"' in pdf["Content-Disposition"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Bilan annuel 2021" in text and "PP-2" in text
    for fmt in ("xlsx", "ods"):
        response = c.get(url_bilan(suivi, fmt))
        assert response.status_code == 200
        rows = rows_of(response.content, tmp_path, fmt)
        assert [(r["code"], r["territoire"], r["realise"], r["objectif"], r["statut"]) for r in rows] == [
            ("PP-2", "69", 40.0, 30.0, "atteint")
        ]
    html = c.get(url_bilan(suivi, "html"))
    assert html.status_code == 200 and 'class="statut-atteint"' in html.content.decode()


def test_la_collectivite_ne_recoit_que_son_territoire(suivi: usines.Monde, tmp_path: Path) -> None:
    """The Métropole (EPCI) reads no département-level engagement, as on the follow-up page."""
    response = client(suivi.collectivite_user).get(url_bilan(suivi, "xlsx"))
    assert response.status_code == 200
    assert rows_of(response.content, tmp_path, "xlsx") == []


@pytest.mark.parametrize(
    ("compte", "attendu"),
    [("autre_bailleur", 404), ("autre_etat", 404), ("association", 403), ("etat", 200), ("administrateur", 200)],
)
def test_bilan_selon_le_perimetre(suivi: usines.Monde, compte: str, attendu: int) -> None:
    assert client(suivi.comptes()[compte]).get(url_bilan(suivi, "xlsx")).status_code == attendu


def test_anonyme_renvoye_a_la_connexion(suivi: usines.Monde) -> None:
    response = Client().get(url_bilan(suivi))
    assert response.status_code == 302 and response["Location"].startswith(reverse("connexion"))


def test_annee_hors_convention_ou_format_inconnu(suivi: usines.Monde) -> None:
    c = client(suivi.bailleur)
    refused = c.get(url_bilan(suivi, annee=2031))
    assert refused.status_code == 409
    assert "L'année 2031 est hors de la convention" in refused.content.decode()
    assert c.get(url_bilan(suivi, fmt="exe")).status_code == 404
    assert c.get(reverse("bilans:bilan", args=[suivi.convention.pk]) + "?annee=deux").status_code == 404


def test_evaluation_avec_l_avis_de_l_etat(suivi: usines.Monde, tmp_path: Path) -> None:
    Appreciation.objects.create(
        convention=suivi.convention,
        horizon=3,
        code="PP-1",
        maille="departement",
        code_territoire="69",
        avis_etat="respecte",
        commentaire_etat=AVIS,
    )
    Objectif.objects.create(
        convention=suivi.convention,
        code="PP-1",
        maille="departement",
        code_territoire="69",
        periode="2019-2021",
        valeur=3,
    )
    url = reverse("bilans:evaluation", args=[suivi.convention.pk, 3])
    c = client(suivi.etat_region)
    response = c.get(f"{url}?format=xlsx")
    assert response.status_code == 200
    rows = rows_of(response.content, tmp_path, "xlsx")
    assert [
        (r["code"], r["periode"], r["realise"], r["statut"], r["avis_etat"], r["commentaire_etat"]) for r in rows
    ] == [("PP-1", "2019-2021", 2.0, "non atteint", "Engagement respecté", AVIS)]
    pdf = c.get(f"{url}?format=pdf")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "0 engagements sur 1 respectés" in text
    assert c.get(reverse("bilans:evaluation", args=[suivi.convention.pk, 4])).status_code == 404
    assert client(suivi.association_user).get(url).status_code == 403
    assert client(suivi.autre_bailleur).get(url).status_code == 404
    # the Métropole (EPCI) reads no département-level engagement in the evaluation either
    collectivite = client(suivi.collectivite_user).get(f"{url}?format=xlsx")
    assert collectivite.status_code == 200 and rows_of(collectivite.content, tmp_path, "xlsx") == []


def test_docx_du_bilan(suivi: usines.Monde) -> None:
    pytest.importorskip("pilote_cus.rapports.docx", reason="rapports/docx.py (document_docx) pas encore livré")
    import docx

    response = client(suivi.bailleur).get(url_bilan(suivi, "docx"))
    assert response.status_code == 200
    word = docx.Document(io.BytesIO(response.content))
    cells = [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    assert "PP-2" in cells


def synthese_conventions(user: Utilisateur, query: str = "") -> tuple[int, list[str]]:
    response = client(user).get(f"{reverse('bilans:synthese')}?format=xlsx{query}")
    if response.status_code != 200:
        return response.status_code, []
    sheet = load_workbook(io.BytesIO(response.content))["Conventions"]
    return 200, [row[0] for row in sheet.iter_rows(min_row=6, values_only=True)]


def test_synthese_regionale_par_service_de_l_etat(suivi: usines.Monde) -> None:
    # the DREAL 84 and the DDT 69 get région 84 (the first landlord only); the DDT 31 gets région 76
    assert synthese_conventions(suivi.etat_region) == (200, ["Habitat du Rhône"])
    assert synthese_conventions(suivi.etat) == (200, ["Habitat du Rhône"])
    assert synthese_conventions(suivi.autre_etat) == (200, ["Logis de Garonne"])
    # a State service cannot ask for another région: its own is used
    assert synthese_conventions(suivi.autre_etat, "&region=84") == (200, ["Logis de Garonne"])
    assert synthese_conventions(suivi.admin, "&region=76") == (200, ["Logis de Garonne"])
    for compte in ("bailleur", "collectivite", "association"):
        assert synthese_conventions(suivi.comptes()[compte])[0] == 403
    pdf = client(suivi.etat_region).get(f"{reverse('bilans:synthese')}?format=pdf")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Synthèse régionale — région 84" in text
    assert "100 % des objectifs atteints (1 engagements atteints sur 1 mesurés)" in text.replace("\u202f", " ")
    assert client(suivi.etat).get(f"{reverse('bilans:synthese')}?format=ods").status_code == 404


def test_sans_publication_un_message(monde: usines.Monde) -> None:
    response = client(monde.etat_region).get(f"{reverse('bilans:synthese')}?format=pdf")
    assert response.status_code == 409 and "Aucune publication" in response.content.decode()


def test_boutons_sur_les_pages(suivi: usines.Monde) -> None:
    c = client(suivi.etat_region)
    suivi_page = c.get(reverse("conventions:suivi", args=[suivi.convention.pk])).content.decode()
    assert f'action="{reverse("bilans:bilan", args=[suivi.convention.pk])}"' in suivi_page
    evaluation = c.get(reverse("conventions:evaluation", args=[suivi.convention.pk, 3])).content.decode()
    assert f"{reverse('bilans:evaluation', args=[suivi.convention.pk, 3])}?format=pdf" in evaluation
    consolidation = c.get(reverse("tableaux:consolidation")).content.decode()
    assert f"{reverse('bilans:synthese')}?region=84&amp;generation=2&amp;format=pdf" in consolidation
