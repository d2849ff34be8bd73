from django import template

from ...graphiques import nombre

register = template.Library()
BADGES = {
    "atteint": "fr-badge--success",
    "partiellement atteint": "fr-badge--warning",
    "non atteint": "fr-badge--error",
    "non calculable": "fr-badge--info",
}


@register.filter
def valeur(value: float | None, decimals: int = 1) -> str:
    return nombre(value, decimals)


@register.filter
def badge(statut: str) -> str:
    return BADGES.get(statut, "")
