"""Who may comment when, who reads which comments, and the traced posting of a comment or an answer.

- association and collectivité: during the concertation only, and they read only concertation comments
  (neither reads the exchanges between the State and the landlord during instruction and evaluation);
- État: during the instruction (its comment may request a change) and the evaluation;
- bailleur: answers any comment, at any step.
"""

from django.db import transaction
from django.db.models import QuerySet

from ..audit.journal import record
from ..comptes.models import Role, Utilisateur
from .models import Commentaire, Convention, Politique, Section, Statut

STEP_OF_STATUS: dict[str, dict[str, str]] = {
    Role.ASSOCIATION: {Statut.CONCERTATION: "concertation"},
    Role.COLLECTIVITE: {Statut.CONCERTATION: "concertation"},
    Role.ETAT: {Statut.INSTRUCTION: "instruction", Statut.EVALUATION: "evaluation"},
}
READS_ONLY_CONCERTATION = (Role.ASSOCIATION, Role.COLLECTIVITE)
MAX_OBJECTIVE_TARGETS = 200


class CommentaireRefuse(Exception):
    """A comment the user may not post; the message is French."""


def etape_ouverte(user: Utilisateur, convention: Convention) -> str | None:
    """The step a new comment of `user` would belong to, or None if the user may not comment now."""
    return STEP_OF_STATUS.get(user.role, {}).get(convention.statut)


def peut_repondre(user: Utilisateur, convention: Convention) -> bool:
    return user.role == Role.BAILLEUR and user.organismes.filter(pk=convention.organisme_id).exists()


def visibles(user: Utilisateur, convention: Convention) -> QuerySet[Commentaire]:
    comments = convention.commentaires.select_related("auteur")
    if user.role in READS_ONLY_CONCERTATION:
        comments = comments.filter(etape="concertation")
    return comments


def fil(user: Utilisateur, convention: Convention) -> list[dict]:
    """Top-level comments, each with its answers, in order."""
    comments = list(visibles(user, convention))
    answers: dict[int, list[Commentaire]] = {}
    for c in comments:
        if c.reponse_a_id:
            answers.setdefault(c.reponse_a_id, []).append(c)
    labels = dict(cibles(convention))
    return [
        {
            "commentaire": c,
            "cible": labels.get(c.cible, c.cible or "Convention entière"),
            "reponses": answers.get(c.pk, []),
        }
        for c in comments
        if not c.reponse_a_id
    ]


def cibles(convention: Convention) -> list[tuple[str, str]]:
    """What a comment may be about: the whole convention, a section, an objective."""
    choices = [("", "Convention entière")]
    for politique, label in Politique.choices:
        for nature, nature_label in Section.NATURES:
            choices.append((f"section:{politique}:{nature}", f"{label} — {nature_label}"))
    objectives = convention.objectifs.values_list("code", "maille", "code_territoire", "periode")
    if objectives.count() <= MAX_OBJECTIVE_TARGETS:
        for code, maille, territory, period in objectives:
            choices.append(
                (f"objectif:{code}:{maille}:{territory}:{period}", f"Objectif {code} — {maille} {territory} — {period}")
            )
        return choices
    # a long table: one target per indicator and territory, all periods together (the list stays usable)
    grouped = objectives.order_by("code", "maille", "code_territoire").values_list("code", "maille", "code_territoire")
    for code, maille, territory in grouped.distinct():
        choices.append((f"objectif:{code}:{maille}:{territory}", f"Objectif {code} — {maille} {territory}"))
    return choices


def publier(
    user: Utilisateur,
    convention: Convention,
    texte: str,
    cible: str = "",
    demande_modification: bool = False,
    reponse_a: Commentaire | None = None,
) -> Commentaire:
    if reponse_a is not None:
        if not peut_repondre(user, convention):
            raise CommentaireRefuse("Seul le bailleur de la convention répond aux commentaires.")
        if reponse_a.convention_id != convention.pk or reponse_a.reponse_a_id is not None:
            raise CommentaireRefuse("Ce commentaire n'existe pas ou est déjà une réponse.")
        etape, cible, demande_modification = reponse_a.etape, reponse_a.cible, False
    else:
        opened = etape_ouverte(user, convention)
        if opened is None:
            raise CommentaireRefuse(f"Vous ne pouvez pas commenter à l'étape « {convention.get_statut_display()} ».")
        etape = opened
        demande_modification = demande_modification and user.role == Role.ETAT
    with transaction.atomic():
        comment = Commentaire.objects.create(
            convention=convention,
            auteur=user,
            etape=etape,
            cible=cible,
            texte=texte,
            demande_modification=demande_modification,
            reponse_a=reponse_a,
        )
        record(
            user,
            "reponse_publiee" if reponse_a else "commentaire_publie",
            comment,
            convention=convention,
            apres={
                "etape": etape,
                "cible": cible,
                "texte": texte,
                "demande_modification": demande_modification,
                "reponse_a": reponse_a.pk if reponse_a else None,
            },
        )
    return comment
