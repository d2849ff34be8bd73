"""Landlord dashboard and State console: published results against objectives (application database only)."""

from typing import Any

import pyarrow as pa
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe

from .. import graphiques
from ..comptes.models import Organisme, Role
from ..comptes.perimetre import conventions_visibles, organismes_visibles
from ..web import telechargement
from ..web.acces import roles_requis, utilisateur
from . import requetes as q

BAILLEUR, ETAT, ADMINISTRATEUR = (str(r) for r in (Role.BAILLEUR, Role.ETAT, Role.ADMINISTRATEUR))
EXPORT_COLUMNS = (
    "code",
    "libelle",
    "politique",
    "maille",
    "code_territoire",
    "periode",
    "numerateur",
    "denominateur",
    "valeur",
    "unite",
    "objectif",
    "statut",
)


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))  # set by django-htmx's middleware


def _filters(request: HttpRequest, default_generation: int) -> q.Filtres:
    get = request.GET
    generation = get.get("generation", "")
    politique = get.get("politique", "")
    return q.Filtres(
        generation=int(generation) if generation in ("1", "2") else default_generation,
        departement=get.get("departement", "")[:3],
        periode=get.get("periode", "")[:9],
        politique=politique if politique in q.policies() else "",
    )


def _organisme(request: HttpRequest, param: str = "organisme") -> Organisme:
    visible = organismes_visibles(utilisateur(request))
    wanted = request.GET.get(param)
    try:
        found = visible.get(pk=wanted) if wanted else visible.order_by("nom").first()
    except (Organisme.DoesNotExist, ValueError) as exc:
        raise Http404("Organisme introuvable dans votre périmètre.") from exc
    if found is None:
        raise Http404("Aucun organisme dans votre périmètre.")
    return found


def _charts(rows: list[dict[str, Any]], selected: str, trend: dict[str, float | None], unit: str) -> dict[str, Any]:
    """Bar chart (realised vs objective per period), line (trend), statuses; each with its table."""
    chosen = [r for r in rows if r["code"] == selected]
    label = chosen[0]["libelle"] if chosen else selected
    categories = [f"{r['code_territoire']} {r['periode']}" for r in chosen][:24]
    statuses: dict[str, int] = {}
    for r in rows:
        if r["statut"]:
            statuses[r["statut"]] = statuses.get(r["statut"], 0) + 1
    return {
        "barres": mark_safe(
            graphiques.barres(
                f"{selected} — réalisé et objectif",
                categories,
                [r["valeur"] for r in chosen][:24],
                [r["objectif"] for r in chosen][:24],
                f" {unit}" if unit else "",
            )
        ),
        "barres_lignes": chosen[:24],
        "courbe": mark_safe(
            graphiques.courbe(f"{selected} — évolution annuelle", list(trend), {label: list(trend.values())})
        ),
        "courbe_lignes": list(trend.items()),
        "statuts": mark_safe(graphiques.barres_horizontales("Engagements par statut", statuses)),
        "statuts_lignes": list(statuses.items()),
        "libelle": label,
    }


def _landlord_context(request: HttpRequest, organisme: Organisme) -> dict[str, Any]:
    user = utilisateur(request)
    publication = q.active_publication()
    convention = q.current_convention(conventions_visibles(user), organisme)
    f = _filters(request, convention.generation if convention else 2)
    periods = q.periods(publication, f.generation)
    if not f.periode and periods:
        years = [p for p in periods if "-" not in p]
        f.periode = years[-1] if years else periods[-1]
    rows = q.with_objectives(q.landlord_rows(publication, organisme, f), convention) if publication else []
    codes = list(dict.fromkeys(r["code"] for r in rows))
    with_objective = [r["code"] for r in rows if r["objectif"] is not None]
    selected = request.GET.get("indicateur") or (with_objective[0] if with_objective else (codes[0] if codes else ""))
    departements = q.departements_of(organisme)
    territory = f.departement or (departements[0] if departements else "")
    trend = (
        q.trend(publication, f.generation, selected, "departement", territory, organisme)
        if publication and selected
        else {}
    )
    unit = next((r["unite"] for r in rows if r["code"] == selected), "")
    return {
        "organisme": organisme,
        "organismes": organismes_visibles(user).order_by("nom") if user.role == Role.BAILLEUR else [],
        "publication": publication,
        "convention": convention,
        "filtres": f,
        "periodes": periods,
        "departements": departements,
        "politiques": q.policies(),
        "lignes": rows,
        "alertes": [r for r in rows if r["statut"] in q.OFF_TRACK],
        "indicateurs": codes,
        "indicateur": selected,
        "territoire_tendance": territory,
        "graphiques": _charts(rows, selected, trend, unit) if selected else None,
        "query": request.GET.urlencode(),
        "export_url": reverse("tableaux:bailleur_export") if user.role == Role.BAILLEUR else "",
    }


@roles_requis(BAILLEUR)
def bailleur(request: HttpRequest) -> HttpResponse:
    context = _landlord_context(request, _organisme(request))
    template = "tableaux/_bailleur_resultats.html" if _htmx(request) else "tableaux/bailleur.html"
    return render(request, template, context)


@roles_requis(BAILLEUR)
def bailleur_partiel(request: HttpRequest) -> HttpResponse:
    return render(request, "tableaux/_bailleur_resultats.html", _landlord_context(request, _organisme(request)))


@roles_requis(BAILLEUR)
def bailleur_export(request: HttpRequest) -> HttpResponse:
    context = _landlord_context(request, _organisme(request))
    f = context["filtres"]
    metadata = _metadata(
        context,
        {
            "organisme": context["organisme"].nom,
            "génération": str(f.generation),
            "département": f.departement or "tous",
            "période": f.periode or "toutes",
        },
    )
    return _export(request, context["lignes"], EXPORT_COLUMNS, "tableau-de-bord", metadata)


@roles_requis(ETAT, ADMINISTRATEUR)
def detail_bailleur(request: HttpRequest, pk: int) -> HttpResponse:
    visible = organismes_visibles(utilisateur(request))
    organisme = visible.filter(pk=pk).first()
    if organisme is None:
        raise Http404("Organisme introuvable dans votre périmètre.")
    context = _landlord_context(request, organisme)
    if _htmx(request):
        return render(request, "tableaux/_bailleur_resultats.html", context)
    return render(request, "tableaux/detail_bailleur.html", context)


# --- State console --------------------------------------------------------------------------------------


def _console_context(request: HttpRequest) -> dict[str, Any]:
    publication = q.active_publication()
    user = utilisateur(request)
    conventions = conventions_visibles(user)
    rows = q.console_rows(conventions, publication)
    return {
        "publication": publication,
        "conventions": rows,
        "en_retard": sum(r["en_retard"] for r in rows),
        "territoire": utilisateur(request).territoire_etat
        if utilisateur(request).role == Role.ETAT
        else "France entière",
    }


@roles_requis(ETAT, ADMINISTRATEUR)
def console_etat(request: HttpRequest) -> HttpResponse:
    return render(request, "tableaux/console.html", _console_context(request))


@roles_requis(ETAT, ADMINISTRATEUR)
def console_export(request: HttpRequest) -> HttpResponse:
    context = _console_context(request)
    rows = [
        {
            "organisme": r["organisme__nom"],
            "identifiant": r["organisme__code"],
            "convention": r["titre"],
            "version": r["version"],
            "generation": r["generation"],
            "statut": r["statut_libelle"],
            "echeance": r["echeance"].isoformat() if r["echeance"] else "",
            "en_retard": "oui" if r["en_retard"] else "non",
            "engagements_hors_trajectoire": r["hors_trajectoire"],
        }
        for r in context["conventions"]
    ]
    columns = (
        "organisme",
        "identifiant",
        "convention",
        "version",
        "generation",
        "statut",
        "echeance",
        "en_retard",
        "engagements_hors_trajectoire",
    )
    return _export(request, rows, columns, "console-etat", _metadata(context, {"territoire": context["territoire"]}))


def region_choisie(request: HttpRequest) -> str:
    """The région a page or document is about: a State service's own (its département's région for a DDT);
    the administrator's choice (`region=`, if known), else the first known région; "" when none is known."""
    user = utilisateur(request)
    if user.role == Role.ETAT:
        return user.region or q.region_of(user.departement)
    known = q.regions_known()
    wanted = request.GET.get("region", "")
    return wanted if wanted in known else (known[0] if known else "")


def _consolidation_context(request: HttpRequest) -> dict[str, Any]:
    region = region_choisie(request)
    publication = q.active_publication()
    f = _filters(request, 2)
    periods = q.periods(publication, f.generation)
    if not f.periode and periods:
        years = [p for p in periods if "-" not in p]
        f.periode = years[-1] if years else periods[-1]
    departements = q.region_departements(region)
    rows = q.consolidated_rows(publication, region, departements, f) if publication and region else []
    for r in rows:
        r["objectif"], r["statut"] = None, ""
        indicator = q.indicators().get(r["indicateur"])
        r["politique"] = q.policies().get(indicator.politique, "") if indicator else ""
    codes = list(dict.fromkeys(r["code"] for r in rows))
    selected = request.GET.get("indicateur") or (codes[0] if codes else "")
    by_dep = [r for r in rows if r["code"] == selected and r["maille"] == "departement"]
    unit = by_dep[0]["unite"] if by_dep else ""
    charts = None
    if selected and publication:
        trend = q.trend(publication, f.generation, selected, "region", region, None)
        charts = {
            "barres": mark_safe(
                graphiques.barres(
                    f"{selected} — par département ({f.periode})",
                    [r["code_territoire"] for r in by_dep],
                    [r["valeur"] for r in by_dep],
                    [None] * len(by_dep),
                    f" {unit}" if unit else "",
                )
            ),
            "barres_lignes": by_dep,
            "courbe": mark_safe(
                graphiques.courbe(
                    f"{selected} — évolution dans la région", list(trend), {f"Région {region}": list(trend.values())}
                )
            ),
            "courbe_lignes": list(trend.items()),
        }
    return {
        "region": region,
        "regions": q.regions_known() if utilisateur(request).role == Role.ADMINISTRATEUR else [region],
        "publication": publication,
        "filtres": f,
        "periodes": periods,
        "politiques": q.policies(),
        "departements": departements,
        "lignes": rows,
        "indicateurs": codes,
        "indicateur": selected,
        "graphiques": charts,
        "chiffres": q.region_figures(region, conventions_visibles(utilisateur(request))),
        "conventions": [
            c
            for c in q.console_rows(
                conventions_visibles(utilisateur(request)).filter(organisme__implantations__region=region).distinct(),
                None,
            )
        ],
        "query": request.GET.urlencode(),
    }


@roles_requis(ETAT, ADMINISTRATEUR)
def consolidation(request: HttpRequest) -> HttpResponse:
    context = _consolidation_context(request)
    template = "tableaux/_consolidation_resultats.html" if _htmx(request) else "tableaux/consolidation.html"
    return render(request, template, context)


@roles_requis(ETAT, ADMINISTRATEUR)
def consolidation_export(request: HttpRequest) -> HttpResponse:
    context = _consolidation_context(request)
    f = context["filtres"]
    metadata = _metadata(
        context, {"région": context["region"], "génération": str(f.generation), "période": f.periode or "toutes"}
    )
    return _export(request, context["lignes"], EXPORT_COLUMNS[:10], "consolidation", metadata)


# --- exports ------------------------------------------------------------------------------------------


def _metadata(context: dict[str, Any], extra: dict[str, str]) -> dict[str, str]:
    publication = context.get("publication")
    data = {"source": "Pilote CUS — résultats publiés"}
    if publication is not None:
        data |= {
            "publication": publication.publie_le.isoformat(timespec="seconds"),
            "catalogue": publication.catalogue,
            "instantanés": publication.instantanes,
        }
    return data | extra


def _export(
    request: HttpRequest, rows: list[dict[str, Any]], columns: tuple[str, ...], name: str, metadata: dict[str, str]
) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format d'export inconnu (csv ou xlsx).")
    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows], schema=_schema(rows, columns))
    return telechargement.table(table, name, fmt, name.replace("-", " ")[:31], metadata)


def _schema(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pa.Schema:
    numeric = {"numerateur", "denominateur", "valeur", "objectif"}
    counts = {"version", "generation", "engagements_hors_trajectoire"}
    return pa.schema(
        [(c, pa.float64() if c in numeric else pa.int64() if c in counts else pa.string()) for c in columns]
    )
