"""`cus bench --suite web`: 20 users browsing the dashboards of a national-size application database.

One run: the national history is written into a throw-away workspace, every indicator is published into
the application database (SQLite by default, PostgreSQL with `CUS_DB_ENGINE`), one convention per landlord
is created with objectives for every published landlord × département value, then the real server
(`cus serveur`, gunicorn) is started in its own process and virtual users log in and browse their pages.

The baseline, measured in the same run and under the same load, is a static file served by the same server
(whitenoise): the floor of a request through this stack on this machine. Figures: latency percentiles per
page, errors, throughput.
"""

import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from ..entrepot.entrepot import Warehouse
from ..progression import Steps, console, number
from .charge import LoadResult, VirtualUser, percentile, run_load
from .rpls import Measure, measured

FIRST_YEAR, YEARS = 2019, 6
TARGET_P95_MS = 200.0
STATUSES = ("suivi", "suivi", "suivi", "evaluation", "instruction", "deposee", "concertation", "elaboration")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté (code {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("le serveur ne répond pas après 120 s")


def populate(seed: int, users: int) -> tuple[list[VirtualUser], dict[str, int]]:
    """One convention per published landlord, objectives near the realised values, and the virtual users."""
    from django.db import connection, transaction
    from django.urls import reverse

    from ..comptes.models import Implantation, Organisme, Role, Utilisateur
    from ..conventions.models import Convention, Objectif
    from ..tableaux.models import HorsTrajectoire, Publication, Resultat

    rng = random.Random(seed)
    publication = Publication.objects.get(active=True)
    with transaction.atomic():
        HorsTrajectoire.objects.all().delete()
        Objectif.objects.all().delete()  # one SQL statement: no signal on the model, nothing to collect
        Convention.objects.all().delete()
        organismes = list(Organisme.objects.order_by("code"))
        Convention.objects.bulk_create(
            Convention(
                organisme=o,
                generation=2,
                titre=f"CUS {o.nom} {FIRST_YEAR}-{FIRST_YEAR + YEARS - 1}",
                annee_debut=FIRST_YEAR,
                annee_fin=FIRST_YEAR + YEARS - 1,
                statut=STATUSES[i % len(STATUSES)],
            )
            for i, o in enumerate(organismes)
        )
        # set-based: like a signed convention, one objective per indicator (not per ventilation), département
        # and year, plus the 3- and 6-year horizons; 0–10 % around the realised value
        horizons = [f"{FIRST_YEAR}-{FIRST_YEAR + 2}", f"{FIRST_YEAR}-{FIRST_YEAR + YEARS - 1}"]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO conventions_objectif (convention_id, code, maille, code_territoire, periode, valeur)
                SELECT c.id, r.code, 'departement', r.code_territoire, r.periode,
                       r.valeur * (0.95 + (r.id % 11) / 100.0)
                FROM tableaux_resultat AS r
                JOIN conventions_convention AS c ON c.organisme_id = r.organisme_id
                WHERE r.publication_id = %s AND r.maille = 'departement' AND r.generation = 2
                  AND r.code = r.indicateur AND r.valeur IS NOT NULL
                  AND (length(r.periode) = 4 OR r.periode IN (%s, %s))
                """,
                [publication.pk, *horizons],
            )
        Utilisateur.objects.filter(username__startswith="charge-").delete()
    password = "mot-de-passe-du-banc-2026"
    conventions = {c.organisme_id: c.pk for c in Convention.objects.all()}
    big = list(
        Implantation.objects.order_by("-logements").values_list("organisme_id", "departement", "region")[: users * 4]
    )
    rng.shuffle(big)
    virtual: list[VirtualUser] = []
    landlords = max(1, users * 7 // 10)
    for i in range(users):
        organisme_id, departement, region = big[i % len(big)]
        if i < landlords:
            user = Utilisateur.objects.create_user(f"charge-bailleur-{i}", password=password, role=Role.BAILLEUR)
            user.organismes.set([organisme_id])
            pk = conventions[organisme_id]
            pages = (
                ("tableau de bord bailleur", reverse("tableaux:bailleur")),
                ("tableau de bord, un département", f"{reverse('tableaux:bailleur')}?departement={departement}"),
                ("liste des conventions", reverse("conventions:liste")),
                ("convention", reverse("conventions:detail", args=[pk])),
                ("suivi annuel", reverse("conventions:suivi", args=[pk])),
            )
        else:
            by_region = i % 3 == 0
            user = Utilisateur.objects.create_user(
                f"charge-etat-{i}",
                password=password,
                role=Role.ETAT,
                departement="" if by_region else departement,
                region=region if by_region else "",
            )
            pk = conventions[organisme_id]
            pages = (
                ("console de l'État", reverse("tableaux:console_etat")),
                ("consolidation régionale", f"{reverse('tableaux:consolidation')}?region={region}"),
                (
                    "un bailleur dans un département",
                    f"{reverse('tableaux:detail_bailleur', args=[organisme_id])}?departement={departement}",
                ),
                ("convention", reverse("conventions:detail", args=[pk])),
                ("échéances", reverse("conventions:echeances")),
            )
        virtual.append(VirtualUser(user.username, password, pages))
    sizes = {
        "organismes": len(organismes),
        "conventions": len(conventions),
        "résultats publiés": Resultat.objects.filter(publication=publication).count(),
        "objectifs": Objectif.objects.count(),
    }
    return virtual, sizes


def _stats(result: LoadResult, pages: Sequence[str] | None = None) -> dict[str, Any]:
    chosen = [s for s in result.samples if pages is None or s.page in pages]
    ms = [s.seconds * 1000 for s in chosen]
    return {
        "requetes": len(chosen),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else None,
        "erreurs": sum(1 for s in chosen if s.status != 200),
    }


def run_bench_web(
    root: Path,
    dwellings: int,
    events: int,
    seed: int,
    cog: Path | None,
    users: int = 20,
    duration: float = 60.0,
    think: tuple[float, float] = (0.5, 2.0),
    reuse: Path | None = None,
) -> tuple[int, dict[str, Any]]:
    """Measure; with `reuse`, the workspace of an earlier run (its history and publication) is measured again."""
    from ..patrimoine.historique import write_national_history
    from ..web.serveur import prepare

    work = reuse or root / "bench" / f"web-{datetime.now():%Y%m%d%H%M%S}"
    work.mkdir(parents=True, exist_ok=True)
    warehouse = Warehouse(work)
    figures: dict[str, Measure] = {}
    console.print(
        f"[bold]Banc d'essai de l'application web[/] : {number(dwellings)} logements × {YEARS} millésimes, "
        f"{users} utilisateurs simultanés pendant {duration:.0f} s (pause de {think[0]}–{think[1]} s entre deux pages)."
    )
    prepare(str(work))
    from django.db import connection

    from ..geographie.referentiel import load_cog
    from ..tableaux.publication import publier

    with Steps() as steps:
        if reuse is None:
            cog_snapshot = load_cog(warehouse, cog) if cog else None
            with steps.step("Écriture de l'historique national", 100) as advance, measured() as m:
                write_national_history(
                    warehouse,
                    dwellings=dwellings,
                    seed=seed,
                    first_year=FIRST_YEAR,
                    years=YEARS,
                    events=events,
                    cog=cog_snapshot,
                    progress=advance,
                )
            figures["écriture de l'historique national"] = m
            step = steps.step("Publication des indicateurs dans la base de l'application", 100)
            with step as advance, measured() as m:
                publier(warehouse, progress=advance)
            figures["publication des résultats"] = m
        with measured() as m:
            virtual, sizes = populate(seed, users)
        figures["conventions, objectifs et comptes"] = m
    console.print(
        "Base de l'application (" + connection.vendor + ") : " + ", ".join(f"{number(v)} {k}" for k, v in sizes.items())
    )
    connection.close()
    port = _free_port()
    env = {**os.environ, "CUS_DATA_DIR": str(work), "CUS_LOG_LEVEL": "error"}
    server = subprocess.Popen(
        [sys.executable, "-m", "pilote_cus.cli", "serveur", "--data-dir", str(work), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, server)
        baseline = [("fichier statique (référence)", "/static/pilote_cus/app.css")]
        console.print("Échauffement (chaque page une fois)…")
        run_load("127.0.0.1", port, virtual, duration=min(10.0, duration), think=(0.0, 0.0), seed=seed)
        console.print(f"Mesure : {users} utilisateurs, {duration:.0f} s…")
        browsing = run_load("127.0.0.1", port, virtual, duration=duration, think=think, seed=seed + 1, extra=baseline)
        console.print(f"Mesure sans pause (saturation) : {users} utilisateurs, {duration / 2:.0f} s…")
        stress = run_load("127.0.0.1", port, virtual, duration=duration / 2, think=(0.0, 0.0), seed=seed + 2)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    return _report(work, figures, sizes, browsing, stress, users, baseline[0][0])


def _report(
    work: Path,
    figures: dict[str, Measure],
    sizes: dict[str, int],
    browsing: LoadResult,
    stress: LoadResult,
    users: int,
    baseline: str,
) -> tuple[int, dict[str, Any]]:
    pages = sorted({s.page for s in browsing.samples} - {baseline})
    per_page = {p: _stats(browsing, [p]) for p in pages}
    overall = _stats(browsing, pages)
    reference = _stats(browsing, [baseline])
    saturated = _stats(stress)
    table = Table(title=f"Latences côté client, {users} utilisateurs simultanés", title_justify="left")
    for name in ("page", "requêtes", "p50 ms", "p95 ms", "p99 ms", "max ms", "erreurs"):
        table.add_column(name, justify="left" if name == "page" else "right")
    for name, s in [*per_page.items(), ("toutes les pages de tableaux de bord", overall), (baseline, reference)]:
        table.add_row(
            name,
            number(s["requetes"]),
            str(s["p50_ms"]),
            str(s["p95_ms"]),
            str(s["p99_ms"]),
            str(s["max_ms"]),
            str(s["erreurs"]),
        )
    console.print(table)
    ratio = overall["p95_ms"] / reference["p95_ms"] if reference["p95_ms"] else float("nan")
    errors = browsing.errors + stress.errors
    met = overall["p95_ms"] <= TARGET_P95_MS and not errors
    console.print(
        f"p95 des pages : {overall['p95_ms']} ms (objectif ≤ {TARGET_P95_MS:.0f} ms : "
        f"{'atteint' if overall['p95_ms'] <= TARGET_P95_MS else 'non atteint'}) ; "
        f"{ratio:.1f}× la page de référence ; débit {len(browsing.samples) / browsing.duration:.1f} requêtes/s ; "
        f"{len(errors)} erreur(s)."
    )
    console.print(
        f"Saturation (sans pause) : {number(saturated['requetes'])} requêtes en {stress.duration:.0f} s "
        f"({saturated['requetes'] / stress.duration:.1f}/s), p95 {saturated['p95_ms']} ms."
    )
    for error in errors[:10]:
        console.print(f"[red]Erreur[/] : {error}")
    results = {
        "utilisateurs": users,
        "base": sizes,
        "preparation_s": {k: round(m.seconds, 2) for k, m in figures.items()},
        "pages": per_page,
        "ensemble": overall,
        "reference": reference,
        "rapport_p95_reference": round(ratio, 2),
        "saturation": {**saturated, "debit_par_s": round(saturated["requetes"] / stress.duration, 1)},
        "erreurs": errors[:100],
        "objectif_p95_atteint": met,
    }
    output = work / f"resultats-web-{datetime.now():%Y%m%d-%H%M%S}.json"
    output.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"Résultats : {output}")
    return (0 if not errors else 1), results
