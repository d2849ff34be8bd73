"""Names of the territories an engagement is set on, as the documents print them: « Rhône (69) »."""

from functools import cache

from ..geographie.referentiel import gazetteer

WHOLE_STOCK = "Ensemble du patrimoine"


@cache
def _names() -> dict[str, dict[str, str]]:
    g = gazetteer()
    return {
        "region": dict(g.regions),
        "departement": {code: str(d.get("nom", code)) for code, d in g.departements.items()},
        "epci": dict(g.epci),
        "commune": {c.code: c.nom for c in g.communes},
    }


def libelle(maille: str, code: str) -> str:
    """The territory's name and code (the code alone when the built-in gazetteer does not know it)."""
    if maille in ("bailleur", "france"):
        return WHOLE_STOCK
    name = _names().get(maille, {}).get(code)
    kinds = {"region": "région", "departement": "département", "epci": "EPCI", "commune": "commune"}
    return f"{name} ({code})" if name else f"{kinds.get(maille, maille)} {code}"


def departements() -> dict[str, str]:
    return _names()["departement"]
