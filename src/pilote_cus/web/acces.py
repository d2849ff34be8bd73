"""Role checks for views: a wrong role gets 403, an object outside the perimeter gets 404."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from ..comptes.models import Utilisateur


def utilisateur(request: HttpRequest) -> Utilisateur:
    """The signed-in user of a view behind `login_required` or `roles_requis`."""
    return cast(Utilisateur, request.user)


def htmx(request: HttpRequest) -> HtmxDetails:
    """What django-htmx's middleware knows of the request (set on every request)."""
    return cast(HtmxDetails, request.htmx)  # type: ignore[attr-defined]


def roles_requis(*roles: str) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.role not in roles:  # type: ignore[union-attr]
                raise PermissionDenied("Cette page n'est pas ouverte à votre rôle.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
