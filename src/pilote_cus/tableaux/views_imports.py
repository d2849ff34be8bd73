"""The imports page: upload, progress (htmx polling), error report, history."""

import csv
import io
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from dsfr.forms import DsfrBaseForm

from ..audit.journal import record
from ..comptes.models import Organisme, Role
from ..comptes.perimetre import organismes_visibles
from ..web.acces import roles_requis, utilisateur
from . import imports_web
from .models import Televersement

BAILLEUR = str(Role.BAILLEUR)
HISTORY = 30


class TeleversementForm(DsfrBaseForm):
    organisme = forms.ModelChoiceField(label="Organisme", queryset=Organisme.objects.none(), empty_label=None)
    nature = forms.ChoiceField(label="Nature du fichier")
    millesime = forms.IntegerField(
        label="Millésime (RPLS seulement)",
        required=False,
        min_value=2000,
        max_value=2100,
        help_text="Année du 1er janvier décrit ; lu dans le nom du fichier s'il est absent.",
    )
    fichier = forms.FileField(label="Fichier (CSV ou XLSX)")

    def __init__(self, *args: Any, organismes: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["organisme"].queryset = organismes
        self.fields["nature"].choices = list(imports_web.natures().items())

    def get_context(self) -> dict[str, Any]:
        context = forms.Form.get_context(self)  # DsfrBaseForm's own warns about required-field marks
        context["DSFR_MARK_OPTIONAL_FIELDS"] = True  # the DSFR's current rule (and no deprecation warning)
        return context

    def clean_fichier(self) -> Any:
        fichier = self.cleaned_data["fichier"]
        if not fichier.name.lower().endswith((".csv", ".txt", ".xlsx")):
            raise forms.ValidationError("Formats acceptés : CSV (séparateur point-virgule) ou XLSX.")
        return fichier


def _uploads(request: HttpRequest) -> Any:
    return Televersement.objects.filter(organisme__in=organismes_visibles(utilisateur(request)).values("pk"))


@roles_requis(BAILLEUR)
def imports(request: HttpRequest) -> HttpResponse:
    organismes = organismes_visibles(utilisateur(request)).order_by("nom")
    form = TeleversementForm(request.POST or None, request.FILES or None, organismes=organismes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = Televersement.objects.create(
            organisme=data["organisme"],
            auteur=utilisateur(request),
            nature=data["nature"],
            millesime=data["millesime"] if data["nature"] == "rpls" else None,
            fichier=data["fichier"],
            nom_fichier=data["fichier"].name[:255],
        )
        record(
            utilisateur(request),
            "televersement",
            upload,
            organisme=upload.organisme,
            apres={"nature": upload.nature, "fichier": upload.nom_fichier, "millesime": upload.millesime},
        )
        imports_web.launch(upload)
        messages.success(request, f"{upload.nom_fichier} est téléversé : l'import se poursuit en arrière-plan.")
        return redirect(f"{request.path}?suivi={upload.pk}")
    uploads = list(_uploads(request).select_related("auteur", "organisme")[:HISTORY])
    snapshots = sorted(imports_web.warehouse().history(), key=lambda s: s.created_at, reverse=True)[:HISTORY]
    return render(
        request,
        "tableaux/imports.html",
        {"form": form, "televersements": uploads, "instantanes": snapshots, "suivi": request.GET.get("suivi")},
    )


def _upload_or_404(request: HttpRequest, pk: int) -> Televersement:
    upload = _uploads(request).filter(pk=pk).first()
    if upload is None:
        raise Http404("Téléversement introuvable dans votre périmètre.")
    return upload


@roles_requis(BAILLEUR)
def import_etat(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload_or_404(request, pk)
    rows = imports_web.report_rows(upload)
    return render(
        request,
        "tableaux/_import_etat.html",
        {"t": upload, "anomalies": rows[: imports_web.SHOWN_ANOMALIES], "total": len(rows)},
    )


@roles_requis(BAILLEUR)
def import_rapport(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload_or_404(request, pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["fichier", "ligne", "colonne", "valeur", "code", "message"])
    for a in imports_web.report_rows(upload):
        writer.writerow(
            [upload.nom_fichier, a["ligne"] or "", a["colonne"] or "", a["valeur"] or "", a["code"], a["message"]]
        )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rapport-erreurs-{upload.pk}.csv"'
    return response
