"""Files a landlord brings to the classement: the ensembles (CSV) and the forced classes (CSV)."""

import csv
from pathlib import Path
from typing import Any

from .score import ClassementError, Override, Scoring


def read_ensembles(path: Path) -> list[dict[str, Any]]:
    """One row per ensemble (`id`, `commune`, `lat`, `lon`, `iris` and the grid's landlord or entered fields);
    `;` or `,` separated, UTF-8. Empty cells stay missing (the score says so)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ClassementError(f"{path} : fichier illisible ({error}).") from None
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=";,\t")
    rows = [dict(r) for r in csv.DictReader(text.splitlines(), dialect=dialect)]
    if not rows:
        raise ClassementError(f"{path} : aucun ensemble.")
    return rows


def read_overrides(path: Path) -> list[Override]:
    """Forced classes: `ensemble;classe;motif` (the reason is mandatory, checked by the score)."""
    rows = read_ensembles(path)
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
