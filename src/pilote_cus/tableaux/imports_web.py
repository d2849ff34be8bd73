"""Imports from the web page: the file is validated and imported in a background thread, never in the request.

Progress goes to the `Televersement` row (the page polls it). A refused file keeps its French error report
and nothing is imported (the importers are atomic). The warehouse is shared by every landlord of the
territory: an upload replaces the rows of its landlord only (for the RPLS vintage, or the years an event file
covers), the other landlords' rows being copied into the new snapshot before it is published
(`garder_autres`). A file naming another landlord is refused before the import when its organisme column can
be read (CSV); otherwise (XLSX, unreadable header) the landlords recorded in the published snapshot's
provenance are checked and the upload is marked refused, but that snapshot stays in the warehouse, with the
other landlord's rows replaced by the file's (gap: the warehouse has no way to withdraw a snapshot). After an
import the results are published again.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from ..audit.journal import record
from ..entrepot.entrepot import Snapshot, Warehouse
from ..evenements.import_evenements import import_events
from ..evenements.schema import event_schemas
from ..imports.erreurs import ImportRejected
from ..indicateurs.moteur import NoData
from ..patrimoine.import_rpls import import_rpls
from ..progression import Steps
from .models import Televersement
from .publication import publier

logger = logging.getLogger(__name__)
IMPORT_SHARE, PUBLISH_SHARE = 70, 30  # the progress bar: import, then publication of the results
SHOWN_ANOMALIES = 500


def natures() -> dict[str, str]:
    return {"rpls": "RPLS (répertoire du parc locatif social)"} | {n: s.libelle for n, s in event_schemas().items()}


def warehouse() -> Warehouse:
    return Warehouse(Path(settings.DATA_DIR))


class WebSteps(Steps):
    """The importers' progress protocol, written to the upload row (at most every 2 %, not every advance)."""

    def __init__(self, upload: Televersement, start: float, share: float):
        super().__init__(quiet=True)
        self.upload, self.start, self.share = upload, start, share
        self.stage = 0
        self.owner = threading.get_ident()

    def _save(self, fraction: float, label: str) -> None:
        percent = int(self.start + self.share * min(fraction, 1.0))
        if threading.get_ident() != self.owner:  # the importers advance from their reading thread: no DB there
            return
        if percent >= self.upload.progression + 2 or label != self.upload.etape:
            self.upload.progression = max(self.upload.progression, min(percent, 99))
            self.upload.etape = label[:200]
            self.upload.save(update_fields=["progression", "etape"])

    @contextmanager
    def step(self, description: str, total: float | None = 100) -> Iterator[Any]:
        self.stage += 1
        done = 0.0
        base = 1 - 0.5 ** (self.stage - 1)  # each step takes half of what is left: the importers' step count varies
        self._save(base, description)

        def advance(amount: float) -> None:
            nonlocal done
            done += amount
            if total:
                self._save(base + 0.5**self.stage * done / total, description)

        yield advance
        self._save(base + 0.5**self.stage, description)

    def query(self, con: duckdb.DuckDBPyConnection, description: str, sql: str) -> duckdb.DuckDBPyConnection:
        with self.step(description):
            return con.execute(sql)


def launch(upload: Televersement) -> None:
    """Run the import in a background thread, or right away when `CUS_IMPORTS_SYNCHRONES` is set (tests)."""
    if getattr(settings, "CUS_IMPORTS_SYNCHRONES", False):
        run(upload.pk)
        return
    threading.Thread(target=_thread, args=(upload.pk,), name=f"import-{upload.pk}", daemon=True).start()


def _thread(pk: int) -> None:
    close_old_connections()
    try:
        run(pk)
    finally:
        connection.close()


def run(pk: int) -> None:
    upload = Televersement.objects.select_related("organisme", "auteur").get(pk=pk)
    upload.etat, upload.etape = "en_cours", "Validation du fichier"
    upload.save(update_fields=["etat", "etape"])
    path = Path(upload.fichier.path)
    wh = warehouse()
    try:
        foreign = _foreign_landlords(path, upload.nature, upload.organisme.code)
        if foreign:
            return _refuse(upload, _foreign_message(foreign))
        snapshot = _import(upload, path, wh)
        foreign = set(snapshot.provenance.get("organismes", [])) - {upload.organisme.code}
        if foreign:
            return _refuse(upload, _foreign_message(foreign) + f" L'instantané {snapshot.id} a néanmoins été écrit.")
    except ImportRejected as refusal:
        report = refusal.report
        upload.rapport = {
            "fichier": report.file_name,
            "total": report.total,
            "anomalies": [
                {"ligne": a.line, "colonne": a.column, "valeur": a.value, "code": a.code, "message": a.message}
                for a in report.sorted_anomalies()
            ],
        }
        return _refuse(upload, f"{report.total} erreur(s) : le fichier est refusé, rien n'a été importé.")
    except Exception:  # never a traceback to the user; the administrator finds it in the log
        logger.exception("import %s", pk)
        return _refuse(
            upload, "Erreur interne pendant l'import : rien n'a été importé. Signalez-la à l'administrateur."
        )
    upload.instantane = snapshot.id
    upload.etape = "Publication des résultats"
    upload.progression = IMPORT_SHARE
    upload.save(update_fields=["instantane", "etape", "progression"])
    message = f"Fichier importé : instantané {snapshot.id}."
    try:
        publication = publier(wh, progress=_publish_progress(upload))
        message += f" Résultats publiés ({publication.resultats} lignes)."
    except NoData as no_data:
        message += f" Résultats non publiés : {no_data}"
    _finish(upload, "importe", message)


def _import(upload: Televersement, path: Path, wh: Warehouse) -> Snapshot:
    steps = WebSteps(upload, 0, IMPORT_SHARE)
    if upload.nature == "rpls":
        code = upload.organisme.code
        return import_rpls(path, wh, vintage=upload.millesime, organisme=code, steps=steps, garder_autres=True).snapshot
    return import_events(wh, upload.nature, path, steps=steps, garder_autres=True).snapshot


def _publish_progress(upload: Televersement) -> Any:
    done = 0.0

    def advance(amount: float) -> None:
        nonlocal done
        done += amount
        percent = int(IMPORT_SHARE + PUBLISH_SHARE * min(done, 100) / 100)
        if percent >= upload.progression + 2:
            upload.progression = min(percent, 99)
            upload.save(update_fields=["progression"])

    return advance


def _column(nature: str) -> str:
    return "SIRET" if nature == "rpls" else "organisme"


def _foreign_landlords(path: Path, nature: str, own: str) -> set[str]:
    """Landlord identifiers of a CSV file other than `own` (empty if the column cannot be read: the importer
    then reports the file's problems, and the snapshot is checked afterwards)."""
    if path.suffix.lower() not in (".csv", ".txt"):
        return set()
    con = duckdb.connect()
    try:
        rows = con.execute(
            f'SELECT DISTINCT "{_column(nature)}" FROM read_csv(?, all_varchar = true, header = true)',
            [str(path)],
        ).fetchall()
    except duckdb.Error:
        return set()
    finally:
        con.close()
    return {str(r[0]).strip() for r in rows if r[0] and str(r[0]).strip()} - {own}


def _foreign_message(foreign: set[str]) -> str:
    shown = ", ".join(sorted(foreign)[:5])
    return f"Le fichier contient des lignes d'un autre organisme que le vôtre ({shown}) : import refusé."


def _refuse(upload: Televersement, message: str) -> None:
    _finish(upload, "refuse", message)


def _finish(upload: Televersement, state: str, message: str) -> None:
    upload.etat, upload.message, upload.termine_le = state, message, timezone.now()
    if state == "importe":
        upload.progression, upload.etape = 100, "Terminé"
    else:
        upload.etape = "Refusé"
    upload.save()
    action = "import_termine" if state == "importe" else "import_refuse"
    record(upload.auteur, action, upload, organisme=upload.organisme, apres={"message": message})


def report_rows(upload: Televersement) -> list[dict[str, Any]]:
    return list((upload.rapport or {}).get("anomalies", []))
