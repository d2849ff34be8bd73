from typing import Any

from django.apps import AppConfig


def _objectives_changed(sender: Any, convention: Any, **kwargs: Any) -> None:
    from .models import HorsTrajectoire

    HorsTrajectoire.objects.filter(convention=convention).delete()


class TableauxConfig(AppConfig):
    name = "pilote_cus.tableaux"
    label = "tableaux"
    verbose_name = "Tableaux de bord"

    def ready(self) -> None:
        from ..conventions.models import objectifs_modifies

        objectifs_modifies.connect(_objectives_changed, dispatch_uid="hors-trajectoire")
