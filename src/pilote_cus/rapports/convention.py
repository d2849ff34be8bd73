"""The convention d'utilité sociale as a document: what the landlord, the State and the collectivités sign.

Cover (parties, signatories, period, status, version), summary, then for each policy the état des lieux
(tables and charts computed from the warehouse with the breakdowns of `patrimoine/etat_des_lieux.toml`,
restricted to the landlord), the orientations stratégiques, the programme d'actions and the engagements
(yearly and cumulated objectives); the classement and SLS annexes; the signature block.
"""

import argparse
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from .. import graphiques
from ..conventions.etat_des_lieux import stock_sql
from ..entrepot.entrepot import NoSnapshot, Snapshot, Warehouse
from ..graphiques import nombre
from ..patrimoine.etat_des_lieux import declaration
from . import annexes, selection, territoires
from .modele import Bloc, Document, Encadre, Figure, Paragraphe, Partie, Signatures, Tableau, Titre
from .rendu import DocumentError, document_html, document_pdf

# the convention's policies (conventions.models.Politique) ↔ the catalogue's (indicateurs.catalogue.POLICIES)
POLICIES = {"patrimoniale": "patrimoniale", "sociale": "sociale", "qualite": "qualite_de_service"}
# which breakdowns and ratios of the état des lieux each policy shows
BREAKDOWNS = {
    "patrimoniale": ("type_construction", "pieces", "periode_construction", "dpe_energie", "dpe_ges"),
    "sociale": ("qpv",),
    "qualite": (),
}
RATIOS = {"patrimoniale": (), "sociale": ("loyer_m2", "mobilite"), "qualite": ("vacance", "vacance_plus_3_mois")}
CHARTS = ("periode_construction", "dpe_energie", "qpv")
VARIABLE_LABELS = {
    "type_construction": "Type de construction",
    "pieces": "Nombre de pièces",
    "periode_construction": "Période d'achèvement",
    "dpe_energie": "Étiquette énergie (DPE)",
    "dpe_ges": "Étiquette gaz à effet de serre (DPE)",
    "qpv": "Situation au regard des quartiers prioritaires (QPV)",
    "loyer_m2": "Loyer moyen (€/m² de surface habitable)",
    "mobilite": "Taux de mobilité (%)",
    "vacance": "Taux de vacance (%)",
    "vacance_plus_3_mois": "Vacance de plus de 3 mois (%)",
}
MODALITY_LABELS = {
    "collectif": "Collectif",
    "individuel": "Individuel",
    "qpv": "En QPV",
    "hors_qpv": "Hors QPV",
    "inconnu": "Non renseigné",
    "inconnue": "Non renseignée",
    "avant-1949": "Avant 1949",
    "2020-et-apres": "2020 et après",
    "1-2": "1 ou 2 pièces",
    "3-4": "3 ou 4 pièces",
    "5+": "5 pièces et plus",
}
SIGNED = ("suivi", "evaluation", "terminee", "remplacee")


@dataclass
class EtatDesLieux:
    """The landlord's stock in one RPLS snapshot: counts per modality and ratios, per département and in all."""

    snapshot: Snapshot
    departements: list[str]
    logements: dict[str, int]  # département (and "total") → dwellings
    repartitions: dict[str, dict[str, int]]  # variable → modality → dwellings (all départements)
    ratios: dict[str, dict[str, float | None]]  # variable → département (and "total") → value
    notes: list[str] = field(default_factory=list)


def _snapshot(warehouse: Warehouse, instantanes: list[str]) -> Snapshot:
    """The RPLS snapshot of the active publication if it is still in the warehouse, else the current one."""
    published = [s for s in warehouse.history("rpls") if s.id in instantanes]
    return max(published, key=lambda s: s.vintage) if published else warehouse.current("rpls")


def etat_des_lieux(warehouse: Warehouse, organisme_code: str, instantanes: list[str]) -> EtatDesLieux | None:
    """The declaration's breakdowns and ratios over the landlord's dwellings (one pass); None without RPLS."""
    try:
        snapshot = _snapshot(warehouse, instantanes)
    except NoSnapshot:
        return None
    decl = declaration()
    sql = stock_sql(str(snapshot.table("logements")), snapshot.vintage)
    con = duckdb.connect()
    try:
        cursor = con.execute(sql, [organisme_code])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except (duckdb.Error, OSError) as error:
        raise DocumentError(f"État des lieux illisible dans l'instantané {snapshot.id} : {error}") from None
    finally:
        con.close()
    total = next((r for r in rows if r["dep"] == "total"), None)
    if total is None or not total["n"]:
        return None
    result = EtatDesLieux(
        snapshot,
        [r["dep"] for r in rows if r["dep"] != "total"],
        {r["dep"]: int(r["n"]) for r in rows},
        {
            b.variable: {m.code: int(total[f"r_{b.variable}_{j}"] or 0) for j, m in enumerate(b.modalites)}
            for b in decl.repartitions
        },
        {},
    )
    for r in decl.ratios:
        values: dict[str, float | None] = {}
        for row in rows:
            num, den = row[f"q_{r.variable}_n"], row[f"q_{r.variable}_d"]
            if not row[f"q_{r.variable}_ok"] or not den:
                values[row["dep"]] = None
            else:
                values[row["dep"]] = float(num) / float(den) * (1 if r.sortie == "moyenne" else 100)
        result.ratios[r.variable] = values
        if total[f"q_{r.variable}_ok"] is False:
            result.notes.append(f"{VARIABLE_LABELS.get(r.variable, r.variable)} : données absentes du RPLS.")
    return result


# --- formatting ---------------------------------------------------------------------------------------------


def valeur(value: float | None) -> str:
    """An objective the French way: 1 200 ; 12,5 ; 0,35 (no useless zero)."""
    if value is None:
        return "—"
    text = nombre(float(value), 2)
    return text.rstrip("0").rstrip(",") if "," in text else text


def apostrophes(text: str) -> str:
    """The French apostrophe (’) in the convention's running text (paragraphs and framed notes)."""
    return text.replace("'", "\u2019")


def part(count: int, total: int) -> str:
    return nombre(100.0 * count / total, 1) if total else "—"


def date_fr(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


# --- parts --------------------------------------------------------------------------------------------------


def _modality(code: str) -> str:
    return MODALITY_LABELS.get(code, code.replace("-", "–") if code[:1].isdigit() else code)


def _stock_blocks(edl: EtatDesLieux, names: dict[str, str]) -> list[Bloc]:
    total = edl.logements["total"]
    rows = [[f"{names.get(d, d)} ({d})", edl.logements[d], part(edl.logements[d], total)] for d in edl.departements]
    rows.append(["Total", total, "100"])
    table = Tableau(
        f"Logements au 1er janvier {edl.snapshot.vintage} par département",
        ["Département", "Logements", "Part (%)"],
        rows,
        ["texte", "nombre", "nombre"],
    )
    blocks: list[Bloc] = [table]
    if len(edl.departements) > 1:
        blocks.append(
            Figure(
                graphiques.barres_horizontales(
                    "Logements par département", {names.get(d, d): edl.logements[d] for d in edl.departements}
                ),
                "Logements par département.",
                table,
            )
        )
    return blocks


def _breakdown_blocks(edl: EtatDesLieux, variable: str) -> list[Bloc]:
    counts = edl.repartitions[variable]
    total = edl.logements["total"]
    label = VARIABLE_LABELS.get(variable, variable)
    table = Tableau(
        f"{label} — logements au 1er janvier {edl.snapshot.vintage}",
        ["Modalité", "Logements", "Part (%)"],
        [[_modality(code), n, part(n, total)] for code, n in counts.items()],
        ["texte", "nombre", "nombre"],
    )
    blocks: list[Bloc] = [Titre(label, 4), table]
    if variable in CHARTS:
        blocks.append(
            Figure(
                graphiques.barres_horizontales(label, {_modality(c): n for c, n in counts.items()}),
                f"{label} : nombre de logements.",
                table,
            )
        )
    return blocks


def _ratio_blocks(edl: EtatDesLieux, variables: tuple[str, ...], names: dict[str, str]) -> list[Bloc]:
    variables = tuple(v for v in variables if v in edl.ratios)
    if not variables:
        return []
    rows: list[list[Any]] = []
    for d in [*edl.departements, "total"]:
        values = [edl.ratios[v].get(d) for v in variables]
        label = f"{names.get(d, d)} ({d})" if d != "total" else "Ensemble"
        rows.append([label, *(nombre(v, 2) if v is not None else None for v in values)])
    return [
        Titre("Indicateurs de gestion du parc", 4),
        Tableau(
            f"Par département, au 1er janvier {edl.snapshot.vintage}",
            ["Territoire", *(VARIABLE_LABELS.get(v, v) for v in variables)],
            rows,
            annexes.alignements(1, len(variables)),
            note="Définitions : patrimoine/etat_des_lieux.toml (mêmes règles que l'état des lieux national).",
        ),
    ]


def _stored_blocks(summary: dict[str, Any], names: dict[str, str]) -> list[Bloc]:
    """Without RPLS in the warehouse: the summary stored in the convention when it was created."""
    from ..conventions.etat_des_lieux import LABELS

    if not summary.get("departements"):
        message = summary.get("message") or "Aucun état des lieux n'est disponible pour cette convention."
        return [Paragraphe(message)]
    keys = list(LABELS)
    rows = [
        [f"{names.get(r['departement'], r['departement'])} ({r['departement']})", *(r.get(k) for k in keys)]
        for r in summary["departements"]
    ]
    if summary.get("total"):
        rows.append(["Total", *(summary["total"].get(k) for k in keys)])
    return [
        Paragraphe(
            "L'entrepôt ne contient pas d'instantané RPLS utilisable : l'état des lieux ci-dessous est celui "
            f"enregistré dans la convention (instantané {summary.get('instantane', 'inconnu')}, millésime "
            f"{summary.get('millesime', 'inconnu')})."
        ),
        Tableau(
            "État des lieux enregistré, par département",
            ["Département", *LABELS.values()],
            rows,
            annexes.alignements(1, len(keys)),
        ),
    ]


def _engagements(convention: Any) -> dict[str, list[dict[str, Any]]]:
    """Catalogue policy → engagements (indicator × territory) with their objectives per period."""
    from ..conventions.engagements import indicator

    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for o in convention.objectifs.all():
        key = (o.code, o.maille, o.code_territoire)
        if key not in grouped:
            found = indicator(convention, o.code)
            grouped[key] = {
                "code": o.code,
                "maille": o.maille,
                "territoire": o.code_territoire,
                "libelle": found.libelle if found else o.code,
                "unite": found.unite if found else "",
                "politique": found.politique if found else "gestion",
                "objectifs": {},
            }
        grouped[key]["objectifs"][o.periode] = o.valeur
    by_policy: dict[str, list[dict[str, Any]]] = {}
    for item in grouped.values():
        by_policy.setdefault(item["politique"], []).append(item)
    return by_policy


def _periods(items: list[dict[str, Any]]) -> list[str]:
    periods = {p for i in items for p in i["objectifs"]}
    # years first, then the cumulated periods, shortest spans first (3-year windows, then the whole convention)
    return sorted(periods, key=lambda p: (len(p) > 4, int(p[-4:]) - int(p[:4]), p))


def _engagements_table(items: list[dict[str, Any]], label: str, names: dict[str, str]) -> Tableau:
    periods = _periods(items)
    return Tableau(
        f"Engagements — {label} : objectifs annuels et cumulés",
        ["Indicateur", "Territoire", "Unité", *periods],
        [
            [
                f"{i['code']} — {i['libelle']}",
                territoires.libelle(i["maille"], i["territoire"]),
                i["unite"],
                *(valeur(i["objectifs"].get(p)) if p in i["objectifs"] else "" for p in periods),
            ]
            for i in sorted(items, key=lambda i: (i["code"], i["maille"], i["territoire"]))
        ],
        annexes.alignements(3, len(periods)),
        note="Périodes sur quatre chiffres : objectif de l’année\u202f; périodes « AAAA-AAAA » : objectif cumulé "
        "sur la période.",
    )


def _policy_parts(
    convention: Any, code: str, label: str, edl: EtatDesLieux | None, engagements: list[dict[str, Any]], names: dict
) -> list[Partie]:
    anchor = f"politique-{code}"
    partie = Partie(label, anchor)
    partie.blocs.append(Titre("État des lieux", 3, f"{anchor}-etat-des-lieux"))
    if edl is None:
        partie.blocs += _stored_blocks(convention.etat_des_lieux or {}, names) if code == "patrimoniale" else []
        if code != "patrimoniale":
            partie.blocs.append(Paragraphe("Voir l'état des lieux enregistré (politique patrimoniale)."))
    else:
        if code == "patrimoniale":
            partie.blocs += _stock_blocks(edl, names)
        for variable in BREAKDOWNS[code]:
            partie.blocs += _breakdown_blocks(edl, variable)
        partie.blocs += _ratio_blocks(edl, RATIOS[code], names)
        if code == "qualite" and not RATIOS[code]:
            partie.blocs.append(Paragraphe("Pas d'indicateur du RPLS pour cette politique."))
    texts = {s.nature: s.texte for s in convention.sections.filter(politique=code)}
    for nature, title in (("orientations", "Orientations stratégiques"), ("programme", "Programme d'actions")):
        partie.blocs.append(Titre(title, 3, f"{anchor}-{nature}"))
        partie.blocs.append(Paragraphe(texts.get(nature) or "(Non rédigé.)"))
    parts = [partie]
    table_part = Partie(f"{label} — engagements", f"{anchor}-engagements", paysage=True)
    if engagements:
        table_part.blocs.append(_engagements_table(engagements, label, names))
    else:
        table_part.blocs.append(Paragraphe("Aucun engagement n'est encore saisi pour cette politique."))
    parts.append(table_part)
    return parts


def _synthese(edl: EtatDesLieux | None, counts: dict[str, tuple[int, int]], convention: Any) -> Partie:
    partie = Partie("Synthèse", "synthese")
    partie.blocs.append(Titre("Chiffres clés du patrimoine", 3, "synthese-chiffres"))
    if edl is not None:
        total = edl.logements["total"]
        rep = edl.repartitions
        rows: list[list[Any]] = [
            ["Logements au 1er janvier " + str(edl.snapshot.vintage), total],
            ["Départements d'implantation", len(edl.departements)],
            ["Logements collectifs (%)", part(rep["type_construction"]["collectif"], total)],
            ["Logements en QPV (%)", part(rep["qpv"]["qpv"], total)],
            ["Étiquette énergie E, F ou G (%)", part(rep["dpe_energie"]["E-F-G"], total)],
        ]
        for variable in ("loyer_m2", "vacance", "mobilite"):
            value = edl.ratios.get(variable, {}).get("total")
            rows.append([VARIABLE_LABELS[variable], nombre(value, 2) if value is not None else None])
        partie.blocs.append(
            Tableau(f"Patrimoine de {convention.organisme.nom}", ["Indicateur", "Valeur"], rows, ["texte", "nombre"])
        )
    else:
        partie.blocs.append(Paragraphe("Pas d'instantané RPLS dans l'entrepôt : voir l'état des lieux enregistré."))
    partie.blocs.append(Titre("Engagements par politique", 3, "synthese-engagements"))
    partie.blocs.append(
        Tableau(
            "Nombre d'engagements (indicateur × territoire) et d'objectifs chiffrés",
            ["Politique", "Engagements", "Objectifs"],
            [[label, n, m] for label, (n, m) in counts.items()],
            ["texte", "nombre", "nombre"],
        )
    )
    return partie


def _signatures(convention: Any, signataires: list[Any]) -> Partie:
    partie = Partie("Signatures", "signatures")
    if signataires:
        people = [
            {"nom": s.nom, "qualite": s.qualite, "organisation": s.organisation, "date": date_fr(s.date_signature)}
            for s in signataires
        ]
    else:
        people = [
            {"nom": "", "qualite": "Représentant de l'organisme", "organisation": convention.organisme.nom, "date": ""},
            {"nom": "", "qualite": "Représentant de l'État", "organisation": "Préfecture", "date": ""},
        ] + [
            {"nom": "", "qualite": "Collectivité signataire", "organisation": c.nom, "date": ""}
            for c in convention.collectivites.all()
        ]
    partie.blocs.append(
        Paragraphe(
            f"La présente convention d'utilité sociale engage {convention.organisme.nom} pour les années "
            f"{convention.annee_debut} à {convention.annee_fin}."
        )
    )
    partie.blocs.append(Signatures(people))
    return partie


def _provenance(prov: dict[str, Any], edl: EtatDesLieux | None) -> str:
    text = selection.phrase(prov)
    if edl is not None:
        text += f"\u202f; état des lieux : instantané RPLS {edl.snapshot.id} (millésime {edl.snapshot.vintage})"
    return text + "."


def construire(convention: Any) -> Document:
    """The convention as a `Document` (the same for PDF, HTML and DOCX)."""
    from django.conf import settings

    from ..conventions.models import Politique

    prov = selection.provenance()
    edl = etat_des_lieux(Warehouse(settings.DATA_DIR), convention.organisme.code, prov["instantanes"])
    names = territoires.departements()
    by_policy = _engagements(convention)
    signataires = list(convention.signataires.order_by("id"))
    counts: dict[str, tuple[int, int]] = {}
    policy_parts: list[Partie] = []
    for code, label in Politique.choices:
        items = by_policy.get(POLICIES[code], [])
        counts[label] = (len(items), sum(len(i["objectifs"]) for i in items))
        policy_parts += _policy_parts(convention, code, label, edl, items, names)
    others = by_policy.get("gestion", [])
    if others:
        counts["Performance de gestion"] = (len(others), sum(len(i["objectifs"]) for i in others))
        gestion = Partie("Performance de gestion — engagements", "gestion-engagements", paysage=True)
        gestion.blocs.append(_engagements_table(others, "Performance de gestion", names))
        policy_parts.append(gestion)
    collectivites = [c.nom for c in convention.collectivites.all()]
    version = (
        f"Avenant n° {convention.version - 1} (version {convention.version})"
        if convention.version > 1
        else "Convention initiale"
    )
    cover = [
        ("Organisme", f"{convention.organisme.nom} ({convention.organisme.code})"),
        ("État", "Le préfet, représentant de l'État"),
        ("Collectivités signataires", ", ".join(collectivites) or "aucune"),
        ("Signataires", "; ".join(f"{s.nom}, {s.qualite} ({s.organisation})" for s in signataires) or "à désigner"),
        (
            "Période",
            f"{convention.annee_debut}-{convention.annee_fin} (indicateurs de génération {convention.generation})",
        ),
        ("Statut", convention.get_statut_display()),
        ("Version", version),
    ]
    if convention.statut not in SIGNED:
        cover.append(("Avertissement", "Document de travail : la convention n'est pas signée."))
    provenance_text = _provenance(prov, edl)
    parts = [_synthese(edl, counts, convention), *policy_parts]
    if edl is not None and edl.notes:
        parts[0].blocs.append(Encadre("Limites des données", "\n\n".join(edl.notes)))
    parts.append(annexes.partie_classement(convention.organisme))
    parts.append(annexes.partie_sls(convention.organisme, convention.annee_debut))
    parts.append(_signatures(convention, signataires))
    for partie in parts:
        for bloc in partie.blocs:
            if isinstance(bloc, Paragraphe | Encadre):
                bloc.texte = apostrophes(bloc.texte)
    dated = prov["date"] or convention.statut_depuis.date().isoformat()
    return Document(
        titre="Convention d'utilité sociale",
        sous_titre=f"{convention.organisme.nom} — {convention.annee_debut}-{convention.annee_fin}",
        bandeau=f"Convention d'utilité sociale {convention.annee_debut}-{convention.annee_fin} — {version}",
        couverture=cover,
        parties=parts,
        provenance=provenance_text,
        date=dated,
        nom_fichier=f"convention-{convention.organisme.code}-{convention.annee_debut}-{convention.annee_fin}"
        + (f"-v{convention.version}" if convention.version > 1 else ""),
    )


def rendre(document: Document, format: str) -> bytes:
    """The document's bytes in a format (pdf, html or docx)."""
    if format == "pdf":
        return document_pdf(document)
    if format == "html":
        return document_html(document).encode("utf-8")
    if format == "docx":
        from .docx import document_docx

        return document_docx(document)
    raise DocumentError(f"Format « {format} » inconnu (attendu : pdf, docx ou html).")


def commande(args: argparse.Namespace) -> int:
    """`cus rapport convention`: write the document and say where."""
    convention = selection.convention_choisie(args)
    document = construire(convention)
    path = selection.ecrire(selection.sortie(args, document.nom_fichier), rendre(document, args.format))
    print(f"Convention écrite : {path}")
    return 0
