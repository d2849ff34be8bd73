from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ..audit.models import Trace
from ..comptes.models import Role
from ..comptes.perimetre import conventions_visibles, organismes_visibles
from .acces import utilisateur

HOME: dict[str, str] = {
    Role.BAILLEUR: "tableaux:bailleur",
    Role.ETAT: "tableaux:console_etat",
    Role.ADMINISTRATEUR: "tableaux:console_etat",
    Role.COLLECTIVITE: "conventions:liste",
    Role.ASSOCIATION: "conventions:liste",
}


@login_required
def accueil(request: HttpRequest) -> HttpResponse:
    return redirect(HOME.get(utilisateur(request).role, "conventions:liste"))


@login_required
def journal(request: HttpRequest) -> HttpResponse:
    """The audit trail of the user's perimeter (the association and collectivity see their conventions')."""
    user = utilisateur(request)
    traces = Trace.objects.select_related("auteur", "convention", "organisme")
    if user.role != Role.ADMINISTRATEUR:
        traces = traces.filter(organisme__in=organismes_visibles(user).values("pk"))
        if user.role in {Role.COLLECTIVITE, Role.ASSOCIATION}:
            traces = traces.filter(convention__in=conventions_visibles(user).values("pk"))
    page = Paginator(traces, 50).get_page(request.GET.get("page"))
    return render(request, "web/journal.html", {"page": page, "title": "Journal des modifications"})


def interdit(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "web/erreur.html",
        {
            "title": "Accès refusé",
            "code": 403,
            "message": str(exception) if exception else "Cette page n'est pas ouverte à votre rôle.",
        },
        status=403,
    )


def introuvable(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "web/erreur.html",
        {
            "title": "Page introuvable",
            "code": 404,
            "message": "Cette page n'existe pas ou n'est pas dans votre périmètre.",
        },
        status=404,
    )
