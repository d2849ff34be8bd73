"""Display helpers of the convention pages: status badge colours, figures in French."""

from django import template
from django.utils.formats import number_format

from ..models import Statut

register = template.Library()

BADGES = {
    Statut.ELABORATION: "new",
    Statut.CONCERTATION: "info",
    Statut.DEPOSEE: "info",
    Statut.INSTRUCTION: "info",
    Statut.A_MODIFIER: "warning",
    Statut.A_SIGNER: "new",
    Statut.SUIVI: "success",
    Statut.EVALUATION: "warning",
    Statut.TERMINEE: "",
    Statut.REMPLACEE: "",
}
STATUS_BADGES = {"atteint": "success", "partiellement atteint": "warning", "non atteint": "error"}


@register.filter
def badge_statut(statut: str) -> str:
    colour = BADGES.get(statut, "")  # type: ignore[call-overload]
    return f"fr-badge--{colour}" if colour else ""


@register.filter
def badge_engagement(statut: str) -> str:
    colour = STATUS_BADGES.get(statut, "")
    return f"fr-badge--{colour}" if colour else ""


@register.filter
def chiffre(value: object, decimals: int = 2) -> str:
    """A figure in French (12 345,67), or a dash when there is none."""
    if value is None or value == "":
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer() and abs(number) < 1e15:
        return number_format(int(number), 0, force_grouping=True)
    return number_format(round(number, decimals), decimals, force_grouping=True)


@register.filter
def get(mapping: dict, key: str) -> object:
    return mapping.get(key) if isinstance(mapping, dict) else None
