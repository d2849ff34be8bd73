"""Record a change. Called by the business functions, inside their transaction."""

from typing import Any

from django.db import models

from .models import Trace


def record(
    user: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    convention: Any = None,
    organisme: Any = None,
    avant: Any = None,
    apres: Any = None,
) -> Trace:
    if convention is None and obj is not None:
        convention = getattr(obj, "convention", None)
    if organisme is None and convention is not None:
        organisme = convention.organisme
    return Trace.objects.create(
        auteur=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        objet=(obj._meta.model_name or "") if obj is not None else "",
        objet_id=str(obj.pk) if obj is not None else "",
        convention=convention,
        organisme=organisme,
        avant=avant,
        apres=apres,
    )
