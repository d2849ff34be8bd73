"""The état des lieux of the stock: the standard RPLS breakdowns per territory, in long format.

Aggregates are computed once per commune (one pass over the snapshot), then summed up to the
other mailles: every statistic is a count or a ratio of sums, so the roll-up is exact.
"""

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from ..declarations import load
from ..entrepot.entrepot import Snapshot, Warehouse
from ..geographie.referentiel import DEPARTEMENT_SQL, FRANCE, register_geography

MAILLES = ("france", "region", "departement", "epci", "commune")
COLUMNS = ("maille", "code", "libelle", "variable", "modalite", "nombre", "part")


class Modality(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    condition: str


class Breakdown(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    variable: str
    modalites: tuple[Modality, ...]


class Ratio(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    variable: str
    modalite: str
    sortie: Literal["taux", "moyenne"]
    numerateur: str
    denominateur: str
    requiert: tuple[str, ...] = ()


class Declaration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    repartitions: tuple[Breakdown, ...]
    ratios: tuple[Ratio, ...]


@cache
def declaration() -> Declaration:
    return load(Declaration, __package__, "etat_des_lieux.toml")


@dataclass
class StateOfPlay:
    snapshot: Snapshot
    geography: str
    table: pa.Table
    notes: list[str] = field(default_factory=list)


def _territories() -> dict[str, tuple[str, str]]:
    """(code, label) expressions per maille, over agg_geo."""
    return {
        "france": (f"'{FRANCE[0]}'", f"'{FRANCE[1]}'"),
        "region": ("code_reg", "lib_reg"),
        "departement": ("code_dep", "lib_dep"),
        "epci": ("code_epci", "lib_epci"),
        "commune": ("depcom", "lib_commune"),
    }


def compute(
    warehouse: Warehouse,
    mailles: tuple[str, ...] = MAILLES,
    vintage: int | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> StateOfPlay:
    snapshot = warehouse.current("rpls", vintage)
    con = con or duckdb.connect()
    decl = declaration()
    logements = f"read_parquet('{snapshot.table('logements')}')"
    required = sorted({c for r in decl.ratios for c in r.requiert})
    filled = dict(
        zip(
            required,
            con.sql(f"SELECT {', '.join(f'count({c})' for c in required)} FROM {logements}").fetchone() or (),
            strict=True,
        )
    )
    ratios = [r for r in decl.ratios if all(filled.get(c) for c in r.requiert)]
    notes = [
        f"{r.variable}/{r.modalite} non calculé : données absentes ({', '.join(r.requiert)})"
        for r in decl.ratios
        if r not in ratios
    ]
    previous = str(snapshot.vintage - 1)

    # One pass over the dwellings: each variable becomes a small modality number and the dwellings are
    # counted per commune and combination of modalities (with the ratios' sums); every breakdown and ratio
    # per commune is then a sum over that small table.
    breakdowns = decl.repartitions
    cases = [
        f"CASE {' '.join(f'WHEN {m.condition} THEN {j}' for j, m in enumerate(b.modalites))} END::UTINYINT AS v{i}"
        for i, b in enumerate(breakdowns)
    ]
    ratio_sums = []
    for k, r in enumerate(ratios):
        ratio_sums.append(f"{r.numerateur.format(annee_precedente=previous)} AS q{k}_n")
        ratio_sums.append(f"{r.denominateur.format(annee_precedente=previous)} AS q{k}_d")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE combinaisons AS
        SELECT depcom, {", ".join(f"v{i}" for i in range(len(breakdowns)))}, count(*) AS n
               {"".join(", " + a for a in ratio_sums)}
        FROM (SELECT *, {", ".join(cases)} FROM {logements} WHERE en_stock) GROUP BY ALL""")
    counts = [
        f"sum(n) FILTER (WHERE v{i} = {j}) AS r{i}_{j}"
        for i, b in enumerate(breakdowns)
        for j in range(len(b.modalites))
    ]
    sums = [f"sum({a.rsplit(' AS ', 1)[1]}) AS {a.rsplit(' AS ', 1)[1]}" for a in ratio_sums]
    stats = [a.rsplit(" AS ", 1)[1] for a in counts + sums]
    geography = register_geography(con, warehouse, snapshot.vintage)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE agg AS
        SELECT depcom, {", ".join(f"coalesce({a.rsplit(' AS ', 1)[0]}, 0) AS {a.rsplit(' AS ', 1)[1]}" for a in counts)}
               {"".join(", " + a for a in sums)}
        FROM combinaisons GROUP BY depcom""")
    departement = DEPARTEMENT_SQL.format(c="a.depcom")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE agg_geo AS
        SELECT a.*, g.libelle AS lib_commune,
               coalesce(g.dep, {departement}) AS code_dep, d.libelle AS lib_dep,
               coalesce(g.reg, d.reg) AS code_reg, r.libelle AS lib_reg,
               g.epci AS code_epci, g.epci_libelle AS lib_epci
        FROM agg a
        LEFT JOIN geo_communes g ON g.code = a.depcom
        LEFT JOIN geo_departements d ON d.code = coalesce(g.dep, {departement})
        LEFT JOIN geo_regions r ON r.code = coalesce(g.reg, d.reg)""")
    # communes absent from the geography keep the name the file gives them
    con.execute(f"""
        UPDATE agg_geo SET lib_commune = n.libcom
        FROM (SELECT depcom, any_value(libcom) AS libcom FROM {logements}
              WHERE depcom IN (SELECT depcom FROM agg_geo WHERE lib_commune IS NULL) GROUP BY depcom) n
        WHERE agg_geo.depcom = n.depcom""")
    territories = _territories()
    totals = ", ".join(f"sum({s}) AS {s}" for s in stats)
    per_maille = " UNION ALL ".join(
        f"SELECT '{m}' AS maille, {MAILLES.index(m)} AS ordre_maille, {territories[m][0]} AS code, "
        f"any_value({territories[m][1]}) AS libelle, {totals} FROM agg_geo GROUP BY 3"
        for m in mailles
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE par_maille AS {per_maille}")
    missing = con.sql("SELECT maille, sum(r0_0) FROM par_maille WHERE code IS NULL GROUP BY 1").fetchall()
    notes += [
        f"maille {m} : {int(n)} logement(s) sans territoire connu (chargez le COG : cus referentiel cog)"
        for m, n in missing
    ]

    # Long format: each territory (sorted once, a few thousand rows) unnests into its statistics in
    # declaration order, which keeps the output ordered without sorting the long table.
    items = []
    for i, b in enumerate(decl.repartitions):
        for j, m in enumerate(b.modalites):
            items.append(
                f"{{'variable': '{b.variable}', 'modalite': '{m.code}', 'nombre': CAST(r{i}_{j} AS DOUBLE), "
                f"'part': round(100.0 * r{i}_{j} / nullif(r0_0, 0), 2)}}"
            )
    for k, r in enumerate(ratios):
        if r.sortie == "taux":
            value, share = f"CAST(coalesce(q{k}_n, 0) AS DOUBLE)", f"round(100.0 * q{k}_n / nullif(q{k}_d, 0), 2)"
        else:
            value, share = f"round(q{k}_n / nullif(q{k}_d, 0), 2)", "CAST(NULL AS DOUBLE)"
        items.append(f"{{'variable': '{r.variable}', 'modalite': '{r.modalite}', 'nombre': {value}, 'part': {share}}}")
    table = con.sql(f"""
        SELECT maille, code, libelle, s.variable, s.modalite, s.nombre, s.part
        FROM (SELECT maille, code, libelle, unnest([{", ".join(items)}]) AS s
              FROM (SELECT * FROM par_maille ORDER BY ordre_maille, code NULLS LAST))""").to_arrow_table()
    return StateOfPlay(snapshot, geography, table, notes)
