"""Each role sees only its perimeter. Every view and export goes through these functions.

- bailleur: the conventions and results of its organismes;
- État: the conventions of the landlords owning dwellings in its département or région;
- collectivité: the conventions it signs (or is associated to), results on its territory only;
- association: its landlord's conventions once shared for concertation;
- administrateur: everything.
"""

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from ..conventions.models import Convention, Statut
from .models import Organisme, Role, Utilisateur

NOT_SHARED = (Statut.ELABORATION,)


def organismes_visibles(user: Utilisateur) -> QuerySet[Organisme]:
    role = user.role
    if role == Role.ADMINISTRATEUR:
        return Organisme.objects.all()
    if role == Role.BAILLEUR:
        return user.organismes.all()
    if role == Role.ETAT:
        return Organisme.objects.filter(_etat_filter(user, "implantations__")).distinct()
    if role == Role.COLLECTIVITE:
        return Organisme.objects.filter(conventions__collectivites=user.collectivite_id).distinct()
    if role == Role.ASSOCIATION and user.association_id:
        return Organisme.objects.filter(associations=user.association_id)
    return Organisme.objects.none()


def _etat_filter(user: Utilisateur, prefix: str) -> Q:
    if user.departement:
        return Q(**{f"{prefix}departement": user.departement})
    if user.region:
        return Q(**{f"{prefix}region": user.region})
    return Q(pk__in=[])


def conventions_visibles(user: Utilisateur) -> QuerySet[Convention]:
    role = user.role
    base = Convention.objects.select_related("organisme")
    if role == Role.ADMINISTRATEUR:
        return base.all()
    if role == Role.BAILLEUR:
        return base.filter(organisme__in=user.organismes.all())
    if role == Role.ETAT:
        ids = Organisme.objects.filter(_etat_filter(user, "implantations__")).values("pk")
        return base.filter(organisme__in=ids)
    if role == Role.COLLECTIVITE:
        return base.filter(collectivites=user.collectivite_id).exclude(statut__in=NOT_SHARED)
    if role == Role.ASSOCIATION and user.association_id:
        return base.filter(organisme__associations=user.association_id).exclude(statut__in=NOT_SHARED)
    return base.none()


def convention_ou_404(user: Utilisateur, pk: Any) -> Convention:
    """The convention if the user may see it; otherwise a 404, so that nobody learns it exists."""
    try:
        return conventions_visibles(user).get(pk=pk)
    except (Convention.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Convention introuvable dans votre périmètre.") from exc


def territoires_resultats(user: Utilisateur) -> tuple[str, list[str]] | None:
    """For a collectivity, the only territory whose results it reads; None means no such restriction."""
    if user.role == Role.COLLECTIVITE and user.collectivite:
        c = user.collectivite
        return c.type_territoire, [c.code_territoire]
    return None


def peut_modifier_contenu(user: Utilisateur, convention: Convention) -> bool:
    """Texts and objectives are the landlord's while the convention is being written."""
    return (
        user.role == Role.BAILLEUR
        and convention.statut in (Statut.ELABORATION, Statut.CONCERTATION, Statut.A_MODIFIER)
        and user.organismes.filter(pk=convention.organisme_id).exists()
    )
