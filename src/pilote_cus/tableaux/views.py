from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..comptes.models import Role
from ..web.acces import roles_requis


@roles_requis(Role.BAILLEUR)
def bailleur(request: HttpRequest) -> HttpResponse:
    return render(request, "tableaux/bailleur.html", {})


@roles_requis(Role.BAILLEUR)
def imports(request: HttpRequest) -> HttpResponse:
    return render(request, "tableaux/bailleur.html", {})


@roles_requis(Role.ETAT, Role.ADMINISTRATEUR)
def console_etat(request: HttpRequest) -> HttpResponse:
    return render(request, "tableaux/bailleur.html", {})
