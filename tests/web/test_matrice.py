"""The permission matrix of the whole application: every named URL × every account → expected HTTP status.

A new URL that is not declared here fails `test_chaque_url_est_dans_la_matrice`: its rights must be decided.
The first landlord's objects are used; the second landlord, the other State service and the collectivity
or association of the first landlord test the perimeters. Exports are in the matrix like pages.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from pilote_cus.classement.models import VersionClassement
from pilote_cus.conventions.models import Statut
from pilote_cus.tableaux.models import Televersement

from . import usines
from .usines import Monde

COMPTES = (
    "anonyme",
    "bailleur",
    "autre_bailleur",
    "etat",
    "etat_region",
    "autre_etat",
    "collectivite",
    "association",
    "administrateur",
)
# the State service of another département keeps its console (its own territory, empty here): 200, not 404
ANON = 302
TOUS = (ANON, 200, 200, 200, 200, 200, 200, 200, 200)
DANS_LE_PERIMETRE = (ANON, 200, 404, 200, 200, 404, 200, 200, 200)
SANS_ASSOCIATION = (ANON, 200, 404, 200, 200, 404, 200, 403, 200)
BAILLEUR_SEUL = (ANON, 200, 404, 403, 403, 403, 403, 403, 403)
PAGE_BAILLEUR = (ANON, 200, 200, 403, 403, 403, 403, 403, 403)
PAGE_ETAT = (ANON, 403, 403, 200, 200, 200, 403, 403, 200)
BAILLEUR_VU_PAR_L_ETAT = (ANON, 403, 403, 200, 200, 404, 403, 403, 200)
DOCUMENT_DE_SUIVI = (ANON, 409, 404, 409, 409, 404, 409, 403, 409)
POST_SEULEMENT = (405,) * 9  # the method is checked before the session
ADMINISTRATION = (ANON, ANON, ANON, ANON, ANON, ANON, ANON, ANON, 200)
CLASSEMENT = (ANON, 200, 200, 200, 200, 200, 403, 200, 200)  # each reads its own (possibly empty) list
CLASSEMENT_DU_BAILLEUR = (ANON, 200, 404, 200, 200, 404, 403, 200, 200)  # the shared version of the first one


Args = Callable[[Monde, Televersement], list[object]]
# name → (arguments, query string, expected statuses); the convention is followed (SUIVI: every tab open),
# except for the pages that edit its content, checked while it is being written (EN_REDACTION)
MATRICE: dict[str, tuple[Args, str, tuple[int, ...]]] = {
    "accueil": (lambda m, t: [], "", (ANON, 302, 302, 302, 302, 302, 302, 302, 302)),
    "connexion": (lambda m, t: [], "", (200, 302, 302, 302, 302, 302, 302, 302, 302)),
    "deconnexion": (lambda m, t: [], "", POST_SEULEMENT),
    "journal": (lambda m, t: [], "", TOUS),
    "conventions:liste": (lambda m, t: [], "", TOUS),
    "conventions:echeances": (lambda m, t: [], "", TOUS),
    "conventions:creer": (lambda m, t: [], "", PAGE_BAILLEUR),
    "conventions:detail": (lambda m, t: [m.convention.pk], "", DANS_LE_PERIMETRE),
    "conventions:section": (lambda m, t: [m.convention.pk, "sociale", "orientations"], "", BAILLEUR_SEUL),
    "conventions:objectifs": (lambda m, t: [m.convention.pk], "", DANS_LE_PERIMETRE),
    "conventions:objectifs_televerser": (lambda m, t: [m.convention.pk], "", BAILLEUR_SEUL),
    "conventions:objectifs_modele": (lambda m, t: [m.convention.pk], "", DANS_LE_PERIMETRE),
    "conventions:objectifs_csv": (lambda m, t: [m.convention.pk], "", DANS_LE_PERIMETRE),
    "conventions:commentaires": (lambda m, t: [m.convention.pk], "", DANS_LE_PERIMETRE),
    "conventions:transition": (lambda m, t: [m.convention.pk, "deposer"], "", POST_SEULEMENT),
    "conventions:avenant": (lambda m, t: [m.convention.pk], "", POST_SEULEMENT),
    "conventions:signature": (lambda m, t: [m.convention.pk], "", SANS_ASSOCIATION),
    "conventions:pdf_signe": (lambda m, t: [m.convention.pk], "", SANS_ASSOCIATION),
    "conventions:suivi": (lambda m, t: [m.convention.pk], "", SANS_ASSOCIATION),
    "conventions:evaluation": (lambda m, t: [m.convention.pk, 3], "", SANS_ASSOCIATION),
    "tableaux:bailleur": (lambda m, t: [], "", PAGE_BAILLEUR),
    "tableaux:bailleur_partiel": (lambda m, t: [], "", PAGE_BAILLEUR),
    "tableaux:bailleur_export": (lambda m, t: [], "?format=csv", PAGE_BAILLEUR),
    "tableaux:imports": (lambda m, t: [], "", PAGE_BAILLEUR),
    "tableaux:import_etat": (lambda m, t: [t.pk], "", (ANON, 200, 404, 403, 403, 403, 403, 403, 403)),
    "tableaux:import_rapport": (lambda m, t: [t.pk], "", (ANON, 200, 404, 403, 403, 403, 403, 403, 403)),
    "tableaux:console_etat": (lambda m, t: [], "", PAGE_ETAT),
    "tableaux:console_export": (lambda m, t: [], "?format=xlsx", PAGE_ETAT),
    "tableaux:consolidation": (lambda m, t: [], "", PAGE_ETAT),
    "tableaux:consolidation_export": (lambda m, t: [], "?format=csv", PAGE_ETAT),
    "tableaux:detail_bailleur": (lambda m, t: [m.organisme.pk], "?departement=69", BAILLEUR_VU_PAR_L_ETAT),
    "classement:liste": (lambda m, t: [], "", CLASSEMENT),
    "classement:creer": (lambda m, t: [], "", PAGE_BAILLEUR),
    "classement:detail": (lambda m, t: [_version_classement(m)], "", CLASSEMENT_DU_BAILLEUR),
    "classement:export": (lambda m, t: [_version_classement(m)], "?format=xlsx", CLASSEMENT_DU_BAILLEUR),
    "classement:partager": (lambda m, t: [_version_classement(m)], "", POST_SEULEMENT),
    "classement:adopter": (lambda m, t: [_version_classement(m)], "", POST_SEULEMENT),
    "classement:commenter": (lambda m, t: [_version_classement(m)], "", POST_SEULEMENT),
    "classement:saisir": (lambda m, t: [_version_classement(m)], "?ensemble=E1", BAILLEUR_SEUL),
    "rapports:convention": (lambda m, t: [m.convention.pk, "html"], "", DANS_LE_PERIMETRE),
    # the matrix world has no publication: the documents are impossible (409 with the French reason) for those
    # who may read them; with a publication they are 200 (tests/web/test_rapports_bilan_web.py)
    "bilans:bilan": (lambda m, t: [m.convention.pk], "?annee=2021&format=pdf", DOCUMENT_DE_SUIVI),
    "bilans:evaluation": (lambda m, t: [m.convention.pk, 3], "?format=pdf", DOCUMENT_DE_SUIVI),
    "bilans:synthese": (lambda m, t: [], "?format=pdf", (ANON, 403, 403, 409, 409, 409, 403, 403, 409)),
    "loyers:index": (lambda m, t: [], "", PAGE_BAILLEUR),
    "loyers:maximaux": (lambda m, t: [m.organisme.pk], "", BAILLEUR_SEUL),
    # without a simulation in the query string the landlord is sent back to the page
    "loyers:maximaux_export": (lambda m, t: [m.organisme.pk], "", (ANON, 302, 404, 403, 403, 403, 403, 403, 403)),
    "loyers:sls": (lambda m, t: [m.organisme.pk], "", BAILLEUR_SEUL),
    "loyers:sls_retenir": (lambda m, t: [m.organisme.pk], "", POST_SEULEMENT),
    "loyers:sls_export": (lambda m, t: [m.organisme.pk], "", POST_SEULEMENT),
    "loyers:sls_annexe": (lambda m, t: [m.organisme.pk], "", BAILLEUR_SEUL),
}
EN_REDACTION = {"conventions:section", "conventions:objectifs_televerser"}
# Django's administration is reached under its own namespace; its index stands for it
ADMIN_INDEX = "admin:index"


def _version_classement(m: Monde) -> int:
    """The version of the first landlord's classement created by the `classement` fixture."""
    return VersionClassement.objects.get(organisme=m.organisme).pk


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            names |= _names(pattern, f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_chaque_url_est_dans_la_matrice() -> None:
    assert _names(get_resolver()) == set(MATRICE)


@pytest.fixture
def televersement(monde: Monde, settings, tmp_path: Path) -> Televersement:
    settings.MEDIA_ROOT = tmp_path / "televersements"
    upload = Televersement(
        organisme=monde.organisme,
        auteur=monde.bailleur,
        nature="attributions",
        nom_fichier="attributions.csv",
        etat="refuse",
    )
    upload.fichier.save("attributions.csv", ContentFile(b"organisme;annee\n"), save=False)
    upload.save()
    return upload


@pytest.fixture
def classement(monde: Monde) -> object:
    """A version of the first landlord's classement, shared with its associations."""
    return usines.version_classement(monde.organisme, monde.bailleur, "partagee")


def _client(monde: Monde, compte: str) -> Client:
    client = Client()
    if compte != "anonyme":
        client.force_login(monde.comptes()[compte])
    return client


@pytest.mark.parametrize("nom", sorted(MATRICE))
def test_matrice_des_droits(
    monde: Monde, televersement: Televersement, classement: object, settings, tmp_path: Path, nom: str
) -> None:
    settings.DATA_DIR = tmp_path  # an empty warehouse: pages must still answer
    monde.convention.statut = Statut.SUIVI  # every tab of the convention is open at this step
    monde.convention.save()
    monde.convention.pdf_signe.save("signee.pdf", ContentFile(usines.PDF_MINIMAL))
    args, query, expected = MATRICE[nom]
    url = reverse(nom, args=args(monde, televersement)) + query
    if nom in EN_REDACTION:
        monde.convention.statut = Statut.CONCERTATION
        monde.convention.save()
    assert dict(zip(COMPTES, _statuses(monde, url), strict=True)) == dict(zip(COMPTES, expected, strict=True))


def _statuses(monde: Monde, url: str) -> tuple[int, ...]:
    statuses = []
    for compte in COMPTES:
        response = _client(monde, compte).get(url)
        statuses.append(response.status_code)
        if response.streaming:  # consumed, the stream closes its file (response.close() would end the test's
            b"".join(response.streaming_content)  # database connection on PostgreSQL)
    return tuple(statuses)


def test_administration_reservee_aux_administrateurs(monde: Monde) -> None:
    url = reverse(ADMIN_INDEX)
    assert dict(zip(COMPTES, _statuses(monde, url), strict=True)) == dict(zip(COMPTES, ADMINISTRATION, strict=True))


@pytest.mark.parametrize(
    ("compte", "transition", "section"),
    [
        ("autre_bailleur", 404, 404),  # right role, other perimeter: the convention does not exist for it
        ("autre_etat", 404, 403),
        ("association", 403, 403),
        ("collectivite", 403, 403),
        ("etat", 302, 403),  # the State may make transitions, not this one: refused with a message
    ],
)
def test_ecritures_hors_perimetre_refusees(monde: Monde, compte: str, transition: int, section: int) -> None:
    """A POST across perimeters (or with the wrong role) changes nothing."""
    monde.convention.statut = Statut.CONCERTATION
    monde.convention.save()
    client = _client(monde, compte)
    response = client.post(reverse("conventions:transition", args=[monde.convention.pk, "deposer"]))
    assert response.status_code == transition
    monde.convention.refresh_from_db()
    assert monde.convention.statut == Statut.CONCERTATION
    response = client.post(
        reverse("conventions:section", args=[monde.convention.pk, "sociale", "orientations"]), {"texte": "piraté"}
    )
    assert response.status_code == section
    assert not monde.convention.sections.filter(texte="piraté").exists()


@pytest.mark.parametrize("compte", ["autre_bailleur", "autre_etat"])
def test_exports_sans_fuite(monde: Monde, compte: str) -> None:
    """The lists and exports of another perimeter never mention the first landlord."""
    client = _client(monde, compte)
    pages = [reverse("conventions:liste"), reverse("conventions:echeances"), reverse("journal")]
    if compte == "autre_etat":
        pages += [reverse("tableaux:console_etat"), reverse("tableaux:console_export") + "?format=csv"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert monde.organisme.nom.encode() not in response.content, url
