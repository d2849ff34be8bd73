"""The lifecycle as a table of transitions: who may move a convention from which step to which.

Modelled on APiLos' instruction of APL conventions: the landlord writes and deposits, the State instructs,
requests changes or sends to signature, then follows and evaluates. Every transition is traced.
"""

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..audit.journal import record
from ..comptes.models import Role, Utilisateur
from .models import Convention, Statut


class TransitionRefusee(Exception):
    """A transition the user may not make now; the message is French and shown as is."""


@dataclass(frozen=True)
class Transition:
    action: str
    libelle: str
    depuis: tuple[str, ...]
    vers: str
    roles: tuple[str, ...]


def _transition(action: str, libelle: str, depuis: tuple[Any, ...], vers: Any, roles: tuple[Any, ...]) -> Transition:
    """Choices kept as plain strings (without django-stubs, mypy types the choices as tuples)."""
    return Transition(action, libelle, tuple(map(str, depuis)), str(vers), tuple(map(str, roles)))


TRANSITIONS = (
    _transition(
        "ouvrir_concertation", "Ouvrir la concertation", (Statut.ELABORATION,), Statut.CONCERTATION, (Role.BAILLEUR,)
    ),
    _transition(
        "deposer",
        "Déposer auprès de l'État",
        (Statut.CONCERTATION, Statut.A_MODIFIER),
        Statut.DEPOSEE,
        (Role.BAILLEUR,),
    ),
    _transition("instruire", "Prendre en instruction", (Statut.DEPOSEE,), Statut.INSTRUCTION, (Role.ETAT,)),
    _transition(
        "demander_modifications", "Demander des modifications", (Statut.INSTRUCTION,), Statut.A_MODIFIER, (Role.ETAT,)
    ),
    _transition("proposer_signature", "Proposer à la signature", (Statut.INSTRUCTION,), Statut.A_SIGNER, (Role.ETAT,)),
    _transition(
        "enregistrer_signature",
        "Enregistrer la signature",
        (Statut.A_SIGNER,),
        Statut.SUIVI,
        (Role.BAILLEUR, Role.ETAT),
    ),
    _transition("ouvrir_evaluation", "Ouvrir l'évaluation", (Statut.SUIVI,), Statut.EVALUATION, (Role.ETAT,)),
    _transition("clore_evaluation", "Clore l'évaluation", (Statut.EVALUATION,), Statut.SUIVI, (Role.ETAT,)),
)
BY_ACTION = {t.action: t for t in TRANSITIONS}
OPEN_AVENANT = (
    Statut.ELABORATION,
    Statut.CONCERTATION,
    Statut.DEPOSEE,
    Statut.INSTRUCTION,
    Statut.A_MODIFIER,
    Statut.A_SIGNER,
)


@cache
def delais() -> dict[str, dict[str, Any]]:
    text = resources.files(__package__).joinpath("echeances.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["etapes"]


def echeance(statut: str, depuis: date) -> tuple[date, str] | None:
    step = delais().get(statut)
    if not step:
        return None
    return depuis + timedelta(days=int(step["delai_jours"])), str(step["libelle"])


def a_relancer(conventions: QuerySet[Convention]) -> QuerySet[Convention]:
    """The conventions with a deadline still to meet, the oldest (late) first: the reminders."""
    return (
        conventions.exclude(echeance=None)
        .exclude(statut__in=(Statut.TERMINEE, Statut.REMPLACEE))
        .order_by("echeance", "organisme__nom", "pk")
    )


def prochaine_etape(convention: Convention) -> str:
    step = delais().get(convention.statut)
    return str(step["libelle"]) if step else ""


def _owns(user: Utilisateur, convention: Convention) -> bool:
    if user.role == Role.BAILLEUR:
        return user.organismes.filter(pk=convention.organisme_id).exists()
    if user.role == Role.ETAT:
        from ..comptes.perimetre import conventions_visibles

        return conventions_visibles(user).filter(pk=convention.pk).exists()
    return False


def possibles(user: Utilisateur, convention: Convention) -> list[Transition]:
    if not _owns(user, convention):
        return []
    return [t for t in TRANSITIONS if convention.statut in t.depuis and user.role in t.roles]


def _check(action: str, convention: Convention, options: dict[str, Any]) -> None:
    if action == "deposer" and not convention.objectifs.exists():
        raise TransitionRefusee("Impossible de déposer : aucun objectif n'est saisi.")
    if action == "enregistrer_signature":
        signed = convention.signataires.exclude(date_signature=None)
        if signed.count() < 2:
            raise TransitionRefusee("Impossible d'enregistrer la signature : il faut au moins deux signataires datés.")
        if not convention.pdf_signe:
            raise TransitionRefusee("Impossible d'enregistrer la signature : la convention signée (PDF) manque.")
    if action == "ouvrir_evaluation" and options.get("horizon") not in (3, 6):
        raise TransitionRefusee("L'horizon d'évaluation doit être 3 ou 6 ans.")


def appliquer(user: Utilisateur, convention: Convention, action: str, **options: Any) -> Convention:
    """Apply one transition; raise TransitionRefusee with a French message when it is not allowed."""
    transition = BY_ACTION.get(action)
    if transition is None:
        raise TransitionRefusee(f"Action inconnue : « {action} ».")
    with transaction.atomic():
        convention = Convention.objects.select_for_update().get(pk=convention.pk)
        if transition not in possibles(user, convention):
            raise TransitionRefusee(
                f"« {transition.libelle} » n'est pas possible pour vous à l'étape "
                f"« {convention.get_statut_display()} »."
            )
        _check(action, convention, options)
        before = convention.statut
        target = transition.vers
        if action == "clore_evaluation" and convention.horizon_evaluation == 6:
            target = str(Statut.TERMINEE)
        convention.statut = target
        convention.statut_depuis = timezone.now()
        if action == "ouvrir_evaluation":
            convention.horizon_evaluation = options["horizon"]
        due = echeance(target, timezone.localdate())
        convention.echeance = due[0] if due else None
        convention.save()
        if action == "enregistrer_signature" and convention.parent_id:
            parent = convention.parent
            assert parent is not None
            parent.statut = Statut.REMPLACEE
            parent.echeance = None
            parent.save(update_fields=["statut", "echeance"])
            record(
                user,
                "convention_remplacee",
                parent,
                convention=parent,
                avant={"statut": Statut.SUIVI},
                apres={"statut": Statut.REMPLACEE, "avenant": convention.pk},
            )
        record(
            user,
            f"transition:{action}",
            convention,
            convention=convention,
            avant={"statut": before},
            apres={"statut": target, **{k: v for k, v in options.items()}},
        )
    return convention


def peut_creer_avenant(user: Utilisateur, convention: Convention) -> bool:
    return user.role == Role.BAILLEUR and convention.statut == Statut.SUIVI and _owns(user, convention)


def creer_avenant(user: Utilisateur, convention: Convention) -> Convention:
    """A versioned copy of a signed convention; only one avenant may be open at a time."""
    if not (user.role == Role.BAILLEUR and _owns(user, convention)):
        raise TransitionRefusee("Seul le bailleur de la convention peut proposer un avenant.")
    if convention.statut != Statut.SUIVI:
        raise TransitionRefusee("Un avenant se propose sur une convention signée, en suivi.")
    with transaction.atomic():
        root = Convention.objects.select_for_update().get(pk=convention.pk)  # one avenant at a time, even in a race
        if Convention.objects.filter(parent=root, statut__in=OPEN_AVENANT).exists():
            raise TransitionRefusee("Un avenant est déjà en cours pour cette convention : un seul à la fois.")
        copy = Convention.objects.create(
            organisme=root.organisme,
            generation=root.generation,
            titre=root.titre,
            annee_debut=root.annee_debut,
            annee_fin=root.annee_fin,
            version=root.version + 1,
            parent=root,
            etat_des_lieux=root.etat_des_lieux,
            cree_par=user,
            echeance=(echeance(str(Statut.ELABORATION), timezone.localdate()) or (None,))[0],
        )
        copy.collectivites.set(root.collectivites.all())
        for section in root.sections.all():
            section.pk = None
            section.convention = copy
            section.save()
        for objective in root.objectifs.all():
            objective.pk = None
            objective.convention = copy
            objective.save()
        record(user, "avenant_cree", copy, convention=copy, apres={"parent": root.pk, "version": copy.version})
    return copy
