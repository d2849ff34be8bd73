from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _objectives_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from .models import HorsTrajectoire

    HorsTrajectoire.objects.filter(convention_id=instance.convention_id).delete()


class TableauxConfig(AppConfig):
    name = "pilote_cus.tableaux"
    label = "tableaux"
    verbose_name = "Tableaux de bord"

    def ready(self) -> None:
        from ..conventions.models import Objectif

        post_save.connect(_objectives_changed, sender=Objectif, dispatch_uid="hors-trajectoire-save")
        post_delete.connect(_objectives_changed, sender=Objectif, dispatch_uid="hors-trajectoire-delete")
