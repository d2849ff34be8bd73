"""Publication: the engine's results copied into the application database, the regional consolidation."""

import pytest
from django.db.models import Sum

from pilote_cus.comptes.models import Implantation, Organisme
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.indicateurs.moteur import NoData
from pilote_cus.indicateurs.service import compute
from pilote_cus.tableaux.models import Publication, Resultat
from pilote_cus.tableaux.publication import publier, published_periods

from . import usines


@pytest.fixture(scope="module")
def demo() -> usines.EntrepotDemo:
    return usines.entrepot_demo()


@pytest.fixture
def publie(db: None, demo: usines.EntrepotDemo) -> Publication:
    return publier(Warehouse(demo.dossier))


def test_periods_are_every_year_and_every_3_and_6_year_window() -> None:
    labels = [p.label for p in published_periods(range(2019, 2025))]
    assert labels[:6] == ["2019", "2020", "2021", "2022", "2023", "2024"]
    assert labels[6:] == ["2019-2021", "2020-2022", "2021-2023", "2022-2024", "2019-2024"]


def test_rows_equal_the_engine_output(publie: Publication, demo: usines.EntrepotDemo) -> None:
    warehouse = Warehouse(demo.dossier)
    organisme = Organisme.objects.get(code=demo.code)
    engine = compute(warehouse, generation=2, mailles=["bailleur", "departement", "region", "france"], cumul=6)
    picked = {}
    for row in engine.rows:
        if row["numerateur"] and (row["code"], row["maille"]) not in picked:
            picked[(row["code"], row["maille"])] = row
    assert len(picked) > 20
    for row in picked.values():
        stored = Resultat.objects.get(
            publication=publie,
            organisme=organisme if row["maille"] == "bailleur" else None,
            generation=2,
            code=row["code"],
            maille=row["maille"],
            code_territoire=row["code_territoire"],
            periode=row["periode"],
        )
        assert stored.numerateur == pytest.approx(row["numerateur"])
        assert stored.valeur == pytest.approx(row["valeur"]) if row["valeur"] is not None else stored.valeur is None
        assert stored.libelle == row["libelle"] and stored.instantanes == row["instantanes"]


def test_landlord_by_departement_rows_sum_to_the_landlord(publie: Publication, demo: usines.EntrepotDemo) -> None:
    organisme = Organisme.objects.get(code=demo.code)
    mine = Resultat.objects.filter(publication=publie, organisme=organisme, code="PP-1", periode="2019-2024")
    by_dep = mine.filter(maille="departement")
    assert by_dep.count() >= 2
    total = mine.get(maille="bailleur")
    assert by_dep.aggregate(n=Sum("numerateur"))["n"] == pytest.approx(total.numerateur)
    consolidated = Resultat.objects.filter(publication=publie, organisme=None, code="PP-1", periode="2019-2024")
    assert consolidated.get(maille="france").numerateur == pytest.approx(total.numerateur)
    assert {r.code_territoire for r in by_dep} == set(
        consolidated.filter(maille="departement").values_list("code_territoire", flat=True)
    )


def test_organismes_and_implantations_come_from_the_latest_rpls(publie: Publication, demo) -> None:
    organisme = Organisme.objects.get(code=demo.code)
    assert organisme.nom == demo.nom
    implantations = Implantation.objects.filter(organisme=organisme)
    assert implantations.count() >= 2
    assert all(i.region and i.logements > 0 for i in implantations)
    assert publie.active and publie.resultats == Resultat.objects.filter(publication=publie).count()
    assert "rpls-2024" in publie.instantanes


def test_a_new_publication_replaces_the_previous_one(publie: Publication, demo: usines.EntrepotDemo) -> None:
    second = publier(Warehouse(demo.dossier), generations=(2,))
    publie.refresh_from_db()
    assert second.active and not publie.active
    assert list(Publication.objects.filter(active=True)) == [second]
    assert not Resultat.objects.filter(publication=publie).exists()
    assert set(Resultat.objects.values_list("generation", flat=True).distinct()) == {2}


def test_an_empty_warehouse_is_refused_in_french(db: None, tmp_path) -> None:
    with pytest.raises(NoData, match="Aucun RPLS"):
        publier(Warehouse(tmp_path))
    assert not Publication.objects.exists()
