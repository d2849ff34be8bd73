"""The concertation of the classement au service rendu in the web app: create, share, comment, answer, adopt."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from pilote_cus.audit.models import Trace
from pilote_cus.classement.models import CommentaireClassement, StatutVersion, VersionClassement

from . import usines
from .usines import Monde

GRILLE = """version = "essai.1"
nom = "Grille d'essai"
valide_du = 2025-01-01
valide_au = 2030-12-31

[[criteres]]
nom = "transports"
libelle = "Arrêts proches"
source = "arrets"
poids = 1
[criteres.parametres]
distance_m = 400
[criteres.bareme]
sens = "croissant"
seuils = [1, 2]
points = [1, 2]

[[criteres]]
nom = "commerces"
libelle = "Commerces de la commune"
source = "bpe"
poids = 1
[criteres.parametres]
types = ["B201"]
[criteres.bareme]
sens = "croissant"
seuils = [1]
points = [1]

[[criteres]]
nom = "quartier"
libelle = "Quartier prioritaire"
source = "qpv"
poids = 1
[criteres.bareme]
sens = "croissant"
seuils = [1]
points = [1]

[[criteres]]
nom = "ascenseur"
libelle = "Ascenseur"
source = "bailleur"
poids = 1
[criteres.parametres]
champ = "ascenseur"
[criteres.bareme]
sens = "croissant"
seuils = [1]
points = [1]

[[classes]]
nom = "C"
libelle = "Service faible"
score_min = 0
[[classes]]
nom = "B"
libelle = "Service moyen"
score_min = 2
[[classes]]
nom = "A"
libelle = "Service élevé"
score_min = 4
"""
ENSEMBLES = (
    "ensemble;depcom;lat;lon;ascenseur;classe_forcee;motif_forcage\n"
    "E1;69123;45.76;4.84;oui;;\n"
    "E2;69123;45.70;4.90;non;B;Résidence réhabilitée en 2024\n"
)


@pytest.fixture
def references(settings, tmp_path: Path) -> dict[str, str]:
    """Fake reference files in the formats `classement/references.py` reads."""
    bpe = tmp_path / "bpe.csv"
    bpe.write_text("DEPCOM;DCIRIS;TYPEQU;NB_EQUIP\n69123;691230101;B201;3\n", encoding="utf-8")
    arrets = tmp_path / "stops.txt"
    arrets.write_text("stop_id,stop_lat,stop_lon\nS1,45.7601,4.8401\nS2,45.7602,4.8402\n", encoding="utf-8")
    qpv = tmp_path / "qpv.geojson"
    carre = [[4.83, 45.75], [4.85, 45.75], [4.85, 45.77], [4.83, 45.77], [4.83, 45.75]]
    qpv.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code_qp": "QN06901M", "nom_qp": "Quartier d'essai"},
                        "geometry": {"type": "Polygon", "coordinates": [carre]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    settings.CUS_REFERENTIELS_CLASSEMENT = {"bpe": str(bpe), "arrets": str(arrets), "qpv": str(qpv)}
    return settings.CUS_REFERENTIELS_CLASSEMENT


def _client(user: object) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _creer(client: Client, monde: Monde, grille: str = GRILLE, ensembles: str = ENSEMBLES):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("classement:creer"),
        {
            "organisme": monde.organisme.pk,
            "grille": SimpleUploadedFile("grille.toml", grille.encode()),
            "ensembles": SimpleUploadedFile("ensembles.csv", ensembles.encode()),
        },
    )


def test_concertation_complete(monde: Monde, references: dict[str, str]) -> None:
    bailleur, association = _client(monde.bailleur), _client(monde.association_user)
    response = _creer(bailleur, monde)
    assert response.status_code == 302
    v1 = VersionClassement.objects.get()
    assert (v1.numero, v1.statut, v1.grille_version) == (1, StatutVersion.PROJET, "essai.1")
    e1, e2 = v1.ensemble("E1"), v1.ensemble("E2")
    assert e1 is not None and e2 is not None
    assert (e1["total"], e1["classe_proposee"], e1["classe_retenue"]) == (5, "A", "A")
    assert (e2["total"], e2["classe_proposee"], e2["classe_retenue"]) == (1, "C", "B")
    assert e2["motif_forcage"] == "Résidence réhabilitée en 2024"
    explications = {c["nom"]: c["explication"] for c in e1["criteres"]}
    assert explications["transports"].startswith("2 arrêts à moins de 400 m")
    assert "QN06901M" in explications["quartier"]
    assert Trace.objects.filter(action="classement.creer", objet_id=str(v1.pk)).exists()

    page = bailleur.get(reverse("classement:detail", args=[v1.pk]) + "?ensemble=E1")
    assert page.status_code == 200
    contenu = page.content.decode()
    assert contenu.count("<h1") == 1 and "<caption>" in contenu and "2 arrêts à moins de 400 m" in contenu
    # not shared yet: the association does not see the draft
    assert association.get(reverse("classement:detail", args=[v1.pk])).status_code == 404
    assert (
        association.post(
            reverse("classement:commenter", args=[v1.pk]), {"ensemble": "E1", "texte": "trop tôt"}
        ).status_code
        == 404
    )

    assert bailleur.post(reverse("classement:partager", args=[v1.pk])).status_code == 302
    v1.refresh_from_db()
    assert v1.statut == StatutVersion.PARTAGEE
    assert "Commenter" in association.get(reverse("classement:detail", args=[v1.pk])).content.decode()

    # the association comments on the ensemble, then on one criterion (htmx: the thread comes back)
    r = association.post(
        reverse("classement:commenter", args=[v1.pk]),
        {"ensemble": "E1", "critere": "", "texte": "L'ascenseur est souvent en panne."},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "souvent en panne" in r.content.decode()
    r = association.post(
        reverse("classement:commenter", args=[v1.pk]),
        {"ensemble": "E1", "critere": "transports", "texte": "La ligne S2 ne passe plus le soir."},
    )
    assert r.status_code == 302
    sur_critere = CommentaireClassement.objects.get(critere="transports")
    assert sur_critere.ensemble == "E1" and sur_critere.auteur == monde.association_user
    # unknown criterion or ensemble refused
    r = association.post(
        reverse("classement:commenter", args=[v1.pk]),
        {"ensemble": "E1", "critere": "inconnu", "texte": "?"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 400
    assert (
        association.post(reverse("classement:commenter", args=[v1.pk]), {"ensemble": "E9", "texte": "?"}).status_code
        == 404
    )

    # the landlord answers
    r = bailleur.post(
        reverse("classement:commenter", args=[v1.pk]),
        {"reponse_a": sur_critere.pk, "texte": "Nous saisissons l'autorité organisatrice."},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "autorité organisatrice" in r.content.decode()
    reponse = CommentaireClassement.objects.get(reponse_a=sur_critere)
    assert (reponse.ensemble, reponse.critere, reponse.auteur) == ("E1", "transports", monde.bailleur)
    assert Trace.objects.filter(action="classement.commenter").count() == 2
    assert Trace.objects.filter(action="classement.repondre").count() == 1
    # the association cannot answer in the landlord's name, nor share or adopt
    assert association.post(reverse("classement:adopter", args=[v1.pk])).status_code == 403
    assert association.post(reverse("classement:partager", args=[v1.pk])).status_code == 403

    assert bailleur.post(reverse("classement:adopter", args=[v1.pk])).status_code == 302
    v1.refresh_from_db()
    assert v1.statut == StatutVersion.ADOPTEE
    # comments are closed once adopted
    assert (
        association.post(
            reverse("classement:commenter", args=[v1.pk]), {"ensemble": "E1", "texte": "trop tard"}
        ).status_code
        == 403
    )

    # a second version, shared and adopted, supersedes the first
    assert _creer(bailleur, monde).status_code == 302
    v2 = VersionClassement.objects.get(numero=2)
    bailleur.post(reverse("classement:partager", args=[v2.pk]))
    bailleur.post(reverse("classement:adopter", args=[v2.pk]))
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.statut, v1.remplacee_par, v2.statut) == (StatutVersion.REMPLACEE, v2, StatutVersion.ADOPTEE)
    trace = Trace.objects.get(action="classement.remplacer")
    assert trace.objet_id == str(v1.pk) and trace.apres == {"statut": "remplacee", "par_version": 2}
    assert VersionClassement.objects.filter(organisme=monde.organisme, statut=StatutVersion.ADOPTEE).count() == 1

    liste = association.get(reverse("classement:liste")).content.decode()
    assert "n° 2" in liste and "n° 1" in liste


def test_export(monde: Monde, references: dict[str, str]) -> None:
    bailleur = _client(monde.bailleur)
    _creer(bailleur, monde)
    version = VersionClassement.objects.get()
    r = bailleur.get(reverse("classement:export", args=[version.pk]) + "?format=csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    lignes = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert len(lignes) == 8  # 2 ensembles × 4 criteria
    e2 = [row for row in lignes if row["ensemble"] == "E2"]
    assert {row["classe_retenue"] for row in e2} == {"B"}
    assert {row["motif_forcage"] for row in e2} == {"Résidence réhabilitée en 2024"}
    transports = next(row for row in lignes if row["ensemble"] == "E1" and row["critere"] == "transports")
    assert transports["points"] == "2" and transports["explication"].startswith("2 arrêts")
    r = bailleur.get(reverse("classement:export", args=[version.pk]) + "?format=xlsx")
    assert r.status_code == 200
    classeur = load_workbook(io.BytesIO(r.content))
    feuille = classeur["classement"]
    assert next(feuille.iter_rows(values_only=True))[:4] == ("ensemble", "total", "classe_proposee", "classe_retenue")
    assert feuille.max_row == 9
    assert bailleur.get(reverse("classement:export", args=[version.pk]) + "?format=pdf").status_code == 404


@pytest.mark.parametrize(
    ("grille", "ensembles", "message"),
    [
        (GRILLE.replace("poids = 1", "poids = 0", 1), ENSEMBLES, "doit être strictement positif"),
        ("pas du toml = = =", ENSEMBLES, "grille invalide"),
        (GRILLE, "ensemble;lat\nE1;45\n", "colonne(s) absente(s) : depcom"),
        (GRILLE, ENSEMBLES.replace("69123;45.70", "99999;45.70"), "code commune absent de la BPE"),
        (GRILLE, ENSEMBLES.replace("oui;;", "peut-être;;"), "oui ou non attendu"),
        (GRILLE, ENSEMBLES.replace(";B;Résidence", ";Z;Résidence"), "classe inconnue"),
    ],
)
def test_entree_refusee_rien_enregistre(
    monde: Monde, references: dict[str, str], grille: str, ensembles: str, message: str
) -> None:
    r = _creer(_client(monde.bailleur), monde, grille, ensembles)
    assert r.status_code == 200
    assert message in r.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert not VersionClassement.objects.exists()
    assert not Trace.objects.filter(action__startswith="classement").exists()


def test_source_non_configuree(monde: Monde, references: dict[str, str], settings) -> None:  # type: ignore[no-untyped-def]
    settings.CUS_REFERENTIELS_CLASSEMENT = {"bpe": references["bpe"], "arrets": references["arrets"]}
    r = _creer(_client(monde.bailleur), monde)
    assert "source « qpv »" in r.content.decode() and "configuré" in r.content.decode()
    assert not VersionClassement.objects.exists()


def _version(monde: Monde, statut: str = StatutVersion.PARTAGEE) -> VersionClassement:
    return usines.version_classement(monde.organisme, monde.bailleur, statut)


@pytest.mark.parametrize(
    ("compte", "detail", "ecriture"),
    [
        ("autre_bailleur", 404, 404),
        ("autre_etat", 404, 403),
        ("etat", 200, 403),
        ("collectivite", 403, 403),
        ("administrateur", 200, 403),
    ],
)
def test_droits_et_perimetres(monde: Monde, compte: str, detail: int, ecriture: int) -> None:
    version = _version(monde)
    client = _client(monde.comptes()[compte])
    assert client.get(reverse("classement:detail", args=[version.pk])).status_code == detail
    for nom in ("partager", "adopter"):
        assert client.post(reverse(f"classement:{nom}", args=[version.pk])).status_code == ecriture
    version.refresh_from_db()
    assert version.statut == StatutVersion.PARTAGEE
    assert not CommentaireClassement.objects.exists()
    liste = client.get(reverse("classement:liste"))
    if compte == "collectivite":
        assert liste.status_code == 403
    elif compte in ("autre_bailleur", "autre_etat"):
        assert monde.organisme.nom.encode() not in liste.content


def test_autre_bailleur_ne_commente_pas(monde: Monde) -> None:
    version = _version(monde)
    client = _client(monde.autre_bailleur)
    r = client.post(reverse("classement:commenter", args=[version.pk]), {"ensemble": "E1", "texte": "piraté"})
    assert r.status_code == 404
    assert not CommentaireClassement.objects.exists()


def test_csrf_exige(monde: Monde) -> None:
    version = _version(monde, StatutVersion.PROJET)
    client = Client(enforce_csrf_checks=True)
    client.force_login(monde.bailleur)
    assert client.post(reverse("classement:partager", args=[version.pk])).status_code == 403
    version.refresh_from_db()
    assert version.statut == StatutVersion.PROJET
