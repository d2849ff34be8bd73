"""Each convention page, for each role: expected status, perimeter (404), role (403), CSRF, comment secrecy."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from pilote_cus.audit.models import Trace
from pilote_cus.comptes.models import Utilisateur
from pilote_cus.conventions.models import Commentaire, Objectif, Section, Statut

from . import usines
from .usines import Monde

COMPTES = (
    "bailleur",
    "autre_bailleur",
    "etat",
    "etat_region",
    "autre_etat",
    "collectivite",
    "association",
    "administrateur",
)
# expected GET status on the convention of the first landlord (in concertation), in the order of COMPTES
TOUS_DANS_LE_PERIMETRE = (200, 404, 200, 200, 404, 200, 200, 200)
SANS_ASSOCIATION = (200, 404, 200, 200, 404, 200, 403, 200)
BAILLEUR_SEUL = (200, 404, 403, 403, 403, 403, 403, 403)
MATRICE = {
    ("detail", ()): TOUS_DANS_LE_PERIMETRE,
    ("objectifs", ()): TOUS_DANS_LE_PERIMETRE,
    ("objectifs_modele", ()): TOUS_DANS_LE_PERIMETRE,
    ("objectifs_csv", ()): TOUS_DANS_LE_PERIMETRE,
    ("commentaires", ()): TOUS_DANS_LE_PERIMETRE,
    ("section", ("sociale", "orientations")): BAILLEUR_SEUL,
    ("objectifs_televerser", ()): BAILLEUR_SEUL,
    ("signature", ()): SANS_ASSOCIATION,
    ("suivi", ()): SANS_ASSOCIATION,
    ("evaluation", (3,)): SANS_ASSOCIATION,
    ("evaluation", (6,)): SANS_ASSOCIATION,
}


def client_de(user: Utilisateur, **kwargs: object) -> Client:
    client = Client(**kwargs)  # type: ignore[arg-type]
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def statiques(settings) -> None:
    """WhiteNoise warns (an error here) when the static root of the test workspace does not exist."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def espace(settings, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "televersements"
    return tmp_path


@pytest.mark.parametrize(("vue", "args"), list(MATRICE))
def test_statut_par_role(monde: Monde, espace: Path, vue: str, args: tuple) -> None:
    url = reverse(f"conventions:{vue}", args=[monde.convention.pk, *args])
    obtenus = tuple(client_de(monde.comptes()[c]).get(url).status_code for c in COMPTES)
    assert dict(zip(COMPTES, obtenus, strict=True)) == dict(zip(COMPTES, MATRICE[(vue, args)], strict=True))


@pytest.mark.parametrize("vue", ["liste", "echeances"])
def test_pages_sans_convention_ouvertes_a_tous(monde: Monde, vue: str) -> None:
    for compte, user in monde.comptes().items():
        response = client_de(user).get(reverse(f"conventions:{vue}"))
        assert response.status_code == 200, compte
        assert response.content.count(b"<h1") == 1


def test_creer_reserve_au_bailleur(monde: Monde, espace: Path) -> None:
    url = reverse("conventions:creer")
    assert client_de(monde.bailleur).get(url).status_code == 200
    for compte in ("etat", "collectivite", "association", "administrateur"):
        assert client_de(monde.comptes()[compte]).get(url).status_code == 403, compte
    anonyme = Client().get(url)
    assert anonyme.status_code == 302 and "/connexion/" in anonyme["Location"]


def test_liste_ne_montre_que_le_perimetre(monde: Monde) -> None:
    page = client_de(monde.etat).get(reverse("conventions:liste")).content.decode()
    assert monde.organisme.nom in page
    assert monde.autre_organisme.nom not in page
    assert "fr-table" in page and "En concertation" in page


def test_evaluation_horizon_inconnu(monde: Monde) -> None:
    url = reverse("conventions:evaluation", args=[monde.convention.pk, 4])
    assert client_de(monde.etat).get(url).status_code == 404


def test_section_inconnue(monde: Monde) -> None:
    url = reverse("conventions:section", args=[monde.convention.pk, "fiscale", "orientations"])
    assert client_de(monde.bailleur).get(url).status_code == 404


@pytest.mark.parametrize("vue", ["transition", "avenant"])
def test_transitions_en_post_seulement(monde: Monde, vue: str) -> None:
    args = [monde.convention.pk, "deposer"] if vue == "transition" else [monde.convention.pk]
    response = client_de(monde.bailleur).get(reverse(f"conventions:{vue}", args=args))
    assert response.status_code == 405
    monde.convention.refresh_from_db()
    assert monde.convention.statut == Statut.CONCERTATION


def test_transition_mauvais_role_et_hors_perimetre(monde: Monde) -> None:
    url = reverse("conventions:transition", args=[monde.convention.pk, "deposer"])
    assert client_de(monde.collectivite_user).post(url).status_code == 403
    assert client_de(monde.association_user).post(url).status_code == 403
    assert client_de(monde.autre_bailleur).post(url).status_code == 404
    assert client_de(monde.autre_etat).post(url).status_code == 404
    monde.convention.refresh_from_db()
    assert monde.convention.statut == Statut.CONCERTATION


def test_transition_refusee_message_en_francais(monde: Monde) -> None:
    url = reverse("conventions:transition", args=[monde.convention.pk, "instruire"])
    response = client_de(monde.etat).post(url, follow=True)
    assert "« Prendre en instruction » n&#x27;est pas possible pour vous à l&#x27;étape « En concertation »." in (
        response.content.decode()
    )
    inconnue = client_de(monde.bailleur).post(
        reverse("conventions:transition", args=[monde.convention.pk, "tout_valider"]), follow=True
    )
    assert "Action inconnue : « tout_valider »." in inconnue.content.decode()
    monde.convention.refresh_from_db()
    assert monde.convention.statut == Statut.CONCERTATION


def test_modifications_hors_perimetre_404(monde: Monde) -> None:
    autre = monde.autre_convention
    client = client_de(monde.bailleur)
    posts = {
        reverse("conventions:section", args=[autre.pk, "sociale", "programme"]): {"texte": "intrus"},
        reverse("conventions:objectifs", args=[autre.pk]): {
            "code": "PP-2",
            "maille": "departement",
            "code_territoire": "31",
            "periode": "2020",
            "valeur": "1",
        },
        reverse("conventions:commentaires", args=[autre.pk]): {"texte": "intrus"},
        reverse("conventions:signature", args=[autre.pk]): {"nom": "X", "qualite": "Y", "organisation": "Z"},
        reverse("conventions:avenant", args=[autre.pk]): {},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    assert client.get(reverse("conventions:pdf_signe", args=[autre.pk])).status_code == 404
    assert not Section.objects.filter(convention=autre, texte="intrus").exists()
    assert Objectif.objects.filter(convention=autre).count() == 1
    assert not Trace.objects.filter(convention=autre).exists()


def test_contenu_non_modifiable_hors_des_etapes_de_redaction(monde: Monde) -> None:
    monde.convention.statut = Statut.INSTRUCTION
    monde.convention.save()
    client = client_de(monde.bailleur)
    url = reverse("conventions:section", args=[monde.convention.pk, "sociale", "orientations"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"texte": "trop tard"}).status_code == 403
    objectif = monde.convention.objectifs.get()
    assert (
        client.post(
            reverse("conventions:objectifs", args=[monde.convention.pk]), {"supprimer": objectif.pk}
        ).status_code
        == 403
    )
    assert Objectif.objects.filter(pk=objectif.pk).exists()
    page = client.get(reverse("conventions:objectifs", args=[monde.convention.pk])).content.decode()
    assert "Ajouter un objectif" not in page


@pytest.mark.parametrize("lecteur", ["association", "collectivite"])
def test_association_ne_voit_pas_les_commentaires_d_instruction(monde: Monde, lecteur: str) -> None:
    c = monde.convention
    Commentaire.objects.create(
        convention=c, auteur=monde.association_user, etape="concertation", texte="Avis de la CNL sur les loyers"
    )
    Commentaire.objects.create(
        convention=c,
        auteur=monde.etat,
        etape="instruction",
        texte="Remarque confidentielle de la DDT",
        demande_modification=True,
    )
    Commentaire.objects.create(convention=c, auteur=monde.etat, etape="evaluation", texte="Bilan de la DDT")
    for vue in ("detail", "commentaires"):
        url = reverse(f"conventions:{vue}", args=[c.pk])
        page = client_de(monde.comptes()[lecteur]).get(url).content.decode()
        assert "Avis de la CNL sur les loyers" in page
        assert "Remarque confidentielle de la DDT" not in page
        assert "Bilan de la DDT" not in page
        etat = client_de(monde.etat).get(url).content.decode()
        assert "Remarque confidentielle de la DDT" in etat and "Bilan de la DDT" in etat


def test_qui_commente_a_quelle_etape(monde: Monde) -> None:
    url = reverse("conventions:commentaires", args=[monde.convention.pk])
    # concertation: the State does not comment yet, the landlord only answers, the administrator reads
    for user in (monde.etat, monde.bailleur, monde.admin):
        assert client_de(user).post(url, {"texte": "trop tôt"}).status_code == 403
    assert client_de(monde.association_user).post(url, {"texte": "Bienvenue", "cible": ""}).status_code == 302
    monde.convention.statut = Statut.INSTRUCTION
    monde.convention.save()
    for user in (monde.association_user, monde.collectivite_user):
        assert client_de(user).post(url, {"texte": "trop tard"}).status_code == 403
    assert client_de(monde.etat).post(url, {"texte": "Instruction", "cible": ""}).status_code == 302
    assert list(Commentaire.objects.values_list("texte", "etape")) == [
        ("Bienvenue", "concertation"),
        ("Instruction", "instruction"),
    ]


def test_reponse_a_un_commentaire_invisible_refusee(monde: Monde) -> None:
    """An answer must point to a comment of this convention (not one of another landlord's)."""
    autre = Commentaire.objects.create(
        convention=monde.autre_convention, auteur=monde.autre_bailleur, etape="concertation", texte="ailleurs"
    )
    url = reverse("conventions:commentaires", args=[monde.convention.pk])
    response = client_de(monde.bailleur).post(url, {"reponse_a": autre.pk, "texte": "réponse"})
    assert response.status_code == 400
    assert "Ce commentaire n&#x27;existe pas." in response.content.decode()
    assert not Commentaire.objects.filter(reponse_a=autre).exists()


def test_commentaire_htmx_remplace_le_fil(monde: Monde) -> None:
    url = reverse("conventions:commentaires", args=[monde.convention.pk])
    response = client_de(monde.collectivite_user).post(
        url,
        {"texte": "La Métropole soutient le programme", "cible": "section:sociale:programme"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('<div id="fil-commentaires">')
    assert "La Métropole soutient le programme" in page and "Politique sociale — Programme d&#x27;actions" in page
    assert "<html" not in page


def test_csrf_exige(monde: Monde) -> None:
    client = client_de(monde.bailleur, enforce_csrf_checks=True)
    c = monde.convention
    posts = [
        reverse("conventions:section", args=[c.pk, "sociale", "orientations"]),
        reverse("conventions:objectifs", args=[c.pk]),
        reverse("conventions:commentaires", args=[c.pk]),
        reverse("conventions:transition", args=[c.pk, "deposer"]),
        reverse("conventions:creer"),
    ]
    for url in posts:
        assert client.post(url, {"texte": "sans jeton"}).status_code == 403, url
    c.refresh_from_db()
    assert c.statut == Statut.CONCERTATION
    assert not Trace.objects.exists()
    # with the token from the form, the same client succeeds
    page = client.get(reverse("conventions:section", args=[c.pk, "sociale", "orientations"]))
    token = page.cookies["csrftoken"].value
    ok = client.post(posts[0], {"texte": "avec jeton", "csrfmiddlewaretoken": token})
    assert ok.status_code == 302
    assert Section.objects.get(convention=c, politique="sociale", nature="orientations").texte == "avec jeton"


def test_pdf_signe_telechargeable_dans_le_perimetre(monde: Monde, espace: Path) -> None:
    c = monde.convention
    c.pdf_signe.save("signee.pdf", ContentFile(usines.PDF_MINIMAL))
    url = reverse("conventions:pdf_signe", args=[c.pk])
    for compte in ("bailleur", "etat", "collectivite", "administrateur"):
        response = client_de(monde.comptes()[compte]).get(url)
        assert response.status_code == 200, compte
        # consuming the stream closes the file; response.close() would also close the test's database connection
        assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    assert client_de(monde.association_user).get(url).status_code == 403
    assert client_de(monde.autre_etat).get(url).status_code == 404
    assert client_de(monde.autre_bailleur).get(url).status_code == 404


def test_echeances_retards_d_abord(monde: Monde) -> None:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    monde.convention.echeance = today - timedelta(days=3)
    monde.convention.save()
    later = usines.convention(monde.organisme, Statut.ELABORATION)
    later.titre = "CUS suivante"
    later.echeance = today + timedelta(days=30)
    later.save()
    page = client_de(monde.bailleur).get(reverse("conventions:echeances")).content.decode()
    assert page.index(monde.convention.titre) < page.index("CUS suivante")
    assert page.count("En retard") == 1
    assert "1 convention en retard" in page
    autre = client_de(monde.autre_bailleur).get(reverse("conventions:echeances")).content.decode()
    assert monde.convention.titre not in autre


def test_suivi_de_la_collectivite_limite_a_son_territoire(monde: Monde) -> None:
    c = monde.convention
    Objectif.objects.create(
        convention=c, code="PS-1", maille="epci", code_territoire="200046977", periode="2020", valeur=25.0
    )
    Objectif.objects.create(
        convention=c, code="PS-1", maille="epci", code_territoire="200066587", periode="2020", valeur=25.0
    )
    usines.resultat(monde.organisme, "PS-1", "epci", "200046977", "2020", 30.0, 100.0, 30.0)
    url = reverse("conventions:suivi", args=[c.pk])
    metropole = client_de(monde.collectivite_user).get(url).context["lignes"]
    assert [(r["objectif"].code_territoire, r["valeur"], r["statut"]) for r in metropole] == [
        ("200046977", 30.0, "atteint")
    ]
    assert len(client_de(monde.bailleur).get(url).context["lignes"]) == 3


def test_cibles_d_un_long_tableau_regroupees_par_indicateur_et_territoire(monde: Monde) -> None:
    """Hundreds of objectives: one comment target per indicator and territory, not one per period."""
    from pilote_cus.conventions.commentaires import MAX_OBJECTIVE_TARGETS, cibles

    c = monde.convention
    Objectif.objects.bulk_create(
        Objectif(convention=c, code=code, maille="departement", code_territoire=dep, periode=str(year), valeur=1)
        for code in ("PP-2", "PP-3")
        for dep in [f"{n:02d}" for n in range(1, 21)]
        for year in range(2019, 2025)
    )
    assert c.objectifs.count() > MAX_OBJECTIVE_TARGETS
    targets = [value for value, _ in cibles(c) if value.startswith("objectif:")]
    assert len(targets) == 1 + 2 * 20  # PP-1 in 69 (from the factory) + 2 indicators × 20 départements
    assert "objectif:PP-2:departement:07" in targets


def test_suivi_un_departement_a_la_fois(monde: Monde) -> None:
    c = monde.convention  # an objective PP-1 in 69 (factory); add one in 01
    Objectif.objects.create(
        convention=c, code="PP-2", maille="departement", code_territoire="01", periode="2024", valeur=2
    )
    client = client_de(monde.bailleur)
    url = reverse("conventions:suivi", args=[c.pk])
    page = client.get(url).content.decode()  # the first département by default
    assert "departement 01" in page and "departement 69" not in page
    page = client.get(url, {"departement": "69"}).content.decode()
    assert "departement 69" in page and "departement 01" not in page
    page = client.get(url, {"departement": "tous"}).content.decode()
    assert "departement 69" in page and "departement 01" in page


def test_evaluation_de_la_collectivite_limitee_a_son_territoire(monde: Monde) -> None:
    """As the downloaded evaluation: the Métropole (EPCI) reads its engagements only; landlord and State all."""
    c = monde.convention
    for territoire in ("200046977", "200066587"):
        Objectif.objects.create(
            convention=c, code="PS-1", maille="epci", code_territoire=territoire, periode="2019-2021", valeur=25.0
        )
    Objectif.objects.create(
        convention=c, code="PP-2", maille="departement", code_territoire="69", periode="2019-2021", valeur=30.0
    )
    usines.resultat(monde.organisme, "PS-1", "epci", "200046977", "2019-2021", 20.0, 100.0, 20.0)
    url = reverse("conventions:evaluation", args=[c.pk, 3])
    response = client_de(monde.collectivite_user).get(url)
    assert [(r["objectif"].code_territoire, r["valeur"], r["statut"]) for r in response.context["lignes"]] == [
        ("200046977", 20.0, "non atteint")
    ]
    assert "Engagements de votre territoire seulement (epci 200046977)" in response.content.decode()
    everyone = {("PP-2", "69"), ("PS-1", "200046977"), ("PS-1", "200066587")}
    for user in (monde.bailleur, monde.etat, monde.etat_region):
        page = client_de(user).get(url)
        assert {(r["objectif"].code, r["objectif"].code_territoire) for r in page.context["lignes"]} == everyone
        assert "votre territoire seulement" not in page.content.decode()


def test_bilan_annuel_propose_pour_les_annees_publiees(monde: Monde) -> None:
    """The years of the convention with the landlord's published results, latest chosen; none: said, no button."""
    c = monde.convention
    c.statut = Statut.SUIVI
    c.save()
    url = reverse("conventions:suivi", args=[c.pk])
    client = client_de(monde.bailleur)
    page = client.get(url).content.decode()
    assert "Bilan annuel non disponible : aucune année de la convention (2019-2024) n'a encore de résultats" in page
    assert "Télécharger le bilan annuel" not in page
    # 2020 and 2022 published for this landlord; a cumulated period, a year outside the convention, another
    # generation and another landlord's year are not proposed
    for periode in ("2022", "2020", "2019-2021", "2025"):
        usines.resultat(monde.organisme, "PP-2", "departement", "69", periode, 1, 2, 0.5)
    usines.resultat(monde.organisme, "PP-2", "departement", "69", "2021", 1, 2, 0.5, generation=1)
    usines.resultat(monde.autre_organisme, "PP-2", "departement", "31", "2023", 1, 2, 0.5)
    response = client.get(url)
    assert response.context["annees_bilan"] == [2020, 2022]
    page = response.content.decode()
    assert '<option value="2020">2020</option><option value="2022" selected>2022</option>' in page
    assert "Télécharger le bilan annuel" in page and "Bilan annuel non disponible" not in page
