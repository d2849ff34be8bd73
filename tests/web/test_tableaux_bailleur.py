"""Landlord dashboard: published values against the convention's objectives, htmx partial, exports."""

import csv
import io
from html import escape

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from pilote_cus.comptes.models import Organisme, Role
from pilote_cus.conventions.models import Convention, Objectif, Statut
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.tableaux.models import Resultat
from pilote_cus.tableaux.publication import publier

from . import usines


@pytest.fixture(scope="module")
def demo() -> usines.EntrepotDemo:
    return usines.entrepot_demo()


@pytest.fixture(autouse=True)
def statiques() -> None:
    usines.racine_statique()


@pytest.fixture
def tableau(db: None, demo: usines.EntrepotDemo) -> dict:
    """The demo landlord published, its convention with one objective met and one missed in 2024."""
    publication = publier(Warehouse(demo.dossier))
    organisme = Organisme.objects.get(code=demo.code)
    mine = Resultat.objects.filter(
        publication=publication, organisme=organisme, generation=2, maille="departement", periode="2024"
    ).exclude(valeur=None)
    met = mine.filter(code="PP-2").order_by("code_territoire").first()
    missed = mine.filter(code="SR-1").order_by("code_territoire").first()
    assert met is not None and missed is not None
    convention = Convention.objects.create(
        organisme=organisme, titre="CUS démo 2019-2024", annee_debut=2019, annee_fin=2024, statut=Statut.SUIVI
    )
    Objectif.objects.create(
        convention=convention,
        code="PP-2",
        maille="departement",
        code_territoire=met.code_territoire,
        periode="2024",
        valeur=met.valeur / 2,
    )
    Objectif.objects.create(
        convention=convention,
        code="SR-1",
        maille="departement",
        code_territoire=missed.code_territoire,
        periode="2024",
        valeur=missed.valeur * 3 + 1,
    )
    user = usines.utilisateur("bailleur-demo", Role.BAILLEUR, organismes=[organisme])
    client = Client()
    client.force_login(user)
    return {"client": client, "organisme": organisme, "met": met, "missed": missed, "convention": convention}


def test_dashboard_shows_values_objectives_statuses_and_alerts(tableau: dict, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(14):
        response = tableau["client"].get(reverse("tableaux:bailleur"), {"periode": "2024"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<h1") == 1 and f"Tableau de bord — {escape(tableau['organisme'].nom)}" in page
    assert "<title>Tableau de bord" in page and "<caption>" in page
    assert "non atteint" in page and "fr-badge--success" in page
    alerts = page[page.index('data-testid="alertes"') : page.index("</div>", page.index('data-testid="alertes"'))]
    assert "SR-1" in alerts and "PP-2" not in alerts
    assert 'role="img"' in page and "<desc" in page
    assert "Instantanés de l'entrepôt utilisés" in page and "rpls-2024" in page


def test_htmx_filters_return_the_partial_only(tableau: dict) -> None:
    dep = tableau["missed"].code_territoire
    response = tableau["client"].get(
        reverse("tableaux:bailleur_partiel"),
        {"periode": "2024", "departement": dep, "politique": "qualite_de_service"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page and 'id="resultats"' in page
    table = page[page.index('data-testid="resultats"') :]
    assert "SR-1" in table and "PP-2" not in table  # PP-2 is a patrimoniale indicator
    other = [d for d in tableau["organisme"].implantations.values_list("departement", flat=True) if d != dep]
    assert f"<td>{other[0]}</td>" not in table


def test_csv_and_xlsx_exports_hold_what_is_shown(tableau: dict) -> None:
    url = reverse("tableaux:bailleur_export")
    response = tableau["client"].get(url, {"periode": "2024", "politique": "qualite_de_service", "format": "csv"})
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and {r["periode"] for r in rows} == {"2024"}
    assert {r["politique"] for r in rows} == {"Qualité du service rendu"}
    sr1 = next(r for r in rows if r["code"] == "SR-1" and r["code_territoire"] == tableau["missed"].code_territoire)
    assert sr1["statut"] == "non atteint" and float(sr1["valeur"]) == pytest.approx(tableau["missed"].valeur)
    response = tableau["client"].get(url, {"periode": "2024", "politique": "qualite_de_service", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.max_row == len(rows) + 1
    assert tableau["client"].get(url, {"format": "pdf"}).status_code == 404


def test_other_organisme_is_a_404_and_roles_are_checked(tableau: dict, monde: usines.Monde) -> None:
    client = tableau["client"]
    assert client.get(reverse("tableaux:bailleur"), {"organisme": monde.autre_organisme.pk}).status_code == 404
    assert client.get(reverse("tableaux:bailleur_export"), {"organisme": "x"}).status_code == 404
    other = Client()
    other.force_login(monde.etat)
    assert other.get(reverse("tableaux:bailleur")).status_code == 403
    assert other.get(reverse("tableaux:imports")).status_code == 403


def test_dashboard_without_publication_says_so(monde: usines.Monde) -> None:
    client = Client()
    client.force_login(monde.bailleur)
    page = client.get(reverse("tableaux:bailleur")).content.decode()
    assert "Aucun résultat n'est encore publié" in page


def test_convention_en_vigueur_plutot_que_celle_en_preparation(db: None) -> None:
    """The dashboard compares the published (past) results with the signed convention, not the next one."""
    from pilote_cus.tableaux import requetes

    organisme = usines.organisme()
    signed = usines.convention(organisme, Statut.SUIVI)
    Convention.objects.create(
        organisme=organisme, titre="CUS 2025-2030", annee_debut=2025, annee_fin=2030, statut=Statut.ELABORATION
    )
    assert requetes.current_convention(Convention.objects.all(), organisme) == signed
    signed.statut = Statut.REMPLACEE
    signed.save()
    assert requetes.current_convention(Convention.objects.all(), organisme).statut == Statut.ELABORATION
