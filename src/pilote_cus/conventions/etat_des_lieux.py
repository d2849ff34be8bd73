"""The état des lieux stored in a convention at its creation: one landlord's stock per département.

The figures follow the declaration of the national état des lieux (patrimoine/etat_des_lieux.toml): the
same conditions and ratios, restricted to the landlord's dwellings of the current RPLS snapshot.
"""

from typing import Any

import duckdb
from django.utils import timezone

from ..entrepot.entrepot import NoSnapshot, Warehouse
from ..patrimoine.etat_des_lieux import declaration

# summary column → (variable, modality) of a breakdown of the declaration, shown as a share of dwellings
SHARES = {"collectif": ("type_construction", "collectif"), "qpv": ("qpv", "qpv"), "dpe_efg": ("dpe_energie", "E-F-G")}
# summary column → ratio variable of the declaration
RATIOS = {"loyer_m2": "loyer_m2", "vacance": "vacance", "mobilite": "mobilite"}
LABELS = {
    "logements": "Logements",
    "collectif": "Collectif (%)",
    "qpv": "En QPV (%)",
    "dpe_efg": "DPE énergie E, F ou G (%)",
    "loyer_m2": "Loyer moyen (€/m²)",
    "vacance": "Vacance (%)",
    "mobilite": "Mobilité (%)",
}


def stock_sql(path: str, vintage: int) -> str:
    """One row per département of one landlord (the `?` parameter) and a `total` row (`dep`): the dwellings
    in stock (`n`), the dwellings of every modality of every breakdown of the declaration (`r_<variable>_<j>`),
    and the numerator, denominator and completeness of every ratio (`q_<variable>_n`, `_d`, `_ok`).
    The convention's summary below and the convention document read their figures from it."""
    decl = declaration()
    previous = str(vintage - 1)
    columns = ["count(*) AS n"]
    for b in decl.repartitions:
        for j, m in enumerate(b.modalites):
            columns.append(f"count(*) FILTER (WHERE {m.condition}) AS r_{b.variable}_{j}")
    for r in decl.ratios:
        columns.append(f"{r.numerateur.format(annee_precedente=previous)} AS q_{r.variable}_n")
        columns.append(f"{r.denominateur.format(annee_precedente=previous)} AS q_{r.variable}_d")
        filled = " AND ".join(f"count({c}) > 0" for c in r.requiert) or "true"
        columns.append(f"({filled}) AS q_{r.variable}_ok")
    return f"""
        SELECT CASE WHEN grouping(departement) = 1 THEN 'total' ELSE coalesce(departement, '?') END AS dep,
               {", ".join(columns)}
        FROM read_parquet('{path}') WHERE en_stock AND organisme_id = ?
        GROUP BY GROUPING SETS ((departement), ()) ORDER BY grouping(departement), departement"""


def _query(path: str, vintage: int) -> str:
    decl = declaration()
    modality = {
        (b.variable, m.code): f"r_{b.variable}_{j}" for b in decl.repartitions for j, m in enumerate(b.modalites)
    }
    ratios = {r.variable: r for r in decl.ratios}
    columns = ["dep AS departement", "n AS logements"]
    for name, key in SHARES.items():
        columns.append(f"round(100.0 * {modality[key]} / nullif(n, 0), 2) AS {name}")
    for name, variable in RATIOS.items():
        ratio = f"q_{variable}_n / nullif(q_{variable}_d, 0)"
        value = f"round({ratio}, 2)" if ratios[variable].sortie == "moyenne" else f"round(100.0 * {ratio}, 2)"
        columns.append(f"CASE WHEN q_{variable}_ok THEN {value} END AS {name}")
    return f"""
        WITH stock AS ({stock_sql(path, vintage)})
        SELECT {", ".join(columns)} FROM stock ORDER BY dep = 'total', dep"""


def resume(warehouse: Warehouse, organisme_code: str) -> dict[str, Any]:
    """The summary kept in `Convention.etat_des_lieux`; `message` says why it is empty, if it is."""
    try:
        snapshot = warehouse.current("rpls")
    except NoSnapshot:
        return {
            "message": "L'entrepôt ne contient encore aucun instantané RPLS : l'état des lieux n'a pas pu être "
            "rempli automatiquement. Vous pouvez poursuivre l'élaboration et importer le RPLS plus tard."
        }
    sql = _query(str(snapshot.table("logements")), snapshot.vintage)
    con = duckdb.connect()
    try:
        cursor = con.execute(sql, [organisme_code])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except (duckdb.Error, OSError) as error:  # a damaged snapshot must not prevent writing the convention
        return {
            "message": f"L'état des lieux n'a pas pu être calculé depuis l'instantané {snapshot.id} ({error}). "
            "Vous pouvez poursuivre l'élaboration."
        }
    finally:
        con.close()
    summary: dict[str, Any] = {
        "instantane": snapshot.id,
        "millesime": snapshot.vintage,
        "calcule_le": timezone.now().isoformat(timespec="seconds"),
        "departements": [r for r in rows if r["departement"] != "total"],
        "total": next((r for r in rows if r["departement"] == "total"), None),
    }
    if not summary["departements"]:
        summary["total"] = None
        summary["message"] = (
            f"L'instantané RPLS {snapshot.id} ne contient aucun logement de l'organisme « {organisme_code} »."
        )
    return summary


def logements(summary: dict[str, Any]) -> int | None:
    total = summary.get("total") or {}
    return int(total["logements"]) if total.get("logements") is not None else None
