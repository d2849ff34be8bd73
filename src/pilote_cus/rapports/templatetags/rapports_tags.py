"""Template filters of the documents: French numbers, percentages, euros and typography."""

import re
from decimal import Decimal

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from ...graphiques import nombre
from .. import texte
from ..texte import NBSP, NNBSP

register = template.Library()


@register.filter
def fr(value: float | int | Decimal | None, decimals: int = 1) -> str:
    """12 345,6 ; « — » when missing."""
    return nombre(None if value is None else float(value), decimals)


@register.filter
def entier(value: float | int | Decimal | None) -> str:
    return nombre(None if value is None else float(round(value)), 0)


@register.filter
def euros(value: float | int | Decimal | None, decimals: int = 0) -> str:
    if value is None:
        return "—"
    return f"{nombre(float(value), decimals)}{NBSP}€"


@register.filter
def pct(value: float | int | Decimal | None, decimals: int = 1) -> str:
    """A value already expressed in percent: 12,5 %."""
    if value is None:
        return "—"
    return f"{nombre(float(value), decimals)}{NNBSP}%"


@register.filter(needs_autoescape=True)
def typo(text: object, autoescape: bool = True) -> SafeString:
    """French typography on free text: thin no-break space before ; : ! ? and inside « », paragraphs kept.

    The spaces are placed on the raw text, which is escaped afterwards (escaping first would turn the ; of
    entities such as &#x27; into punctuation)."""
    raw = texte.typographie(str(text))
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", raw) if p.strip()]
    escape = conditional_escape if autoescape else str
    html = "".join(f"<p>{'<br>'.join(str(escape(line)) for line in p.splitlines())}</p>" for p in paragraphs)
    return mark_safe(html)


@register.filter
def nature_bloc(bloc: object) -> str:
    return type(bloc).__name__


@register.filter
def alignement(tableau: object, index: int) -> str:
    aligns = getattr(tableau, "alignements", [])
    return str(aligns[index]) if index < len(aligns) else "texte"


@register.filter
def classe_ligne(tableau: object, index: int) -> str:
    classes = getattr(tableau, "classes", [])
    return str(classes[index]) if index < len(classes) else ""


@register.filter
def cellule(value: object) -> str:
    return texte.cellule(value)


@register.filter
def css_chaine(text: object) -> SafeString:
    """Text inside a CSS string (page margin boxes): backslashes, quotes, line breaks and < escaped for CSS
    (not HTML: a <style> element's content is raw text, so `</style>` is neutralised by escaping <)."""
    return mark_safe(str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c "))
