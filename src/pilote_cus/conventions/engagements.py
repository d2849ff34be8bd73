"""The objectives table of a convention: checks with French messages, traced changes, spreadsheet and CSV.

The spreadsheet is the ministry-style workbook of `indicateurs.objectifs` (one row per indicator ×
territory, one column per year and horizon): an upload replaces the whole table, or nothing at all.
"""

import csv
import io
import math
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import get_valid_filename

from ..audit.journal import record
from ..comptes.models import Utilisateur
from ..imports.erreurs import Anomaly, ImportRejected
from ..indicateurs.catalogue import MAILLES, Catalogue, Indicator, catalogue
from ..indicateurs.objectifs import Objective, indicator_of, read_template, write_template
from .models import Convention, Objectif, objectifs_modifies

Key = tuple[str, str, str, str]
PERIOD = re.compile(r"^(\d{4})(?:-(\d{4}))?$")


@dataclass(frozen=True)
class RowError:
    """A problem on one row of an uploaded workbook: shown with its row and column."""

    ligne: int | None
    colonne: str
    valeur: str
    message: str


def codes(generation: int) -> list[tuple[str, str]]:
    """(code, label) of every objective code of a generation, ventilations included."""
    choices = []
    for indicator in catalogue().generation(generation):
        if indicator.total or not indicator.ventilations:
            choices.append((indicator.code, f"{indicator.code} — {indicator.libelle}"))
        for key, label in indicator.ventilations.items():
            choices.append((f"{indicator.code}-{key}", f"{indicator.code}-{key} — {indicator.libelle} ({label})"))
    return choices


def indicator(convention: Convention, code: str) -> Indicator | None:
    by_code = {i.code: i for i in catalogue().generation(convention.generation)}
    found = indicator_of(code, by_code)
    return found[0] if found else None


def parse_number(raw: Any) -> float:
    """A number as people type it in France: « 12,5 », « 1 200 », « 35 % »."""
    text = str(raw).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    text = text.removesuffix("%")
    value = float(text)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(text)
    return value


def check(convention: Convention, code: str, maille: str, territoire: str, periode: str, valeur: float) -> dict:
    """Field → French message for every problem of one objective (empty when it is valid)."""
    errors: dict[str, str] = {}
    found = indicator(convention, code)
    if found is None:
        errors["code"] = f"Indicateur « {code} » inconnu pour une convention de génération {convention.generation}."
    if maille not in MAILLES:
        errors["maille"] = f"Maille « {maille} » inconnue (attendu : {', '.join(MAILLES)})."
    if not territoire.strip():
        errors["code_territoire"] = "Indiquez le code du territoire (par exemple 69 pour le Rhône)."
    match = PERIOD.match(periode.strip())
    start, end = convention.annee_debut, convention.annee_fin
    if not match:
        errors["periode"] = "Période attendue : une année (2021) ou un cumul (2019-2021)."
    else:
        first, last = int(match[1]), int(match[2] or match[1])
        if not (start <= first <= last <= end):
            errors["periode"] = f"La période doit être comprise entre {start} et {end}."
    if found is not None:
        if valeur < 0:
            errors["valeur"] = "Un objectif ne peut pas être négatif."
        elif found.unite == "%" and valeur > 100:
            errors["valeur"] = "Un pourcentage ne peut pas dépasser 100."
    return errors


def as_dict(o: Objectif) -> dict[str, Any]:
    return {
        "code": o.code,
        "maille": o.maille,
        "code_territoire": o.code_territoire,
        "periode": o.periode,
        "valeur": o.valeur,
    }


def key(o: Objectif | Objective) -> Key:
    return (o.code, o.maille, o.code_territoire, o.periode)


def label(o: Objectif) -> str:
    return f"{o.code} — {o.maille} {o.code_territoire} — {o.periode}"


def save(
    user: Utilisateur, convention: Convention, values: dict[str, Any], objectif: Objectif | None = None
) -> Objectif:
    """Create or change one objective, traced. `values` were checked by the form."""
    with transaction.atomic():
        before = as_dict(objectif) if objectif else None
        target = objectif or Objectif(convention=convention)
        for name in ("code", "maille", "code_territoire", "periode", "valeur"):
            setattr(target, name, values[name])
        target.save()
        action = "objectif_modifie" if objectif else "objectif_cree"
        record(user, action, target, convention=convention, avant=before, apres=as_dict(target))
        objectifs_modifies.send(Objectif, convention=convention)
    return target


def delete(user: Utilisateur, convention: Convention, objectif: Objectif) -> None:
    with transaction.atomic():
        before = as_dict(objectif)
        record(user, "objectif_supprime", objectif, convention=convention, avant=before)
        objectif.delete()
        objectifs_modifies.send(Objectif, convention=convention)


def _anomaly_errors(anomalies: Iterable[Anomaly]) -> list[RowError]:
    return [RowError(a.line, a.column or "", a.value or "", a.message) for a in anomalies]


def read_upload(convention: Convention, upload: UploadedFile) -> tuple[list[Objective], list[RowError]]:
    """The objectives of an uploaded workbook, or the list of its errors (row, column, value, message)."""
    name = get_valid_filename(Path(upload.name or "classeur.xlsx").name) or "classeur.xlsx"
    with tempfile.TemporaryDirectory(prefix="cus-objectifs-") as folder:
        path = Path(folder) / name
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        try:
            objectives = read_template(path, catalogue())
        except ImportRejected as rejected:
            return [], _anomaly_errors(rejected.report.sorted_anomalies())
    errors = []
    for o in objectives:
        problems = check(convention, o.code, o.maille, o.code_territoire, o.periode, o.objectif)
        for field, message in problems.items():
            errors.append(RowError(None, field, f"{o.code} {o.maille} {o.code_territoire} {o.periode}", message))
    return objectives, errors


def replace_all(user: Utilisateur, convention: Convention, objectives: list[Objective], file_name: str) -> dict:
    """The uploaded table becomes the convention's table; one trace with the counts."""
    counts = {"crees": 0, "modifies": 0, "supprimes": 0, "inchanges": 0}
    wanted = {key(o): o.objectif for o in objectives}
    with transaction.atomic():
        existing = {key(o): o for o in Objectif.objects.select_for_update().filter(convention=convention)}
        for k, row in existing.items():
            if k not in wanted:
                row.delete()
                counts["supprimes"] += 1
            elif row.valeur != wanted[k]:
                row.valeur = wanted[k]
                row.save(update_fields=["valeur"])
                counts["modifies"] += 1
            else:
                counts["inchanges"] += 1
        Objectif.objects.bulk_create(
            Objectif(convention=convention, code=k[0], maille=k[1], code_territoire=k[2], periode=k[3], valeur=v)
            for k, v in wanted.items()
            if k not in existing
        )
        counts["crees"] = sum(1 for k in wanted if k not in existing)
        record(user, "objectifs_televerses", convention, convention=convention, apres={"fichier": file_name, **counts})
        objectifs_modifies.send(Objectif, convention=convention)
    return counts


def territories(convention: Convention) -> list[tuple[str, str]]:
    """(maille, code) rows of the workbook: the landlord's départements, from the état des lieux or RPLS."""
    deps = [d["departement"] for d in convention.etat_des_lieux.get("departements", [])]
    if not deps:
        deps = list(convention.organisme.implantations.order_by("departement").values_list("departement", flat=True))
    return [("bailleur", convention.organisme.code), *(("departement", d) for d in deps)]


def workbook(convention: Convention, cat: Catalogue | None = None) -> bytes:
    objectives = {key(o): o.valeur for o in convention.objectifs.all()}
    with tempfile.TemporaryDirectory(prefix="cus-modele-") as folder:
        path = Path(folder) / "engagements.xlsx"
        write_template(
            path,
            cat or catalogue(),
            convention.generation,
            territories(convention),
            convention.annee_debut,
            objectives,
            title=f"{convention} — engagements",
            source={"Organisme": convention.organisme.nom, "Convention": str(convention)},
        )
        return path.read_bytes()


def csv_text(convention: Convention) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["code", "maille", "code_territoire", "periode", "objectif"])
    for o in convention.objectifs.all():
        writer.writerow([o.code, o.maille, o.code_territoire, o.periode, str(o.valeur).replace(".", ",")])
    return "\ufeff" + out.getvalue()
