"""Signed objectives: storage in the warehouse, status of each engagement, the ministry-style spreadsheet.

Objectives are kept as a warehouse snapshot of kind "objectifs" (objectifs.parquet: code, maille,
code_territoire, periode, objectif), replaced as a whole by each import, so an evaluation can always
say which objectives it used.

The spreadsheet follows the administration's template shape: one sheet "Engagements" with a row per
indicator × territory and a column per year (plus the 3- and 6-year horizons) for the objective, and a
sheet "Réalisé" with, for every result, the numerator, the denominator and the value.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ..entrepot.entrepot import NoSnapshot, Warehouse
from ..imports.erreurs import Anomaly, ErrorReport, ImportRejected
from .catalogue import CERTAINTY_LABELS, DIRECTION_LABELS, POLICY_LABELS, Catalogue, Indicator

KIND = "objectifs"
STATUSES = ("atteint", "partiellement atteint", "non atteint")
SHEET = "Engagements"
RESULTS_SHEET = "Réalisé"
FIXED_HEADERS = (
    "Code",
    "Indicateur",
    "Politique",
    "Unité",
    "Sens",
    "Maille",
    "Code territoire",
    "Certitude",
)


@dataclass(frozen=True)
class Objective:
    code: str  # output code: the indicator's, with "-VENTILATION" when it targets a ventilation
    maille: str
    code_territoire: str
    periode: str
    objectif: float


def indicator_of(code: str, by_code: dict[str, Indicator]) -> tuple[Indicator, str | None] | None:
    """The indicator and ventilation an output code designates (G1-A1-PLAI → G1-A1, PLAI)."""
    if code in by_code:
        return by_code[code], None
    for indicator in by_code.values():
        prefix = indicator.code + "-"
        if code.startswith(prefix) and code[len(prefix) :] in indicator.ventilations:
            return indicator, code[len(prefix) :]
    return None


def status(indicator: Indicator, value: float | None, objective: float | None) -> str:
    """The catalogue's rule: met, partly met within the tolerance, or missed."""
    if objective is None:
        return ""
    if value is None or math.isnan(value):
        return "non calculable"
    value, objective = round(value, 6), round(objective, 6)
    if indicator.sens == "hausse":
        if value >= objective:
            return "atteint"
        return "partiellement atteint" if value >= objective * (1 - indicator.tolerance) else "non atteint"
    if value <= objective:
        return "atteint"
    return "partiellement atteint" if value <= objective * (1 + indicator.tolerance) else "non atteint"


def load_objectives(warehouse: Warehouse) -> dict[tuple[str, str, str, str], float]:
    try:
        snapshot = warehouse.current(KIND)
    except NoSnapshot:
        return {}
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT code, maille, code_territoire, periode, objectif FROM read_parquet('{snapshot.table(KIND)}')"
        ).fetchall()
    finally:
        con.close()
    return {(r[0], r[1], r[2], r[3]): float(r[4]) for r in rows}


def attach_objectives(
    rows: list[dict[str, Any]], objectives: dict[tuple[str, str, str, str], float], by_code: dict[str, Indicator]
) -> None:
    for row in rows:
        key = (row["code"], row["maille"], row["code_territoire"], row["periode"])
        objective = objectives.get(key)
        row["objectif"] = objective
        row["statut"] = status(by_code[row["_indicateur"]], row["valeur"], objective)


def save_objectives(warehouse: Warehouse, objectives: Sequence[Objective], provenance: dict[str, Any]) -> str:
    """Publish `objectives` as the new current objectives snapshot; return its id."""
    con = duckdb.connect()
    try:
        con.execute(
            "CREATE TABLE o (code VARCHAR, maille VARCHAR, code_territoire VARCHAR, periode VARCHAR, objectif DOUBLE)"
        )
        con.executemany(
            "INSERT INTO o VALUES (?, ?, ?, ?, ?)",
            [(o.code, o.maille, o.code_territoire, o.periode, o.objectif) for o in objectives],
        )
        provenance = {**provenance, "objectifs": len(objectives)}
        with warehouse.lock(), warehouse.new_snapshot(KIND, 0, provenance) as folder:
            con.execute(f"COPY (SELECT * FROM o ORDER BY ALL) TO '{folder / (KIND + '.parquet')}' (FORMAT parquet)")
        return warehouse.current(KIND).id
    finally:
        con.close()


# The spreadsheet ------------------------------------------------------------------------------------------


def _period_headers(first_year: int, years: int) -> list[tuple[str, str]]:
    """(column header, periode) for each objective column of the template."""
    headers = [(f"Objectif {y}", str(y)) for y in range(first_year, first_year + years)]
    for horizon in (3, 6):
        if horizon <= years:
            last = first_year + horizon - 1
            headers.append((f"Objectif {horizon} ans ({first_year}-{last})", f"{first_year}-{last}"))
    return headers


def write_template(
    path: Path,
    cat: Catalogue,
    generation: int,
    territories: Sequence[tuple[str, str]],
    first_year: int,
    objectives: dict[tuple[str, str, str, str], float],
    results: Sequence[dict[str, Any]] = (),
    title: str = "Convention d'utilité sociale — engagements",
    source: dict[str, str] | None = None,
) -> None:
    """Write the ministry-style workbook: engagements (objectives per year and horizon) and realised values.

    `territories` lists (maille, code) for which a row is written for every indicator whose declination
    allows that maille (plus every row already holding an objective).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    headers = _period_headers(first_year, 6)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = "Génération"
    sheet["B2"] = generation
    sheet["A3"] = "Première année de la convention"
    sheet["B3"] = first_year
    header_row = 5
    columns = [*FIXED_HEADERS, *(h for h, _ in headers)]
    fill = PatternFill("solid", fgColor="DDE5F4")
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(header_row, index, name)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    rows: list[tuple[Indicator, str | None, str, str]] = []
    for indicator in cat.generation(generation):
        targets = [None, *indicator.ventilations] if indicator.total or not indicator.ventilations else []
        if not indicator.total:
            targets = list(indicator.ventilations)
        for maille, code in territories:
            if maille in (*indicator.declinaison, "bailleur", "region", "france") or not indicator.declinaison:
                for ventilation in targets:
                    rows.append((indicator, ventilation, maille, code))
    seen = {(f"{i.code}-{v}" if v else i.code, m, c) for i, v, m, c in rows}
    by_code = cat.by_code()
    for code, maille, territory, _ in sorted(objectives):
        if (code, maille, territory) not in seen:
            found = indicator_of(code, by_code)
            if found:
                rows.append((found[0], found[1], maille, territory))
                seen.add((code, maille, territory))
    for offset, (indicator, ventilation, maille, territory) in enumerate(rows, start=header_row + 1):
        code = f"{indicator.code}-{ventilation}" if ventilation else indicator.code
        label = indicator.libelle + (f" — {indicator.ventilations[ventilation]}" if ventilation else "")
        values: list[Any] = [
            code,
            label,
            POLICY_LABELS[indicator.politique],
            indicator.unite,
            DIRECTION_LABELS[indicator.sens],
            maille,
            territory,
            CERTAINTY_LABELS[indicator.certitude],
        ]
        values += [objectives.get((code, maille, territory, periode)) for _, periode in headers]
        for index, value in enumerate(values, start=1):
            sheet.cell(offset, index, value)
    widths = [12, 60, 18, 22, 20, 12, 16, 12] + [14] * len(headers)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = sheet.cell(header_row + 1, 3)

    realised = book.create_sheet(RESULTS_SHEET)
    names = ["Code", "Indicateur", "Maille", "Code territoire", "Période", "Numérateur", "Dénominateur", "Valeur"]
    names += ["Unité", "Objectif", "Statut", "Certitude"]
    realised.append(names)
    for cell in realised[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
    for r in results:
        realised.append(
            [
                r["code"],
                r["libelle"],
                r["maille"],
                r["code_territoire"],
                r["periode"],
                r["numerateur"],
                r["denominateur"],
                r["valeur"],
                r["unite"],
                r["objectif"],
                r["statut"],
                r["certitude"],
            ]
        )
    realised.freeze_panes = "A2"
    info = book.create_sheet("Source")
    info.append(["Clé", "Valeur"])
    for key, value in (source or {}).items():
        info.append([key, value])
    book.save(path)


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    if text.endswith("%"):
        text = text[:-1]
    return float(text)


def read_template(path: Path, cat: Catalogue) -> list[Objective]:
    """Objectives read back from a workbook written by write_template (and filled in by the landlord)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    report = ErrorReport(path.name)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        report.add(Anomaly("FORMAT_INCONNU", f"{path.name} n'est pas un classeur XLSX lisible."))
        raise ImportRejected(report) from None
    if SHEET not in book.sheetnames:
        report.add(Anomaly("FORMAT_INCONNU", f"Feuille « {SHEET} » absente (feuilles : {', '.join(book.sheetnames)})."))
        raise ImportRejected(report)
    rows = list(book[SHEET].iter_rows(values_only=True))
    book.close()
    first_year = None
    header_index = None
    for index, row in enumerate(rows):
        if row and row[0] == "Première année de la convention":
            first_year = row[1]
        if row and row[0] == "Code":
            header_index = index
            break
    if header_index is None or not isinstance(first_year, int):
        report.add(
            Anomaly(
                "FORMAT_INCONNU",
                "En-tête du modèle introuvable : la feuille doit garder la ligne « Première année de la convention » "
                "et la ligne d'en-tête commençant par « Code ».",
            )
        )
        raise ImportRejected(report)
    header = [str(h).strip() if h is not None else "" for h in rows[header_index]]
    periods = dict(_period_headers(first_year, 6))
    missing = [h for h in ("Code", "Maille", "Code territoire") if h not in header]
    if missing:
        report.add(Anomaly("COLONNE_MANQUANTE", f"Colonnes absentes : {', '.join(missing)}.", header_index + 1))
        raise ImportRejected(report)
    position = {name: i for i, name in enumerate(header)}
    by_code = cat.by_code()
    objectives: list[Objective] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for index, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if not row or all(v is None or str(v).strip() == "" for v in row):
            continue
        code = str(row[position["Code"]] or "").strip()
        maille = str(row[position["Maille"]] or "").strip()
        territory = str(row[position["Code territoire"]] or "").strip()
        if indicator_of(code, by_code) is None:
            report.add(Anomaly("CODE_INCONNU", f"Indicateur inconnu « {code} ».", index, "Code", code))
            continue
        if maille not in ("france", "region", "departement", "epci", "commune", "segment", "bailleur"):
            report.add(Anomaly("CODE_INCONNU", f"Maille inconnue « {maille} ».", index, "Maille", maille))
            continue
        if not territory:
            report.add(Anomaly("VALEUR_MANQUANTE", "Code territoire vide.", index, "Code territoire", ""))
            continue
        for name, column in position.items():
            if not name.startswith("Objectif"):
                continue
            if name not in periods:
                report.add(Anomaly("FORMAT_INCONNU", f"Colonne d'objectif inattendue « {name} ».", index, name))
                continue
            raw = row[column] if column < len(row) else None
            try:
                value = _number(raw)
            except ValueError:
                letter = get_column_letter(column + 1)
                report.add(
                    Anomaly(
                        "NOMBRE_INVALIDE",
                        f"Objectif non numérique en {letter}{index} : « {raw} ».",
                        index,
                        name,
                        str(raw),
                    )
                )
                continue
            if value is None:
                continue
            key = (code, maille, territory, periods[name])
            if key in seen:
                report.add(
                    Anomaly(
                        "IDENTIFIANT_EN_DOUBLE",
                        f"Engagement déjà saisi ligne {seen[key]} ({code}, {maille} {territory}).",
                        index,
                        "Code",
                        code,
                    )
                )
                continue
            seen[key] = index
            objectives.append(Objective(code, maille, territory, periods[name], value))
    if report.anomalies:
        raise ImportRejected(report)
    return objectives
