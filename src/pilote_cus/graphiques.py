"""Small accessible SVG charts, pure Python (web pages and, later, PDF documents).

Each builder returns an SVG string with `role="img"`, a `<title>` and a `<desc>`; every label is escaped,
numbers are written the French way (comma decimal, narrow no-break space for thousands). Colours are the
State design system's (DSFR). Pages show a table of the same figures under each chart.
"""

import hashlib
import html
import math
from collections.abc import Sequence

BLUE = "#000091"  # bleu France
BLUE_LIGHT = "#6a6af4"
GREY = "#666666"
GRID = "#dddddd"
STATUS_COLOURS = {
    "atteint": "#18753c",  # success
    "partiellement atteint": "#b34000",  # warning
    "non atteint": "#ce0500",  # error
    "non calculable": GREY,
}
FONT = 'font-family="Marianne, Arial, sans-serif" font-size="12"'


def nombre(value: float | None, decimals: int = 1) -> str:
    """12 345,6 — with a narrow no-break space for thousands; « — » for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if float(value).is_integer() and abs(value) >= 100:
        decimals = 0
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _open(width: int, height: int, title: str, desc: str) -> str:
    # ids unique per chart (several charts share a page) yet reproducible (documents are compared byte for byte)
    key = hashlib.sha1(f"{title}\x00{desc}".encode()).hexdigest()[:10]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" aria-labelledby="t-{key} d-{key}" {FONT}>'
        f'<title id="t-{key}">{_e(title)}</title><desc id="d-{key}">{_e(desc)}</desc>'
    )


def _scale_max(values: Sequence[float | None]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    top = max(finite, default=0.0)
    return top * 1.1 if top > 0 else 1.0


def barres(
    title: str, categories: Sequence[str], realised: Sequence[float | None], objectives: Sequence[float | None],
    unit: str = "",
) -> str:  # fmt: skip
    """Realised (bars) against objective (marks) per category, e.g. per year."""
    width, height, left, bottom, top = 640, 260, 60, 40, 20
    plot_w, plot_h = width - left - 20, height - top - bottom
    scale = _scale_max([*realised, *objectives])
    step = plot_w / max(len(categories), 1)
    desc = "; ".join(
        f"{c} : réalisé {nombre(r)}{unit}, objectif {nombre(o)}{unit}"
        for c, r, o in zip(categories, realised, objectives, strict=True)
    )
    parts = [_open(width, height, title, desc or "Aucune donnée."), _axis(left, top, plot_w, plot_h, scale, unit)]
    for n, (category, value, objective) in enumerate(zip(categories, realised, objectives, strict=True)):
        x = left + n * step
        if value is not None and not math.isnan(value):
            h = plot_h * max(value, 0) / scale
            parts.append(
                f'<rect x="{x + step * 0.2:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.6:.1f}" '
                f'height="{h:.1f}" fill="{BLUE}"><title>{_e(category)} : {_e(nombre(value))}{_e(unit)}</title></rect>'
            )
        if objective is not None:
            y = top + plot_h - plot_h * max(objective, 0) / scale
            parts.append(
                f'<line x1="{x + step * 0.1:.1f}" x2="{x + step * 0.9:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{STATUS_COLOURS["non atteint"]}" stroke-width="3" stroke-dasharray="6 3"/>'
            )
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle">{_e(category)}</text>'
        )
    parts.append(_legend(left, height - 8, [("Réalisé", BLUE), ("Objectif (trait pointillé)", "#ce0500")]))
    return "".join(parts) + "</svg>"


def courbe(title: str, categories: Sequence[str], series: dict[str, Sequence[float | None]], unit: str = "") -> str:
    """One line per series over the categories (a trend over years)."""
    width, height, left, bottom, top = 640, 260, 60, 40, 20
    plot_w, plot_h = width - left - 20, height - top - bottom
    scale = _scale_max([v for values in series.values() for v in values])
    step = plot_w / max(len(categories) - 1, 1)
    colours = [BLUE, "#ce0500", "#18753c", BLUE_LIGHT, "#b34000"]
    desc = "; ".join(
        f"{name} : " + ", ".join(f"{c} {nombre(v)}{unit}" for c, v in zip(categories, values, strict=True))
        for name, values in series.items()
    )
    parts = [_open(width, height, title, desc or "Aucune donnée."), _axis(left, top, plot_w, plot_h, scale, unit)]
    legend = []
    for index, (name, values) in enumerate(series.items()):
        colour = colours[index % len(colours)]
        legend.append((name, colour))
        points = [
            (left + n * step, top + plot_h - plot_h * max(v, 0) / scale)
            for n, v in enumerate(values)
            if v is not None and not math.isnan(v)
        ]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
    for n, category in enumerate(categories):
        parts.append(
            f'<text x="{left + n * step:.1f}" y="{height - bottom + 16}" text-anchor="middle">{_e(category)}</text>'
        )
    parts.append(_legend(left, height - 8, legend))
    return "".join(parts) + "</svg>"


def barres_horizontales(title: str, counts: dict[str, int]) -> str:
    """One horizontal bar per label (e.g. engagements by status), coloured by status when known."""
    row, left, width = 28, 170, 640
    height = row * max(len(counts), 1) + 20
    scale = max(counts.values(), default=0) or 1
    desc = "; ".join(f"{label} : {nombre(n, 0)}" for label, n in counts.items())
    parts = [_open(width, height, title, desc or "Aucune donnée.")]
    for n, (label, count) in enumerate(counts.items()):
        y = 10 + n * row
        w = (width - left - 60) * count / scale
        colour = STATUS_COLOURS.get(label, BLUE)
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{_e(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{_e(nombre(count, 0))}</text>')
    return "".join(parts) + "</svg>"


def _axis(left: int, top: int, plot_w: float, plot_h: float, scale: float, unit: str) -> str:
    parts = []
    for k in range(5):
        value = scale * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{GREY}">{_e(nombre(value))}</text>')
    if unit:
        parts.append(f'<text x="4" y="{top - 6}" fill="{GREY}">{_e(unit.strip())}</text>')
    return "".join(parts)


def _legend(x: int, y: int, items: Sequence[tuple[str, str]]) -> str:
    parts = []
    for label, colour in items:
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{_e(label)}</text>')
        x += 24 + 7 * len(label)
    return "".join(parts)
