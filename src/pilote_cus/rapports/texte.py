"""Text rules shared by the HTML/PDF and DOCX renderers: French typography and table cells."""

import re
from decimal import Decimal

from ..graphiques import nombre

NNBSP = "\u202f"  # espace fine insécable
NBSP = "\u00a0"


def typographie(text: str) -> str:
    """French typography on plain text: thin no-break space before ; ! ? and inside « », no-break before :."""
    text = re.sub(r"\s*([;!?])", NNBSP + r"\1", text)
    text = re.sub(r"(?<=\S)\s*:(?=\s|$)", NBSP + ":", text)
    text = re.sub(r"«\s*", "«" + NNBSP, text)
    return re.sub(r"\s*»", NNBSP + "»", text)


def cellule(value: object) -> str:
    """A table cell: numbers the French way, None as « — », booleans as oui/non, text as is."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float | Decimal):
        return nombre(float(value), 0 if isinstance(value, int) else 1)
    return str(value)
