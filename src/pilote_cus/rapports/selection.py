"""What every document command shares: which convention, which publication, where the file goes."""

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from ..config import data_dir
from .rendu import DocumentError


def convention_choisie(args: argparse.Namespace) -> Any:
    """The convention named by --convention, or the current one of --organisme, or the only one there is."""
    from ..conventions.models import Convention, Statut

    conventions = Convention.objects.select_related("organisme").exclude(statut=Statut.REMPLACEE)
    if getattr(args, "convention", None):
        found = conventions.filter(pk=args.convention).first()
        if found is None:
            raise DocumentError(f"Aucune convention n° {args.convention} dans l'application (voir `cus echeances`).")
        return found
    if getattr(args, "organisme", None):
        conventions = conventions.filter(organisme__code=args.organisme)
        if not conventions.exists():
            raise DocumentError(f"Aucune convention pour l'organisme {args.organisme}.")
        signed = conventions.filter(statut__in=[Statut.SUIVI, Statut.EVALUATION, Statut.TERMINEE])
        return (signed or conventions).order_by("-annee_debut", "-version").first()
    count = conventions.count()
    if count == 1:
        return conventions.first()
    if count == 0:
        raise DocumentError("L'application ne contient aucune convention : lancez `cus demo` ou créez-en une.")
    raise DocumentError(f"{count} conventions : précisez --convention ID ou --organisme CODE.")


def provenance() -> dict[str, Any]:
    """The publication the figures come from: date, catalogue version, snapshots (stated in every document)."""
    from ..tableaux.requetes import active_publication

    publication = active_publication()
    if publication is None:
        return {"publication": None, "catalogue": None, "instantanes": [], "date": None}
    return {
        "publication": publication,
        "catalogue": publication.catalogue,
        "instantanes": [s for s in publication.instantanes.split() if s],
        "date": publication.publie_le.date().isoformat(),
    }


def phrase(prov: dict[str, Any]) -> str:
    """« Données : publication du 14/03/2026, catalogue des indicateurs …, instantanés … » (no final stop)."""
    if prov["publication"] is None:
        return "Données : aucune publication d'indicateurs dans l'application"
    day = date.fromisoformat(prov["date"]).strftime("%d/%m/%Y")
    snapshots = ", ".join(prov["instantanes"]) or "non précisés"
    return f"Données : publication du {day}, catalogue des indicateurs {prov['catalogue']}, instantanés {snapshots}"


def sortie(args: argparse.Namespace, stem: str) -> Path:
    """--sortie, or rapports/<stem>.<format> in the workspace."""
    if getattr(args, "sortie", None):
        return Path(args.sortie)
    return data_dir(getattr(args, "data_dir", None)) / "rapports" / f"{stem}.{args.format}"


def ecrire(path: Path, content: bytes | str) -> Path:
    """Write atomically: a half-written document never replaces a good one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.partiel")
    if isinstance(content, str):
        temp.write_text(content, encoding="utf-8")
    else:
        temp.write_bytes(content)
    temp.replace(path)
    return path
