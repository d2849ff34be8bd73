"""Convention pages: list, creation, the convention itself, texts, comments, transitions and deadlines."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..audit.journal import record
from ..comptes import perimetre
from ..comptes.models import Role
from ..entrepot.entrepot import Warehouse
from ..web.acces import htmx, roles_requis, utilisateur
from . import commentaires, cycle, etat_des_lieux, regles
from .forms import CommentaireForm, ConventionForm, ReponseForm, SectionForm
from .models import Commentaire, Convention, Politique, Section, Statut

# the roles as plain strings, as the decorator takes them (without django-stubs, mypy sees choices as tuples)
BAILLEUR, ETAT, COLLECTIVITE, ASSOCIATION, ADMINISTRATEUR = (
    str(r) for r in (Role.BAILLEUR, Role.ETAT, Role.COLLECTIVITE, Role.ASSOCIATION, Role.ADMINISTRATEUR)
)
TOUS = (BAILLEUR, ETAT, COLLECTIVITE, ASSOCIATION, ADMINISTRATEUR)
NATURES = dict(Section.NATURES)


def convention_de(request: HttpRequest, pk: Any) -> Convention:
    return perimetre.convention_ou_404(utilisateur(request), pk)


def exiger_modification(request: HttpRequest, convention: Convention) -> None:
    if not perimetre.peut_modifier_contenu(utilisateur(request), convention):
        raise PermissionDenied(
            f"Le contenu n'est modifiable que par le bailleur, en élaboration, en concertation ou après une demande "
            f"de modifications (étape actuelle : « {convention.get_statut_display()} »)."
        )


def en_retard(convention: Convention) -> bool:
    return convention.echeance is not None and convention.echeance < timezone.localdate()


@roles_requis(*TOUS)
def liste(request: HttpRequest) -> HttpResponse:
    conventions = perimetre.conventions_visibles(utilisateur(request)).select_related("parent")
    rows = [{"c": c, "en_retard": en_retard(c), "prochaine_etape": cycle.prochaine_etape(c)} for c in conventions]
    return render(request, "conventions/liste.html", {"lignes": rows})


@roles_requis(*TOUS)
def echeances(request: HttpRequest) -> HttpResponse:
    """The reminders: the next deadline of each convention of the perimeter, the oldest (late) first."""
    conventions = cycle.a_relancer(perimetre.conventions_visibles(utilisateur(request)))
    rows = [{"c": c, "en_retard": en_retard(c), "prochaine_etape": cycle.prochaine_etape(c)} for c in conventions]
    return render(
        request, "conventions/echeances.html", {"lignes": rows, "retards": sum(1 for r in rows if r["en_retard"])}
    )


@roles_requis(BAILLEUR)
def creer(request: HttpRequest) -> HttpResponse:
    user = utilisateur(request)
    form = ConventionForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        summary = etat_des_lieux.resume(Warehouse(settings.DATA_DIR), data["organisme"].code)
        due = cycle.echeance(str(Statut.ELABORATION), timezone.localdate())
        with transaction.atomic():
            convention = Convention.objects.create(
                organisme=data["organisme"],
                titre=data["titre"],
                generation=data["generation"],
                annee_debut=data["annee_debut"],
                annee_fin=form.annee_fin,
                cree_par=user,
                etat_des_lieux=summary,
                echeance=due[0] if due else None,
            )
            convention.collectivites.set(data["collectivites"])
            record(
                user,
                "convention_creee",
                convention,
                convention=convention,
                apres={
                    "titre": convention.titre,
                    "annees": f"{convention.annee_debut}-{convention.annee_fin}",
                    "etat_des_lieux": summary.get("instantane") or summary.get("message"),
                },
            )
        messages.success(request, "Convention créée.")
        if summary.get("message"):
            messages.warning(request, summary["message"])
        return redirect("conventions:detail", pk=convention.pk)
    return render(request, "conventions/creer.html", {"form": form})


def _contexte_detail(request: HttpRequest, convention: Convention) -> dict[str, Any]:
    user = utilisateur(request)
    texts = {(s.politique, s.nature): s for s in convention.sections.all()}
    politiques = [
        {
            "code": code,
            "libelle": libelle,
            "sections": [
                {"nature": n, "libelle": label, "section": texts.get((code, n))} for n, label in Section.NATURES
            ],
        }
        for code, libelle in Politique.choices
    ]
    summary = convention.etat_des_lieux or {}
    return {
        "convention": convention,
        "en_retard": en_retard(convention),
        "prochaine_etape": cycle.prochaine_etape(convention),
        "transitions": cycle.possibles(user, convention),
        "horizons": regles.horizons(),
        "modifiable": perimetre.peut_modifier_contenu(user, convention),
        "politiques": politiques,
        "etat_des_lieux": summary,
        "colonnes_edl": etat_des_lieux.LABELS,
        "objectifs": convention.objectifs.all(),
        "signataires": convention.signataires.all(),
        "avenants": convention.avenants.all(),
        "avenant_possible": cycle.peut_creer_avenant(user, convention),
        **_contexte_fil(request, convention),
    }


def _contexte_fil(request: HttpRequest, convention: Convention, form: CommentaireForm | None = None) -> dict:
    user = utilisateur(request)
    etape = commentaires.etape_ouverte(user, convention)
    if form is None and etape:
        form = CommentaireForm(cibles=commentaires.cibles(convention), etat=user.role == Role.ETAT)
    return {
        "convention": convention,
        "fil": commentaires.fil(user, convention),
        "form_commentaire": form,
        "etape_commentaire": etape,
        "peut_repondre": commentaires.peut_repondre(user, convention),
    }


@roles_requis(*TOUS)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    convention = convention_de(request, pk)
    return render(request, "conventions/detail.html", _contexte_detail(request, convention))


@roles_requis(BAILLEUR)
def section(request: HttpRequest, pk: int, politique: str, nature: str) -> HttpResponse:
    convention = convention_de(request, pk)
    if politique not in Politique.values or nature not in NATURES:
        raise Http404("Section inconnue.")
    exiger_modification(request, convention)
    current = Section.objects.filter(convention=convention, politique=politique, nature=nature).first()
    form = SectionForm(request.POST or None, initial={"texte": current.texte if current else ""})
    if request.method == "POST" and form.is_valid():
        texte = form.cleaned_data["texte"]
        before = current.texte if current else ""
        if texte != before:
            with transaction.atomic():
                target, _ = Section.objects.select_for_update().get_or_create(
                    convention=convention, politique=politique, nature=nature
                )
                target.texte = texte
                target.save()
                record(
                    utilisateur(request),
                    "section_modifiee",
                    target,
                    convention=convention,
                    avant={"politique": politique, "nature": nature, "texte": before},
                    apres={"politique": politique, "nature": nature, "texte": texte},
                )
            messages.success(request, "Texte enregistré.")
        else:
            messages.info(request, "Aucune modification.")
        return redirect(reverse("conventions:detail", args=[convention.pk]) + f"#politique-{politique}")
    return render(
        request,
        "conventions/section.html",
        {
            "convention": convention,
            "form": form,
            "politique": Politique(politique).label,
            "nature": NATURES[nature],
        },
    )


@roles_requis(*TOUS)
def commentaires_vue(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the thread. POST: a comment (concertation partners, State) or an answer (landlord)."""
    convention = convention_de(request, pk)
    user = utilisateur(request)
    form: CommentaireForm | None = None
    status = 200
    if request.method == "POST":
        try:
            if "reponse_a" in request.POST:
                answer = ReponseForm(request.POST)
                if not answer.is_valid():
                    raise commentaires.CommentaireRefuse("Écrivez une réponse avant de l'envoyer.")
                parent = Commentaire.objects.filter(pk=answer.cleaned_data["reponse_a"], convention=convention).first()
                if parent is None or parent not in commentaires.visibles(user, convention):
                    raise commentaires.CommentaireRefuse("Ce commentaire n'existe pas.")
                commentaires.publier(user, convention, answer.cleaned_data["texte"], reponse_a=parent)
                messages.success(request, "Réponse publiée.")
            else:
                if commentaires.etape_ouverte(user, convention) is None:
                    raise PermissionDenied(
                        f"Vous ne pouvez pas commenter à l'étape « {convention.get_statut_display()} »."
                    )
                form = CommentaireForm(
                    request.POST, cibles=commentaires.cibles(convention), etat=user.role == Role.ETAT
                )
                if form.is_valid():
                    data = form.cleaned_data
                    commentaires.publier(
                        user, convention, data["texte"], data["cible"], data.get("demande_modification", False)
                    )
                    messages.success(request, "Commentaire publié.")
                    form = None
                else:
                    status = 400
        except commentaires.CommentaireRefuse as refused:
            if not commentaires.peut_repondre(user, convention):
                raise PermissionDenied(str(refused)) from None
            messages.error(request, str(refused))
            status = 400
        if not htmx(request) and status == 200:
            return redirect(reverse("conventions:detail", args=[convention.pk]) + "#commentaires")
    context = _contexte_fil(request, convention, form)
    template = "conventions/_fil.html" if htmx(request) else "conventions/commentaires.html"
    return render(request, template, context, status=status)


@require_POST
@roles_requis(BAILLEUR, ETAT)
def transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    convention = convention_de(request, pk)
    options: dict[str, Any] = {}
    if action == "ouvrir_evaluation":
        try:
            options["horizon"] = int(request.POST.get("horizon", ""))
        except ValueError:
            options["horizon"] = None
    try:
        convention = cycle.appliquer(utilisateur(request), convention, action, **options)
    except cycle.TransitionRefusee as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Étape suivante : {convention.get_statut_display()}.")
    return redirect("conventions:detail", pk=convention.pk)


@require_POST
@roles_requis(BAILLEUR)
def avenant(request: HttpRequest, pk: int) -> HttpResponse:
    convention = convention_de(request, pk)
    try:
        copy = cycle.creer_avenant(utilisateur(request), convention)
    except cycle.TransitionRefusee as refused:
        messages.error(request, str(refused))
        return redirect("conventions:detail", pk=convention.pk)
    messages.success(request, f"Avenant n° {copy.version - 1} créé : modifiez-le puis déposez-le.")
    return redirect("conventions:detail", pk=copy.pk)
