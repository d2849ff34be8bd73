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
            "origine": "csv",
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
    assert bailleur.get(reverse("classement:export", args=[version.pk]) + "?format=docx").status_code == 404


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


# --- ensembles of the warehouse, hand-entered criteria, map and GeoJSON --------------------------------------

GRILLE_SAISIE = """version = "saisie.1"
nom = "Grille avec saisie"
valide_du = 2025-01-01
valide_au = 2030-12-31

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

[[criteres]]
nom = "parties_communes"
libelle = "État des parties communes"
source = "saisie"
poids = 1.5
[criteres.parametres]
champ = "etat_parties_communes"
valeurs = ["mauvais", "moyen", "bon"]
[criteres.bareme]
sens = "croissant"
seuils = [1, 2]
points = [1, 2]

[[criteres]]
nom = "bruit"
libelle = "Bruit mesuré (dB)"
source = "saisie"
poids = 2
[criteres.parametres]
champ = "bruit_db"
minimum = 20
maximum = 120
[criteres.bareme]
sens = "decroissant"
seuils = [55, 65]
points = [2, 1]

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
ENSEMBLES_SAISIE = (
    "ensemble;nom;depcom;lat;lon;ascenseur;classe_forcee;motif_forcage\n"
    "E1;Les Tilleuls;69381;45.76;4.84;oui;;\n"
    "E2;La Source;69383;45.70;4.90;non;B;Résidence réhabilitée en 2024\n"
    "E3;Le Moulin;69001;45.80;4.70;non;;\n"
)
COULEURS = {"C": "#ce0500", "B": "#c3992a", "A": "#18753c"}  # three classes: the ends and the middle of the ramp


def _texte(r) -> str:  # type: ignore[no-untyped-def]
    return r.content.decode().replace("&#x27;", "'").replace("&quot;", '"').replace("&#x3D;", "=")


def _version_saisie(monde: Monde) -> VersionClassement:
    r = _creer(_client(monde.bailleur), monde, GRILLE_SAISIE, ENSEMBLES_SAISIE)
    assert r.status_code == 302, _texte(r)
    return VersionClassement.objects.get()


def test_creation_depuis_l_entrepot(monde: Monde, settings) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    from pilote_cus.entrepot.entrepot import Warehouse

    demo = usines.entrepot_demo()
    settings.DATA_DIR = demo.dossier
    monde.organisme.code = demo.code
    monde.organisme.save()
    r = _client(monde.bailleur).post(
        reverse("classement:creer"),
        {
            "organisme": monde.organisme.pk,
            "origine": "entrepot",
            "grille": SimpleUploadedFile("grille.toml", GRILLE_SAISIE.encode()),
        },
    )
    assert r.status_code == 302, _texte(r)
    version = VersionClassement.objects.get()
    snapshot = Warehouse(demo.dossier).current("rpls")
    attendus = duckdb.sql(
        f"SELECT ensemble_id::VARCHAR, any_value(complgeo), count(*) FROM read_parquet('{snapshot.table('logements')}')"
        f" WHERE organisme_id = '{demo.code}' AND en_stock GROUP BY ensemble_id"
    ).fetchall()
    assert {(e["id"], e["nom"], e["logements"]) for e in version.ensembles} == set(attendus)
    assert all(e["lat"] is not None and e["lon"] is not None for e in version.ensembles)
    assert version.resultats["origine"] == {"type": "entrepot", "instantane": snapshot.id, "millesime": 2024}
    assert Trace.objects.get(action="classement.creer").apres["origine"]["type"] == "entrepot"
    page = _texte(_client(monde.bailleur).get(reverse("classement:detail", args=[version.pk])))
    assert f"instantané RPLS {snapshot.id}" in page
    assert page.count('class="point-ensemble"') == len(attendus)


def test_entrepot_sans_rpls_ou_sans_fichier(monde: Monde, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    client = _client(monde.bailleur)
    donnees = {"organisme": monde.organisme.pk, "grille": SimpleUploadedFile("g.toml", GRILLE_SAISIE.encode())}
    r = client.post(reverse("classement:creer"), donnees | {"origine": "entrepot"})
    assert r.status_code == 200 and "aucun instantané RPLS : importez d'abord le RPLS" in _texte(r)
    donnees["grille"] = SimpleUploadedFile("g.toml", GRILLE_SAISIE.encode())
    r = client.post(reverse("classement:creer"), donnees | {"origine": "csv"})
    assert r.status_code == 200 and "Choisissez le fichier CSV des ensembles." in _texte(r)
    assert not VersionClassement.objects.exists()


def test_saisie_recalcule_le_score(monde: Monde) -> None:
    version = _version_saisie(monde)
    e1 = version.ensemble("E1")
    assert e1 is not None and (e1["total"], e1["classe_proposee"]) == (1, "C")  # lift only
    bailleur = _client(monde.bailleur)
    url = reverse("classement:saisir", args=[version.pk])
    page = bailleur.get(url + "?ensemble=E1")
    assert page.status_code == 200 and "2 — bon" in _texte(page) and "Un nombre de 20 à 120" in _texte(page)
    r = bailleur.post(url, {"ensemble": "E1", "parties_communes": "2", "bruit": "60"})
    assert r.status_code == 302
    version.refresh_from_db()
    e1 = version.ensemble("E1")
    assert e1 is not None
    # 1 (lift) + 2 points × 1.5 (common areas « bon ») + 1 point × 2 (60 dB ≤ 65) = 6 → class A
    assert (e1["total"], e1["classe_proposee"], e1["classe_retenue"]) == (6, "A", "A")
    detail = {c["nom"]: c for c in e1["criteres"]}
    assert detail["parties_communes"]["explication"] == "État des parties communes (saisi) : 2 (bon) → 2 points"
    assert (detail["bruit"]["valeur"], detail["bruit"]["points_ponderes"]) == (60, 2)
    trace = Trace.objects.get(action="classement.saisir")
    assert trace.avant == {
        "ensemble": "E1",
        "valeurs": {"parties_communes": None, "bruit": None},
        "total": 1,
        "classe_proposee": "C",
        "classe_retenue": "C",
    }
    assert trace.apres["valeurs"] == {"parties_communes": 2, "bruit": 60} and trace.apres["classe_proposee"] == "A"
    # a forced class is kept: E2 (0 point) gets 2 × 1.5 + 2 × 2 = 7 → proposed A, retained B
    bailleur.post(url, {"ensemble": "E2", "parties_communes": "2", "bruit": "50"})
    version.refresh_from_db()
    e2 = version.ensemble("E2")
    assert e2 is not None and (e2["total"], e2["classe_proposee"], e2["classe_retenue"]) == (7, "A", "B")
    # emptied again: « non renseigné », 0 point
    bailleur.post(url, {"ensemble": "E1", "parties_communes": "", "bruit": ""})
    version.refresh_from_db()
    e1 = version.ensemble("E1")
    assert e1 is not None and (e1["total"], e1["classe_proposee"]) == (1, "C")


@pytest.mark.parametrize(
    ("valeurs", "message"),
    [
        ({"parties_communes": "3", "bruit": ""}, "valeur « 3 » hors du barème (attendu : 0 = mauvais, 1 = moyen"),
        ({"parties_communes": "1", "bruit": "fort"}, "Bruit mesuré (dB) : valeur non numérique « fort »"),
        ({"parties_communes": "", "bruit": "130"}, "hors du barème (attendu : un nombre de 20 à 120)"),
    ],
)
def test_saisie_invalide_rien_enregistre(monde: Monde, valeurs: dict[str, str], message: str) -> None:
    version = _version_saisie(monde)
    avant = version.resultats
    r = _client(monde.bailleur).post(reverse("classement:saisir", args=[version.pk]), {"ensemble": "E1", **valeurs})
    assert r.status_code == 400 and message in _texte(r)
    version.refresh_from_db()
    assert version.resultats == avant
    assert not Trace.objects.filter(action="classement.saisir").exists()


def test_saisie_refusee_hors_projet_et_hors_perimetre(monde: Monde) -> None:
    version = _version_saisie(monde)
    url = reverse("classement:saisir", args=[version.pk])
    assert _client(monde.autre_bailleur).get(url + "?ensemble=E1").status_code == 404
    for compte in ("association", "etat", "administrateur"):
        assert (
            _client(monde.comptes()[compte]).post(url, {"ensemble": "E1", "parties_communes": "2"}).status_code == 403
        )
    bailleur = _client(monde.bailleur)
    assert bailleur.get(url + "?ensemble=E9").status_code == 404
    bailleur.post(reverse("classement:partager", args=[version.pk]))
    avant = VersionClassement.objects.get().resultats
    page = bailleur.get(url + "?ensemble=E1")
    assert (
        page.status_code == 200 and "ne peuvent plus être modifiées" in _texte(page) and "<select" not in _texte(page)
    )
    r = bailleur.post(url, {"ensemble": "E1", "parties_communes": "2", "bruit": ""})
    assert r.status_code == 403 and "Calculez une nouvelle version" in _texte(r)
    assert VersionClassement.objects.get().resultats == avant
    assert not Trace.objects.filter(action="classement.saisir").exists()


def _svg(page: str):  # type: ignore[no-untyped-def]
    import re
    import xml.etree.ElementTree as ET

    bloc = re.search(r'<svg xmlns="http://www.w3.org/2000/svg"[^>]*id="carte-ensembles">.*?</svg>', page, re.S)
    assert bloc is not None
    return ET.fromstring(bloc.group(0))


def test_carte_svg(monde: Monde, settings) -> None:  # type: ignore[no-untyped-def]
    version = _version_saisie(monde)
    contours = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "geo" / "communes-69.geojson"
    if contours.exists():
        settings.CUS_CONTOURS_COMMUNES = str(contours)
    page = _texte(_client(monde.bailleur).get(reverse("classement:detail", args=[version.pk])))
    svg = _svg(page)
    ns = "{http://www.w3.org/2000/svg}"
    points = [el for el in svg.iter() if el.get("class") == "point-ensemble"]
    assert len(points) == 3
    par_id = {p.get("data-ensemble"): p for p in points}
    # E1 has 1 point → C; E2 is forced to B; E3 has 0 point → C
    assert {i: p.get("fill") for i, p in par_id.items()} == {
        "E1": COULEURS["C"],
        "E2": COULEURS["B"],
        "E3": COULEURS["C"],
    }
    assert par_id["E1"].tag == f"{ns}circle" and par_id["E2"].tag == f"{ns}rect"  # a shape per class, too
    titre = par_id["E2"].find(f"{ns}title")
    assert titre is not None and titre.text == "La Source (E2) — classe B, forcée (proposée : C) — score 0"
    # E3 (Affoux, 4.70° E) is west of E1 (4.84° E); E2 (45.70° N) is south of E1 (45.76° N): y grows downwards
    x = {i: float(p.get("cx") or p.get("x")) for i, p in par_id.items()}
    y = {i: float(p.get("cy") or p.get("y")) for i, p in par_id.items()}
    assert x["E3"] < x["E1"] < x["E2"] and y["E3"] < y["E1"] < y["E2"]
    assert "classe C (Service faible) : 2" in " ".join(page.split())
    if contours.exists():
        lyon = [el for el in svg.iter() if el.get("data-commune")]
        assert {el.get("data-commune") for el in lyon} == {"69123", "69001"}  # arrondissements drawn as Lyon


def test_carte_sans_coordonnees(monde: Monde) -> None:
    version = _version(monde)  # the factory's version has no coordinates
    page = _texte(_client(monde.association_user).get(reverse("classement:detail", args=[version.pk])))
    assert "n'a de coordonnées : pas de carte" in page and 'id="carte-ensembles"' not in page


def test_export_geojson(monde: Monde) -> None:
    version = _version_saisie(monde)
    r = _client(monde.bailleur).get(reverse("classement:export", args=[version.pk]) + "?format=geojson")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/geo+json")
    donnees = json.loads(r.content)
    assert donnees["type"] == "FeatureCollection" and len(donnees["features"]) == 3
    e1, e2 = donnees["features"][0], donnees["features"][1]
    assert e1["geometry"] == {"type": "Point", "coordinates": [4.84, 45.76]}  # longitude first
    assert e1["properties"] == {
        "id": "E1",
        "nom": "Les Tilleuls",
        "commune": "69381",
        "classe": "C",
        "classe_proposee": "C",
        "score": 1,
        "classe_forcee": None,
        "motif": None,
    }
    assert (e2["properties"]["classe_forcee"], e2["properties"]["motif"]) == ("B", "Résidence réhabilitée en 2024")
    # the association reads the shared version's GeoJSON; another landlord does not see it
    _client(monde.bailleur).post(reverse("classement:partager", args=[version.pk]))
    url = reverse("classement:export", args=[version.pk]) + "?format=geojson"
    assert _client(monde.association_user).get(url).status_code == 200
    assert _client(monde.autre_bailleur).get(url).status_code == 404


def test_export_pdf_annexe_avec_carte(monde: Monde) -> None:
    """The version's PDF is the convention's annex: classes, forced class with its reason, the map (vector)."""
    import io

    from pypdf import PdfReader

    version = _version_saisie(monde)
    r = _client(monde.bailleur).get(reverse("classement:export", args=[version.pk]) + "?format=pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    texte = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "Classement des immeubles au regard du service rendu" in texte
    assert "Carte des ensembles" in texte and "Légende de la carte" in texte
    assert "Résidence réhabilitée en 2024" in texte  # the forced class's reason
    assert f"version n° {version.numero}" in texte
    assert (
        _client(monde.autre_bailleur).get(reverse("classement:export", args=[version.pk]) + "?format=pdf").status_code
        == 404
    )
