"""Files a landlord brings to the classement: the ensembles (CSV) and the forced classes (CSV)."""

import csv
import io
from pathlib import Path
from typing import Any

from .score import ClassementError, Override, Scoring

COLUMN_ALIASES = {"ensemble": "id", "depcom": "commune"}  # the file's names → the score's
FORCED_CLASS, FORCED_REASON = "classe_forcee", "motif_forcage"


def parse_ensembles(content: bytes, source: str) -> tuple[list[dict[str, Any]], list[Override]]:
    """Rows of an ensembles CSV (`;` or `,`, UTF-8): ensemble (or id), depcom (or commune), lat, lon, the fields
    the grid uses, and optionally a forced class with its reason (`classe_forcee`, `motif_forcage`)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ClassementError(f"{source} : fichier illisible (encodage UTF-8 attendu).") from None
    first = text.splitlines()[0] if text.strip() else ""
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ",")
    columns = {COLUMN_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in reader.fieldnames or []}
    missing = [name for name, key in (("ensemble", "id"), ("depcom", "commune")) if key not in columns]
    if missing:
        raise ClassementError(
            f"{source} : colonne(s) absente(s) : {', '.join(missing)} "
            "(colonnes attendues : ensemble, depcom, lat, lon, puis les champs de la grille)."
        )
    rows: list[dict[str, Any]] = []
    overrides: list[Override] = []
    for number, raw in enumerate(reader, start=2):
        row = {COLUMN_ALIASES.get(k.strip().lower(), k.strip().lower()): (v or "").strip() for k, v in raw.items() if k}
        forced, reason = row.pop(FORCED_CLASS, ""), row.pop(FORCED_REASON, "")
        if forced:
            overrides.append(Override(str(row.get("id", "")), forced, reason))
        elif reason:
            raise ClassementError(f"{source} : ligne {number} : motif de forçage sans classe forcée.")
        rows.append(row)
    if not rows:
        raise ClassementError(f"{source} : aucun ensemble dans le fichier.")
    return rows, overrides


def read_ensembles(path: Path) -> tuple[list[dict[str, Any]], list[Override]]:
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ClassementError(f"{path} : fichier illisible ({error.strerror or error}).") from None
    return parse_ensembles(content, str(path))


def read_overrides(path: Path) -> list[Override]:
    """Forced classes: `ensemble;classe;motif` (the reason is mandatory, checked by the score)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ClassementError(f"{path} : fichier illisible ({error}).") from None
    first = text.splitlines()[0] if text.strip() else ""
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ","))
    if not rows:
        raise ClassementError(f"{path} : aucun forçage.")
    missing = {"ensemble", "classe", "motif"} - set(rows[0])
    if missing:
        raise ClassementError(f"{path} : colonne(s) absente(s) : {', '.join(sorted(missing))}.")
    return [Override(str(r["ensemble"]), str(r["classe"]), str(r["motif"] or "")) for r in rows]


DETAIL_COLUMNS = ("ensemble", "critere", "libelle", "valeur", "points", "poids", "points_ponderes", "explication")
ENSEMBLE_COLUMNS = ("ensemble", "score", "classe_proposee", "classe_retenue", "motif_du_forcage")


def detail_rows(scoring: Scoring) -> list[dict[str, Any]]:
    return [
        dict(
            zip(
                DETAIL_COLUMNS,
                (
                    d.ensemble_id,
                    d.criterion,
                    d.label,
                    d.raw_value,
                    d.points,
                    d.weight,
                    d.weighted_points,
                    d.explanation,
                ),
                strict=True,
            )
        )
        for d in scoring.details
    ]


def ensemble_rows(scoring: Scoring) -> list[dict[str, Any]]:
    return [
        dict(
            zip(
                ENSEMBLE_COLUMNS,
                (e.ensemble_id, e.total, e.proposed_class, e.retained_class, e.override_reason or ""),
                strict=True,
            )
        )
        for e in scoring.ensembles
    ]
