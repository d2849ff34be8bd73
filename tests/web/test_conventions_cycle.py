"""The whole life of a convention, driven through the pages with each role's account.

RPLS fixture (tests/fixtures/rpls_opendata_2024_reel.csv, imported for the landlord OPH-A): 9 dwellings in
stock, 5 in the Rhône (69) and 4 in Haute-Garonne (31); totals checked by hand in test_etat_des_lieux.py.
"""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from pilote_cus.audit.models import Trace
from pilote_cus.comptes.models import Utilisateur
from pilote_cus.conventions.models import Appreciation, Commentaire, Convention, Objectif, Section, Statut
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.indicateurs.catalogue import catalogue
from pilote_cus.indicateurs.objectifs import write_template
from pilote_cus.patrimoine.import_rpls import import_rpls

from . import usines
from .usines import Monde

RPLS = Path(__file__).resolve().parents[1] / "fixtures" / "rpls_opendata_2024_reel.csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def statiques(settings) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def entrepot(settings, tmp_path: Path) -> Warehouse:
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "televersements"
    return Warehouse(tmp_path)


def client_de(user: Utilisateur) -> Client:
    client = Client()
    client.force_login(user)
    return client


def texte(response) -> str:
    return response.content.decode()


def creer(client: Client, monde: Monde, titre: str = "CUS Habitat du Rhône 2025-2030") -> Convention:
    response = client.post(
        reverse("conventions:creer"),
        {
            "organisme": monde.organisme.pk,
            "titre": titre,
            "generation": 2,
            "annee_debut": 2025,
            "collectivites": [monde.collectivite.pk],
        },
    )
    assert response.status_code == 302, texte(response)
    return Convention.objects.get(titre=titre)


def transition(client: Client, convention: Convention, action: str, **data: object) -> str:
    url = reverse("conventions:transition", args=[convention.pk, action])
    return texte(client.post(url, data, follow=True))


def classeur(tmp_path: Path, objectifs: dict, nom: str = "engagements.xlsx") -> Path:
    path = tmp_path / nom
    write_template(path, catalogue(), 2, [("departement", "69")], 2025, objectifs)
    return path


def deposer_classeur(client: Client, convention: Convention, path: Path):
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type=XLSX)
    return client.post(reverse("conventions:objectifs_televerser", args=[convention.pk]), {"fichier": upload})


def test_creation_remplit_l_etat_des_lieux(monde: Monde, entrepot: Warehouse) -> None:
    import_rpls(RPLS, entrepot, organisme=monde.organisme.code)
    convention = creer(client_de(monde.bailleur), monde)
    edl = convention.etat_des_lieux
    assert edl["instantane"] == entrepot.current("rpls").id and edl["millesime"] == 2024
    assert [d["departement"] for d in edl["departements"]] == ["31", "69"]
    rhone = edl["departements"][1]
    # 69: lines 1-5 in stock; collective 1 2 3 5; QPV 1 2; DPE E-F-G: line 2 (E)
    assert (rhone["logements"], rhone["collectif"], rhone["qpv"], rhone["dpe_efg"]) == (5, 80.0, 40.0, 20.0)
    total = edl["total"]
    assert (total["logements"], total["collectif"], total["qpv"], total["dpe_efg"]) == (9, 77.78, 33.33, 22.22)
    assert (total["loyer_m2"], total["vacance"]) == (6.74, 25.0)
    assert convention.statut == Statut.ELABORATION and convention.annee_fin == 2030
    assert convention.echeance is not None and convention.cree_par == monde.bailleur
    page = texte(client_de(monde.bailleur).get(reverse("conventions:detail", args=[convention.pk])))
    assert "Parc du bailleur par département (RPLS 2024" in page and "77,78" in page
    assert Trace.objects.filter(action="convention_creee", convention=convention).count() == 1


def test_creation_sans_rpls_previent_et_continue(monde: Monde, entrepot: Warehouse) -> None:
    client = client_de(monde.bailleur)
    response = client.post(
        reverse("conventions:creer"),
        {"organisme": monde.organisme.pk, "titre": "CUS sans RPLS", "generation": 2, "annee_debut": 2025},
        follow=True,
    )
    page = texte(response)
    assert "aucun instantané RPLS" in page and "Vous pouvez poursuivre" in page
    convention = Convention.objects.get(titre="CUS sans RPLS")
    assert "departements" not in convention.etat_des_lieux
    url = reverse("conventions:section", args=[convention.pk, "sociale", "orientations"])
    assert client.post(url, {"texte": "Loger les plus modestes."}).status_code == 302


def test_creation_refuse_une_saisie_invalide(monde: Monde, entrepot: Warehouse) -> None:
    response = client_de(monde.bailleur).post(
        reverse("conventions:creer"),
        {"organisme": monde.autre_organisme.pk, "titre": "", "generation": 2, "annee_debut": "deux mille"},
    )
    page = texte(response)
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in page and "Saisissez un nombre entier" in page
    assert (
        not Convention.objects.filter(organisme=monde.autre_organisme, version=1)
        .exclude(pk=monde.autre_convention.pk)
        .exists()
    )


def test_objectifs_saisis_dans_le_formulaire(monde: Monde, entrepot: Warehouse) -> None:
    client = client_de(monde.bailleur)
    convention = creer(client, monde)
    url = reverse("conventions:objectifs", args=[convention.pk])
    bon = {"code": "PP-2", "maille": "departement", "code_territoire": "69", "periode": "2025", "valeur": "12,5"}
    assert client.post(url, bon).status_code == 302
    objectif = Objectif.objects.get(convention=convention)
    assert (objectif.code, objectif.periode, objectif.valeur) == ("PP-2", "2025", 12.5)

    for champ, valeur, message in [
        ("valeur", "beaucoup", "« beaucoup » n&#x27;est pas un nombre"),
        ("valeur", "140", "Un pourcentage ne peut pas dépasser 100."),
        ("periode", "2019", "La période doit être comprise entre 2025 et 2030."),
        ("periode", "bientôt", "Période attendue : une année (2021) ou un cumul (2019-2021)."),
        ("code", "G1-A1", "Sélectionnez un choix valide"),
        ("code_territoire", "  ", "Ce champ est obligatoire."),
    ]:
        response = client.post(url, {**bon, "periode": "2026", champ: valeur})
        assert response.status_code == 400, champ
        assert message in texte(response), champ
    doublon = client.post(url, bon)
    assert "Cet engagement existe déjà" in texte(doublon)
    assert Objectif.objects.filter(convention=convention).count() == 1

    modifier = client.get(url, {"modifier": objectif.pk})
    assert 'value="12,5"' in texte(modifier)
    assert client.post(url, {**bon, "valeur": "15", "objectif": objectif.pk}).status_code == 302
    objectif.refresh_from_db()
    assert objectif.valeur == 15.0
    assert client.post(url, {"supprimer": objectif.pk}).status_code == 302
    assert not Objectif.objects.filter(convention=convention).exists()
    traces = Trace.objects.filter(convention=convention, objet="objectif").order_by("id")
    assert [t.action for t in traces] == ["objectif_cree", "objectif_modifie", "objectif_supprime"]
    assert traces[1].avant["valeur"] == 12.5 and traces[1].apres["valeur"] == 15.0


def test_objectifs_par_classeur(monde: Monde, entrepot: Warehouse, tmp_path: Path) -> None:
    client = client_de(monde.bailleur)
    convention = creer(client, monde)
    Objectif.objects.create(
        convention=convention, code="PP-3", maille="departement", code_territoire="69", periode="2025", valeur=10.0
    )
    good = classeur(
        tmp_path, {("PP-2", "departement", "69", "2025"): 20.0, ("PP-1", "departement", "69", "2025-2027"): 300.0}
    )
    response = deposer_classeur(client, convention, good)
    assert response.status_code == 302
    assert {(o.code, o.periode, o.valeur) for o in convention.objectifs.all()} == {
        ("PP-2", "2025", 20.0),
        ("PP-1", "2025-2027", 300.0),
    }
    trace = Trace.objects.get(action="objectifs_televerses", convention=convention)
    assert trace.apres == {"fichier": "engagements.xlsx", "crees": 2, "modifies": 0, "supprimes": 1, "inchanges": 0}

    bad = classeur(tmp_path, {("PP-2", "departement", "69", "2025"): 99.0}, "faux.xlsx")
    book = load_workbook(bad)
    sheet = book["Engagements"]
    header = [c.value for c in sheet[5]]
    column = header.index("Objectif 2026") + 1
    row = next(r for r in range(6, sheet.max_row + 1) if sheet.cell(r, 1).value == "PP-3")
    sheet.cell(row, column, "beaucoup")
    book.save(bad)
    refused = deposer_classeur(client, convention, bad)
    page = texte(refused)
    assert refused.status_code == 400
    assert "aucun objectif n&#x27;a été enregistré" in page
    assert f"<td>{row}</td><td>Objectif 2026</td><td>beaucoup</td>" in page
    assert {(o.code, o.periode, o.valeur) for o in convention.objectifs.all()} == {
        ("PP-2", "2025", 20.0),
        ("PP-1", "2025-2027", 300.0),
    }
    not_xlsx = SimpleUploadedFile("notes.xlsx", b"pas un classeur", content_type=XLSX)
    response = client.post(reverse("conventions:objectifs_televerser", args=[convention.pk]), {"fichier": not_xlsx})
    assert "n&#x27;est pas un classeur XLSX" in texte(response)
    assert Trace.objects.filter(action="objectifs_televerses").count() == 1

    modele = client.get(reverse("conventions:objectifs_modele", args=[convention.pk]))
    assert modele["Content-Type"] == XLSX
    (tmp_path / "retour.xlsx").write_bytes(modele.content)
    back = load_workbook(tmp_path / "retour.xlsx")["Engagements"]
    rows = {(r[0], r[5], r[6]): r for r in back.iter_rows(min_row=6, values_only=True)}
    assert rows[("PP-2", "departement", "69")][header.index("Objectif 2025")] == 20.0
    csv = client.get(reverse("conventions:objectifs_csv", args=[convention.pk])).content.decode("utf-8-sig")
    assert csv.splitlines() == [
        "code;maille;code_territoire;periode;objectif",
        "PP-1;departement;69;2025-2027;300,0",
        "PP-2;departement;69;2025;20,0",
    ]


def test_cycle_complet(monde: Monde, entrepot: Warehouse, tmp_path: Path) -> None:
    import_rpls(RPLS, entrepot, organisme=monde.organisme.code)
    bailleur, etat = client_de(monde.bailleur), client_de(monde.etat)
    association, collectivite = client_de(monde.association_user), client_de(monde.collectivite_user)

    # création → élaboration: texts per policy
    c = creer(bailleur, monde)
    section = reverse("conventions:section", args=[c.pk, "patrimoniale", "orientations"])
    assert bailleur.post(section, {"texte": "Rénover 2 000 logements énergivores."}).status_code == 302
    assert (
        bailleur.post(
            reverse("conventions:section", args=[c.pk, "qualite", "programme"]), {"texte": "Astreinte 24 h sur 24."}
        ).status_code
        == 302
    )
    trace = Trace.objects.get(action="section_modifiee", apres__politique="patrimoniale")
    assert trace.avant["texte"] == "" and trace.apres["texte"] == "Rénover 2 000 logements énergivores."
    # the association does not see a draft still in elaboration
    assert association.get(reverse("conventions:detail", args=[c.pk])).status_code == 404

    # concertation; deposit refused without objectives
    transition(bailleur, c, "ouvrir_concertation")
    c.refresh_from_db()
    assert c.statut == Statut.CONCERTATION
    assert "Impossible de déposer : aucun objectif n&#x27;est saisi." in transition(bailleur, c, "deposer")
    upload = classeur(
        tmp_path, {("PP-2", "departement", "69", "2025"): 20.0, ("PP-1", "departement", "69", "2025-2027"): 300.0}
    )
    assert deposer_classeur(bailleur, c, upload).status_code == 302
    pp1 = c.objectifs.get(code="PP-1")
    commentaires = reverse("conventions:commentaires", args=[c.pk])
    assert (
        association.post(
            commentaires, {"texte": "Quel calendrier des travaux ?", "cible": "section:patrimoniale:orientations"}
        ).status_code
        == 302
    )
    assert (
        collectivite.post(
            commentaires,
            {"texte": "Objectif trop bas pour la Métropole.", "cible": "objectif:PP-1:departement:69:2025-2027"},
        ).status_code
        == 302
    )
    assert etat.post(commentaires, {"texte": "trop tôt"}).status_code == 403
    for question in Commentaire.objects.filter(convention=c):
        assert (
            bailleur.post(commentaires, {"reponse_a": question.pk, "texte": f"Réponse à {question.auteur}"}).status_code
            == 302
        )
    fil = texte(bailleur.get(commentaires))
    assert fil.index("Quel calendrier des travaux ?") < fil.index("Réponse à cnl") < fil.index("Objectif trop bas")
    assert "Politique patrimoniale — Orientations stratégiques" in fil
    assert f"Objectif PP-1 — departement 69 — {pp1.periode}" in fil
    assert Commentaire.objects.filter(convention=c, etape="concertation", reponse_a=None).count() == 2
    assert Commentaire.objects.filter(convention=c, reponse_a__isnull=False).count() == 2

    # dépôt → instruction: comments of the State, one of them a request for change
    transition(bailleur, c, "deposer")
    assert bailleur.get(section).status_code == 403  # no editing once deposited
    transition(etat, c, "instruire")
    c.refresh_from_db()
    assert c.statut == Statut.INSTRUCTION
    assert (
        etat.post(
            commentaires,
            {
                "texte": "Détailler le financement des rénovations.",
                "demande_modification": "on",
                "cible": "section:patrimoniale:orientations",
            },
        ).status_code
        == 302
    )
    assert (
        etat.post(
            commentaires, {"texte": "Objectif PP-2 cohérent.", "cible": "objectif:PP-2:departement:69:2025"}
        ).status_code
        == 302
    )
    demande = Commentaire.objects.get(convention=c, demande_modification=True)
    assert demande.etape == "instruction" and demande.auteur == monde.etat
    assert association.post(commentaires, {"texte": "encore"}).status_code == 403
    assert "Détailler le financement" not in texte(association.get(reverse("conventions:detail", args=[c.pk])))
    assert (
        bailleur.post(commentaires, {"reponse_a": demande.pk, "texte": "Plan de financement ajouté."}).status_code
        == 302
    )
    refus = transition(bailleur, c, "proposer_signature")
    assert "« Proposer à la signature » n&#x27;est pas possible pour vous à l&#x27;étape « En instruction »." in refus
    transition(etat, c, "demander_modifications")
    c.refresh_from_db()
    assert c.statut == Statut.A_MODIFIER
    assert bailleur.post(section, {"texte": "Rénover 2 000 logements, financés par l'éco-prêt."}).status_code == 302
    transition(bailleur, c, "deposer")
    transition(etat, c, "instruire")
    transition(etat, c, "proposer_signature")
    c.refresh_from_db()
    assert c.statut == Statut.A_SIGNER

    # signature: signatories, a non-PDF refused, the signed PDF
    signature = reverse("conventions:signature", args=[c.pk])
    assert "il faut au moins deux signataires datés" in transition(bailleur, c, "enregistrer_signature")
    for nom, qualite, organisation in [
        ("Fabienne Buccio", "Préfète de région", "État"),
        ("Claire Martin", "Directrice générale", "Habitat du Rhône"),
    ]:
        response = bailleur.post(
            signature, {"nom": nom, "qualite": qualite, "organisation": organisation, "date_signature": "2025-12-15"}
        )
        assert response.status_code == 302
    assert etat.post(signature, {"nom": "", "qualite": "x", "organisation": "y"}).status_code == 400
    assert "la convention signée (PDF) manque" in transition(bailleur, c, "enregistrer_signature")
    faux = SimpleUploadedFile("convention.pdf", b"PK\x03\x04 pas un pdf", content_type="application/pdf")
    response = bailleur.post(signature, {"pdf": faux, "televerser": "1"})
    assert response.status_code == 400 and "Ce fichier n&#x27;est pas un PDF" in texte(response)
    c.refresh_from_db()
    assert not c.pdf_signe
    vrai = SimpleUploadedFile("convention.pdf", usines.PDF_MINIMAL, content_type="application/pdf")
    assert bailleur.post(signature, {"pdf": vrai, "televerser": "1"}).status_code == 302
    transition(etat, c, "enregistrer_signature")
    c.refresh_from_db()
    assert c.statut == Statut.SUIVI and c.pdf_signe.name.endswith(".pdf")
    assert Trace.objects.get(action="pdf_signe_televerse", convention=c).apres["octets"] == len(usines.PDF_MINIMAL)

    # suivi annuel: the published result beside the objective (from the database)
    usines.resultat(monde.organisme, "PP-2", "departement", "69", "2025", 19.0, 100.0, 19.0)
    usines.resultat(monde.organisme, "PP-1", "departement", "69", "2025-2027", 310.0, None, 310.0, unite="logements")
    usines.resultat(monde.autre_organisme, "PP-2", "departement", "69", "2025", 90.0, 100.0, 90.0)
    suivi = bailleur.get(reverse("conventions:suivi", args=[c.pk]))
    lignes = {row["objectif"].code: row for row in suivi.context["lignes"]}
    pp2 = lignes["PP-2"]
    assert (pp2["numerateur"], pp2["denominateur"], pp2["valeur"]) == (19.0, 100.0, 19.0)  # not the other landlord's
    assert pp2["statut"] == "partiellement atteint"  # 20 × (1 − 10 % tolerance) = 18 ≤ 19 < 20
    assert lignes["PP-1"]["statut"] == "atteint"
    assert "Réalisé et objectif de chaque engagement" in texte(suivi)

    # évaluation à 3 ans: appreciations of the State, explanations of the landlord, penalty ceiling
    transition(etat, c, "ouvrir_evaluation", horizon=3)
    c.refresh_from_db()
    assert (c.statut, c.horizon_evaluation) == (Statut.EVALUATION, 3)
    evaluation = reverse("conventions:evaluation", args=[c.pk, 3])
    page = etat.get(evaluation)
    assert [row["objectif"].code for row in page.context["lignes"]] == ["PP-1"]  # the 2025-2027 engagement
    assert (
        etat.post(evaluation, {"e0-avis_etat": "respecte", "e0-commentaire_etat": "Objectif dépassé."}).status_code
        == 302
    )
    assert etat.post(evaluation, {"e0-avis_etat": "excellent"}).status_code == 400
    assert bailleur.post(evaluation, {"e0-explication_bailleur": "Deux opérations avancées."}).status_code == 302
    assert bailleur.post(evaluation, {"exoneration_tfpb": "1"}).status_code == 403
    assert etat.post(evaluation, {"exoneration_tfpb": "12 500,50"}).status_code == 302
    appreciation = Appreciation.objects.get(convention=c, horizon=3, code="PP-1")
    assert (appreciation.avis_etat, appreciation.commentaire_etat, appreciation.explication_bailleur) == (
        "respecte",
        "Objectif dépassé.",
        "Deux opérations avancées.",
    )
    final = bailleur.get(evaluation)
    assert final.context["plafond"] == Decimal("100") * 9 + Decimal("12500.50")
    assert "Deux opérations avancées." in texte(final) and "Engagement respecté" in texte(final)
    assert etat.post(commentaires, {"texte": "Bilan d'étape satisfaisant."}).status_code == 302
    assert Commentaire.objects.get(texte="Bilan d'étape satisfaisant.").etape == "evaluation"
    assert client_de(monde.collectivite_user).post(evaluation, {"e0-avis_etat": "partiel"}).status_code == 403
    transition(etat, c, "clore_evaluation")
    c.refresh_from_db()
    assert c.statut == Statut.SUIVI

    # avenant: one at a time; once signed it replaces its parent
    assert bailleur.post(reverse("conventions:avenant", args=[c.pk])).status_code == 302
    avenant = Convention.objects.get(parent=c)
    assert (avenant.version, avenant.statut, avenant.objectifs.count()) == (2, Statut.ELABORATION, 2)
    second = texte(bailleur.post(reverse("conventions:avenant", args=[c.pk]), follow=True))
    assert "Un avenant est déjà en cours pour cette convention : un seul à la fois." in second
    assert Convention.objects.filter(parent=c).count() == 1
    transition(bailleur, avenant, "ouvrir_concertation")
    transition(bailleur, avenant, "deposer")
    transition(etat, avenant, "instruire")
    transition(etat, avenant, "proposer_signature")
    usines.signer(avenant)
    pdf = SimpleUploadedFile("avenant.pdf", usines.PDF_MINIMAL, content_type="application/pdf")
    assert bailleur.post(reverse("conventions:signature", args=[avenant.pk]), {"pdf": pdf}).status_code == 302
    transition(bailleur, avenant, "enregistrer_signature")
    avenant.refresh_from_db()
    c.refresh_from_db()
    assert (avenant.statut, c.statut) == (Statut.SUIVI, Statut.REMPLACEE)

    actions = set(Trace.objects.filter(convention=c).values_list("action", flat=True))
    assert {
        "convention_creee",
        "section_modifiee",
        "objectifs_televerses",
        "commentaire_publie",
        "reponse_publiee",
        "transition:ouvrir_concertation",
        "transition:deposer",
        "transition:instruire",
        "transition:demander_modifications",
        "transition:proposer_signature",
        "signataire_ajoute",
        "pdf_signe_televerse",
        "transition:enregistrer_signature",
        "transition:ouvrir_evaluation",
        "appreciation_enregistree",
        "exoneration_tfpb_saisie",
        "transition:clore_evaluation",
        "convention_remplacee",
    } <= actions
    assert Trace.objects.filter(convention=avenant, action="avenant_cree").count() == 1
    assert Section.objects.get(convention=avenant, politique="patrimoniale", nature="orientations").texte == (
        "Rénover 2 000 logements, financés par l'éco-prêt."
    )


def test_instantane_illisible_n_empeche_pas_la_creation(monde: Monde, entrepot: Warehouse) -> None:
    import_rpls(RPLS, entrepot, organisme=monde.organisme.code)
    entrepot.current("rpls").table("logements").write_bytes(b"pas du parquet")
    page = texte(
        client_de(monde.bailleur).post(
            reverse("conventions:creer"),
            {"organisme": monde.organisme.pk, "titre": "CUS abîmée", "generation": 2, "annee_debut": 2025},
            follow=True,
        )
    )
    assert "L&#x27;état des lieux n&#x27;a pas pu être calculé" in page
    assert Convention.objects.get(titre="CUS abîmée").statut == Statut.ELABORATION
