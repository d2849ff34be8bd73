"""The yearly follow-up report (bilan) and the evaluations at 3 and 6 years, as a `modele.Document`.

The figures are those of the follow-up and evaluation pages (`conventions.suivi`: the active publication,
database only); one list of engagement rows feeds the document and its spreadsheet (`tableur`), so the
PDF, the DOCX, the HTML, the XLSX and the ODS always say the same thing.

`lecteur` (a web user) narrows what the document shows to what that user reads on the pages: a
collectivity sees the engagements of its territory only, and the comments it may read.
"""

import argparse
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .. import graphiques
from ..comptes.models import Role, Utilisateur
from ..conventions import commentaires, engagements, regles, suivi
from ..conventions.models import Appreciation, Commentaire, Convention, Objectif
from ..indicateurs.catalogue import POLICY_LABELS
from . import tableur
from .docx import document_docx
from .modele import Bloc, Document, Encadre, Figure, Paragraphe, Partie, Tableau, Titre
from .rendu import DocumentError, document_html, document_pdf
from .selection import convention_choisie, ecrire, phrase, provenance, sortie
from .territoires import libelle

MESURES = ("atteint", "partiellement atteint", "non atteint")  # statuses of an engagement with a published value
STATUTS = (*MESURES, "non calculable", "non publié")
AVIS = dict(Appreciation.AVIS)
# chart labels must fit the chart's left margin (about 24 characters)
AVIS_COURTS = {
    AVIS["respecte"]: "respecté",
    AVIS["partiel"]: "partiellement respecté",
    AVIS["non_respecte"]: "non respecté",
    AVIS["non_imputable"]: "écart non imputable",
    "Sans avis de l'État": "sans avis",
}
TENDANCES_MAX = 6
NOMBRE: list[Any] = ["nombre"]


def chiffre(value: float | None) -> str:
    """As on the web pages: 1 234 for a whole number, 12,35 otherwise, « — » when missing."""
    if value is None or math.isnan(value):
        return "—"
    if float(value).is_integer():
        return graphiques.nombre(float(value), 0)
    return graphiques.nombre(round(float(value), 2), 2)


def classe_statut(statut: str) -> str:
    return f"statut-{statut.replace(' ', '-')}" if statut in MESURES else ""


def pourcentage(part: int, total: int) -> str:
    return f"{graphiques.nombre(100 * part / total, 0)}\u202f%" if total else "—"


def texte_provenance() -> tuple[str, str]:
    """(sentence stated on the cover and the last page, ISO date of the publication); error if none."""
    p = provenance()
    if p["publication"] is None:
        raise DocumentError(
            "Aucune publication de résultats d'indicateurs : importez les données (page « Imports » de "
            "l'application ou `cus demo`) pour en publier avant de produire ce document."
        )
    return f"{phrase(p)}.", p["date"]


def etiquette(text: str, width: int = 24) -> str:
    """A label short enough for the left margin of a horizontal bar chart."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# --- engagement rows ----------------------------------------------------------------------------------------


def engagements_lignes(convention: Convention, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`suivi` rows as flat rows (the spreadsheet's columns), in policy then code order."""
    order = {p: i for i, p in enumerate(POLICY_LABELS)}
    flat = []
    for row in rows:
        o: Objectif = row["objectif"]
        indicator = engagements.indicator(convention, o.code)
        politique = indicator.politique if indicator else ""
        appreciation: Appreciation | None = row.get("appreciation")
        flat.append(
            {
                "code": o.code,
                "libelle": row["libelle"],
                "politique": POLICY_LABELS.get(politique, "Hors catalogue"),
                "_ordre": order.get(politique, len(order)),
                "maille": o.maille,
                "territoire": o.code_territoire,
                "periode": o.periode,
                "unite": row["unite"],
                "objectif": o.valeur,
                "numerateur": row["numerateur"],
                "denominateur": row["denominateur"],
                "realise": row["valeur"],
                "statut": row["statut"],
                "avis_etat": AVIS.get(appreciation.avis_etat, "") if appreciation else "",
                "commentaire_etat": appreciation.commentaire_etat if appreciation else "",
                "explication_bailleur": appreciation.explication_bailleur if appreciation else "",
            }
        )
    flat.sort(key=lambda r: (r["_ordre"], r["code"], r["maille"] != "bailleur", r["territoire"], r["periode"]))
    return flat


def compter(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(r["statut"] for r in rows)
    return {s: counts[s] for s in STATUTS if counts[s]}


def _territoire(maille: str, code: str) -> str:
    return libelle(maille, code)


def _tableaux_par_politique(rows: list[dict[str, Any]], avis: bool) -> list[Bloc]:
    blocs: list[Bloc] = []
    columns = ["Indicateur", "Libellé", "Territoire", "Numérateur", "Dénominateur", "Réalisé", "Objectif", "Statut"]
    alignements: list[Any] = ["texte", "texte", "texte", *NOMBRE * 4, "texte"]
    if avis:
        columns.append("Avis de l'État")
        alignements.append("texte")
    for politique in dict.fromkeys(r["politique"] for r in rows):
        mine = [r for r in rows if r["politique"] == politique]
        lignes = []
        for r in mine:
            line = [
                r["code"],
                r["libelle"],
                _territoire(r["maille"], r["territoire"]),
                chiffre(r["numerateur"]),
                chiffre(r["denominateur"]),
                chiffre(r["realise"]),
                chiffre(r["objectif"]),
                r["statut"],
            ]
            lignes.append([*line, r["avis_etat"] or "—"] if avis else line)
        slug = politique.lower().replace(" ", "-").replace("é", "e")
        blocs.append(Titre(politique, 3, f"politique-{slug}"))
        blocs.append(
            Tableau(
                legende=f"{politique} : réalisé et objectif de chaque engagement",
                colonnes=columns,
                lignes=lignes,
                alignements=alignements,
                classes=[classe_statut(r["statut"]) for r in mine],
            )
        )
    return blocs


def _figure_statuts(counts: dict[str, int], titre: str) -> Figure:
    return Figure(
        graphiques.barres_horizontales(titre, counts),
        titre,
        Tableau(
            legende=titre,
            colonnes=["Statut", "Engagements"],
            lignes=[[s, n] for s, n in counts.items()],
            alignements=["texte", "nombre"],
        ),
    )


def _commentaires(
    convention: Convention, lecteur: Utilisateur | None, pertinent: Any, vide: str
) -> list[Bloc]:  # fmt: skip
    """The State's and the landlord's comments about these engagements (answers follow their comment)."""
    found = commentaires.visibles(lecteur, convention) if lecteur else convention.commentaires.select_related("auteur")
    found = found.filter(auteur__role__in=(Role.ETAT, Role.BAILLEUR))
    kept: list[Commentaire] = []
    ids: set[int] = set()
    for c in found:
        if (c.reponse_a_id in ids) or (not c.reponse_a_id and pertinent(c)):
            kept.append(c)
            ids.add(c.pk)
    if not kept:
        return [Paragraphe(vide)]
    labels = dict(commentaires.cibles(convention))
    rows = []
    for c in kept:
        auteur = f"{Role(c.auteur.role).label} — {c.auteur.get_full_name() or c.auteur.username}"
        objet = "Réponse" if c.reponse_a_id else labels.get(c.cible, c.cible or "Convention entière")
        rows.append([c.cree_le.date().isoformat(), auteur, objet, c.texte])
    return [
        Tableau(
            legende="Explications du bailleur et commentaires de l'État",
            colonnes=["Date", "Auteur", "Objet", "Texte"],
            lignes=rows,
        )
    ]


def _cible_de(rows: list[dict[str, Any]], etape: str | None = None) -> Any:
    """Whether a comment is about one of these engagements (or, at `etape`, about the whole convention)."""
    exact = {f"objectif:{r['code']}:{r['maille']}:{r['territoire']}:{r['periode']}" for r in rows}
    grouped = {f"objectif:{r['code']}:{r['maille']}:{r['territoire']}" for r in rows}

    def pertinent(c: Commentaire) -> bool:
        return c.cible in exact or c.cible in grouped or (etape is not None and c.etape == etape and not c.cible)

    return pertinent


def _couverture(convention: Convention, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    o = convention.organisme
    return [
        ("Organisme", f"{o.nom} ({o.code})"),
        ("Convention", str(convention)),
        ("Période de la convention", f"{convention.annee_debut}-{convention.annee_fin}"),
        ("Étape", convention.get_statut_display()),
        *extra,
    ]


# --- the yearly bilan ---------------------------------------------------------------------------------------


def donnees_bilan(
    convention: Convention, annee: int, lecteur: Utilisateur | None = None
) -> tuple[list[dict[str, Any]], str, str]:  # fmt: skip
    """(engagement rows of the year, provenance sentence, publication date); French error if impossible."""
    if not convention.annee_debut <= annee <= convention.annee_fin:
        raise DocumentError(
            f"L'année {annee} est hors de la convention « {convention} » "
            f"({convention.annee_debut}-{convention.annee_fin})."
        )
    sentence, date = texte_provenance()
    territoire = _territoire_lecteur(lecteur)
    _, rows = suivi.lignes(convention, list(convention.objectifs.filter(periode=str(annee))), territoire)
    return engagements_lignes(convention, rows), sentence, date


def _territoire_lecteur(lecteur: Utilisateur | None) -> tuple[str, list[str]] | None:
    from ..comptes.perimetre import territoires_resultats

    return territoires_resultats(lecteur) if lecteur else None


def construire_bilan(convention: Convention, annee: int, lecteur: Utilisateur | None = None) -> Document:
    rows, sentence, date = donnees_bilan(convention, annee, lecteur)
    counts = compter(rows)
    measured = sum(counts.get(s, 0) for s in MESURES)
    met = counts.get("atteint", 0)
    synthese: list[Bloc] = [
        Paragraphe(
            f"L'année {annee} compte {len(rows)} engagement(s) chiffré(s). {measured} ont une valeur publiée : "
            f"{met} atteint(s) ({pourcentage(met, measured)}), {counts.get('partiellement atteint', 0)} "
            f"partiellement atteint(s), {counts.get('non atteint', 0)} non atteint(s). "
            f"{counts.get('non publié', 0) + counts.get('non calculable', 0)} sans valeur publiée ou calculable."
        )
    ]
    if counts:
        synthese.append(_figure_statuts(counts, f"Engagements {annee} par statut"))
    if lecteur and _territoire_lecteur(lecteur):
        synthese.append(Paragraphe("Engagements de votre territoire seulement.", "note"))
    parties = [
        Partie("Synthèse de l'année", "synthese", synthese),
        Partie(
            "Réalisé et objectifs",
            "engagements",
            _tableaux_par_politique(rows, avis=False) or [Paragraphe(f"Aucun engagement pour l'année {annee}.")],
            paysage=True,
        ),
        Partie("Évolution des principaux indicateurs", "tendances", _tendances(convention, rows)),
        Partie(
            "Explications et commentaires",
            "commentaires",
            _commentaires(convention, lecteur, _cible_de(rows), f"Aucun commentaire sur les engagements de {annee}."),
        ),
    ]
    return Document(
        titre=f"Bilan annuel {annee}",
        sous_titre=f"{convention.organisme.nom} — {convention}",
        bandeau=f"Convention d'utilité sociale {convention.annee_debut}-{convention.annee_fin} — suivi annuel",
        couverture=_couverture(convention, [("Année du bilan", str(annee)), ("Engagements", str(len(rows)))]),
        parties=parties,
        provenance=sentence,
        date=date,
        nom_fichier=f"bilan-{annee}-convention-{convention.pk}",
    )


def _tendances(convention: Convention, rows: list[dict[str, Any]]) -> list[Bloc]:
    """Objective and realised over the convention's years, for the first engagements of the year (landlord-wide
    first, then by département), at most TENDANCES_MAX charts."""
    from ..tableaux.requetes import active_publication, trend

    publication = active_publication()
    years = [str(y) for y in range(convention.annee_debut, convention.annee_fin + 1)]
    chosen: dict[str, dict[str, Any]] = {}
    for r in rows:
        chosen.setdefault(r["code"], r)
    blocs: list[Bloc] = []
    for r in list(chosen.values())[:TENDANCES_MAX]:
        if publication is None:
            break
        realised = trend(
            publication, convention.generation, r["code"], r["maille"], r["territoire"], convention.organisme
        )
        objectives = dict(
            convention.objectifs.filter(
                code=r["code"], maille=r["maille"], code_territoire=r["territoire"], periode__in=years
            ).values_list("periode", "valeur")
        )
        title = f"{r['code']} — {_territoire(r['maille'], r['territoire'])}"
        unit = f" {r['unite']}" if r["unite"] else ""
        series: dict[str, Sequence[float | None]] = {
            "Réalisé": [realised.get(y) for y in years],
            "Objectif": [objectives.get(y) for y in years],
        }
        blocs.append(
            Figure(
                graphiques.courbe(title, years, series, unit),
                f"{r['libelle']} ({_territoire(r['maille'], r['territoire'])}) : réalisé et objectif par année",
                Tableau(
                    legende=f"{title} : réalisé et objectif par année",
                    colonnes=["Année", "Réalisé", "Objectif"],
                    lignes=[[y, chiffre(realised.get(y)), chiffre(objectives.get(y))] for y in years],
                    alignements=["texte", "nombre", "nombre"],
                ),
            )
        )
    return blocs or [Paragraphe("Aucun engagement chiffré cette année : pas de série à tracer.")]


# --- the evaluation at 3 or 6 years ---------------------------------------------------------------------------


def donnees_evaluation(
    convention: Convention, horizon: int, lecteur: Utilisateur | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], str, str]:  # fmt: skip
    if horizon not in regles.horizons():
        raise DocumentError(
            f"Horizon d'évaluation {horizon} inconnu (horizons : {', '.join(map(str, regles.horizons()))})."
        )
    last = convention.annee_debut + horizon - 1
    if last > convention.annee_fin:
        raise DocumentError(
            f"L'évaluation à {horizon} ans irait jusqu'en {last}, "
            f"après la fin de la convention ({convention.annee_fin})."
        )
    sentence, date = texte_provenance()
    data = suivi.evaluation(convention, horizon, _territoire_lecteur(lecteur))
    return data, engagements_lignes(convention, data["lignes"]), sentence, date


def resume_evaluation(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """N engagements respected out of M: M = engagements with a published value, N = those « atteint »."""
    counts = compter(rows)
    measured = sum(counts.get(s, 0) for s in MESURES)
    met = counts.get("atteint", 0)
    avis = Counter(r["avis_etat"] or "Sans avis de l'État" for r in rows)
    return {"statuts": counts, "mesures": measured, "respectes": met, "taux": pourcentage(met, measured), "avis": avis}


def construire_evaluation(convention: Convention, horizon: int, lecteur: Utilisateur | None = None) -> Document:
    data, rows, sentence, date = donnees_evaluation(convention, horizon, lecteur)
    periode = data["periode"]
    resume = resume_evaluation(rows)
    phrase = f"{resume['respectes']} engagements sur {resume['mesures']} respectés, {resume['taux']}"
    synthese: list[Bloc] = [
        Encadre("Résultat de l'évaluation", f"{phrase} (période {periode})."),
        Paragraphe(
            f"Un engagement est compté comme respecté quand sa valeur publiée atteint l'objectif cumulé de la "
            f"période ; les {len(rows) - resume['mesures']} engagement(s) sans valeur publiée ou calculable ne sont "
            f"pas comptés. L'avis de l'État est donné à part.",
            "note",
        ),
    ]
    if resume["statuts"]:
        synthese.append(_figure_statuts(resume["statuts"], f"Engagements {periode} par statut calculé"))
    avis_order = [*AVIS.values(), "Sans avis de l'État"]
    avis_counts = {AVIS_COURTS[a]: resume["avis"][a] for a in avis_order if resume["avis"][a]}
    if avis_counts:
        synthese.append(_figure_statuts(avis_counts, "Avis de l'État par engagement"))
    parties = [
        Partie("Synthèse de l'évaluation", "synthese", synthese),
        Partie(
            "Engagements de la période",
            "engagements",
            _tableaux_par_politique(rows, avis=True) or [Paragraphe(f"Aucun engagement sur la période {periode}.")],
            paysage=True,
        ),
        Partie("Appréciations de l'État et explications du bailleur", "appreciations", _appreciations(rows)),
        Partie("Plafond de la pénalité", "penalite", _penalite(data)),
        Partie(
            "Commentaires",
            "commentaires",
            _commentaires(
                convention, lecteur, _cible_de(rows, "evaluation"), "Aucun commentaire sur les engagements évalués."
            ),
        ),
    ]
    return Document(
        titre=f"Évaluation à {horizon} ans",
        sous_titre=f"{convention.organisme.nom} — {convention}",
        bandeau=f"Convention d'utilité sociale {convention.annee_debut}-{convention.annee_fin} — évaluation",
        couverture=_couverture(convention, [("Période évaluée", periode), ("Résultat", phrase)]),
        parties=parties,
        provenance=sentence,
        date=date,
        nom_fichier=f"evaluation-{horizon}-ans-convention-{convention.pk}",
    )


def _appreciations(rows: list[dict[str, Any]]) -> list[Bloc]:
    noted = [r for r in rows if r["avis_etat"] or r["commentaire_etat"] or r["explication_bailleur"]]
    if not noted:
        return [Paragraphe("Aucune appréciation saisie pour cette évaluation.")]
    return [
        Tableau(
            legende="Avis et commentaire de l'État, explication du bailleur, par engagement",
            colonnes=["Engagement", "Avis de l'État", "Commentaire de l'État", "Explication du bailleur"],
            lignes=[
                [
                    f"{r['code']} — {_territoire(r['maille'], r['territoire'])}",
                    r["avis_etat"] or "—",
                    r["commentaire_etat"] or "—",
                    r["explication_bailleur"] or "—",
                ]
                for r in noted
            ],
        )
    ]


def _penalite(data: dict[str, Any]) -> list[Bloc]:
    def euros(value: Any) -> str:
        return "non saisie" if value is None else f"{chiffre(float(value))}\u00a0€"

    plafond = data["plafond"]
    return [
        Tableau(
            legende="Plafond de la pénalité",
            colonnes=["Terme", "Valeur"],
            lignes=[
                ["Logements", chiffre(data["logements"]) if data["logements"] is not None else "inconnu"],
                ["Montant par logement", euros(data["plafond_par_logement"])],
                ["Exonération de TFPB de la dernière année", euros(data["exoneration_tfpb"])],
                ["Plafond de la pénalité", euros(plafond) if plafond is not None else "non calculable"],
            ],
            alignements=["texte", "nombre"],
        ),
        Paragraphe(
            "Plafond = montant par logement × logements + exonération de TFPB de la dernière année. "
            + (
                "Estimation indicative : la pénalité éventuelle est fixée par l'État."
                if plafond is not None
                else "Non calculable tant que l'exonération de TFPB et le nombre de logements ne sont pas connus."
            ),
            "note",
        ),
    ]


# --- formats and commands -----------------------------------------------------------------------------------


def classeur(document: Document) -> tableur.Classeur:
    facts = [(label, value) for label, value in document.couverture if label in ("Organisme", "Convention")]
    return tableur.Classeur(f"{document.titre} — {document.sous_titre}", facts, document.provenance, document.date)


def rendre(document: Document, rows: list[dict[str, Any]], fmt: str) -> bytes | str:
    """The document in one of the formats: pdf, html, docx, or the spreadsheet of its rows (xlsx, ods)."""
    if fmt == "pdf":
        return document_pdf(document)
    if fmt == "html":
        return document_html(document)
    if fmt == "docx":
        return document_docx(document)
    if fmt in ("xlsx", "ods"):
        clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        return tableur.xlsx(clean, classeur(document)) if fmt == "xlsx" else tableur.ods(clean, classeur(document))
    raise DocumentError(f"Format inconnu : {fmt} (pdf, html, docx, xlsx ou ods).")


def bilan(
    convention: Convention, annee: int, fmt: str, lecteur: Utilisateur | None = None
) -> tuple[Document, bytes | str]:
    document = construire_bilan(convention, annee, lecteur)
    rows, _, _ = donnees_bilan(convention, annee, lecteur) if fmt in ("xlsx", "ods") else ([], "", "")
    return document, rendre(document, rows, fmt)


def evaluation(
    convention: Convention, horizon: int, fmt: str, lecteur: Utilisateur | None = None
) -> tuple[Document, bytes | str]:  # fmt: skip
    document = construire_evaluation(convention, horizon, lecteur)
    rows = donnees_evaluation(convention, horizon, lecteur)[1] if fmt in ("xlsx", "ods") else []
    return document, rendre(document, rows, fmt)


def _ecrire(args: argparse.Namespace, document: Document, content: bytes | str) -> int:
    path = ecrire(sortie(args, document.nom_fichier), content)
    print(f"{document.titre} écrit : {path}")
    return 0


def commande_bilan(args: argparse.Namespace) -> int:
    document, content = bilan(convention_choisie(args), args.annee, args.format)
    return _ecrire(args, document, content)


def commande_evaluation(args: argparse.Namespace) -> int:
    document, content = evaluation(convention_choisie(args), args.horizon, args.format)
    return _ecrire(args, document, content)
