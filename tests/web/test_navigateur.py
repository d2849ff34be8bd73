"""In Chromium (Playwright): each role logs in, its pages render with their charts, and the lifecycle runs
through the buttons and forms a person uses. Screenshots go to artefacts/navigateur/."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from pilote_cus.comptes.models import Organisme
from pilote_cus.conventions.models import Convention, Statut
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.indicateurs.objectifs import Objective
from pilote_cus.tableaux.models import Resultat
from pilote_cus.tableaux.publication import publier
from pilote_cus.web.peuplement import peupler

from . import usines

pytestmark = [pytest.mark.navigateur, pytest.mark.django_db(transaction=True)]


@dataclass
class Demo:
    url: str
    mots_de_passe: dict[str, str]
    suivie: Convention
    nouvelle: Convention
    departement: str


@pytest.fixture
def demo(live_server: Any, settings: Any, tmp_path: Path) -> Demo:
    """The demo's application data on a small real warehouse: published results, conventions, accounts."""
    usines.racine_statique()
    entrepot = usines.entrepot_demo()
    settings.DATA_DIR = usines.copie_entrepot(entrepot, tmp_path)
    settings.MEDIA_ROOT = tmp_path / "televersements"
    publier(Warehouse(settings.DATA_DIR))
    organisme = Organisme.objects.get(code=entrepot.code)
    mine = Resultat.objects.filter(organisme=organisme, generation=2, maille="departement").exclude(valeur=None)
    objectives = [
        Objective(r.code, "departement", r.code_territoire, r.periode, round(r.valeur * (0.9 if i % 2 else 1.2), 2))
        for i, r in enumerate(mine)
    ]
    accounts = peupler(Warehouse(settings.DATA_DIR), entrepot.code, entrepot.nom, objectives, 2019, 6)
    conventions = Convention.objects.filter(organisme=organisme)
    main = organisme.implantations.order_by("-logements").first()
    assert main is not None
    return Demo(
        live_server.url,
        {a.identifiant: a.mot_de_passe for a in accounts},
        conventions.get(statut=Statut.SUIVI),
        conventions.get(statut=Statut.ELABORATION),
        main.departement,
    )


class Session:
    """One person in their own browser context; every request must stay on our server."""

    def __init__(self, browser: Any, demo: Demo, login: str, artefacts: Path):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        self.page = self.context.new_page()
        self.demo, self.login, self.artefacts = demo, login, artefacts
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: None if r.url.startswith(demo.url) else self.foreign.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{demo.url}/connexion/")
        self.page.get_by_label("Identifiant").fill(login)
        self.page.get_by_label("Mot de passe").fill(demo.mots_de_passe[login])
        self.page.get_by_role("button", name="Se connecter").click()
        self.page.wait_for_load_state()

    def go(self, path: str) -> Any:
        response = self.page.goto(f"{self.demo.url}{path}")
        assert response is not None and response.status == 200, f"{self.login} {path} → {response and response.status}"
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.artefacts / f"{self.login}-{name}.png"), full_page=True)

    def click(self, button: str) -> None:
        self.page.get_by_role("button", name=button, exact=True).click()
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()
        assert not self.foreign, f"requêtes hors du serveur : {self.foreign}"
        assert not self.errors, f"erreurs JavaScript : {self.errors}"


@pytest.fixture
def sessions(navigateur: Any, demo: Demo, artefacts: Path) -> Iterator[dict[str, Session]]:
    opened: dict[str, Session] = {}

    class Opener(dict):
        def __missing__(self, login: str) -> Session:
            opened[login] = Session(navigateur, demo, login, artefacts)
            return opened[login]

    yield Opener()
    for session in opened.values():
        session.close()


def _charts(page: Any) -> int:
    return int(page.locator("svg[role=img]").count())


def test_chaque_role_voit_ses_pages(demo: Demo, sessions: dict[str, Session]) -> None:
    bailleur = sessions["bailleur"]
    assert bailleur.page.url.endswith(reverse("tableaux:bailleur"))
    assert "Tableau de bord" in bailleur.page.locator("h1").inner_text()
    assert _charts(bailleur.page) >= 2
    bailleur.shot("tableau-de-bord")
    bailleur.go(reverse("tableaux:imports"))
    bailleur.shot("imports")
    bailleur.go(reverse("conventions:suivi", args=[demo.suivie.pk]))
    assert "atteint" in bailleur.page.content()
    bailleur.shot("suivi")

    for login in ("etat-ddt", "etat-dreal", "admin"):
        etat = sessions[login]
        assert "Console de l'État" in etat.page.locator("h1").inner_text()
        assert demo.suivie.organisme.nom in etat.page.content()
        etat.shot("console")
    dreal = sessions["etat-dreal"]
    dreal.go(reverse("tableaux:consolidation"))
    assert _charts(dreal.page) >= 1
    dreal.shot("consolidation")
    dreal.go(f"{reverse('tableaux:detail_bailleur', args=[demo.suivie.organisme_id])}?departement={demo.departement}")
    assert _charts(dreal.page) >= 1
    dreal.shot("detail-bailleur")

    for login in ("collectivite", "association"):
        other = sessions[login]
        assert "Conventions" in other.page.locator("h1").inner_text()
        assert demo.suivie.titre in other.page.content()
        assert demo.nouvelle.titre not in other.page.content()  # not shared before concertation
        other.go(reverse("conventions:detail", args=[demo.suivie.pk]))
        other.shot("convention")
        assert other.page.goto(f"{demo.url}{reverse('tableaux:bailleur')}").status == 403


def test_cycle_de_vie_dans_le_navigateur(demo: Demo, sessions: dict[str, Session]) -> None:
    pk = demo.nouvelle.pk
    detail = reverse("conventions:detail", args=[pk])
    bailleur = sessions["bailleur"]
    page = bailleur.go(reverse("conventions:objectifs", args=[pk]))
    page.locator("#id_code").select_option("PP-1")
    page.locator("#id_code_territoire").fill(demo.departement)
    page.locator("#id_periode").fill("2025-2030")
    page.locator("#id_valeur").fill("3,5")
    bailleur.click("Ajouter")
    assert page.locator("table").filter(has_text="PP-1").count() >= 1
    bailleur.shot("objectifs")
    bailleur.go(detail)
    bailleur.click("Ouvrir la concertation")
    assert "En concertation" in page.content()

    association = sessions["association"]
    page = association.go(detail)
    page.locator("#fil-commentaires textarea[name=texte]").last.fill(
        "Les locataires demandent un calendrier des réhabilitations."
    )
    association.click("Publier le commentaire")
    page.get_by_text("calendrier des réhabilitations").wait_for()
    association.shot("concertation")

    page = bailleur.go(detail)
    assert "calendrier des réhabilitations" in page.content()
    page.locator("textarea[id^=reponse-]").first.fill("Le calendrier sera annexé à la convention.")
    bailleur.click("Répondre")
    page.get_by_text("annexé à la convention").wait_for()
    bailleur.go(detail)
    bailleur.click("Déposer auprès de l'État")
    assert "Déposée auprès de l'État" in page.content()

    etat = sessions["etat-ddt"]
    etat.go(detail)
    etat.click("Prendre en instruction")
    etat.click("Proposer à la signature")
    assert "Prête pour signature" in etat.page.content()
    etat.shot("instruction")

    page = bailleur.go(reverse("conventions:signature", args=[pk]))
    for name, quality in (("Préfète du département", "Représentante de l'État"), ("Directeur général", "Bailleur")):
        page.locator("#id_nom").fill(name)
        page.locator("#id_qualite").fill(quality)
        page.locator("#id_organisation").fill("Démonstration")
        page.locator("#id_date_signature").fill("2025-12-15")
        bailleur.click("Ajouter le signataire")
    page.locator("input[type=file]").set_input_files(
        {"name": "convention-signee.pdf", "mimeType": "application/pdf", "buffer": usines.PDF_MINIMAL}
    )
    bailleur.click("Déposer le PDF")
    bailleur.shot("signature")
    bailleur.go(detail)
    bailleur.click("Enregistrer la signature")
    assert "Signée — suivi annuel" in page.content()
    bailleur.shot("signee")

    demo.nouvelle.refresh_from_db()
    assert demo.nouvelle.statut == Statut.SUIVI
    assert demo.nouvelle.signataires.count() == 2 and demo.nouvelle.pdf_signe
    assert demo.nouvelle.commentaires.count() == 2
