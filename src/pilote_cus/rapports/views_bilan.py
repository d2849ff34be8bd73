"""Downloading the yearly bilan, the evaluations and the regional synthesis, within each user's perimeter.

Rights are those of the pages the buttons sit on: the bilan and the evaluation are read by whoever reads
the follow-up and evaluation pages (`conventions.views_suivi`: landlord, State, collectivity — its territory
and the concertation comments only —, administrator; not the association). The regional synthesis is the
State's and the administrator's, as the consolidation page: a regional service (DREAL) gets its région; a
département service (DDT) gets the région of its département with the conventions of its own perimeter (the
landlords owning dwellings in its département), the consolidated regional figures it already reads on the
consolidation page; the administrator chooses the région.
"""

from django.http import Http404, HttpRequest, HttpResponse

from ..comptes.models import Role
from ..comptes.perimetre import conventions_visibles
from ..conventions import regles
from ..conventions.views import convention_de
from ..conventions.views_suivi import LECTEURS
from ..tableaux.views import ADMINISTRATEUR, ETAT, region_choisie
from ..web.acces import roles_requis, utilisateur
from ..web.telechargement import fichier, refus
from . import bilan as documents
from . import synthese
from .rendu import DocumentError

FORMATS = ("pdf", "html", "docx", "xlsx", "ods")
FORMATS_SYNTHESE = ("pdf", "html", "xlsx")


def _format(request: HttpRequest, allowed: tuple[str, ...] = FORMATS) -> str:
    fmt = request.GET.get("format", "pdf")
    if fmt not in allowed:
        raise Http404(f"Format inconnu ({', '.join(allowed)}).")
    return fmt


@roles_requis(*LECTEURS)
def bilan(request: HttpRequest, pk: int) -> HttpResponse:
    convention = convention_de(request, pk)
    fmt = _format(request)
    try:
        annee = int(request.GET.get("annee", ""))
    except ValueError:
        raise Http404("Année du bilan attendue (paramètre annee).") from None
    try:
        document, content = documents.bilan(convention, annee, fmt, utilisateur(request))
    except DocumentError as error:
        return refus(error)
    return fichier(content, document.nom_fichier, fmt)


@roles_requis(*LECTEURS)
def evaluation(request: HttpRequest, pk: int, horizon: int) -> HttpResponse:
    convention = convention_de(request, pk)
    if horizon not in regles.horizons():
        raise Http404("Horizon d'évaluation inconnu.")
    fmt = _format(request)
    try:
        document, content = documents.evaluation(convention, horizon, fmt, utilisateur(request))
    except DocumentError as error:
        return refus(error)
    return fichier(content, document.nom_fichier, fmt)


@roles_requis(ETAT, ADMINISTRATEUR)
def synthese_regionale(request: HttpRequest) -> HttpResponse:
    user = utilisateur(request)
    fmt = _format(request, FORMATS_SYNTHESE)
    region = region_choisie(request)
    if not region:
        raise Http404("Aucune région dans votre périmètre.")
    generation = 1 if request.GET.get("generation") == "1" else 2
    perimetre = user.territoire_etat if user.role == Role.ETAT else ""
    try:
        stem, content = synthese.produire(region, generation, fmt, conventions_visibles(user), perimetre)
    except DocumentError as error:
        return refus(error)
    return fichier(content, stem, fmt)
