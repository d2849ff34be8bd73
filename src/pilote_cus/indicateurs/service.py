"""Computing indicators for a request (generation, period, mailles, landlords), with objectives and statuses."""

import time
from collections.abc import Sequence
from typing import Any, Literal

import duckdb

from ..entrepot.entrepot import Warehouse
from .catalogue import CERTAINTY_LABELS, Catalogue, Indicator, catalogue, ordered, tables_read
from .moteur import (
    NoData,
    Period,
    Results,
    Sources,
    collect_sources,
    make_plan,
    periods_for,
    run_duckdb,
    select_indicators,
    stock_snapshots,
)
from .objectifs import attach_objectives, load_objectives

Engine = Literal["duckdb", "spark"]
OUTPUT_COLUMNS = (
    "code",
    "libelle",
    "maille",
    "code_territoire",
    "periode",
    "numerateur",
    "denominateur",
    "valeur",
    "unite",
    "objectif",
    "statut",
    "certitude",
    "instantanes",
)


def output_code(indicator: Indicator, ventilation: str | None) -> str:
    return f"{indicator.code}-{ventilation}" if ventilation else indicator.code


def output_label(indicator: Indicator, ventilation: str | None) -> str:
    if not ventilation:
        return indicator.libelle
    return f"{indicator.libelle} — {indicator.ventilations.get(ventilation, ventilation)}"


def _order(indicators: Sequence[Indicator]) -> dict[str, int]:
    """Catalogue order with each share right after its parent."""
    return {i.code: n for n, i in enumerate(ordered(list(indicators)))}


def compute(
    warehouse: Warehouse,
    *,
    generation: int | None,
    mailles: Sequence[str],
    annee: int | None = None,
    cumul: int | None = None,
    debut: int | None = None,
    organismes: Sequence[str] = (),
    codes: Sequence[str] = (),
    engine: Engine = "duckdb",
    cat: Catalogue | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Results:
    cat = cat or catalogue()
    indicators = select_indicators(cat, generation, codes)
    started = time.perf_counter()
    own = con is None
    con = con or duckdb.connect()
    try:
        years = sorted(stock_snapshots(warehouse))
        periods = periods_for(years, annee, cumul, debut)
        wanted = range(min(p.first for p in periods), max(p.last for p in periods) + 1)
        sources = collect_sources(con, warehouse, wanted, organismes)
        if not sources.stock_vintages and not any(sources.event_snapshots.values()):
            raise NoData("L'entrepôt ne contient ni RPLS ni événements pour la période demandée.")
        plan = make_plan(sources, indicators, periods, mailles)
        if engine == "spark":
            from .spark import run_spark

            raw = run_spark(con, plan)
        else:
            raw = run_duckdb(con, plan)
        notes = _notes(indicators, sources.years(), wanted)
        rows, gap_notes, gaps = _finish(raw, indicators, plan.sources, periods)
        notes += gap_notes
        objectives = load_objectives(warehouse)
        attach_objectives(rows, objectives, {i.code: i for i in indicators})
        return Results(rows, plan, cat.version, engine, time.perf_counter() - started, notes, gaps)
    finally:
        if own:
            con.close()


def _notes(indicators: Sequence[Indicator], years: list[int], wanted: range) -> list[str]:
    notes = []
    missing = [y for y in wanted if y not in years]
    if missing:
        shown = ", ".join(str(y) for y in missing)
        notes.append(f"RPLS absent pour {shown} : les indicateurs rapportés au parc de ces années sont incalculables.")
    doubtful = [i.code for i in indicators if i.to_confirm]
    if doubtful:
        notes.append(f"Définitions à confirmer (certitude « à confirmer ») : {', '.join(doubtful)}.")
    return notes


def _finish(
    raw: list[dict[str, Any]], indicators: Sequence[Indicator], sources: Sources, periods: Sequence[Period]
) -> tuple[list[dict[str, Any]], list[str], set[tuple[str, str]]]:
    """Output rows (labels, provenance), without the periods whose data is incomplete, and notes about them."""
    by_code = {i.code: i for i in indicators}
    by_period = {p.label: p for p in periods}
    order = _order(indicators)
    tables = {i.code: set(tables_read(i.sql)) for i in indicators}
    gaps: dict[tuple[str, str], list[str]] = {}
    for indicator in indicators:
        for period in periods:
            missing = sources.missing(tables[indicator.code], period.years)
            if missing:
                gaps[(indicator.code, period.label)] = missing
    maille_rank = {
        m: n for n, m in enumerate(("france", "region", "departement", "epci", "commune", "segment", "bailleur"))
    }
    rows = []
    for r in raw:
        if (r["code"], r["periode"]) in gaps:
            continue
        indicator = by_code[r["code"]]
        period = by_period[r["periode"]]
        rows.append(
            {
                "code": output_code(indicator, r["ventilation"]),
                "libelle": output_label(indicator, r["ventilation"]),
                "maille": r["maille"],
                "code_territoire": r["code_territoire"],
                "periode": r["periode"],
                "numerateur": r["numerateur"],
                "denominateur": r["denominateur"],
                "valeur": r["valeur"],
                "unite": indicator.unite,
                "objectif": None,
                "statut": "",
                "certitude": CERTAINTY_LABELS[indicator.certitude],
                "instantanes": " ".join(sources.snapshots_for(tables[indicator.code], period.years)),
                "_indicateur": indicator.code,
                "_ventilation": r["ventilation"] or "",
            }
        )
    rows.sort(
        key=lambda r: (
            order[r["_indicateur"]],
            r["_ventilation"] != "",
            r["_ventilation"],
            maille_rank.get(r["maille"], 9),
            r["code_territoire"],
            r["periode"],
        )
    )
    notes = []
    by_tables: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}
    for (code, label), missing in gaps.items():
        codes, labels = by_tables.setdefault(tuple(missing), (set(), set()))
        codes.add(code)
        labels.add(label)
    for missing_tables, (codes, labels) in by_tables.items():
        notes.append(
            f"Non calculés faute de données ({', '.join(missing_tables)}) pour {', '.join(sorted(labels))} : "
            f"{', '.join(sorted(codes, key=order.__getitem__))}."
        )
    return rows, notes, set(gaps)


__all__ = ["OUTPUT_COLUMNS", "NoData", "compute"]
