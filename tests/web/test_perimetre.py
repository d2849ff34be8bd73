"""Each role sees only its perimeter (the functions every view goes through)."""

import pytest
from django.http import Http404

from pilote_cus.comptes.perimetre import convention_ou_404, conventions_visibles, organismes_visibles
from pilote_cus.conventions.models import Statut

from .usines import Monde


@pytest.mark.parametrize(
    ("compte", "voit_a", "voit_b"),
    [
        ("bailleur", True, False),
        ("autre_bailleur", False, True),
        ("etat", True, False),
        ("etat_region", True, False),
        ("autre_etat", False, True),
        ("collectivite", True, False),
        ("association", True, False),
        ("administrateur", True, True),
    ],
)
def test_conventions_visibles(monde: Monde, compte: str, voit_a: bool, voit_b: bool) -> None:
    user = monde.comptes()[compte]
    visible = set(conventions_visibles(user).values_list("pk", flat=True))
    assert (monde.convention.pk in visible) is voit_a
    assert (monde.autre_convention.pk in visible) is voit_b
    if not voit_b:
        with pytest.raises(Http404):
            convention_ou_404(user, monde.autre_convention.pk)


def test_association_ne_voit_pas_un_projet_non_partage(monde: Monde) -> None:
    monde.convention.statut = Statut.ELABORATION
    monde.convention.save()
    assert not conventions_visibles(monde.association_user).exists()
    assert not conventions_visibles(monde.collectivite_user).exists()
    assert conventions_visibles(monde.bailleur).filter(pk=monde.convention.pk).exists()


def test_organismes_visibles(monde: Monde) -> None:
    assert list(organismes_visibles(monde.etat)) == [monde.organisme]
    assert list(organismes_visibles(monde.autre_etat)) == [monde.autre_organisme]
    assert list(organismes_visibles(monde.association_user)) == [monde.organisme]
    assert set(organismes_visibles(monde.admin)) == {monde.organisme, monde.autre_organisme}
