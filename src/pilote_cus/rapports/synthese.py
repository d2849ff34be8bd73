"""The regional synthesis for the State: conventions of a région, objectives met, engagements off track by
landlord, indicators consolidated for the région (all landlords summed), as a `modele.Document` or a workbook.

Definitions (stated in the document):
- the conventions are those (not replaced by an amendment) of the landlords owning dwellings in the région,
  of the chosen generation, within the reader's perimeter (the State's console and consolidation pages);
- an engagement is an objective of such a convention whose territory lies in the région
  (`tableaux.requetes.RegionTerritories`), any year or cumulated period; it is *measured* when the active
  publication gives it a value; the share of objectives met is the number of measured engagements whose
  status is « atteint » divided by the number of measured engagements;
- off track: « partiellement atteint » or « non atteint » (as on the State's console). The conventions
  table keeps the console's count, over every territory of the convention.
"""

import argparse
from collections import Counter
from typing import Any

from django.db.models import QuerySet, Sum

from .. import graphiques
from ..comptes.models import Implantation
from ..conventions import suivi
from ..conventions.models import Convention, Statut
from ..tableaux import requetes as q
from . import tableur
from .bilan import MESURES, chiffre, compter, etiquette, pourcentage, texte_provenance
from .modele import Bloc, Document, Encadre, Figure, Paragraphe, Partie, Tableau
from .rendu import DocumentError, document_html, document_pdf
from .selection import ecrire, sortie

TENDANCES_MAX = 4


def choisir_region(region: str | None) -> str:
    known = q.regions_known()
    if region:
        if region not in known:
            raise DocumentError(
                f"Région {region} inconnue : aucun bailleur n'y a de logements (régions : {_liste(known)})."
            )
        return region
    if len(known) == 1:
        return known[0]
    if not known:
        raise DocumentError("Aucune région connue : importez d'abord un fichier RPLS (`cus demo` ou page « Imports »).")
    raise DocumentError(f"{len(known)} régions présentes : précisez --region CODE parmi {_liste(known)}.")


def _liste(codes: list[str]) -> str:
    return ", ".join(codes) or "aucune"


def donnees_synthese(
    region: str, generation: int = 2, conventions: QuerySet[Convention] | None = None
) -> dict[str, Any]:  # fmt: skip
    """The synthesis' tables as plain rows (numbers as numbers): the document and the workbook use them."""
    sentence, date = texte_provenance()
    publication = q.active_publication()
    assert publication is not None  # texte_provenance refused otherwise
    base = conventions if conventions is not None else Convention.objects.all()
    in_region = (
        base.filter(generation=generation, organisme__implantations__region=region)
        .exclude(statut=Statut.REMPLACEE)
        .select_related("organisme")
        .distinct()
        .order_by("organisme__nom", "-version", "pk")
    )
    dwellings = dict(
        Implantation.objects.filter(region=region)
        .values("organisme")
        .annotate(n=Sum("logements"))
        .values_list("organisme", "n")
    )
    console = {r["pk"]: r for r in q.console_rows(in_region, publication)}
    territories = q.region_territories(region)
    conventions_rows, landlords = [], []
    totals: Counter[str] = Counter()
    outside = 0
    for c in in_region:
        objectives = list(c.objectifs.all())
        kept = [o for o in objectives if territories.contains(o.maille, o.code_territoire, c.organisme_id)]
        outside += len(objectives) - len(kept)
        _, lines = suivi.lignes(c, kept)
        counts = compter([{"statut": line["statut"]} for line in lines])
        totals.update(counts)
        measured = sum(counts.get(s, 0) for s in MESURES)
        conventions_rows.append(
            {
                "bailleur": c.organisme.nom,
                "identifiant": c.organisme.code,
                "convention": str(c),
                "periode": f"{c.annee_debut}-{c.annee_fin}",
                "statut": c.get_statut_display(),
                "logements": dwellings.get(c.organisme_id, 0),
                "hors_trajectoire": console[c.pk]["hors_trajectoire"],
            }
        )
        landlords.append(
            {
                "bailleur": c.organisme.nom,
                "convention": str(c),
                "engagements": len(lines),
                "mesures": measured,
                "atteints": counts.get("atteint", 0),
                "partiels": counts.get("partiellement atteint", 0),
                "non_atteints": counts.get("non atteint", 0),
                "hors_trajectoire": counts.get("partiellement atteint", 0) + counts.get("non atteint", 0),
                "part_atteints": round(100 * counts.get("atteint", 0) / measured, 1) if measured else None,
            }
        )
    measured = sum(totals.get(s, 0) for s in MESURES)
    return {
        "region": region,
        "generation": generation,
        "provenance": sentence,
        "date": date,
        "chiffres": q.region_figures(region, base),
        "conventions": conventions_rows,
        "bailleurs": landlords,
        "statuts": {s: totals[s] for s in (*MESURES, "non calculable", "non publié") if totals[s]},
        "mesures": measured,
        "atteints": totals.get("atteint", 0),
        "hors_region": outside,
        "indicateurs": _indicateurs(publication, region, generation),
    }


def _indicateurs(publication: Any, region: str, generation: int) -> dict[str, Any]:
    """The région's consolidated rows for the latest published year, and the trends of the first indicators."""
    years = [p for p in q.periods(publication, generation) if "-" not in p]
    if not years:
        return {"annee": "", "lignes": [], "tendances": []}
    f = q.Filtres(generation=generation, periode=years[-1])
    rows = [
        r for r in q.consolidated_rows(publication, region, q.region_departements(region), f) if r["maille"] == "region"
    ]
    by_code = q.indicators()
    lines = []
    for r in rows:
        indicator = by_code.get(r["indicateur"])
        lines.append(
            {
                "code": r["code"],
                "libelle": r["libelle"],
                "politique": q.policies().get(indicator.politique, "") if indicator else "",
                "numerateur": r["numerateur"],
                "denominateur": r["denominateur"],
                "valeur": r["valeur"],
                "unite": r["unite"],
            }
        )
    main = {r["code"] for r in rows if r["code"] == r["indicateur"]}  # no ventilation: one line per indicator
    with_value = [r for r in lines if r["valeur"] is not None and r["code"] in main]
    trends = []
    for r in with_value[:TENDANCES_MAX]:
        series = q.trend(publication, generation, r["code"], "region", region, None)
        trends.append({"code": r["code"], "libelle": r["libelle"], "unite": r["unite"], "serie": series})
    return {"annee": years[-1], "lignes": lines, "tendances": trends}


def construire_synthese(
    region: str, generation: int = 2, conventions: QuerySet[Convention] | None = None, perimetre: str = ""
) -> Document:  # fmt: skip
    data = donnees_synthese(region, generation, conventions)
    return document(data, perimetre)


def document(data: dict[str, Any], perimetre: str = "") -> Document:
    region, chiffres = data["region"], data["chiffres"]
    taux = pourcentage(data["atteints"], data["mesures"])
    phrase = f"{taux} des objectifs atteints ({data['atteints']} engagements atteints sur {data['mesures']} mesurés)"
    cover = [
        ("Région", region),
        ("Génération", str(data["generation"])),
        ("Bailleurs", str(chiffres["bailleurs"])),
        ("Conventions", str(len(data["conventions"]))),
        ("Logements (dernier RPLS)", chiffre(chiffres["logements"])),
        ("Objectifs", phrase),
    ]
    if perimetre:
        cover.insert(1, ("Périmètre", perimetre))
    parties = [
        Partie("Synthèse", "synthese", _synthese(data, phrase)),
        Partie("Conventions de la région", "conventions", [_tableau_conventions(data)], paysage=True),
        Partie("Engagements hors trajectoire par bailleur", "hors-trajectoire", _hors_trajectoire(data), paysage=True),
        Partie("Indicateurs consolidés de la région", "indicateurs", _indicateurs_blocs(data)),
    ]
    return Document(
        titre=f"Synthèse régionale — région {region}",
        sous_titre=f"Conventions d'utilité sociale de génération {data['generation']}",
        bandeau="Synthèse pour les services de l'État",
        couverture=cover,
        parties=parties,
        provenance=data["provenance"],
        date=data["date"],
        nom_fichier=f"synthese-regionale-{region}-g{data['generation']}",
    )


def _synthese(data: dict[str, Any], phrase: str) -> list[Bloc]:
    blocs: list[Bloc] = [
        Encadre("Production au regard des objectifs", f"{phrase}."),
        Paragraphe(
            "Un engagement est un objectif d'une convention de la région (toute année ou période cumulée) ; il est "
            "mesuré quand la publication active lui donne une valeur. La part des objectifs atteints est le nombre "
            "d'engagements mesurés au statut « atteint » rapporté au nombre d'engagements mesurés.",
            "note",
        ),
        Paragraphe(REGLE_TERRITOIRE + _hors_region(data["hors_region"]), "note"),
    ]
    if data["statuts"]:
        blocs.append(
            Figure(
                graphiques.barres_horizontales("Engagements de la région par statut", data["statuts"]),
                "Engagements de la région par statut",
                Tableau(
                    legende="Engagements de la région par statut",
                    colonnes=["Statut", "Engagements"],
                    lignes=[[s, n] for s, n in data["statuts"].items()],
                    alignements=["texte", "nombre"],
                ),
            )
        )
    return blocs


REGLE_TERRITOIRE = (
    "Seuls comptent les objectifs dont le territoire est dans la région (région, département, EPCI ou commune "
    "de la région) ; un objectif sur tout le parc du bailleur compte quand tous ses logements sont dans la région."
)


def _hors_region(count: int) -> str:
    if not count:
        return ""
    return f" {count} objectif(s) d'un territoire hors de la région ne sont pas comptés ici."


CONVENTION_COLUMNS = ["Bailleur", "Identifiant", "Convention", "Période", "Étape", "Logements", "Hors trajectoire"]
LANDLORD_COLUMNS = [
    "Bailleur",
    "Convention",
    "Engagements",
    "Mesurés",
    "Atteints",
    "Partiellement",
    "Non atteints",
    "Hors trajectoire",
    "Atteints (%)",
]
INDICATOR_COLUMNS = ["Code", "Indicateur", "Politique", "Numérateur", "Dénominateur", "Valeur", "Unité"]


def _tableau_conventions(data: dict[str, Any]) -> Tableau:
    return Tableau(
        legende="Conventions des bailleurs de la région",
        colonnes=CONVENTION_COLUMNS,
        lignes=[
            [
                r["bailleur"],
                r["identifiant"],
                r["convention"],
                r["periode"],
                r["statut"],
                chiffre(r["logements"]),
                chiffre(r["hors_trajectoire"]),
            ]
            for r in data["conventions"]
        ],
        alignements=["texte", "texte", "texte", "texte", "texte", "nombre", "nombre"],
        note=(
            "Logements : parc du bailleur dans la région au dernier RPLS. Hors trajectoire : le compte de la console "
            "de l'État, sur tous les territoires de la convention (le tableau par bailleur ne compte que ceux de "
            "la région)."
        ),
    )


def _hors_trajectoire(data: dict[str, Any]) -> list[Bloc]:
    rows = data["bailleurs"]
    if not rows:
        return [Paragraphe("Aucune convention dans la région.")]
    counts: dict[str, int] = {}
    for r in rows:
        label = etiquette(r["bailleur"])
        while label in counts:  # two conventions of one landlord, or two names alike once shortened
            label += " "
        counts[label] = r["hors_trajectoire"]
    return [
        Tableau(
            legende="Engagements par bailleur et statut",
            colonnes=LANDLORD_COLUMNS,
            lignes=[
                [
                    r["bailleur"],
                    r["convention"],
                    chiffre(r["engagements"]),
                    chiffre(r["mesures"]),
                    chiffre(r["atteints"]),
                    chiffre(r["partiels"]),
                    chiffre(r["non_atteints"]),
                    chiffre(r["hors_trajectoire"]),
                    pourcentage(r["atteints"], r["mesures"]),
                ]
                for r in rows
            ],
            alignements=["texte", "texte", "nombre", "nombre", "nombre", "nombre", "nombre", "nombre", "nombre"],
        ),
        Figure(
            graphiques.barres_horizontales("Engagements hors trajectoire par bailleur", counts),
            "Engagements hors trajectoire (partiellement ou non atteints) par bailleur",
            Tableau(
                legende="Engagements hors trajectoire par bailleur",
                colonnes=["Bailleur", "Convention", "Hors trajectoire"],
                lignes=[[r["bailleur"], r["convention"], r["hors_trajectoire"]] for r in rows],
                alignements=["texte", "texte", "nombre"],
            ),
        ),
    ]


def _indicateurs_blocs(data: dict[str, Any]) -> list[Bloc]:
    ind = data["indicateurs"]
    if not ind["lignes"]:
        return [Paragraphe("Aucun indicateur consolidé publié pour la région.")]
    blocs: list[Bloc] = [
        Tableau(
            legende=f"Indicateurs de la région {data['region']} en {ind['annee']}, tous bailleurs",
            colonnes=INDICATOR_COLUMNS,
            lignes=[
                [
                    r["code"],
                    r["libelle"],
                    r["politique"],
                    chiffre(r["numerateur"]),
                    chiffre(r["denominateur"]),
                    chiffre(r["valeur"]),
                    r["unite"],
                ]
                for r in ind["lignes"]
            ],
            alignements=["texte", "texte", "texte", "nombre", "nombre", "nombre", "texte"],
        )
    ]
    for t in ind["tendances"]:
        years = list(t["serie"])
        title = f"{t['code']} — évolution dans la région"
        blocs.append(
            Figure(
                graphiques.courbe(
                    title, years, {f"Région {data['region']}": list(t["serie"].values())}, f" {t['unite']}"
                ),
                f"{t['libelle']} : évolution annuelle dans la région",
                Tableau(
                    legende=title,
                    colonnes=["Année", "Valeur"],
                    lignes=[[y, chiffre(v)] for y, v in t["serie"].items()],
                    alignements=["texte", "nombre"],
                ),
            )
        )
    return blocs


def classeur_xlsx(data: dict[str, Any], perimetre: str = "") -> bytes:
    facts = [("Région", data["region"]), ("Génération", str(data["generation"]))]
    if perimetre:
        facts.append(("Périmètre", perimetre))
    facts.append(("Objectifs comptés", REGLE_TERRITOIRE + _hors_region(data["hors_region"])))
    sheets = [
        (
            "Conventions",
            CONVENTION_COLUMNS,
            [
                [
                    r["bailleur"],
                    r["identifiant"],
                    r["convention"],
                    r["periode"],
                    r["statut"],
                    r["logements"],
                    r["hors_trajectoire"],
                ]
                for r in data["conventions"]
            ],
        ),
        (
            "Atteinte par bailleur",
            LANDLORD_COLUMNS,
            [
                [
                    r["bailleur"],
                    r["convention"],
                    r["engagements"],
                    r["mesures"],
                    r["atteints"],
                    r["partiels"],
                    r["non_atteints"],
                    r["hors_trajectoire"],
                    r["part_atteints"],
                ]
                for r in data["bailleurs"]
            ],
        ),
        (
            "Indicateurs régionaux",
            INDICATOR_COLUMNS,
            [
                [r["code"], r["libelle"], r["politique"], r["numerateur"], r["denominateur"], r["valeur"], r["unite"]]
                for r in data["indicateurs"]["lignes"]
            ],
        ),
    ]
    classeur = tableur.Classeur(
        f"Synthèse régionale — région {data['region']}", facts, data["provenance"], data["date"]
    )
    return tableur.xlsx_feuilles(sheets, classeur)


def produire(
    region: str, generation: int, fmt: str, conventions: QuerySet[Convention] | None = None, perimetre: str = ""
) -> tuple[str, bytes | str]:  # fmt: skip
    """(file stem, content) of the synthesis in pdf, html or xlsx."""
    data = donnees_synthese(region, generation, conventions)
    doc = document(data, perimetre)
    if fmt == "pdf":
        return doc.nom_fichier, document_pdf(doc)
    if fmt == "html":
        return doc.nom_fichier, document_html(doc)
    if fmt == "xlsx":
        return doc.nom_fichier, classeur_xlsx(data, perimetre)
    raise DocumentError(f"Format inconnu pour la synthèse : {fmt} (pdf, html ou xlsx).")


def commande(args: argparse.Namespace) -> int:
    region = choisir_region(getattr(args, "region", None))
    stem, content = produire(region, args.generation, args.format)
    path = ecrire(sortie(args, stem), content)
    print(f"Synthèse régionale écrite : {path}")
    return 0
