from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..comptes.perimetre import conventions_visibles


@login_required
def liste(request: HttpRequest) -> HttpResponse:
    conventions = conventions_visibles(request.user)  # type: ignore[arg-type]
    return render(request, "conventions/liste.html", {"conventions": conventions})
