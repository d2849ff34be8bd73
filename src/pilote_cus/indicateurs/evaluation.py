"""Mid-term (3 years) and final (6 years) evaluation: realised against signed objectives, gaps, penalty cap.

Every objective of the window is evaluated: the yearly ones against the year's result, the horizon
ones against the cumulated result (Σ numerators / Σ denominators). The penalty cap follows the
generation-1 text (CUS.md): at most 100 € per dwelling plus the last year's TFPB exemption, an input.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ..entrepot.entrepot import Warehouse
from .catalogue import CERTAINTY_LABELS, catalogue
from .moteur import NoData, Period, sql_in, stock_snapshots
from .objectifs import indicator_of, load_objectives, status
from .service import OUTPUT_COLUMNS, compute, output_label

PENALTY_PER_DWELLING = 100.0  # € — CUS.md, generation-1 text
COLUMNS = (*OUTPUT_COLUMNS[:10], "ecart", "statut", "certitude")  # the results' columns, with the gap


@dataclass
class Evaluation:
    period: Period
    rows: list[dict[str, Any]]
    dwellings: int | None
    tfpb_exemption: float
    notes: list[str] = field(default_factory=list)
    columns: tuple[str, ...] = COLUMNS

    @property
    def counts(self) -> Counter[str]:
        return Counter(r["statut"] for r in self.rows)

    @property
    def penalty_cap(self) -> float | None:
        if self.dwellings is None:
            return None
        return PENALTY_PER_DWELLING * self.dwellings + self.tfpb_exemption

    def summary_text(self) -> dict[str, str]:
        counts = self.counts
        evaluated = sum(counts[s] for s in ("atteint", "partiellement atteint", "non atteint"))
        share = f"{100 * counts['atteint'] / evaluated:.0f} %" if evaluated else "—"
        summary = {
            "engagements évalués": str(evaluated),
            "engagements atteints": f"{counts['atteint']} ({share})",
            "partiellement atteints": str(counts["partiellement atteint"]),
            "non atteints": str(counts["non atteint"]),
        }
        cap = self.penalty_cap
        if cap is not None:
            summary["pénalité maximale"] = (
                f"{cap:,.0f} €".replace(",", "\u202f")
                + f" (100 € × {self.dwellings:,} logements".replace(",", "\u202f")
                + f" + exonération de TFPB {self.tfpb_exemption:,.0f} €)".replace(",", "\u202f")
            )
            if not counts["non atteint"]:
                summary["pénalité maximale"] += " — aucun engagement non atteint"
        return summary


def _dwellings(warehouse: Warehouse, year: int, organismes: Sequence[str]) -> int | None:
    vintages = {v: s for v, s in stock_snapshots(warehouse).items() if v <= year}
    if not vintages:
        return None
    snapshot = vintages[max(vintages)]
    con = duckdb.connect()
    try:
        where = "en_stock"
        if organismes:
            where += f" AND organisme_id IN {sql_in(organismes)}"
        row = con.execute(
            f"SELECT count(*) FROM read_parquet('{snapshot.table('logements')}') WHERE {where}"
        ).fetchone()
        return int(row[0]) if row else None
    finally:
        con.close()


def evaluate(
    warehouse: Warehouse,
    *,
    generation: int,
    horizon: int,
    debut: int | None = None,
    organismes: Sequence[str] = (),
    tfpb_exemption: float = 0.0,
) -> Evaluation:
    cat = catalogue()
    by_code = {i.code: i for i in cat.generation(generation)}
    objectives = {k: v for k, v in load_objectives(warehouse).items() if indicator_of(k[0], by_code)}
    if not objectives:
        raise NoData(
            f"Aucun objectif de génération {generation} dans l'entrepôt : préparez le classeur "
            "(cus objectifs modele) puis importez-le (cus objectifs importer)."
        )
    vintages = sorted(stock_snapshots(warehouse))
    start = debut if debut is not None else (vintages[0] if vintages else None)
    if start is None:
        raise NoData("Aucun RPLS dans l'entrepôt : la période de la convention est inconnue (--debut AAAA).")
    period = Period(f"{start}-{start + horizon - 1}", start, start + horizon - 1)
    wanted = {str(y) for y in period.years} | {period.label}
    chosen = {k: v for k, v in objectives.items() if k[3] in wanted}
    if not chosen:
        raise NoData(f"Aucun objectif pour la période {period.label}.")
    mailles = sorted({k[1] for k in chosen})
    yearly = compute(warehouse, generation=generation, mailles=mailles, debut=start, organismes=organismes)
    cumulated = compute(
        warehouse, generation=generation, mailles=mailles, cumul=horizon, debut=start, organismes=organismes
    )
    results = {(r["code"], r["maille"], r["code_territoire"], r["periode"]): r for r in yearly.rows + cumulated.rows}
    rows = []
    for key, objective in sorted(chosen.items()):
        code, maille, territory, label = key
        found = indicator_of(code, by_code)
        assert found is not None
        indicator, ventilation = found
        result = results.get(key)
        missing_data = (indicator.code, label) in yearly.gaps | cumulated.gaps
        zero = 0.0 if indicator.is_count and not missing_data else None  # no event counted: none happened
        numerator = result["numerateur"] if result else zero
        value = result["valeur"] if result else zero
        rows.append(
            {
                "code": code,
                "libelle": output_label(indicator, ventilation),
                "maille": maille,
                "code_territoire": territory,
                "periode": label,
                "numerateur": numerator,
                "denominateur": result["denominateur"] if result else None,
                "valeur": value,
                "unite": indicator.unite,
                "objectif": objective,
                "ecart": None if value is None else value - objective,
                "statut": status(indicator, value, objective),
                "certitude": CERTAINTY_LABELS[indicator.certitude],
            }
        )
    notes = list(dict.fromkeys(yearly.notes + cumulated.notes))
    return Evaluation(period, rows, _dwellings(warehouse, period.last, organismes), tfpb_exemption, notes)
