"""Pages of the concertation of the classement au service rendu."""

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ..comptes import perimetre
from ..comptes.models import Role, Utilisateur
from ..entrepot.entrepot import Warehouse
from ..web import telechargement
from ..web.acces import htmx, roles_requis, utilisateur
from . import carte, concertation
from .forms import ENTREPOT, CommentaireForm, CreationForm, SaisieForm
from .models import CommentaireClassement, StatutVersion, VersionClassement

BAILLEUR, ETAT, ASSOCIATION, ADMINISTRATEUR = (
    str(r) for r in (Role.BAILLEUR, Role.ETAT, Role.ASSOCIATION, Role.ADMINISTRATEUR)
)
LECTEURS = (BAILLEUR, ETAT, ASSOCIATION, ADMINISTRATEUR)
PARTAGEES = (StatutVersion.PARTAGEE, StatutVersion.ADOPTEE, StatutVersion.REMPLACEE)
COLONNES_EXPORT = (
    "ensemble",
    "total",
    "classe_proposee",
    "classe_retenue",
    "motif_forcage",
    "critere",
    "libelle",
    "valeur",
    "points",
    "poids",
    "points_ponderes",
    "explication",
)
NOMBRES = {"total", "valeur", "points", "poids", "points_ponderes"}


def versions_visibles(user: Utilisateur) -> QuerySet[VersionClassement]:
    """Landlord: its versions; association: its landlord's shared ones; État and admin: their perimeter."""
    base = VersionClassement.objects.select_related("organisme", "cree_par")
    if user.role == Role.BAILLEUR:
        return base.filter(organisme__in=user.organismes.all())
    if user.role == Role.ASSOCIATION:
        return base.filter(organisme__in=perimetre.organismes_visibles(user), statut__in=PARTAGEES)
    if user.role in (Role.ETAT, Role.ADMINISTRATEUR):
        return base.filter(organisme__in=perimetre.organismes_visibles(user))
    return base.none()


def version_ou_404(request: HttpRequest, pk: Any) -> VersionClassement:
    try:
        return versions_visibles(utilisateur(request)).get(pk=pk)
    except (VersionClassement.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Version du classement introuvable dans votre périmètre.") from exc


@roles_requis(*LECTEURS)
def liste(request: HttpRequest) -> HttpResponse:
    return render(request, "classement/liste.html", {"versions": versions_visibles(utilisateur(request))})


@roles_requis(BAILLEUR)
def creer(request: HttpRequest) -> HttpResponse:
    user = utilisateur(request)
    form = CreationForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["origine"] == ENTREPOT:
                version = concertation.creer_version_entrepot(
                    user, data["organisme"], data["grille"].read(), Warehouse(Path(settings.DATA_DIR))
                )
            else:
                version = concertation.creer_version(
                    user, data["organisme"], data["grille"].read(), data["ensembles"].read()
                )
        except concertation.ConcertationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Version {version.numero} du classement calculée (projet).")
            return redirect("classement:detail", version.pk)
    return render(request, "classement/creer.html", {"form": form})


def _fil(version: VersionClassement, ensemble: str) -> list[dict[str, Any]]:
    """The threads of one ensemble: the general one, then one per criterion, each comment with its answers."""
    commentaires = list(version.commentaires.filter(ensemble=ensemble).select_related("auteur"))
    racines = [c for c in commentaires if c.reponse_a_id is None]
    reponses: dict[int, list[CommentaireClassement]] = {}
    for c in commentaires:
        if c.reponse_a_id is not None:
            reponses.setdefault(c.reponse_a_id, []).append(c)
    sujets = [{"nom": "", "libelle": "L'ensemble en général"}, *version.criteres]
    return [
        {
            "nom": s["nom"],
            "libelle": s["libelle"],
            "commentaires": [{"c": c, "reponses": reponses.get(c.pk, [])} for c in racines if c.critere == s["nom"]],
        }
        for s in sujets
    ]


def _contexte_fil(
    request: HttpRequest, version: VersionClassement, ensemble: str, form: CommentaireForm | None = None
) -> dict[str, Any]:
    user = utilisateur(request)
    ouvert = version.statut == StatutVersion.PARTAGEE
    peut_commenter = ouvert and user.role == Role.ASSOCIATION
    if form is None and peut_commenter:
        form = CommentaireForm(initial={"ensemble": ensemble}, criteres=version.criteres)
    return {
        "version": version,
        "ensemble_id": ensemble,
        "fil": _fil(version, ensemble),
        "form": form if peut_commenter else None,
        "peut_repondre": ouvert and user.role == Role.BAILLEUR,
    }


@roles_requis(*LECTEURS)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_ou_404(request, pk)
    user = utilisateur(request)
    ensembles = version.ensembles
    choisi = version.ensemble(request.GET.get("ensemble", "")) or (ensembles[0] if ensembles else None)
    classes = version.resultats.get("classes", [])
    context: dict[str, Any] = {
        "version": version,
        "ensembles": ensembles,
        "choisi": choisi,
        "classes": classes,
        "carte": carte.carte(ensembles, classes, carte.contours_configures()),
        "origine": version.resultats.get("origine", {}),
        "est_bailleur": user.role == Role.BAILLEUR,
        "modifiable": user.role == Role.BAILLEUR and version.statut == StatutVersion.PROJET,
        "saisie_possible": any(c.get("source") == "saisie" for c in version.criteres),
        "nb_commentaires": version.commentaires.count(),
    }
    if choisi is not None:
        context |= _contexte_fil(request, version, choisi["id"])
    return render(request, "classement/detail.html", context)


@require_POST
@roles_requis(BAILLEUR)
def partager(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_ou_404(request, pk)
    try:
        concertation.partager(utilisateur(request), version)
        messages.success(request, f"Version {version.numero} partagée avec les associations de locataires.")
    except concertation.ConcertationError as error:
        messages.error(request, str(error))
    return redirect("classement:detail", version.pk)


@require_POST
@roles_requis(BAILLEUR)
def adopter(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_ou_404(request, pk)
    try:
        concertation.adopter(utilisateur(request), version)
        messages.success(request, f"Version {version.numero} adoptée.")
    except concertation.ConcertationError as error:
        messages.error(request, str(error))
    return redirect("classement:detail", version.pk)


@require_POST
@roles_requis(BAILLEUR, ASSOCIATION)
def commenter(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_ou_404(request, pk)
    user = utilisateur(request)
    reponse_a = None
    if user.role == Role.BAILLEUR:
        try:
            reponse_a = version.commentaires.get(pk=request.POST.get("reponse_a", ""), reponse_a__isnull=True)
        except (CommentaireClassement.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404("Commentaire introuvable dans cette version.") from exc
        ensemble, critere, texte = reponse_a.ensemble, reponse_a.critere, request.POST.get("texte", "")
        form = None
    else:
        form = CommentaireForm(request.POST, criteres=version.criteres)
        if not form.is_valid():
            ensemble = request.POST.get("ensemble", "")
            if version.ensemble(ensemble) is None:
                raise Http404("Ensemble introuvable dans cette version.")
            return _reponse_fil(request, version, ensemble, form, status=400)
        ensemble, critere, texte = (form.cleaned_data[k] for k in ("ensemble", "critere", "texte"))
    if version.ensemble(ensemble) is None:
        raise Http404("Ensemble introuvable dans cette version.")
    try:
        concertation.commenter(user, version, ensemble, critere, texte, reponse_a)
    except concertation.ConcertationError as error:
        if user.role == Role.ASSOCIATION and version.statut == StatutVersion.PARTAGEE and form is not None:
            form.add_error(None, str(error))
            return _reponse_fil(request, version, ensemble, form, status=400)
        raise PermissionDenied(str(error)) from None
    return _reponse_fil(request, version, ensemble, None)


def _reponse_fil(
    request: HttpRequest, version: VersionClassement, ensemble: str, form: CommentaireForm | None, status: int = 200
) -> HttpResponse:
    if htmx(request):
        return render(request, "classement/_fil.html", _contexte_fil(request, version, ensemble, form), status=status)
    if status != 200:
        messages.error(
            request, "Commentaire refusé : " + " ".join(str(e) for e in (form.errors.values() if form else []))
        )
    return redirect(reverse("classement:detail", args=[version.pk]) + f"?ensemble={ensemble}#fil-ensemble")


@roles_requis(BAILLEUR)
def saisir(request: HttpRequest, pk: int) -> HttpResponse:
    """The hand-entered criteria of one ensemble of a draft version; score and class recomputed on save."""
    version = version_ou_404(request, pk)
    ensemble_id = request.POST.get("ensemble") or request.GET.get("ensemble", "")
    ensemble = version.ensemble(ensemble_id)
    if ensemble is None:
        raise Http404("Ensemble introuvable dans cette version.")
    refus = concertation.refus_modification(version)
    if refus and request.method == "POST":
        raise PermissionDenied(refus)
    try:
        criteres = concertation.criteres_saisis(version)
    except concertation.ConcertationError as error:
        criteres, refus = [], str(error)
    valeurs = {c["nom"]: c["valeur"] for c in ensemble["criteres"]}
    initial = {c.nom: "" if valeurs.get(c.nom) is None else f"{valeurs[c.nom]:g}" for c in criteres}
    form = SaisieForm(request.POST if request.method == "POST" else None, initial=initial, criteres=criteres)
    if request.method == "POST" and criteres and form.is_valid():
        try:
            concertation.saisir(utilisateur(request), version, ensemble_id, form.cleaned_data)
        except concertation.SaisieError as error:
            for nom, message in error.erreurs.items():
                form.add_error(nom, message)
        except concertation.ConcertationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Valeurs saisies enregistrées pour l'ensemble {ensemble_id} : score recalculé.")
            return redirect(
                reverse("classement:detail", args=[version.pk]) + f"?ensemble={ensemble_id}#detail-ensemble"
            )
    context = {"version": version, "ensemble": ensemble, "form": form, "criteres": criteres, "refus": refus}
    return render(request, "classement/saisir.html", context, status=400 if form.errors else 200)


@roles_requis(*LECTEURS)
def export(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_ou_404(request, pk)
    fmt = request.GET.get("format", "csv")
    if fmt == "geojson":
        return _export_geojson(version)
    if fmt == "pdf":
        return _export_pdf(version)
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format d'export inconnu (csv, xlsx, geojson ou pdf).")
    rows = [
        {
            "ensemble": e["id"],
            "total": e["total"],
            "classe_proposee": e["classe_proposee"],
            "classe_retenue": e["classe_retenue"],
            "motif_forcage": e["motif_forcage"],
            "critere": c["nom"],
            "libelle": c["libelle"],
            "valeur": c["valeur"],
            "points": c["points"],
            "poids": c["poids"],
            "points_ponderes": c["points_ponderes"],
            "explication": c["explication"],
        }
        for e in version.ensembles
        for c in e["criteres"]
    ]
    schema = pa.schema([(c, pa.float64() if c in NOMBRES else pa.string()) for c in COLONNES_EXPORT])
    table = pa.Table.from_pylist(rows, schema=schema)
    nom = _nom_fichier(version)
    metadata = {
        "source": "Pilote CUS — classement au service rendu",
        "organisme": version.organisme.nom,
        "version": str(version.numero),
        "statut": version.get_statut_display(),
        "grille": f"{version.grille_nom} (version {version.grille_version})",
    }
    return telechargement.table(table, nom, fmt, "classement", metadata)


def _nom_fichier(version: VersionClassement) -> str:
    return f"classement-{version.organisme.code}-v{version.numero}"


def _export_pdf(version: VersionClassement) -> HttpResponse:
    """The version as the convention's classement annex (same builder), on its own: table, chart and map."""
    from ..rapports.annexes import partie_classement
    from ..rapports.modele import Document
    from ..rapports.rendu import document_pdf

    cree = version.cree_le.date().isoformat()
    document = Document(
        titre="Classement des immeubles au regard du service rendu",
        sous_titre=f"{version.organisme.nom} — version n° {version.numero}",
        bandeau="Convention d'utilité sociale — annexe",
        couverture=[
            ("Organisme", f"{version.organisme.nom} ({version.organisme.code})"),
            ("Version", f"n° {version.numero} — {version.get_statut_display()}"),
            ("Grille", f"{version.grille_nom or 'sans nom'} (version {version.grille_version})"),
            ("Calculée le", version.cree_le.strftime("%d/%m/%Y")),
        ],
        parties=[partie_classement(version.organisme, version)],
        provenance=f"Version n° {version.numero} du classement calculée le {version.cree_le:%d/%m/%Y} (Pilote CUS).",
        date=cree,
    )
    return telechargement.fichier(document_pdf(document), _nom_fichier(version), "pdf")


def _export_geojson(version: VersionClassement) -> HttpResponse:
    proprietes = {
        "source": "Pilote CUS — classement au service rendu",
        "organisme": version.organisme.nom,
        "version": version.numero,
        "statut": version.get_statut_display(),
        "grille": f"{version.grille_nom} (version {version.grille_version})",
    }
    contenu = json.dumps(carte.geojson(version.ensembles, proprietes), ensure_ascii=False, indent=1)
    return telechargement.fichier(contenu.encode("utf-8"), _nom_fichier(version), "geojson")
