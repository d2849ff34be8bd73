"""The map of a version's ensembles coloured by class, drawn offline as inline SVG (no tiles, no CDN), and
the GeoJSON export of the version.

Points are projected with an equirectangular projection (longitude scaled by the cosine of the mean
latitude) fitted to the bounding box of the points and of the commune outlines drawn. Colour is never the only
cue: each class also has its own marker shape, each point a `<title>` (name, class, score), and the table of
ensembles on the same page is the text alternative. Commune outlines are drawn if a boundaries file
(GeoJSON WGS84, properties `code` and `nom`) is configured: `CUS_CONTOURS_COMMUNES` (setting or environment).
"""

import json
import math
import os
from pathlib import Path
from typing import Any

from django.conf import settings

WIDTH, MARGIN = 640.0, 16.0
MAX_HEIGHT = 560.0
RAMP = ("#ce0500", "#e4794a", "#c3992a", "#68a532", "#18753c")  # from the worst class to the best
SHAPES = ("cercle", "carre", "triangle", "losange")
PLM = {"751": "75056", "693": "69123", "132": "13055"}  # arrondissement code prefix → commune


def couleurs(classes: list[dict[str, Any]]) -> dict[str, str]:
    """Class name → colour, the classes being listed from the worst to the best."""
    n = len(classes)
    if n == 1:
        return {classes[0]["nom"]: RAMP[-1]}
    return {c["nom"]: RAMP[round(i * (len(RAMP) - 1) / (n - 1))] for i, c in enumerate(classes)}


def _communes(code: str) -> set[str]:
    """The code and, for an arrondissement of Paris, Lyon or Marseille, its commune (outline files vary)."""
    return {code, PLM[code[:3]]} if code[:3] in PLM else {code}


def contours_configures() -> str:
    return str(getattr(settings, "CUS_CONTOURS_COMMUNES", "") or os.environ.get("CUS_CONTOURS_COMMUNES", ""))


def lire_contours(chemin: str, communes: set[str]) -> tuple[list[dict[str, Any]], str | None]:
    """Rings (lon/lat) of the communes wanted from a GeoJSON file; a problem is returned, never raised."""
    if not chemin:
        return [], None
    try:
        data = json.loads(Path(chemin).read_text(encoding="utf-8"))
        features = data["features"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [], f"Contours des communes illisibles ({Path(chemin).name} : {error.__class__.__name__})."
    contours = []
    for feature in features:
        props = feature.get("properties") or {}
        if str(props.get("code", "")) not in communes:
            continue
        geometry = feature.get("geometry") or {}
        polygons = geometry.get("coordinates", [])
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        elif geometry.get("type") != "MultiPolygon":
            continue
        rings = [ring for polygon in polygons for ring in polygon[:1]]  # outer rings only
        contours.append({"code": str(props["code"]), "nom": str(props.get("nom", "")), "anneaux": rings})
    return contours, None


def carte(ensembles: list[dict[str, Any]], classes: list[dict[str, Any]], chemin_contours: str = "") -> dict[str, Any]:
    """What the template draws: points, outlines, legend, viewBox; `sans_coordonnees` counts the others."""
    palette = couleurs(classes)
    formes = {c["nom"]: SHAPES[i % len(SHAPES)] for i, c in enumerate(classes)}
    places = [e for e in ensembles if e.get("lat") is not None and e.get("lon") is not None]
    communes = {c for e in places if e.get("commune") for c in _communes(str(e["commune"]))}
    contours, probleme = lire_contours(chemin_contours, communes)
    legende = [
        {"nom": c["nom"], "libelle": c["libelle"], "couleur": palette[c["nom"]], "forme": formes[c["nom"]],
         "nombre": sum(1 for e in places if e["classe_retenue"] == c["nom"])}
        for c in classes
    ]  # fmt: skip
    result: dict[str, Any] = {
        "points": [],
        "contours": [],
        "legende": legende,
        "sans_coordonnees": len(ensembles) - len(places),
        "probleme_contours": probleme,
        "largeur": WIDTH,
        "hauteur": 0.0,
    }
    if not places:
        return result
    lons = [float(e["lon"]) for e in places] + [p[0] for c in contours for r in c["anneaux"] for p in r]
    lats = [float(e["lat"]) for e in places] + [p[1] for c in contours for r in c["anneaux"] for p in r]
    kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * kx, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (MAX_HEIGHT - 2 * MARGIN) / span_y)
    if len(places) == 1 and not contours:
        scale = 0.0  # a single point: in the middle
    height = max(span_y * scale + 2 * MARGIN, 120.0)
    offset_x = (WIDTH - span_x * scale) / 2
    offset_y = (height - span_y * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return round(offset_x + (lon - min(lons)) * kx * scale, 1), round(offset_y + (max(lats) - lat) * scale, 1)

    for e in places:
        x, y = project(float(e["lon"]), float(e["lat"]))
        classe = e["classe_retenue"]
        nom = e.get("nom") or ""
        titre = f"{nom} ({e['id']})" if nom else f"Ensemble {e['id']}"
        score = f"{e['total']:.2f}".rstrip("0").rstrip(".").replace(".", ",")
        forcee = f", forcée (proposée : {e['classe_proposee']})" if e.get("motif_forcage") else ""
        result["points"].append(
            {
                "id": e["id"],
                "x": x,
                "y": y,
                "couleur": palette.get(classe, "#666666"),
                "forme": formes.get(classe, "cercle"),
                "titre": f"{titre} — classe {classe}{forcee} — score {score}",
            }
        )
    for c in contours:
        chemins = [
            "M " + " L ".join(f"{x} {y}" for x, y in (project(p[0], p[1]) for p in ring)) + " Z"
            for ring in c["anneaux"]
        ]
        result["contours"].append({"code": c["code"], "nom": c["nom"], "d": " ".join(chemins)})
    result["hauteur"] = round(height, 1)
    return result


def geojson(ensembles: list[dict[str, Any]], proprietes: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection of points (coordinates lon, lat; `null` geometry without coordinates)."""
    return {
        "type": "FeatureCollection",
        "properties": proprietes,
        "features": [
            {
                "type": "Feature",
                "id": e["id"],
                "geometry": (
                    {"type": "Point", "coordinates": [float(e["lon"]), float(e["lat"])]}
                    if e.get("lat") is not None and e.get("lon") is not None
                    else None
                ),
                "properties": {
                    "id": e["id"],
                    "nom": e.get("nom") or "",
                    "commune": e.get("commune") or "",
                    "classe": e["classe_retenue"],
                    "classe_proposee": e["classe_proposee"],
                    "score": e["total"],
                    "classe_forcee": e["classe_retenue"] if e.get("motif_forcage") else None,
                    "motif": e.get("motif_forcage") or None,
                },
            }
            for e in ensembles
        ],
    }
