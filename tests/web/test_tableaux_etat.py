"""State console: conventions of the territory only, engagements off track, regional consolidation, drill-down."""

import csv
import io
from datetime import date, timedelta
from html import escape

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from pilote_cus.comptes.models import Implantation, Organisme, Role
from pilote_cus.conventions.models import Objectif, Statut
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.tableaux.models import Resultat
from pilote_cus.tableaux.publication import publier

from . import usines


@pytest.fixture(autouse=True)
def statiques() -> None:
    usines.racine_statique()


@pytest.fixture(scope="module")
def demo() -> usines.EntrepotDemo:
    return usines.entrepot_demo()


@pytest.fixture
def console(monde: usines.Monde, demo: usines.EntrepotDemo) -> dict:
    """The `monde` landlords plus the published demo landlord, with a late convention missing one engagement."""
    publication = publier(Warehouse(demo.dossier))
    organisme = Organisme.objects.get(code=demo.code)
    implantation = Implantation.objects.filter(organisme=organisme).order_by("-logements").first()
    result = Resultat.objects.get(
        publication=publication,
        organisme=organisme,
        generation=2,
        code="SR-1",
        maille="departement",
        code_territoire=implantation.departement,
        periode="2024",
    )
    convention = usines.convention(organisme, Statut.SUIVI, echeance=date.today() - timedelta(days=3))
    Objectif.objects.create(
        convention=convention,
        code="SR-1",
        maille="departement",
        code_territoire=implantation.departement,
        periode="2024",
        valeur=result.valeur + 10,
    )
    Objectif.objects.create(
        convention=convention,
        code="SR-1",
        maille="departement",
        code_territoire=implantation.departement,
        periode="2023",
        valeur=0,
    )
    etat = usines.utilisateur("dreal-demo", Role.ETAT, region=implantation.region)
    client = Client()
    client.force_login(etat)
    return {
        "client": client,
        "organisme": organisme,
        "convention": convention,
        "region": implantation.region,
        "departement": implantation.departement,
        "monde": monde,
        "publication": publication,
    }


def test_console_lists_the_territory_conventions_with_off_track_and_late(
    console: dict, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(8):
        response = console["client"].get(reverse("tableaux:console_etat"))
    page = response.content.decode()
    assert response.status_code == 200 and page.count("<h1") == 1
    assert reverse("conventions:detail", args=[console["convention"].pk]) in page
    monde = console["monde"]
    assert reverse("conventions:detail", args=[monde.autre_convention.pk]) not in page
    row = page[page.index(escape(console["convention"].titre)) :]
    row = row[: row.index("</tr>")]
    assert "en retard" in row and "<strong>1</strong>" in row


def test_console_queries_do_not_grow_with_conventions(console: dict, django_assert_max_num_queries) -> None:
    for n in range(15):
        o = usines.organisme(f"SA-{n}", f"Bailleur {n}", (console["departement"],), console["region"])
        usines.convention(o, Statut.SUIVI)
    with django_assert_max_num_queries(8):
        page = console["client"].get(reverse("tableaux:console_etat")).content.decode()
    assert "Bailleur 14" in page


def test_off_track_count_kept_then_dropped_when_an_objective_changes(console: dict) -> None:
    """The console reads kept counts; editing an objective drops the kept one, the next view recomputes it."""
    from pilote_cus.conventions import engagements
    from pilote_cus.tableaux.models import HorsTrajectoire

    convention = console["convention"]
    console["client"].get(reverse("tableaux:console_etat"))
    kept = HorsTrajectoire.objects.get(convention=convention)
    assert kept.nombre == 1 and kept.publication == console["publication"]
    missed = convention.objectifs.get(periode="2024")
    values = {f: getattr(missed, f) for f in ("code", "maille", "code_territoire", "periode")}
    engagements.save(console["monde"].bailleur, convention, {**values, "valeur": 0}, missed)  # now met
    assert not HorsTrajectoire.objects.filter(convention=convention).exists()
    page = console["client"].get(reverse("tableaux:console_etat")).content.decode()
    row = page[page.index(escape(convention.titre)) :]
    assert "<strong>1</strong>" not in row[: row.index("</tr>")]
    assert HorsTrajectoire.objects.get(convention=convention).nombre == 0


def test_console_export_has_no_foreign_convention(console: dict) -> None:
    response = console["client"].get(reverse("tableaux:console_export"), {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert console["monde"].autre_organisme.code not in {r["identifiant"] for r in rows}
    demo = next(r for r in rows if r["identifiant"] == console["organisme"].code)
    assert demo["engagements_hors_trajectoire"] == "1" and demo["en_retard"] == "oui"


def test_consolidation_sums_landlords_for_the_region(console: dict, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(16):
        response = console["client"].get(reverse("tableaux:consolidation"), {"periode": "2024", "region": "11"})
    page = response.content.decode()
    assert response.status_code == 200
    assert f"région {console['region']}" in page  # the State's own région, whatever is asked
    dwellings = Implantation.objects.filter(region=console["region"]).aggregate(n=Sum("logements"))["n"]
    figures = page[page.index('data-testid="chiffres"') :]
    landlords = Implantation.objects.filter(region=console["region"]).values("organisme").distinct()
    assert {console["organisme"].pk, console["monde"].organisme.pk} == {i["organisme"] for i in landlords}
    assert f"2 conventions, 2 bailleurs, {dwellings} logements" in figures
    response = console["client"].get(
        reverse("tableaux:consolidation_export"), {"periode": "2024", "format": "csv", "indicateur": "SR-1"}
    )
    rows = [r for r in csv.DictReader(io.StringIO(response.content.decode())) if r["code"] == "SR-1"]
    region = next(r for r in rows if r["maille"] == "region")
    departements = [r for r in rows if r["maille"] == "departement"]
    assert len(departements) >= 1
    assert float(region["numerateur"]) == pytest.approx(sum(float(r["numerateur"]) for r in departements))


def test_drill_down_inside_and_outside_the_perimeter(console: dict) -> None:
    client = console["client"]
    url = reverse("tableaux:detail_bailleur", args=[console["organisme"].pk])
    page = client.get(url, {"departement": console["departement"], "periode": "2024"}).content.decode()
    assert f"département {console['departement']}" in page and "non atteint" in page
    outside = reverse("tableaux:detail_bailleur", args=[console["monde"].autre_organisme.pk])
    assert client.get(outside).status_code == 404


@pytest.mark.parametrize("compte", ["bailleur", "collectivite", "association"])
def test_other_roles_are_refused(monde: usines.Monde, compte: str) -> None:
    client = Client()
    client.force_login(monde.comptes()[compte])
    for name in ("console_etat", "consolidation", "console_export", "consolidation_export"):
        assert client.get(reverse(f"tableaux:{name}")).status_code == 403
    assert client.get(reverse("tableaux:detail_bailleur", args=[monde.organisme.pk])).status_code == 403


def test_administrator_sees_every_convention(console: dict) -> None:
    client = Client()
    client.force_login(console["monde"].admin)
    page = client.get(reverse("tableaux:console_etat")).content.decode()
    assert reverse("conventions:detail", args=[console["monde"].autre_convention.pk]) in page
