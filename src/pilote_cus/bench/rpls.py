"""`cus bench`: import and état des lieux of a national-size RPLS file, against pandas, in one run."""

import gc
import json
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psutil
from rich.table import Table

from ..entrepot.entrepot import Warehouse
from ..geographie.referentiel import load_cog
from ..patrimoine import etat_des_lieux
from ..patrimoine.import_rpls import import_rpls
from ..patrimoine.synthetique import generate_rpls, places_from_cog
from ..progression import Steps, console, number
from . import pandas_reference

VINTAGE = 2024


@dataclass
class Measure:
    seconds: float = 0.0
    peak_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def measured() -> Iterator[Measure]:
    """Wall time and peak resident memory of the process while the block runs (sampled every 20 ms)."""
    gc.collect()
    process = psutil.Process()
    result = Measure(peak_bytes=process.memory_info().rss)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            result.peak_bytes = max(result.peak_bytes, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        result.peak_bytes = max(result.peak_bytes, process.memory_info().rss)


def _best_of(runs: int, action: Callable[[], Any]) -> Measure:
    measures = []
    for _ in range(runs):
        with measured() as m:
            action()
        measures.append(m)
    best = min(measures, key=lambda m: m.seconds)
    best.extra["median_s"] = statistics.median(m.seconds for m in measures)
    return best


def _compare(ours: Any, theirs: Any) -> int:
    """Number of (maille, code, variable, modalité) whose figures differ between the two implementations."""
    con = duckdb.connect()
    con.register("a", ours)
    con.register("b", theirs)
    row = con.sql("""
        SELECT count(*) FROM a JOIN b ON a.maille = b.maille AND a.code = CAST(b.code AS VARCHAR)
          AND a.variable = b.variable AND a.modalite = b.modalite
        WHERE abs(coalesce(a.nombre, 0) - coalesce(b.nombre, 0)) > 0.011
           OR abs(coalesce(a.part, 0) - coalesce(b.part, 0)) > 0.011""").fetchone()
    return int(row[0]) if row else -1


def run_bench(root: Path, dwellings: int, seed: int, keep: bool, cog: Path | None = None) -> int:
    work = root / "bench"
    work.mkdir(parents=True, exist_ok=True)
    geography = "cog" if cog else "repertoire-integre"
    source = work / f"rpls-opendata-{VINTAGE}-{dwellings}-{seed}-{geography}.csv"
    where = "toutes les communes du COG, selon leur population" if cog else "les communes du répertoire intégré"
    console.print(
        f"[bold]Banc d'essai[/] : {number(dwellings)} logements répartis sur {where}, "
        "fichier Latin-1 au format open data."
    )
    figures: dict[str, Measure] = {}
    with Steps() as steps:
        warehouse = Warehouse(work / f"entrepot-{datetime.now():%Y%m%d%H%M%S}")
        places = places_from_cog(load_cog(warehouse, cog).table("communes")) if cog else None
        if not source.exists():
            with steps.step("Génération du fichier national", dwellings) as advance, measured() as m:
                generate_rpls(
                    source,
                    dwellings,
                    seed,
                    vintage=VINTAGE,
                    encoding="latin-1",
                    progress=advance,
                    places=places,
                )
            figures["génération du fichier"] = m
        try:
            with measured() as m:
                result = import_rpls(source, warehouse, steps=steps)
            figures["import avec validation complète"] = m
            ours_holder: dict[str, Any] = {}

            def ours() -> None:
                ours_holder["t"] = etat_des_lieux.compute(warehouse).table

            figures["état des lieux, 5 mailles"] = _best_of(3, ours)
            with measured() as m:
                frame = pandas_reference.read_rpls(str(source), "latin-1")
            figures["pandas : lecture du fichier"] = m
            geo = _geography(warehouse)
            theirs_holder: dict[str, Any] = {}

            def theirs() -> None:
                theirs_holder["t"] = pandas_reference.state_of_play(frame, geo, VINTAGE)

            figures["pandas : état des lieux en mémoire, 5 mailles"] = _best_of(2, theirs)
            differences = _compare(ours_holder["t"], theirs_holder["t"])
        finally:
            shutil.rmtree(warehouse.root.parent, ignore_errors=True)
    if not keep:
        source.unlink(missing_ok=True)
    return _report(work, dwellings, figures, differences, result.snapshot.provenance["taille_octets"])


def _geography(warehouse: Warehouse) -> Any:
    con = duckdb.connect()
    etat_des_lieux.register_geography(con, warehouse, VINTAGE)
    return con.sql("SELECT code AS DEPCOM, reg, dep, epci FROM geo_communes").df().set_index("DEPCOM")


def _report(work: Path, dwellings: int, figures: dict[str, Measure], differences: int, size: int) -> int:
    imp = figures["import avec validation complète"].seconds
    edl = figures["état des lieux, 5 mailles"].seconds
    pd_read = figures["pandas : lecture du fichier"].seconds
    pd_edl = figures["pandas : état des lieux en mémoire, 5 mailles"].seconds
    ratios = {
        "état des lieux : pandas en mémoire / Pilote CUS": pd_edl / edl,
        "fichier → état des lieux : pandas / Pilote CUS": (pd_read + pd_edl) / (imp + edl),
        "import validé / lecture pandas seule": pd_read / imp,
    }
    table = Table(
        title=f"Mesures ({number(dwellings)} logements, fichier de {size / 1e9:.2f} Go)", title_justify="left"
    )
    for name in ("étape", "secondes", "mémoire max (Go)"):
        table.add_column(name, justify="right" if name != "étape" else "left")
    for name, m in figures.items():
        table.add_row(name, f"{m.seconds:.2f}", f"{m.peak_bytes / 1e9:.2f}")
    console.print(table)
    ratio_table = Table(title="Rapports (même processus, même fichier)", title_justify="left")
    ratio_table.add_column("comparaison")
    ratio_table.add_column("×", justify="right")
    for name, value in ratios.items():
        ratio_table.add_row(name, f"{value:.1f}")
    console.print(ratio_table)
    console.print(f"Écarts de résultats Pilote CUS / pandas : {differences} ligne(s).")
    output = work / f"resultats-{datetime.now():%Y%m%d-%H%M%S}.json"
    output.write_text(
        json.dumps(
            {
                "logements": dwellings,
                "taille_fichier_octets": size,
                "mesures": {
                    k: {"secondes": round(m.seconds, 3), "memoire_max_octets": m.peak_bytes, **m.extra}
                    for k, m in figures.items()
                },
                "rapports": {k: round(v, 2) for k, v in ratios.items()},
                "ecarts": differences,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    console.print(f"Résultats : {output}")
    return 0 if differences == 0 else 1
