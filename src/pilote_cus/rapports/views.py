"""Downloading the documents from the web application, within each user's perimeter."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from ..comptes import perimetre
from ..comptes.models import Role
from ..web import telechargement
from ..web.acces import roles_requis, utilisateur
from . import convention as document_convention
from .rendu import DocumentError

FORMATS = ("pdf", "docx", "html")
# the landlord, the State and the administrator work on the draft; the concertation partners (collectivité,
# association) read the draft in the application and get the document once it is signed (it is public then)
REDACTEURS = (Role.BAILLEUR, Role.ETAT, Role.ADMINISTRATEUR)
PARTENAIRES = (Role.COLLECTIVITE, Role.ASSOCIATION)


@roles_requis(*REDACTEURS, *PARTENAIRES)
def convention(request: HttpRequest, pk: int, format: str) -> HttpResponse:
    if format not in FORMATS:
        raise Http404("Format inconnu (pdf, docx ou html).")
    user = utilisateur(request)
    found = perimetre.convention_ou_404(user, pk)
    if user.role in PARTENAIRES and found.statut not in document_convention.SIGNED:
        raise PermissionDenied(
            "Le document de la convention est ouvert aux partenaires de la concertation une fois la convention "
            "signée ; en attendant, ses textes et ses engagements se lisent dans l'application."
        )
    try:
        document = document_convention.construire(found)
        content = document_convention.rendre(document, format)
    except DocumentError as error:
        return telechargement.refus(error)
    return telechargement.fichier(content, document.nom_fichier, format)
