"""The objectives table: entered row by row, uploaded as the ministry-style workbook, exported."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify

from ..comptes.perimetre import peut_modifier_contenu
from ..web.acces import roles_requis
from . import engagements
from .forms import ClasseurForm, ObjectifForm
from .models import Convention, Objectif
from .views import BAILLEUR, TOUS, convention_de, exiger_modification, utilisateur

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(
    request: HttpRequest,
    convention: Convention,
    form: ObjectifForm | None = None,
    classeur: ClasseurForm | None = None,
    erreurs: list[engagements.RowError] | None = None,
    status: int = 200,
) -> HttpResponse:
    modifiable = peut_modifier_contenu(utilisateur(request), convention)
    context: dict[str, Any] = {
        "convention": convention,
        "objectifs": convention.objectifs.all(),
        "modifiable": modifiable,
        "form": form or (ObjectifForm(convention=convention) if modifiable else None),
        "classeur": classeur or (ClasseurForm() if modifiable else None),
        "erreurs": erreurs or [],
    }
    return render(request, "conventions/objectifs.html", context, status=status)


def _objectif(convention: Convention, raw: Any) -> Objectif | None:
    try:
        return convention.objectifs.filter(pk=int(raw)).first()
    except (TypeError, ValueError):
        return None


@roles_requis(*TOUS)
def objectifs(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the table (and the form for the landlord); `?modifier=<id>` fills the form with one row.

    POST: `supprimer=<id>` deletes a row; otherwise the form creates a row or changes `objectif=<id>`.
    """
    convention = convention_de(request, pk)
    if request.method != "POST":
        editing = _objectif(convention, request.GET.get("modifier"))
        form = None
        if editing is not None:
            exiger_modification(request, convention)
            form = ObjectifForm(convention=convention, instance=editing)
        return _page(request, convention, form)
    exiger_modification(request, convention)
    user = utilisateur(request)
    if "supprimer" in request.POST:
        target = _objectif(convention, request.POST["supprimer"])
        if target is None:
            messages.error(request, "Cet objectif n'existe plus.")
        else:
            engagements.delete(user, convention, target)
            messages.success(request, f"Objectif supprimé : {engagements.label(target)}.")
        return redirect("conventions:objectifs", pk=convention.pk)
    instance = _objectif(convention, request.POST.get("objectif")) if request.POST.get("objectif") else None
    if request.POST.get("objectif") and instance is None:
        messages.error(request, "Cet objectif n'existe plus.")
        return redirect("conventions:objectifs", pk=convention.pk)
    form = ObjectifForm(request.POST, convention=convention, instance=instance)
    if not form.is_valid():
        return _page(request, convention, form, status=400)
    saved = engagements.save(user, convention, form.cleaned_data, instance)
    messages.success(request, f"Objectif {'modifié' if instance else 'ajouté'} : {engagements.label(saved)}.")
    return redirect("conventions:objectifs", pk=convention.pk)


@roles_requis(BAILLEUR)
def televerser(request: HttpRequest, pk: int) -> HttpResponse:
    """The uploaded workbook replaces the table; any error (shown with row and column) saves nothing."""
    convention = convention_de(request, pk)
    exiger_modification(request, convention)
    if request.method != "POST":
        return _page(request, convention)
    classeur = ClasseurForm(request.POST, request.FILES)
    if not classeur.is_valid():
        return _page(request, convention, classeur=classeur, status=400)
    upload = classeur.cleaned_data["fichier"]
    found, errors = engagements.read_upload(convention, upload)
    if errors:
        messages.error(request, f"Classeur refusé : {len(errors)} erreur(s), aucun objectif n'a été enregistré.")
        return _page(request, convention, classeur=classeur, erreurs=errors, status=400)
    counts = engagements.replace_all(utilisateur(request), convention, found, upload.name or "classeur.xlsx")
    messages.success(
        request,
        f"Classeur importé : {counts['crees']} créé(s), {counts['modifies']} modifié(s), "
        f"{counts['supprimes']} supprimé(s), {counts['inchanges']} inchangé(s).",
    )
    return redirect("conventions:objectifs", pk=convention.pk)


def _nom(convention: Convention, extension: str) -> str:
    return f"engagements-{slugify(convention.organisme.code)}-v{convention.version}.{extension}"


@roles_requis(*TOUS)
def modele(request: HttpRequest, pk: int) -> HttpResponse:
    convention = convention_de(request, pk)
    response = HttpResponse(engagements.workbook(convention), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_nom(convention, "xlsx")}"'
    return response


@roles_requis(*TOUS)
def export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    convention = convention_de(request, pk)
    response = HttpResponse(engagements.csv_text(convention), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_nom(convention, "csv")}"'
    return response
