"""Pages of the rents: redistribution of the maximum rents by class of the adopted classement, and simulation of
an SLS modulation on an uploaded households file. Landlords only, for their own organismes: both are the
landlord's working simulations before it proposes its convention; the State sees the outcome in the convention
(the retained SLS scale in its annex), and the households file holds personal data."""

import io
import math
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from .. import graphiques
from ..audit.journal import record
from ..classement.models import StatutVersion, VersionClassement
from ..comptes.models import Organisme, Role
from ..exports import ExportError
from ..web import telechargement
from ..web.acces import roles_requis, utilisateur
from . import sls
from .forms import (
    COLONNES_MENAGES,
    LoyersMaximauxForm,
    RetenirForm,
    SimulationSLSForm,
    TranchesFormSet,
    coefficient_field,
)
from .lecture import (
    BASE_LABELS,
    Dwellings,
    HouseholdsError,
    LectureError,
    ensemble_classes,
    read_dwellings,
    read_households,
)
from .loyers_maximaux import (
    IrlRevision,
    Redistribution,
    RentError,
    distribution,
    export_rpls_fields,
    fit_rule,
    impact,
    redistribute,
    revise_irl,
    rule_from_mapping,
)
from .models import BaremeSLS
from .plafonds import CeilingError, workspace_ceilings
from .simulation import scale_from_mapping, simulate

BAILLEUR = str(Role.BAILLEUR)
PAR_PAGE = 50
SEL_SIMULATION = "pilote_cus.loyers.simulation_sls"
DUREE_SIMULATION = 24 * 3600  # a simulation can be retained or exported during one day
FORMATS_EXPORT = ("csv", "xlsx")


def organisme_ou_404(request: HttpRequest, pk: Any) -> Organisme:
    try:
        return utilisateur(request).organismes.get(pk=pk)
    except (Organisme.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Organisme introuvable dans votre périmètre.") from exc


def version_adoptee(organisme: Organisme) -> VersionClassement:
    version = VersionClassement.objects.filter(organisme=organisme, statut=StatutVersion.ADOPTEE).first()
    if version is None:
        raise LectureError(
            f"Aucune version adoptée du classement au service rendu pour {organisme.nom} : adoptez une version "
            "dans la page « Classement » avant de simuler les loyers maximaux."
        )
    return version


def classes_de(version: VersionClassement) -> list[dict[str, Any]]:
    """The grid's classes, then any class only found among the ensembles (a forced class)."""
    classes = [dict(c) for c in version.resultats.get("classes", [])]
    known = {str(c["nom"]) for c in classes}
    for code in sorted(set(ensemble_classes(version.resultats).values()) - known):
        classes.append({"nom": code, "libelle": f"Classe {code}"})
    return classes


@roles_requis(BAILLEUR)
def index(request: HttpRequest) -> HttpResponse:
    user = utilisateur(request)
    organismes = [
        {
            "organisme": o,
            "version": VersionClassement.objects.filter(organisme=o, statut=StatutVersion.ADOPTEE).first(),
            "bareme": BaremeSLS.objects.filter(organisme=o, retenu=True).first(),
        }
        for o in user.organismes.order_by("nom")
    ]
    return render(request, "loyers/index.html", {"organismes": organismes})


# --- maximum rents --------------------------------------------------------------------------------------------


COLONNES_CLASSES = ("classe", "libelle", "logements", "surface", "avant_m2", "apres_m2", "avant", "apres")


class Calcul:
    """One redistribution as the page shows it: masse check, classes, distribution, impact per dwelling."""

    def __init__(self, form: LoyersMaximauxForm, dwellings: Dwellings):
        data = form.cleaned_data
        self.dwellings = dwellings
        self.rule = rule_from_mapping(form.rule_mapping(), "Règle saisie")
        masse = data.get("masse_autorisee") or dwellings.masse_actuelle
        self.redistribution: Redistribution = redistribute(dwellings.logements, self.rule, masse)
        self.revision = IrlRevision(form.irl_date(), data["irl_pct"]) if data.get("irl_pct") else None
        self.logements = (
            revise_irl(self.redistribution.logements, self.revision) if self.revision else self.redistribution.logements
        )
        self.impact = impact(self.logements, self.revision)
        self.distribution = distribution(self.impact)

    def par_classe(self) -> list[dict[str, Any]]:
        con = duckdb.connect()
        con.register("l", self.logements)
        return [
            dict(
                zip(
                    ("classe", "libelle", "logements", "surface", "avant_m2", "apres_m2", "avant", "apres"),
                    r,
                    strict=True,
                )
            )
            for r in con.sql("""
                SELECT classe, any_value(libelle_classe), count(*), sum(surface),
                       sum(surface * loyer_max_m2_actuel) / sum(surface), sum(loyer_max_mensuel) / sum(surface),
                       sum(surface * loyer_max_m2_actuel), sum(loyer_max_mensuel)
                FROM l GROUP BY classe ORDER BY classe""").fetchall()
        ]

    def masse_finale(self) -> float:
        return round(float(pa.compute.sum(self.logements["loyer_max_mensuel"]).as_py() or 0.0), 2)

    def impact_export(self) -> pa.Table:
        con = duckdb.connect()
        con.register("i", self.impact)
        con.register("l", self.dwellings.logements)
        return con.sql("""
            SELECT i.logement_id, i.ensemble_id, l.programme, l.depcom, i.classe, l.financement, i.surface,
                   l.mode_surface, i.loyer_actuel, i.loyer_max_mensuel, i.loyer_applicable,
                   i.plafonne_locataire_en_place, i.ecart_mensuel, i.variation_pct, i.sens
            FROM i JOIN l USING (logement_id) ORDER BY i.logement_id""").to_arrow_table()


def _calcul(request: HttpRequest, organisme: Organisme) -> dict[str, Any]:
    """The maximum-rents form bound to the query string and, when submitted and valid, its `Calcul`."""
    context: dict[str, Any] = {"organisme": organisme, "bases": BASE_LABELS}
    try:
        version = version_adoptee(organisme)
    except LectureError as error:
        return context | {"erreur": str(error)}
    submitted = "action" in request.GET
    form = LoyersMaximauxForm(request.GET if submitted else None, classes=classes_de(version))
    context |= {"version": version, "form": form}
    if not (submitted and form.is_valid()):
        return context
    dwellings = None
    try:
        dwellings = read_dwellings(
            Path(settings.DATA_DIR),
            organisme.code,
            ensemble_classes(version.resultats),
            form.cleaned_data.get("base") or "apl",
        )
        if dwellings.logements.num_rows == 0:
            raise LectureError(
                "Aucun logement à simuler : aucun ensemble du classement adopté ne correspond aux ensembles "
                "(ensemble_id) de l'instantané RPLS."
            )
        calcul = Calcul(form, dwellings)
    except (LectureError, RentError) as error:
        return context | {"erreur": str(error), "dwellings": dwellings}
    return context | {"calcul": calcul, "dwellings": dwellings}


@roles_requis(BAILLEUR)
def maximaux(request: HttpRequest, organisme: int) -> HttpResponse:
    o = organisme_ou_404(request, organisme)
    context = _calcul(request, o)
    calcul: Calcul | None = context.get("calcul")
    if calcul is None:
        return render(request, "loyers/maximaux.html", context)
    if request.GET.get("action") == "ajuster":
        return _ajuster(request, o, calcul)
    red = calcul.redistribution
    dist = calcul.distribution
    tranches = {r["tranche"]: r["logements"] for r in dist.tranches.to_pylist()}
    paginator = Paginator(range(calcul.impact.num_rows), PAR_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = calcul.impact_export().slice(page.start_index() - 1, PAR_PAGE).to_pylist() if page.object_list else []
    query = request.GET.copy()
    query.pop("page", None)
    context |= {
        "red": red,
        "masse_finale": calcul.masse_finale(),
        "par_classe": calcul.par_classe(),
        "resume": dist.resume,
        "tranches": tranches,
        "graphique": mark_safe(
            graphiques.barres_horizontales("Logements occupés par évolution de leur loyer", tranches)
        ),
        "page": page,
        "echantillon": rows,
        "requete": query.urlencode(),
        "sans_loyer": calcul.logements.num_rows - calcul.impact.num_rows,
    }
    return render(request, "loyers/maximaux.html", context)


def _ajuster(request: HttpRequest, organisme: Organisme, calcul: Calcul) -> HttpResponse:
    """Multiply every coefficient by the adjustment factor (rounded down to 10⁻⁶: the masse stays within)."""
    red = calcul.redistribution
    factor = red.facteur_ajustement
    fitted = fit_rule(calcul.rule, red)
    query: QueryDict = request.GET.copy()
    for code, rule in fitted.classes.items():
        query[coefficient_field(code)] = f"{math.floor(rule.coefficient * 1e6) / 1e6:.6f}"
    query["action"] = "simuler"
    query.pop("page", None)
    messages.success(
        request,
        f"Coefficients multipliés par {graphiques.nombre(factor, 6)} pour atteindre la masse autorisée "
        f"de {graphiques.nombre(red.masse_autorisee, 2)} € par mois.",
    )
    return redirect(reverse("loyers:maximaux", args=[organisme.pk]) + "?" + query.urlencode())


@roles_requis(BAILLEUR)
def maximaux_export(request: HttpRequest, organisme: int) -> HttpResponse:
    o = organisme_ou_404(request, organisme)
    fmt, contenu = request.GET.get("format", "xlsx"), request.GET.get("contenu", "impact")
    if fmt not in FORMATS_EXPORT or contenu not in ("impact", "rpls"):
        raise Http404("Export inconnu (format csv ou xlsx ; contenu impact ou rpls).")
    context = _calcul(request, o)
    calcul: Calcul | None = context.get("calcul")
    if calcul is None:
        messages.error(request, context.get("erreur") or "Simulation incomplète : vérifiez le formulaire.")
        return redirect(reverse("loyers:maximaux", args=[o.pk]) + "?" + request.GET.urlencode())
    nom = f"loyers-maximaux-{o.code}-{contenu}"
    metadata = {
        "Source": "Pilote CUS — redistribution des loyers maximaux par classe",
        "Organisme": o.nom,
        "Instantané RPLS": calcul.dwellings.instantane,
        "Classement": f"version {context['version'].numero} adoptée",
        "Règle": "; ".join(f"{k} × {v.coefficient:g} ({v.libelle})" for k, v in calcul.rule.classes.items()),
        "Révision IRL": f"{calcul.revision.variation_pct:g} % au {calcul.revision.date_effet:%d/%m/%Y}"
        if calcul.revision
        else "aucune",
    }
    try:
        if contenu == "rpls":
            return telechargement.ecrit(nom, fmt, lambda chemin: export_rpls_fields(calcul.logements, fmt, chemin))
        return telechargement.table(calcul.impact_export(), nom, fmt, "impact par logement", metadata)
    except ExportError as error:
        messages.error(request, str(error))
        return redirect(reverse("loyers:maximaux", args=[o.pk]) + "?" + request.GET.urlencode())


# --- SLS simulation -------------------------------------------------------------------------------------------


def _bareme_national() -> tuple[float, list[dict[str, Any]]]:
    national = sls.scale()["cdpr_national"]
    return national["a_20_pct"], [dict(t) for t in national["tranches"]]


def _contexte_sls(organisme: Organisme, **extra: Any) -> dict[str, Any]:
    return {
        "organisme": organisme,
        "baremes": BaremeSLS.objects.filter(organisme=organisme).select_related("cree_par"),
        "colonnes": COLONNES_MENAGES,
        "bornes": sls.scale()["modulation"],
    } | extra


def _lignes_saisies(data: QueryDict) -> list[dict[str, Any]]:
    """The bands typed in a posted formset, kept as typed (to redisplay them with more empty rows)."""
    total = int(data.get("tranches-TOTAL_FORMS") or 0) if str(data.get("tranches-TOTAL_FORMS", "")).isdigit() else 0
    rows = []
    for n in range(min(total, 20)):
        row = {k: data.get(f"tranches-{n}-{k}", "") for k in ("de", "a", "par_point")}
        if any(row.values()) and not data.get(f"tranches-{n}-DELETE"):
            rows.append(row)
    return rows


@roles_requis(BAILLEUR)
def simulation_sls(request: HttpRequest, organisme: int) -> HttpResponse:
    o = organisme_ou_404(request, organisme)
    a_20, tranches = _bareme_national()
    if request.method != "POST":
        form = SimulationSLSForm(initial={"a_20_pct": a_20})
        formset = TranchesFormSet(initial=tranches, prefix="tranches")
        return render(request, "loyers/sls.html", _contexte_sls(o, form=form, formset=formset))
    if "ajouter" in request.POST:
        rows = _lignes_saisies(request.POST)
        form = SimulationSLSForm(initial={"a_20_pct": request.POST.get("a_20_pct"), "annee": request.POST.get("annee")})
        formset = TranchesFormSet(initial=rows + [{}] * 1, prefix="tranches")
        return render(request, "loyers/sls.html", _contexte_sls(o, form=form, formset=formset))
    form = SimulationSLSForm(request.POST, request.FILES)
    formset = TranchesFormSet(request.POST, prefix="tranches")
    context = _contexte_sls(o, form=form, formset=formset)
    if not (form.is_valid() and formset.is_valid()):
        return render(request, "loyers/sls.html", context, status=400)
    bareme = {
        "a_20_pct": form.cleaned_data["a_20_pct"],
        "tranches": sorted(
            (
                {"de": f.cleaned_data["de"], "a": f.cleaned_data["a"], "par_point": f.cleaned_data["par_point"]}
                for f in formset.forms
                if f.cleaned_data.get("de") is not None and not f.cleaned_data.get("DELETE")
            ),
            key=lambda t: t["de"],
        ),
    }
    annee = form.cleaned_data["annee"]
    try:
        scale = scale_from_mapping(bareme)
        ceilings = workspace_ceilings(Path(settings.DATA_DIR))
        fichier = form.cleaned_data["menages"]
        menages = read_households(fichier.read(), fichier.name)
        simulation = simulate(menages, annee, ceilings, scale)
    except HouseholdsError as error:
        form.add_error("menages", str(error))
        return render(request, "loyers/sls.html", context | {"erreurs_menages": error.erreurs}, status=400)
    except CeilingError as error:
        form.add_error(None, str(error))
        return render(request, "loyers/sls.html", context, status=400)
    synthese = {
        "annee": annee,
        "fichier": fichier.name,
        "resume": simulation.resume,
        "taux_effort": simulation.taux_effort.to_pylist(),
        "deciles": simulation.deciles_taux_effort.to_pylist(),
        "exonerations": simulation.exonerations.to_pylist(),
    }
    charge = signing.dumps(
        {"organisme": o.pk, "bareme": bareme, "synthese": synthese}, salt=SEL_SIMULATION, compress=True
    )
    retenir = RetenirForm(initial={"charge": charge, "nom": f"Barème modulé {annee}"})
    return render(request, "loyers/sls.html", context | _resultats(bareme, synthese, charge, retenir))


def _resultats(bareme: dict[str, Any], synthese: dict[str, Any], charge: str, retenir: RetenirForm) -> dict[str, Any]:
    national = {r["tranche"]: r["menages_national"] for r in synthese["taux_effort"]}
    module = {r["tranche"]: r["menages_module"] for r in synthese["taux_effort"]}
    return {
        "bareme": bareme,
        "synthese": synthese,
        "resume": synthese["resume"],
        "charge": charge,
        "retenir": retenir,
        "graphique_national": mark_safe(graphiques.barres_horizontales("Taux d'effort, barème national", national)),
        "graphique_module": mark_safe(graphiques.barres_horizontales("Taux d'effort, barème modulé", module)),
    }


def _charge(request: HttpRequest, organisme: Organisme) -> dict[str, Any] | None:
    try:
        payload = signing.loads(request.POST.get("charge", ""), salt=SEL_SIMULATION, max_age=DUREE_SIMULATION)
    except signing.BadSignature:
        return None
    return payload if payload.get("organisme") == organisme.pk else None


@require_POST
@roles_requis(BAILLEUR)
def retenir_bareme(request: HttpRequest, organisme: int) -> HttpResponse:
    """Save the simulated scale as the one the convention's SLS annex shows, replacing the retained one."""
    o = organisme_ou_404(request, organisme)
    payload = _charge(request, o)
    if payload is None:
        messages.error(request, "Simulation expirée ou altérée : relancez la simulation avant de retenir le barème.")
        return redirect("loyers:sls", o.pk)
    retenir = RetenirForm(request.POST)
    if not retenir.is_valid():
        a_20, tranches = _bareme_national()
        context = _contexte_sls(
            o,
            form=SimulationSLSForm(initial={"a_20_pct": a_20}),
            formset=TranchesFormSet(initial=tranches, prefix="tranches"),
        )
        context |= _resultats(payload["bareme"], payload["synthese"], request.POST["charge"], retenir)
        return render(request, "loyers/sls.html", context, status=400)
    try:
        scale_from_mapping(payload["bareme"])
    except CeilingError as error:
        messages.error(request, str(error))
        return redirect("loyers:sls", o.pk)
    user = utilisateur(request)
    with transaction.atomic():
        precedent = BaremeSLS.objects.select_for_update().filter(organisme=o, retenu=True).first()
        if precedent is not None:
            precedent.retenu = False
            precedent.save(update_fields=["retenu"])
        bareme = BaremeSLS.objects.create(
            organisme=o,
            nom=retenir.cleaned_data["nom"],
            bareme=payload["bareme"],
            retenu=True,
            synthese=payload["synthese"],
            cree_par=user,
        )
        record(
            user,
            "loyers.retenir_bareme_sls",
            bareme,
            organisme=o,
            avant={"bareme_retenu": precedent.pk, "nom": precedent.nom} if precedent else None,
            apres={"bareme_retenu": bareme.pk, "nom": bareme.nom, "bareme": bareme.bareme},
        )
    messages.success(request, f"Barème « {bareme.nom} » retenu pour la convention.")
    return redirect("loyers:sls", o.pk)


@require_POST
@roles_requis(BAILLEUR)
def export_sls(request: HttpRequest, organisme: int) -> HttpResponse:
    """The simulation summary as XLSX (summary, effort-rate bands, deciles, exemptions, scale)."""
    o = organisme_ou_404(request, organisme)
    payload = _charge(request, o)
    if payload is None:
        messages.error(request, "Simulation expirée ou altérée : relancez la simulation avant de l'exporter.")
        return redirect("loyers:sls", o.pk)
    contenu = classeur_synthese(o, payload["bareme"], payload["synthese"])
    return telechargement.fichier(contenu, f"simulation-sls-{o.code}-{payload['synthese']['annee']}", "xlsx")


LIBELLES_RESUME = {
    "menages": "Ménages simulés",
    "menages_assujettis": "Ménages assujettis (dépassement ≥ 20 %, non exonérés)",
    "menages_exoneres": "Ménages exonérés",
    "menages_sls_forfaitaire": "Ménages sans réponse à l'enquête (SLS forfaitaire provisoire)",
    "frais_dossier": "Frais de dossier des ménages sans réponse (€)",
    "plafonnes_30_pct_national": "Plafonnés à 30 % des ressources (barème national)",
    "plafonnes_30_pct_module": "Plafonnés à 30 % des ressources (barème modulé)",
    "recette_mensuelle_nationale": "Recette SLS mensuelle, barème national (€)",
    "recette_mensuelle_modulee": "Recette SLS mensuelle, barème modulé (€)",
    "recette_annuelle_nationale": "Recette SLS annuelle, barème national (€)",
    "recette_annuelle_modulee": "Recette SLS annuelle, barème modulé (€)",
}


def classeur_synthese(organisme: Organisme, bareme: dict[str, Any], synthese: dict[str, Any]) -> bytes:
    book = Workbook()
    feuille = book.active
    assert feuille is not None
    feuille.title = "Synthèse"
    feuille.append(["Organisme", organisme.nom])
    feuille.append(["Année", synthese["annee"]])
    feuille.append(["Fichier des ménages", synthese.get("fichier", "")])
    feuille.append([])
    feuille.append(["Indicateur", "Valeur"])
    for cle, libelle in LIBELLES_RESUME.items():
        feuille.append([libelle, synthese["resume"].get(cle)])
    for titre, lignes, colonnes in (
        ("Taux d'effort", synthese["taux_effort"], ("tranche", "menages_national", "menages_module")),
        ("Déciles", synthese["deciles"], ("decile", "taux_effort_national_pct", "taux_effort_module_pct")),
        ("Exonérations", synthese["exonerations"], ("motif", "menages")),
        ("Barème modulé", bareme["tranches"], ("de", "a", "par_point")),
    ):
        f = book.create_sheet(titre)
        if titre == "Barème modulé":
            f.append(["CDPR à 20 %", bareme["a_20_pct"]])
        f.append(list(colonnes))
        for ligne in lignes:
            f.append([ligne.get(c) for c in colonnes])
    sortie = io.BytesIO()
    book.save(sortie)
    return sortie.getvalue()


@roles_requis(BAILLEUR)
def annexe_sls(request: HttpRequest, organisme: int) -> HttpResponse:
    """The convention's SLS annex on its own (same builder as the convention document), for the retained scale."""
    from datetime import date

    from ..rapports.annexes import partie_sls
    from ..rapports.modele import Document
    from ..rapports.rendu import document_pdf

    o = organisme_ou_404(request, organisme)
    retenu = BaremeSLS.objects.filter(organisme=o, retenu=True).first()
    try:
        annee = int(request.GET.get("annee") or date.today().year)
    except ValueError:
        raise Http404("Année invalide (AAAA attendu).") from None
    quand = retenu.cree_le.date() if retenu else None
    document = Document(
        titre="Supplément de loyer de solidarité",
        sous_titre=f"{o.nom} — barèmes national et modulé",
        bandeau="Convention d'utilité sociale — annexe",
        couverture=[
            ("Organisme", f"{o.nom} ({o.code})"),
            ("Barème retenu", f"{retenu.nom} (le {quand:%d/%m/%Y})" if retenu and quand else "aucun : barème national"),
            ("Année", str(annee)),
        ],
        parties=[partie_sls(o, annee)],
        provenance="Barème national et bornes de la modulation : loyers/sls.toml ; barème retenu : Pilote CUS.",
        date=quand.isoformat() if quand else f"{annee}-01-01",
    )
    return telechargement.fichier(document_pdf(document), f"annexe-sls-{o.code}-{annee}", "pdf")
