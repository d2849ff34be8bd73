"""After the instruction: signature, signed PDF, yearly follow-up, evaluations at 3 and 6 years."""

import hashlib

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ..audit.journal import record
from ..comptes import perimetre
from ..comptes.models import Role
from ..web.acces import roles_requis
from . import regles, suivi
from .forms import AvisEtatForm, ExonerationForm, ExplicationForm, Formulaire, PdfSigneForm, SignataireForm
from .models import Convention, Signataire, Statut
from .views import ADMINISTRATEUR, BAILLEUR, COLLECTIVITE, ETAT, convention_de, utilisateur

LECTEURS = (BAILLEUR, ETAT, COLLECTIVITE, ADMINISTRATEUR)


def _signature_ouverte(request: HttpRequest, convention: Convention) -> bool:
    return utilisateur(request).role in (Role.BAILLEUR, Role.ETAT) and convention.statut == Statut.A_SIGNER


@roles_requis(*LECTEURS)
def signature(request: HttpRequest, pk: int) -> HttpResponse:
    """Signatories (name, quality, organisation, date) and the signed PDF, while the convention is to sign."""
    convention = convention_de(request, pk)
    ouverte = _signature_ouverte(request, convention)
    form = SignataireForm()
    pdf_form = PdfSigneForm()
    status = 200
    if request.method == "POST":
        if not ouverte:
            raise PermissionDenied("Les signataires se saisissent quand la convention est prête pour signature.")
        user = utilisateur(request)
        if "pdf" in request.FILES or "televerser" in request.POST:
            pdf_form = PdfSigneForm(request.POST, request.FILES)
            if pdf_form.is_valid():
                upload = pdf_form.cleaned_data["pdf"]
                digest = hashlib.sha256()
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
                with transaction.atomic():
                    before = convention.pdf_signe.name or None
                    convention.pdf_signe.save(f"convention-{convention.pk}-v{convention.version}.pdf", upload)
                    record(
                        user,
                        "pdf_signe_televerse",
                        convention,
                        convention=convention,
                        avant={"fichier": before},
                        apres={
                            "fichier": convention.pdf_signe.name,
                            "octets": upload.size,
                            "sha256": digest.hexdigest(),
                        },
                    )
                messages.success(request, "Convention signée déposée.")
                return redirect("conventions:signature", pk=convention.pk)
            status = 400
        elif "supprimer" in request.POST:
            target = convention.signataires.filter(pk=request.POST.get("supprimer") or 0).first()
            if target is not None:
                with transaction.atomic():
                    record(
                        user,
                        "signataire_supprime",
                        target,
                        convention=convention,
                        avant={"nom": target.nom, "qualite": target.qualite, "organisation": target.organisation},
                    )
                    target.delete()
                messages.success(request, "Signataire retiré.")
            return redirect("conventions:signature", pk=convention.pk)
        else:
            form = SignataireForm(request.POST)
            if form.is_valid():
                with transaction.atomic():
                    added = Signataire.objects.create(convention=convention, **form.cleaned_data)
                    record(
                        user,
                        "signataire_ajoute",
                        added,
                        convention=convention,
                        apres={**form.cleaned_data, "date_signature": str(form.cleaned_data["date_signature"])},
                    )
                messages.success(request, f"Signataire ajouté : {added.nom}.")
                return redirect("conventions:signature", pk=convention.pk)
            status = 400
    return render(
        request,
        "conventions/signature.html",
        {
            "convention": convention,
            "ouverte": ouverte,
            "form": form,
            "pdf_form": pdf_form,
            "signataires": convention.signataires.all(),
        },
        status=status,
    )


@roles_requis(*LECTEURS)
def pdf_signe(request: HttpRequest, pk: int) -> FileResponse:
    convention = convention_de(request, pk)
    if not convention.pdf_signe:
        raise Http404("Aucune convention signée déposée.")
    try:
        handle = convention.pdf_signe.open("rb")
    except FileNotFoundError:
        raise Http404("Le fichier de la convention signée est introuvable.") from None
    return FileResponse(
        handle, as_attachment=True, filename=f"convention-{convention.pk}-signee.pdf", content_type="application/pdf"
    )


@roles_requis(*LECTEURS)
def suivi_vue(request: HttpRequest, pk: int) -> HttpResponse:
    convention = convention_de(request, pk)
    territoire = perimetre.territoires_resultats(utilisateur(request))
    departements = sorted(
        set(convention.objectifs.filter(maille="departement").values_list("code_territoire", flat=True))
    )
    # one département at a time (the landlord-wide rows always): a page stays readable and fast
    choisi = request.GET.get("departement", departements[0] if len(departements) > 1 else "")
    objectifs = convention.objectifs.all()
    if choisi in departements:
        objectifs = objectifs.exclude(Q(maille="departement") & ~Q(code_territoire=choisi))
    else:
        choisi = ""
    publication, rows = suivi.lignes(convention, list(objectifs), territoire)
    return render(
        request,
        "conventions/suivi.html",
        {
            "convention": convention,
            "publication": publication,
            "lignes": rows,
            "territoire": territoire,
            "departements": departements,
            "choisi": choisi,
            "annees_bilan": suivi.annees_publiees(convention),
        },
    )


@roles_requis(*LECTEURS)
def evaluation(request: HttpRequest, pk: int, horizon: int) -> HttpResponse:
    convention = convention_de(request, pk)
    if horizon not in regles.horizons():
        raise Http404("Horizon d'évaluation inconnu.")
    user = utilisateur(request)
    ouverte = convention.statut == Statut.EVALUATION and convention.horizon_evaluation == horizon
    role = user.role if ouverte and user.role in (Role.ETAT, Role.BAILLEUR) else None
    forms_by_role: dict[str, type[Formulaire]] = {Role.ETAT: AvisEtatForm, Role.BAILLEUR: ExplicationForm}
    form_class = forms_by_role.get(role) if role else None
    territoire = perimetre.territoires_resultats(user)
    data = suivi.evaluation(convention, horizon, territoire)
    status = 200
    exoneration = (
        ExonerationForm(initial={"exoneration_tfpb": data["exoneration_tfpb"] or ""}) if role == Role.ETAT else None
    )
    if request.method == "POST":
        if form_class is None:
            raise PermissionDenied("L'évaluation n'est pas ouverte à la saisie pour vous sur cet horizon.")
        if "exoneration_tfpb" in request.POST:
            if role != Role.ETAT:
                raise PermissionDenied("L'exonération de TFPB est saisie par l'État.")
            exoneration = ExonerationForm(request.POST)
            if exoneration.is_valid():
                suivi.enregistrer_exoneration(user, convention, horizon, exoneration.cleaned_data["exoneration_tfpb"])
                messages.success(request, "Exonération de TFPB enregistrée.")
                return redirect("conventions:evaluation", pk=convention.pk, horizon=horizon)
            status = 400
        else:
            forms = [form_class(request.POST, prefix=f"e{i}") for i in range(len(data["lignes"]))]
            if all(f.is_valid() for f in forms):
                changed = 0
                for f, row in zip(forms, data["lignes"], strict=True):
                    if not any(f.add_prefix(name) in request.POST for name in f.fields):
                        continue  # a row absent from the form is left as it is
                    if suivi.apprecier(user, convention, horizon, row["objectif"], f.cleaned_data):
                        changed += 1
                messages.success(request, f"Appréciations enregistrées ({changed} modifiée(s)).")
                return redirect("conventions:evaluation", pk=convention.pk, horizon=horizon)
            for f, row in zip(forms, data["lignes"], strict=True):
                row["form"] = f
            status = 400
    if form_class is not None:
        for i, row in enumerate(data["lignes"]):
            if "form" not in row:
                a = row["appreciation"]
                initial = {name: getattr(a, name) for name in form_class.base_fields} if a else {}
                row["form"] = form_class(prefix=f"e{i}", initial=initial)
    return render(
        request,
        "conventions/evaluation.html",
        {
            "convention": convention,
            "horizon": horizon,
            "ouverte": ouverte,
            "role_saisie": role,
            "exoneration_form": exoneration,
            "territoire": territoire,
            **data,
        },
        status=status,
    )
