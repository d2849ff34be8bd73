"""Rent pages: maximum rents redistributed from the warehouse's dwellings, SLS modulation on an uploaded file.

Figures are hand-computed on the eight dwellings of `test_loyers_lecture.LOGEMENTS` (four simulated: L1 50 m² at
6 €/m², L2 100 m² at 5, L3 80 m² at 5, L8 30 m² at 6: masse 1 380 €) and on three households of
`test_simulation_sls` (2026 ceilings, PLUS category 1 other regions 23 403 €).
"""

import csv
import io
from html import escape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from pilote_cus.audit.models import Trace
from pilote_cus.classement.models import StatutVersion, VersionClassement
from pilote_cus.loyers.models import BaremeSLS
from pilote_cus.loyers.plafonds import install_ceilings
from test_loyers_lecture import petit_entrepot

from . import usines
from .usines import Monde

NBSP = "\xa0"
CEILINGS_FILE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "plafonds" / "parametres_logement_social_openfisca.csv"
)
PLUS_1_AUTRES_2026 = 23403
REGLE = {"coefficient_A": "1,10", "libelle_A": "Service rendu élevé", "coefficient_B": "0,90", "libelle_B": "Moyen"}


@pytest.fixture(autouse=True)
def statiques() -> None:
    usines.racine_statique()


@pytest.fixture
def loyers(monde: Monde, tmp_path: Path, settings: Any) -> dict[str, Any]:
    settings.DATA_DIR = petit_entrepot(tmp_path)
    install_ceilings(CEILINGS_FILE, tmp_path)
    VersionClassement.objects.create(
        organisme=monde.organisme,
        numero=1,
        grille_toml="",
        grille_version="essai.1",
        grille_nom="Grille d'essai",
        resultats={
            "classes": [{"nom": "A", "libelle": "A", "score_min": 1}, {"nom": "B", "libelle": "B", "score_min": 0}],
            "ensembles": [
                {"id": "1", "classe_proposee": "A", "classe_retenue": "A"},
                {"id": "2", "classe_proposee": "A", "classe_retenue": "B", "motif_forcage": "bruit"},
                {"id": "99", "classe_proposee": "B", "classe_retenue": "B"},
            ],
        },
        statut=StatutVersion.ADOPTEE,
    )
    client = Client()
    client.force_login(monde.bailleur)
    return {"client": client, "o": monde.organisme}


def maximaux(loyers: dict[str, Any], **params: str) -> Any:
    url = reverse("loyers:maximaux", args=[loyers["o"].pk])
    return loyers["client"].get(url, {"action": "simuler", **REGLE, **params})


def bloc(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</table>", start)] if "<table" in page[start - 30 : start + 10] else page[start:]


def test_masse_check_classes_and_impact(loyers: dict[str, Any]) -> None:
    response = maximaux(loyers)
    assert response.status_code == 200
    page = response.content.decode()
    # new masse 330 + 550 + 360 + 162 = 1 402 > 1 380: over by 22, factor 1 380 / 1 402
    assert "dépasse la masse autorisée (1 380,00 €) de 22,00 €" in page and "0.984308" in page
    masse = bloc(page, "tableau-masse")
    assert f"1{NBSP}380,00" in masse and f"1{NBSP}402,00" in masse and "22,00" in masse and "0,984308" in masse
    classes = bloc(page, "par-classe")
    # A: 800 €/150 m² = 5,33 → 880/150 = 5,87; B: 580/110 = 5,27 → 522/110 = 4,75
    for figure in ("5,33", "5,87", "5,27", "4,75", "150", "110"):
        assert figure in classes
    # L1 280 → 294 and L2 510 → 535,50 (capped at +5 %), L3 390 → 360; L8 is vacant
    resume = bloc(page, "resume")
    assert "Hausses : 2" in resume and "Baisses : 1" in resume and "Plafonnés (IRL + 5 %) : 2" in resume
    tranches = bloc(page, "tranches")
    assert 'de -10 à moins de -5 %</td><td class="cus-chiffre">1' in tranches
    assert 'de 5 à moins de 10 %</td><td class="cus-chiffre">2' in tranches
    assert 'role="img"' in page and "<desc" in page
    assert "Programme 3" in bloc(page, "sans-classe") and "1 logement(s) écarté(s) : loyer maximal" in page
    assert "294,00" in bloc(page, "echantillon") and "(plafonné)" in page


def test_fit_to_the_masse_then_exports(loyers: dict[str, Any]) -> None:
    url = reverse("loyers:maximaux", args=[loyers["o"].pk])
    response = loyers["client"].get(url, {"action": "ajuster", **REGLE})
    assert response.status_code == 302
    # 1,10 × 1 380 / 1 402 and 0,90 × 1 380 / 1 402, rounded down to 10⁻⁶
    assert "coefficient_A=1.082738" in response.url and "coefficient_B=0.885877" in response.url
    page = loyers["client"].get(response.url).content.decode()
    assert "Coefficients multipliés par 0,984308" in page
    # 324,82 + 541,36 + 354,35 + 159,45
    assert "Masse des loyers maximaux : 1 379,98 € par mois, dans la limite autorisée de 1 380,00 €" in page
    query = response.url.split("?", 1)[1]
    export = reverse("loyers:maximaux_export", args=[loyers["o"].pk])
    xlsx = loyers["client"].get(f"{export}?{query}&format=xlsx&contenu=impact")
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(xlsx.content))["impact par logement"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    lines = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert sorted(lines) == ["L1", "L2", "L3"]
    assert lines["L1"]["loyer_max_mensuel"] == 324.82 and lines["L1"]["loyer_applicable"] == 294
    assert lines["L3"]["loyer_applicable"] == 354.35 and lines["L3"]["ecart_mensuel"] == -35.65
    assert lines["L2"]["mode_surface"] == "corrigée" and lines["L2"]["programme"] == "Programme 1"
    rpls = loyers["client"].get(f"{export}?{query}&format=csv&contenu=rpls").content.decode()
    assert list(csv.reader(io.StringIO(rpls))) == [
        ["IDENT_REP", "CODSEGPATRIM", "LIBSEGPATRIM", "CUS", "LOYERMAXCUS"],
        ["L1", "A", "Service rendu élevé", "13", "324.82"],
        ["L2", "A", "Service rendu élevé", "13", "541.36"],
        ["L3", "B", "Moyen", "11", "354.35"],
        ["L8", "B", "Moyen", "14", "159.45"],
    ]


def test_irl_revision_and_authorised_masse(loyers: dict[str, Any]) -> None:
    page = maximaux(loyers, irl_pct="2", masse_autorisee="1 500").content.decode()
    assert "dans la limite autorisée de 1 500,00 €" in page
    # (330 + 550 + 360 + 162) × 1,02
    assert f"1{NBSP}430,04" in bloc(page, "tableau-masse")


def test_form_errors_and_missing_prerequisites(loyers: dict[str, Any], monde: Monde, settings: Any) -> None:
    page = maximaux(loyers, coefficient_A="-1").content.decode()
    assert "Coefficient strictement positif attendu." in page
    assert 'data-testid="masse"' not in page
    settings.DATA_DIR = settings.DATA_DIR / "vide"
    page = maximaux(loyers).content.decode()
    assert escape("Aucun instantané RPLS dans l'entrepôt") in page
    VersionClassement.objects.update(statut=StatutVersion.REMPLACEE)
    response = loyers["client"].get(reverse("loyers:maximaux", args=[monde.organisme.pk]))
    assert response.status_code == 200 and "Aucune version adoptée du classement" in response.content.decode()


# --- SLS ------------------------------------------------------------------------------------------------------

MENAGES = (
    "menage_id;surface;ressources;categorie;zone_plafonds;zone_sls;financement;loyer;qpv\n"
    f"M1;50;{PLUS_1_AUTRES_2026 * 2};1;autres;4;PLUS;400;oui\n"
    f"M5;50;{PLUS_1_AUTRES_2026 * 1.1:.2f};1;autres;4;PLUS;350;non\n"
    f"M6;50;{PLUS_1_AUTRES_2026 * 1.4:.2f};1;autres;4;PLUS;300;non\n"
)
BAREME = {
    "annee": "2026",
    "a_20_pct": "0,20",
    "tranches-TOTAL_FORMS": "4",
    "tranches-INITIAL_FORMS": "0",
    "tranches-0-de": "21", "tranches-0-a": "59", "tranches-0-par_point": "0,05",
    "tranches-1-de": "60", "tranches-1-a": "149", "tranches-1-par_point": "0,07",
    "tranches-2-de": "150", "tranches-2-a": "100000", "tranches-2-par_point": "0,10",
    "tranches-3-de": "", "tranches-3-a": "", "tranches-3-par_point": "",
}  # fmt: skip


def simuler(loyers: dict[str, Any], contenu: str = MENAGES, **champs: str) -> Any:
    fichier = io.BytesIO(contenu.encode())
    fichier.name = "menages.csv"
    data = {**BAREME, **champs, "menages": fichier, "simuler": "1"}
    return loyers["client"].post(reverse("loyers:sls", args=[loyers["o"].pk]), data)


def test_sls_simulation_national_and_modulated(loyers: dict[str, Any]) -> None:
    page_vide = loyers["client"].get(reverse("loyers:sls", args=[loyers["o"].pk])).content.decode()
    assert "n'est pas conservé sur le serveur" in page_vide and 'value="0.27"' in page_vide
    response = simuler(loyers)
    assert response.status_code == 200
    page = response.content.decode()
    synthese = bloc(page, "synthese")
    # M6, 40 % over: national 50 × 1,47 × 0,28 = 20,58, modulated 50 × (0,20 + 20 × 0,05) × 0,28 = 16,80
    assert "20,58" in synthese and "16,80" in synthese and "246,96" in synthese and "201,60" in synthese
    assert 'Ménages assujettis</th><td class="cus-chiffre">1<' in synthese
    assert "quartier prioritaire" in bloc(page, "exonerations")
    assert 'role="img"' in page and "D9" in bloc(page, "deciles")
    assert BaremeSLS.objects.count() == 0


def test_households_file_errors_are_listed_and_nothing_is_kept(loyers: dict[str, Any]) -> None:
    contenu = MENAGES + "M9;50;beaucoup;1;autres;4;PLUS;300;non\n"
    response = simuler(loyers, contenu)
    assert response.status_code == 400
    erreurs = bloc(response.content.decode(), "erreurs-menages")
    assert "<td>5</td><td>ressources</td><td>beaucoup</td><td>nombre attendu</td>" in erreurs
    assert "1 erreur(s) ; aucun ménage n&#x27;a été simulé" in response.content.decode()
    assert BaremeSLS.objects.count() == 0


def test_scale_errors_in_french(loyers: dict[str, Any]) -> None:
    page = simuler(loyers, a_20_pct="0,50").content.decode()
    assert "Barème modulé hors des bornes de la CUS à 20 % de dépassement : CDPR 0.500" in page
    page = simuler(loyers, **{"tranches-1-de": "61"}).content.decode()
    assert "tranche 61–149 % invalide" in page
    page = simuler(loyers, **{"tranches-3-de": "5"}).content.decode()
    assert "Renseignez les trois valeurs de la tranche, ou aucune." in page


def test_retain_a_scale_replaces_the_previous_one_and_is_traced(loyers: dict[str, Any], monde: Monde) -> None:
    url = reverse("loyers:sls_retenir", args=[loyers["o"].pk])
    charge = simuler(loyers).context["charge"]
    assert loyers["client"].post(url, {"nom": "Premier", "charge": charge}).status_code == 302
    charge = simuler(loyers, a_20_pct="0,25").context["charge"]
    response = loyers["client"].post(url, {"nom": "Second", "charge": charge}, follow=True)
    assert "Barème « Second » retenu pour la convention." in response.content.decode()
    assert list(BaremeSLS.objects.order_by("id").values_list("nom", "retenu")) == [("Premier", False), ("Second", True)]
    second = BaremeSLS.objects.get(nom="Second")
    assert second.bareme["a_20_pct"] == 0.25 and second.synthese["resume"]["recette_mensuelle_nationale"] == 20.58
    assert second.cree_par == monde.bailleur
    traces = Trace.objects.filter(action="loyers.retenir_bareme_sls").order_by("id")
    derniere = traces.last()
    assert traces.count() == 2 and derniere is not None
    assert (derniere.apres or {})["nom"] == "Second" and (derniere.avant or {})["nom"] == "Premier"
    assert "Retenu pour la convention" in bloc(response.content.decode(), "baremes")
    # a tampered simulation is refused, nothing saved
    response = loyers["client"].post(url, {"nom": "Falsifié", "charge": charge[:-2] + "xx"}, follow=True)
    assert "Simulation expirée ou altérée" in response.content.decode() and BaremeSLS.objects.count() == 2


def test_summary_xlsx_export(loyers: dict[str, Any]) -> None:
    charge = simuler(loyers).context["charge"]
    response = loyers["client"].post(reverse("loyers:sls_export", args=[loyers["o"].pk]), {"charge": charge})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Synthèse", "Taux d'effort", "Déciles", "Exonérations", "Barème modulé"]
    valeurs = {r[0]: r[1] for r in book["Synthèse"].iter_rows(values_only=True) if r and r[0]}
    assert valeurs["Ménages simulés"] == 3 and valeurs["Recette SLS annuelle, barème modulé (€)"] == 201.6
    assert list(book["Barème modulé"].iter_rows(values_only=True))[2] == (21, 59, 0.05)


# --- perimeter --------------------------------------------------------------------------------------------------


def test_only_the_landlord_of_the_organisme(loyers: dict[str, Any], monde: Monde) -> None:
    pk = monde.organisme.pk
    urls = [
        reverse("loyers:maximaux", args=[pk]),
        reverse("loyers:maximaux_export", args=[pk]) + "?format=xlsx",
        reverse("loyers:sls", args=[pk]),
    ]
    for compte, attendu in (("autre_bailleur", 404), ("etat", 403), ("association", 403), ("administrateur", 403)):
        client = Client()
        client.force_login(monde.comptes()[compte])
        for url in urls:
            assert client.get(url).status_code == attendu, (compte, url)
        retenir = client.post(reverse("loyers:sls_retenir", args=[pk]), {"nom": "x", "charge": "y"})
        assert retenir.status_code == attendu
    assert Client().get(urls[0]).status_code == 302
    # a landlord cannot retain a simulation made for another organisme
    charge = simuler(loyers).context["charge"]
    autre = Client()
    autre.force_login(monde.autre_bailleur)
    url = reverse("loyers:sls_retenir", args=[monde.autre_organisme.pk])
    response = autre.post(url, {"nom": "x", "charge": charge}, follow=True)
    assert "Simulation expirée ou altérée" in response.content.decode() and BaremeSLS.objects.count() == 0


def test_sls_annex_pdf_shows_the_retained_scale(loyers: dict[str, Any]) -> None:
    """The annex PDF (the convention's SLS annex on its own): national scale only, then the retained scale's
    column with its CDPR at 20 % (0,25 entered on the form) once a scale is retained."""
    import io

    from pypdf import PdfReader

    url = reverse("loyers:sls_annexe", args=[loyers["o"].pk]) + "?annee=2025"

    def texte() -> str:
        r = loyers["client"].get(url)
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
        return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(r.content)).pages)

    avant = texte()
    assert "aucun : barème national" in avant and "CDPR retenu" not in avant
    # the flat rate of a household without answer: the national CDPR at 200 % (hand-computed 14,910) and the fee
    assert "dépassement de 200 % (14,910 au barème national)" in avant and "25 € de frais de dossier" in avant
    charge = simuler(loyers, a_20_pct="0,25").context["charge"]
    loyers["client"].post(reverse("loyers:sls_retenir", args=[loyers["o"].pk]), {"nom": "Modulé", "charge": charge})
    apres = texte()
    assert "CDPR retenu" in apres and "Modulé" in apres and "0,250" in apres
    assert loyers["client"].get(url.replace("annee=2025", "annee=abcd")).status_code == 404
