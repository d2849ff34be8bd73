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


def _query(path: str, vintage: int) -> str:
    decl = declaration()
    conditions = {(b.variable, m.code): m.condition for b in decl.repartitions for m in b.modalites}
    ratios = {r.variable: r for r in decl.ratios}
    previous = str(vintage - 1)
    columns = ["count(*) AS logements"]
    for name, key in SHARES.items():
        columns.append(f"round(100.0 * count(*) FILTER (WHERE {conditions[key]}) / nullif(count(*), 0), 2) AS {name}")
    for name, variable in RATIOS.items():
        r = ratios[variable]
        numerator = r.numerateur.format(annee_precedente=previous)
        ratio = f"({numerator}) / nullif({r.denominateur.format(annee_precedente=previous)}, 0)"
        value = f"round({ratio}, 2)" if r.sortie == "moyenne" else f"round(100.0 * {ratio}, 2)"
        filled = " AND ".join(f"count({c}) > 0" for c in r.requiert) or "true"
        columns.append(f"CASE WHEN {filled} THEN {value} END AS {name}")
    sql = f"""
        SELECT CASE WHEN grouping(departement) = 1 THEN 'total' ELSE coalesce(departement, '?') END AS departement,
               {", ".join(columns)}
        FROM read_parquet('{path}') WHERE en_stock AND organisme_id = ?
        GROUP BY GROUPING SETS ((departement), ()) ORDER BY grouping(departement), departement"""
    return sql


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
