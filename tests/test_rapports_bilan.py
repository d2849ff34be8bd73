"""Bilan annuel, évaluation à 3 ans and regional synthesis of the synthetic landlord: the PDF's text says the
published figures, the objectives, the statuses of `suivi.lignes`, the State's appreciation; the synthesis'
percentage is checked by hand on a small world; the command line writes the file or nothing."""

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from pilote_cus.cli import main
from pilote_cus.comptes.models import Implantation, Organisme, Role
from pilote_cus.conventions import suivi
from pilote_cus.conventions.etat_des_lieux import logements
from pilote_cus.conventions.models import Appreciation, Bilan, Commentaire, Convention, Objectif, Statut
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.graphiques import nombre
from pilote_cus.indicateurs.objectifs import Objective
from pilote_cus.rapports import bilan, synthese, tableur
from pilote_cus.rapports.modele import Paragraphe
from pilote_cus.rapports.rendu import DocumentError
from pilote_cus.tableaux.models import Resultat
from pilote_cus.tableaux.publication import publier
from pilote_cus.web.peuplement import peupler
from web import usines  # tests/web/usines.py (tests/ is on the path, as for tests/web/)

# the module's fixture writes to the test database (marking the module makes pytest-django create it)
pytestmark = pytest.mark.django_db

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts" / "rapports"
ANNEE = 2023
COMMENTAIRE_ETAT = "Le rythme des réhabilitations doit s'accélérer dans le département."
EXPLICATION = "Deux chantiers ont été décalés par la défaillance d'une entreprise."


def texte_pdf(pdf: bytes, tmp: Path, mode: str = "-layout") -> str:
    """pdftotext's text, spaces of every kind made one plain space (French numbers use narrow no-break spaces).

    -layout keeps a table row on one line; -raw follows the content order (a long cell's text stays whole)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext absent : scripts/systeme installe poppler-utils")
    path = tmp / "document.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", mode, str(path), "-"], capture_output=True, check=True, text=True).stdout
    return normaliser(out) if mode == "-layout" else compact(out)


def normaliser(text: str) -> str:
    return re.sub(r"[ \t\u202f\u00a0]+", " ", text)


def compact(text: str) -> str:
    """Without any space nor hyphenation mark: -raw drops the narrow spaces and WeasyPrint hyphenates words."""
    return re.sub(r"[\s\u2010\u00ad]+", "", text)


def fr(value: float | None) -> str:
    """The expected figure, formatted by hand the web pages' way: whole numbers without decimals, else 2."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return nombre(float(value), 0).replace("\u202f", " ")
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


@dataclass
class Documents:
    convention_pk: int
    lignes: list[dict[str, Any]]  # suivi.lignes of ANNEE, as plain values
    lignes_3ans: list[dict[str, Any]]
    logements: int | None
    texte_bilan: str = ""
    texte_evaluation: str = ""
    texte_synthese: str = ""
    html_bilan: str = ""
    xlsx: bytes = b""
    ods: bytes = b""
    rows: list[dict[str, Any]] = field(default_factory=list)
    synthese_xlsx: bytes = b""
    synthese_donnees: dict[str, Any] = field(default_factory=dict)
    pdfs: dict[str, bytes] = field(default_factory=dict)


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "code": r["objectif"].code,
            "maille": r["objectif"].maille,
            "territoire": r["objectif"].code_territoire,
            "periode": r["objectif"].periode,
            "objectif": r["objectif"].valeur,
            "numerateur": r["numerateur"],
            "denominateur": r["denominateur"],
            "valeur": r["valeur"],
            "statut": r["statut"],
        }
        for r in rows
    ]


@pytest.fixture(scope="module")
def docs(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Documents]:
    """The demo landlord published and populated once; every document built; the database rolled back."""
    demo = usines.entrepot_demo()
    tmp = tmp_path_factory.mktemp("rapports")
    with django_db_blocker.unblock(), transaction.atomic():
        warehouse = Warehouse(demo.dossier)
        publier(warehouse)
        organisme = Organisme.objects.get(code=demo.code)
        mine = Resultat.objects.filter(organisme=organisme, generation=2, maille="departement").exclude(valeur=None)
        mine = mine.filter(periode__in=[*map(str, range(2019, 2025)), "2019-2021", "2019-2024"])
        objectives = [
            Objective(r.code, "departement", r.code_territoire, r.periode, round(r.valeur * (0.9 if i % 3 else 1.2), 2))
            for i, r in enumerate(mine.order_by("code", "code_territoire", "periode"))
        ]
        peupler(warehouse, demo.code, demo.nom, objectives, 2019, 6)
        convention = Convention.objects.get(organisme=organisme, statut=Statut.SUIVI)
        first = convention.objectifs.filter(periode="2019-2021").order_by("code", "code_territoire").first()
        assert first is not None
        Appreciation.objects.create(
            convention=convention,
            horizon=3,
            code=first.code,
            maille=first.maille,
            code_territoire=first.code_territoire,
            avis_etat="partiel",
            commentaire_etat=COMMENTAIRE_ETAT,
            explication_bailleur=EXPLICATION,
        )
        Bilan.objects.create(convention=convention, horizon=3, exoneration_tfpb=Decimal("12345.50"))
        year_objective = convention.objectifs.filter(periode=str(ANNEE)).order_by("code").first()
        assert year_objective is not None
        etat = usines.utilisateur("ddt-rapports", Role.ETAT, departement=year_objective.code_territoire)
        bailleur = usines.utilisateur("bailleur-rapports", Role.BAILLEUR, organismes=[organisme])
        cible = f"objectif:{year_objective.code}:departement:{year_objective.code_territoire}:{ANNEE}"
        question = Commentaire.objects.create(
            convention=convention, auteur=etat, etape="evaluation", cible=cible, texte="Pourquoi cet écart en 2023 ?"
        )
        Commentaire.objects.create(
            convention=convention,
            auteur=bailleur,
            etape="evaluation",
            cible=cible,
            texte="Livraisons reportées à 2024.",
            reponse_a=question,
        )
        _, rows = suivi.lignes(convention, list(convention.objectifs.filter(periode=str(ANNEE))))
        evaluation = suivi.evaluation(convention, 3)
        result = Documents(
            convention.pk,
            _plain(rows),
            _plain(evaluation["lignes"]),
            # the état des lieux' count, else the dwellings of the RPLS implantations
            logements(convention.etat_des_lieux) or sum(i.logements for i in organisme.implantations.all()),
        )
        document = bilan.construire_bilan(convention, ANNEE)
        result.pdfs["bilan"] = bilan.rendre(document, [], "pdf")  # type: ignore[assignment]
        result.html_bilan = str(bilan.rendre(document, [], "html"))
        result.rows, _, _ = bilan.donnees_bilan(convention, ANNEE)
        result.xlsx = bilan.bilan(convention, ANNEE, "xlsx")[1]  # type: ignore[assignment]
        result.ods = bilan.bilan(convention, ANNEE, "ods")[1]  # type: ignore[assignment]
        result.pdfs["evaluation"] = bilan.evaluation(convention, 3, "pdf")[1]  # type: ignore[assignment]
        main_implantation = organisme.implantations.order_by("-logements").first()
        assert main_implantation is not None
        region = synthese.choisir_region(main_implantation.region)
        result.synthese_donnees = synthese.donnees_synthese(region, 2)
        result.pdfs["synthese"] = synthese.produire(region, 2, "pdf")[1]  # type: ignore[assignment]
        result.synthese_xlsx = synthese.produire(region, 2, "xlsx")[1]  # type: ignore[assignment]
        transaction.set_rollback(True)
    result.texte_bilan = texte_pdf(result.pdfs["bilan"], tmp)
    result.texte_evaluation = texte_pdf(result.pdfs["evaluation"], tmp, "-raw")
    result.texte_synthese = texte_pdf(result.pdfs["synthese"], tmp, "-raw")
    yield result


@pytest.mark.lent  # the module's documents take about 15 s to build (once)
def test_le_bilan_a_ses_parties_et_dit_les_chiffres_publies(docs: Documents) -> None:
    text = docs.texte_bilan
    for title in ("Bilan annuel 2023", "Synthèse de l'année", "Réalisé et objectifs", "Évolution des principaux"):
        assert title in text
    assert "Explications et commentaires" in text and "Livraisons reportées à 2024." in text
    assert len(docs.lignes) > 10
    lines = text.splitlines()
    for row in docs.lignes:
        assert row["valeur"] is not None
        expected = [fr(row["numerateur"]), fr(row["valeur"]), fr(row["objectif"]), row["statut"]]
        # the table row: code and territory first, then numerator, denominator, realised, objective, status
        found = [
            line
            for line in lines
            if line.strip().startswith(row["code"] + " ")
            and f"({row['territoire']})" in line
            and all(e in line for e in expected)
        ]
        assert found, (row, expected)


@pytest.mark.lent  # the module's documents take about 15 s to build (once)
def test_le_bilan_compte_les_statuts_de_suivi_lignes(docs: Documents) -> None:
    counts = Counter(r["statut"] for r in docs.lignes)
    measured = counts["atteint"] + counts["partiellement atteint"] + counts["non atteint"]
    assert counts["atteint"] and counts["non atteint"]  # the objectives were set on both sides of the results
    text = docs.texte_bilan
    assert f"{measured} ont une valeur publiée" in text
    assert f"{counts['atteint']} atteint(s) ({round(100 * counts['atteint'] / measured)} %)" in text
    assert f"{counts['non atteint']} non atteint(s)" in text
    # the status classes colour the rows of the HTML the PDF is made of
    assert docs.html_bilan.count('class="statut-atteint"') == counts["atteint"]
    assert docs.html_bilan.count('class="statut-non-atteint"') == counts["non atteint"]
    assert docs.html_bilan.count('class="statut-partiellement-atteint"') == counts["partiellement atteint"]


@pytest.mark.lent  # the module's documents take about 15 s to build (once)
def test_le_bilan_trace_les_tendances_avec_leurs_tableaux(docs: Documents) -> None:
    assert docs.html_bilan.count('role="img"') >= 2  # statuses + at least one trend
    assert "réalisé et objectif par année" in docs.texte_bilan


@pytest.mark.lent  # the module's documents take about 15 s to build (once)
def test_l_evaluation_dit_l_avis_de_l_etat_et_le_plafond(docs: Documents) -> None:
    text = docs.texte_evaluation
    for phrase in ("Évaluation à 3 ans", "Période évaluée 2019-2021", COMMENTAIRE_ETAT, EXPLICATION):
        assert compact(phrase) in text
    assert compact("Engagement partiellement respecté") in text
    counts = Counter(r["statut"] for r in docs.lignes_3ans)
    measured = counts["atteint"] + counts["partiellement atteint"] + counts["non atteint"]
    pct = round(100 * counts["atteint"] / measured)
    assert compact(f"{counts['atteint']} engagements sur {measured} respectés, {pct} %") in text
    assert docs.logements
    plafond = 100 * docs.logements + 12345.5
    assert compact(f"Plafond de la pénalité {fr(plafond)} €") in text
    assert compact(f"Exonération de TFPB de la dernière année {fr(12345.5)} €") in text


@pytest.mark.lent  # the module's documents take about 15 s to build (once)
def test_la_synthese_regionale_a_ses_tables(docs: Documents) -> None:
    data = docs.synthese_donnees
    text = docs.texte_synthese
    assert compact("Synthèse régionale") in text and compact("Engagements hors trajectoire par bailleur") in text
    pct = round(100 * data["atteints"] / data["mesures"])
    assert compact(f"{pct} % des objectifs atteints ({data['atteints']} engagements atteints") in text
    assert data["conventions"] and data["indicateurs"]["lignes"]
    # the State console's off-track count (kept per convention, every territory) agrees with the statuses
    # counted here on the région's objectives: equal when none lies outside, never smaller
    console = [c["hors_trajectoire"] for c in data["conventions"]]
    here = [b["hors_trajectoire"] for b in data["bailleurs"]]
    assert console == here if data["hors_region"] == 0 else all(a >= b for a, b in zip(console, here, strict=True))
    assert sum(here) > 0
    assert compact("Seuls comptent les objectifs dont le territoire est dans la région") in text
    for row in data["indicateurs"]["lignes"][:5]:
        assert compact(f"{row['code']} {row['libelle']}") in text
        assert compact(fr(row["valeur"])) in text


@pytest.mark.lent  # the module's documents take about 15 s to build (once)
def test_le_tableur_du_bilan_relu_donne_les_memes_valeurs(docs: Documents, tmp_path: Path) -> None:
    numbers = ("objectif", "numerateur", "denominateur", "realise")
    expected = [
        {k: (round(v, 6) if k in numbers and v is not None else v) for k, v in r.items() if not k.startswith("_")}
        for r in docs.rows
    ]
    for fmt, content in (("xlsx", docs.xlsx), ("ods", docs.ods)):
        path = tmp_path / f"bilan.{fmt}"
        path.write_bytes(content)
        back = tableur.lire(path)
        assert back == expected, fmt
    by_key = {(r["code"], r["territoire"]): r for r in expected}
    for row in docs.lignes:
        found = by_key[(row["code"], row["territoire"])]
        assert (found["numerateur"], found["realise"], found["objectif"], found["statut"]) == (
            row["numerateur"],
            round(row["valeur"], 6),
            row["objectif"],
            row["statut"],
        )


@pytest.mark.lent  # the module's documents take about 15 s to build (once)
def test_pages_en_png(docs: Documents, tmp_path: Path) -> None:
    """Visual check: the first pages of each document as PNG in artefacts/rapports/."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm absent (paquet poppler-utils) : pas de rendu PNG des pages")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for name, pdf in docs.pdfs.items():
        source = tmp_path / f"{name}.pdf"
        source.write_bytes(pdf)
        for old in ARTEFACTS.glob(f"{name}-*.png"):
            old.unlink()
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-l", "6", str(source), str(ARTEFACTS / name)], check=True, timeout=120
        )
        pages = sorted(ARTEFACTS.glob(f"{name}-*.png"))
        assert pages and all(p.stat().st_size > 2000 for p in pages)


# --- small hand-built worlds ----------------------------------------------------------------------------------


@pytest.fixture
def monde(db: None) -> usines.Monde:
    return usines.monde()


def test_pourcentage_de_la_synthese_calcule_a_la_main(monde: usines.Monde) -> None:
    """Region 84: 8 measured engagements in the région, 6 met (75 %); one without result is not counted; the
    objectives outside the région (département 13, Toulouse, Toulouse Métropole) are not counted; region 76 apart.
    Once the landlord also owns dwellings in région 93, its landlord-wide objective and the EPCI the built-in
    geography does not place are no longer counted either (4 met out of 6)."""
    c, o = monde.convention, monde.organisme
    c.statut = Statut.SUIVI
    c.save()
    # the factory's objective PP-1 departement 69 2019-2024 = 3 → realised 5: met
    usines.resultat(o, "PP-1", "departement", "69", "2019-2024", 5, None, 5, unite="logements")
    engagements = [
        ("PP-2", "departement", "69", 40.0, 30.0),  # met
        ("PP-3", "departement", "69", 12.0, 10.0),  # met
        ("PS-1", "departement", "69", 20.0, 50.0),  # not met
        ("PP-2", "commune", "69123", 40.0, 30.0),  # Lyon: met
        ("PP-2", "epci", "200046977", 10.0, 30.0),  # Métropole de Lyon: not met
        ("PP-2", "bailleur", o.code, 40.0, 30.0),  # the whole stock, all in région 84: met
        ("PP-2", "epci", "200099999", 40.0, 30.0),  # unknown to the built-in geography: met
        ("PP-2", "departement", "13", 10.0, 30.0),  # outside the région: not counted
        ("PP-2", "commune", "31555", 10.0, 30.0),  # Toulouse: not counted
        ("PP-2", "epci", "243100518", 40.0, 30.0),  # Toulouse Métropole: not counted
    ]
    for code, maille, territoire, value, objective in engagements:
        Objectif.objects.create(
            convention=c, code=code, maille=maille, code_territoire=territoire, periode="2021", valeur=objective
        )
        usines.resultat(o, code, maille, territoire, "2021", value, 100, value)
    Objectif.objects.create(
        convention=c, code="SR-1", maille="departement", code_territoire="01", periode="2021", valeur=80
    )
    data = synthese.donnees_synthese("84", 2)
    assert (data["atteints"], data["mesures"], data["hors_region"]) == (6, 8, 3)
    assert data["statuts"] == {"atteint": 6, "non atteint": 2, "non publié": 1}
    assert [r["bailleur"] for r in data["conventions"]] == ["Habitat du Rhône"]
    landlord = data["bailleurs"][0]
    assert (landlord["engagements"], landlord["hors_trajectoire"], landlord["part_atteints"]) == (9, 2, 75.0)
    # the conventions table keeps the State console's count, over every territory: 13 and Toulouse too
    assert data["conventions"][0]["hors_trajectoire"] == 4
    doc = synthese.document(data)
    text = normaliser(doc.couverture[-1][1])
    assert text == "75 % des objectifs atteints (6 engagements atteints sur 8 mesurés)"
    notes = " ".join(b.texte for b in doc.parties[0].blocs if isinstance(b, Paragraphe))
    assert "3 objectif(s) d'un territoire hors de la région ne sont pas comptés ici." in notes
    with pytest.raises(DocumentError, match="précisez --region CODE parmi 76, 84"):
        synthese.choisir_region(None)

    Implantation.objects.create(organisme=o, departement="13", region="93", logements=10)
    data = synthese.donnees_synthese("84", 2)
    assert (data["atteints"], data["mesures"], data["hors_region"]) == (4, 6, 5)
    assert normaliser(synthese.document(data).couverture[-1][1]).startswith("67 % des objectifs atteints")


def _petit_monde(monde: usines.Monde) -> Convention:
    c = monde.convention
    c.statut = Statut.SUIVI
    c.save()
    Objectif.objects.create(
        convention=c, code="PP-2", maille="departement", code_territoire="69", periode="2021", valeur=30
    )
    usines.resultat(monde.organisme, "PP-2", "departement", "69", "2021", 40, 100, 40.0)
    return c


def test_annee_hors_convention_ou_sans_publication(monde: usines.Monde) -> None:
    c = monde.convention
    with pytest.raises(DocumentError, match="Aucune publication de résultats"):
        bilan.construire_bilan(c, 2021)
    _petit_monde(monde)
    with pytest.raises(DocumentError, match=r"L'année 2030 est hors de la convention .* \(2019-2024\)"):
        bilan.construire_bilan(c, 2030)
    with pytest.raises(DocumentError, match="Horizon d'évaluation 4 inconnu"):
        bilan.construire_evaluation(c, 4)


def test_la_commande_ecrit_le_fichier_ou_rien(monde: usines.Monde, tmp_path: Path, capsys: Any) -> None:
    c = _petit_monde(monde)
    target = tmp_path / "bilan.xlsx"
    assert (
        main(
            [
                "rapport",
                "bilan",
                "--convention",
                str(c.pk),
                "--annee",
                "2021",
                "--format",
                "xlsx",
                "--sortie",
                str(target),
            ]
        )
        == 0
    )
    rows = tableur.lire(target)
    assert [(r["code"], r["realise"], r["objectif"], r["statut"]) for r in rows] == [("PP-2", 40.0, 30.0, "atteint")]
    missing = tmp_path / "rien.pdf"
    code = main(["rapport", "bilan", "--convention", str(c.pk), "--annee", "2031", "--sortie", str(missing)])
    assert code != 0 and not missing.exists()
    assert "L'année 2031 est hors de la convention" in "".join(capsys.readouterr())
    html = tmp_path / "evaluation.html"
    assert (
        main(
            [
                "rapport",
                "evaluation",
                "--convention",
                str(c.pk),
                "--horizon",
                "3",
                "--format",
                "html",
                "--sortie",
                str(html),
            ]
        )
        == 0
    )
    assert "Évaluation à 3 ans" in html.read_text(encoding="utf-8")
    synthesis = tmp_path / "synthese.xlsx"
    code = main(["rapport", "synthese-regionale", "--region", "84", "--format", "xlsx", "--sortie", str(synthesis)])
    assert code == 0 and synthesis.stat().st_size > 0
    assert main(["rapport", "synthese-regionale", "--region", "99", "--sortie", str(tmp_path / "x.pdf")]) != 0
    assert "Région 99 inconnue" in "".join(capsys.readouterr())
