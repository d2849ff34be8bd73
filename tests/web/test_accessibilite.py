"""Accessibility audit in Chromium: axe-core (injected from node_modules, never from a CDN) runs on the key pages
of each role with the WCAG 2.0/2.1 A and AA rules; any "serious" or "critical" violation fails the test.
The full axe results go to artefacts/accessibilite/."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from pilote_cus.comptes.models import Utilisateur

from . import usines
from .test_navigateur import Demo, Session, demo, sessions  # noqa: F401  (fixtures shared with the browser tests)

pytestmark = [pytest.mark.navigateur, pytest.mark.lent, pytest.mark.django_db(transaction=True)]

RACINE = Path(__file__).resolve().parents[2]
AXE = RACINE / "node_modules" / "axe-core" / "axe.min.js"
RESULTATS = RACINE / "artefacts" / "accessibilite"
NORMES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOQUANTS = {"serious", "critical"}
TELEPHONE = {"width": 390, "height": 800}
ECRAN = {"width": 1280, "height": 900}
# Pages also audited on a phone's width, where their wide tables scroll horizontally.
SUR_TELEPHONE = {
    "tableau-de-bord", "imports", "objectifs", "suivi", "evaluation", "signature", "classement-carte", "loyers-sls",
    "journal", "consolidation", "detail-bailleur",
}  # fmt: skip

# (rule id, CSS selector of the node) → why it cannot be fixed in our templates. Keep it empty if possible.
EXCLUSIONS: dict[tuple[str, str], str] = {}


def _version_carte(donnees: Demo) -> int:
    """A shared classement version of the demo's landlord whose two ensembles have coordinates (so the map shows)."""
    version: Any = usines.version_classement(donnees.suivie.organisme, Utilisateur.objects.get(username="bailleur"))
    places = {"E1": ("Les Tilleuls", 45.76, 4.84), "E2": ("La Source", 45.70, 4.90)}
    for e in version.resultats["ensembles"]:
        e["nom"], e["lat"], e["lon"] = places[e["id"]]
    version.save()
    return int(version.pk)


def _pages(donnees: Demo, version: int) -> dict[str, list[tuple[str, str]]]:
    """Pages audited per account: (short name for the report and the JSON file, path)."""
    suivie, nouvelle, organisme = donnees.suivie.pk, donnees.nouvelle.pk, donnees.suivie.organisme_id
    return {
        "bailleur": [
            ("tableau-de-bord", reverse("tableaux:bailleur")),
            ("imports", reverse("tableaux:imports")),
            ("conventions", reverse("conventions:liste")),
            ("convention", reverse("conventions:detail", args=[suivie])),
            ("objectifs", reverse("conventions:objectifs", args=[nouvelle])),
            ("suivi", reverse("conventions:suivi", args=[suivie])),
            ("evaluation", reverse("conventions:evaluation", args=[suivie, 3])),
            ("echeances", reverse("conventions:echeances")),
            ("convention-nouvelle", reverse("conventions:creer")),
            ("signature", reverse("conventions:signature", args=[suivie])),
            ("classements", reverse("classement:liste")),
            ("classement-nouveau", reverse("classement:creer")),
            ("classement-carte", reverse("classement:detail", args=[version])),
            ("loyers", reverse("loyers:index")),
            ("loyers-maximaux", reverse("loyers:maximaux", args=[organisme])),
            ("loyers-sls", reverse("loyers:sls", args=[organisme])),
            ("journal", reverse("journal")),
        ],
        "etat-dreal": [
            ("console", reverse("tableaux:console_etat")),
            ("consolidation", reverse("tableaux:consolidation")),
            (
                "detail-bailleur",
                f"{reverse('tableaux:detail_bailleur', args=[organisme])}?departement={donnees.departement}",
            ),
            ("convention", reverse("conventions:detail", args=[suivie])),
            ("echeances", reverse("conventions:echeances")),
            ("journal", reverse("journal")),
        ],
        "association": [
            ("conventions", reverse("conventions:liste")),
            ("convention", reverse("conventions:detail", args=[suivie])),
            ("classement-carte", reverse("classement:detail", args=[version])),
        ],
    }


def _erreurs(donnees: Demo) -> list[tuple[str, str, str]]:
    """Forms submitted empty (browser validation off) so that the server's error messages are audited too."""
    return [
        ("convention-nouvelle-erreurs", reverse("conventions:creer"), "Créer la convention"),
        ("objectifs-erreurs", reverse("conventions:objectifs", args=[donnees.nouvelle.pk]), "Ajouter"),
        ("classement-nouveau-erreurs", reverse("classement:creer"), "Calculer le classement"),
    ]


def _axe(page: Any) -> dict[str, Any]:
    page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "tag", "values": NORMES}}
    return dict(page.evaluate("options => axe.run(document, options)", options))


# axe cannot compute the contrast of text drawn in an SVG (it reports it as "incomplete"): we do it ourselves,
# against the first opaque background up the tree (white if none), with the WCAG 1.4.3 threshold for small text.
TEXTES_SVG = """() => Array.from(document.querySelectorAll('svg text')).map(t => {
  let fond = 'rgb(255, 255, 255)';
  for (let e = t.closest('svg'); e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c && c !== 'transparent' && !c.startsWith('rgba(0, 0, 0, 0)')) { fond = c; break; }
  }
  const svg = t.closest('svg');
  return {texte: t.textContent.trim(), couleur: getComputedStyle(t).fill, fond: fond,
          graphique: svg.id || svg.getAttribute('aria-labelledby') || ''};
})"""


def _luminance(rgb: str) -> float:
    canaux = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    lineaires = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in canaux]
    return 0.2126 * lineaires[0] + 0.7152 * lineaires[1] + 0.0722 * lineaires[2]


def contraste(couleur: str, fond: str) -> float:
    """WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)")."""
    claire, sombre = sorted((_luminance(couleur), _luminance(fond)), reverse=True)
    return (claire + 0.05) / (sombre + 0.05)


def _textes_svg_peu_contrastes(page: Any, ou: str) -> tuple[list[str], int]:
    """Lines for the SVG texts under 4.5:1, and how many texts were checked."""
    lignes, textes = [], page.evaluate(TEXTES_SVG)
    for t in textes:
        ratio = contraste(t["couleur"], t["fond"])
        if ratio < 4.5:
            lignes.append(
                f"{ou} — texte SVG « {t['texte']} » ({t['graphique']}) : contraste {ratio:.2f}:1 < 4,5:1"
                f" ({t['couleur']} sur {t['fond']})"
            )
    return lignes, len(textes)


def _bloquantes(resultats: dict[str, Any], ou: str) -> list[str]:
    """Readable French lines for each serious/critical violation node that is not an explained exclusion."""
    lignes = []
    for v in resultats["violations"]:
        if v["impact"] not in BLOQUANTS:
            continue
        cibles = [" ".join(map(str, n["target"])) for n in v["nodes"]]
        cibles = [c for c in cibles if (v["id"], c) not in EXCLUSIONS]
        if cibles:
            lignes.append(f"{ou} — règle {v['id']} ({v['impact']}) : {v['help']}\n    éléments : " + " | ".join(cibles))
    return lignes


def _enregistrer(nom: str, resultats: dict[str, Any]) -> None:
    RESULTATS.mkdir(parents=True, exist_ok=True)
    fichier = RESULTATS / f"{re.sub(r'[^a-z0-9-]+', '-', nom.lower())}.json"
    fichier.write_text(json.dumps(resultats, ensure_ascii=False, indent=1), encoding="utf-8")


@pytest.mark.skipif(not AXE.exists(), reason=f"axe-core absent ({AXE}) : lancez scripts/installer (npm ci)")
def test_pages_sans_violation_grave(demo: Demo, sessions: dict[str, Session], navigateur: Any) -> None:  # noqa: F811
    version = _version_carte(demo)
    problemes: list[str] = []
    audites = textes_svg = telephone = 0

    # The login page, before anyone logs in.
    contexte = navigateur.new_context(viewport=ECRAN, locale="fr-FR")
    try:
        page = contexte.new_page()
        assert page.goto(f"{demo.url}{reverse('connexion')}").status == 200
        resultats = _axe(page)
        _enregistrer("anonyme-connexion", resultats)
        problemes += _bloquantes(resultats, f"anonyme {reverse('connexion')}")
        audites += 1
    finally:
        contexte.close()

    for login, pages in _pages(demo, version).items():
        session = sessions[login]
        for nom, chemin in pages:
            page = session.go(chemin)
            page.wait_for_load_state("networkidle")
            resultats = _axe(page)
            _enregistrer(f"{login}-{nom}", resultats)
            problemes += _bloquantes(resultats, f"{login} {chemin}")
            pales, n = _textes_svg_peu_contrastes(page, f"{login} {chemin}")
            problemes += pales
            textes_svg += n
            audites += 1
            if nom in SUR_TELEPHONE:
                page.set_viewport_size(TELEPHONE)
                resultats = _axe(page)
                _enregistrer(f"{login}-{nom}-telephone", resultats)
                problemes += _bloquantes(resultats, f"{login} {chemin} (largeur d'un téléphone)")
                page.set_viewport_size(ECRAN)
                telephone += 1

    bailleur = sessions["bailleur"]
    for nom, chemin, bouton in _erreurs(demo):
        page = bailleur.go(chemin)
        page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
        bailleur.click(bouton)
        assert page.locator(".fr-error-text, .fr-alert--error, .fr-message--error").count() >= 1, nom
        resultats = _axe(page)
        _enregistrer(f"bailleur-{nom}", resultats)
        problemes += _bloquantes(resultats, f"bailleur {chemin} (formulaire envoyé vide)")
        audites += 1

    # On a phone: the header's menu opens as a DSFR modal; it is audited open.
    page = bailleur.go(reverse("tableaux:bailleur"))
    page.set_viewport_size(TELEPHONE)
    bailleur.click("Menu")
    page.locator("#fr-menu-mobile .fr-nav__link").first.wait_for()
    resultats = _axe(page)
    _enregistrer("bailleur-menu-mobile", resultats)
    problemes += _bloquantes(resultats, f"bailleur {reverse('tableaux:bailleur')} (menu ouvert sur téléphone)")
    audites += 1
    page.set_viewport_size(ECRAN)

    assert telephone == 13  # SUR_TELEPHONE: 9 pages of the landlord, 3 of the State, the map for the association
    assert textes_svg > 50  # the charts' axes and legends were checked, not an empty selection
    assert audites == 1 + sum(len(p) for p in _pages(demo, version).values()) + len(_erreurs(demo)) + 1
    assert not problemes, f"{len(problemes)} violation(s) grave(s) d'accessibilité (axe-core, WCAG 2.1 AA) :\n" + (
        "\n".join(problemes)
    )


@pytest.mark.skipif(not AXE.exists(), reason=f"axe-core absent ({AXE}) : lancez scripts/installer (npm ci)")
def test_l_audit_signale_une_page_fautive(navigateur: Any) -> None:
    """The audit itself: a page without language, with an unlabelled field and an unnamed button is reported."""
    contexte = navigateur.new_context()
    try:
        page = contexte.new_page()
        page.set_content(
            "<html><head><title>Essai</title></head><body><main><h1>Essai</h1>"
            '<input type="text" id="sans-etiquette"><button id="muet"></button>'
            '<svg role="img" aria-label="Essai" id="pale"><text x="5" y="15" fill="#aaaaaa">pâle</text>'
            '<text x="5" y="30" fill="#666666">lisible</text></svg></main></body></html>'
        )
        lignes = _bloquantes(_axe(page), "essai")
        pales, n = _textes_svg_peu_contrastes(page, "essai")
    finally:
        contexte.close()
    regles = {re.search(r"règle (\S+) ", ligne).group(1) for ligne in lignes}  # type: ignore[union-attr]
    assert regles == {"html-has-lang", "label", "button-name"}, lignes
    assert any("#sans-etiquette" in ligne and "(critical)" in ligne for ligne in lignes), lignes
    # #aaaaaa on white: (1.05) / (0.402 + 0.05) = 2.32; #666666 on white is 5.74, above 4.5
    assert n == 2 and pales == [
        "essai — texte SVG « pâle » (pale) : contraste 2.32:1 < 4,5:1 (rgb(170, 170, 170) sur rgb(255, 255, 255))"
    ]
    assert round(contraste("rgb(102, 102, 102)", "rgb(255, 255, 255)"), 2) == 5.74
