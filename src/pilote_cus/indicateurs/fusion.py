"""Several indicators read in one scan when their queries have the same simple shape.

Most indicators of a table are `SELECT keys…, agg FILTER (…) AS numerateur, agg AS denominateur FROM t
[WHERE w] GROUP BY keys…` with the same keys (the attributions shares, for instance). Scanning the table
once for all of them, with each indicator's WHERE moved into its aggregates' FILTER, gives the same rows:
a group is kept for an indicator only where at least one of its rows met that indicator's WHERE (counted
in `k_<n>`), exactly the groups its own query would have produced. Queries of any other shape (joins,
UNION, CTE, HAVING…) run as written.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from .catalogue import BASE_COLUMNS, Indicator

KEYS = BASE_COLUMNS[:6]  # annee … ventilation
VALUES = BASE_COLUMNS[6:]  # numerateur, denominateur


@dataclass(frozen=True)
class Simple:
    indicator: Indicator
    table: str
    keys: tuple[str, ...]  # SQL of the six key expressions, in BASE_COLUMNS order
    where: exp.Expression | None
    values: tuple[exp.Expression | None, exp.Expression | None]  # aggregates (None: NULL)


def _aggregate(node: exp.Expression) -> bool:
    inner = node.this if isinstance(node, exp.Filter) else node
    return isinstance(inner, exp.AggFunc)


def simple(indicator: Indicator) -> Simple | None:
    """The indicator's query as a single-table aggregate, or None if it has another shape."""
    tree = sqlglot.parse_one(indicator.sql, dialect="duckdb")
    if not isinstance(tree, exp.Select):
        return None
    # sqlglot names some arguments with a trailing underscore (from_, with_) depending on its version
    shapes = ("with", "with_", "joins", "having", "qualify", "distinct", "limit", "order", "windows")
    if any(tree.args.get(name) for name in shapes) or tree.find(exp.Window, exp.Subquery):
        return None
    source = tree.args.get("from_") or tree.args.get("from")
    table = source.this if source else None
    if not isinstance(table, exp.Table) or table.alias:
        return None
    projections = tree.expressions
    if [p.alias_or_name for p in projections] != list(BASE_COLUMNS):
        return None
    keys = [p.this if isinstance(p, exp.Alias) else p for p in projections[:6]]
    values = [p.this if isinstance(p, exp.Alias) else p for p in projections[6:]]
    if any(e.find(exp.AggFunc) for e in keys):
        return None
    grouped = {g.sql("duckdb") for g in (tree.args["group"].expressions if tree.args.get("group") else [])}
    wanted = {k.sql("duckdb") for k in keys if not isinstance(k, exp.Null)}
    if grouped != wanted:
        return None
    checked: list[exp.Expression | None] = []
    for value in values:
        if isinstance(value, exp.Null):
            checked.append(None)
        elif _aggregate(value):
            checked.append(value)
        else:
            return None
    where = tree.args.get("where")
    return Simple(
        indicator,
        table.name,
        tuple(k.sql("duckdb") for k in keys),
        where.this if where else None,
        (checked[0], checked[1]),
    )


def _restricted(value: exp.Expression, where: exp.Expression | None) -> exp.Expression:
    """`value` counting only the rows that meet `where` (added to its FILTER)."""
    if where is None:
        return value.copy()
    if isinstance(value, exp.Filter):
        condition = value.expression.this if isinstance(value.expression, exp.Where) else value.expression
        both = exp.and_(exp.paren(where.copy()), exp.paren(condition.copy()))
        return exp.Filter(this=value.this.copy(), expression=exp.Where(this=both))
    return exp.Filter(this=value.copy(), expression=exp.Where(this=where.copy()))


@dataclass(frozen=True)
class Fused:
    name: str  # the statement computing the shared scan
    sql: str
    members: tuple[tuple[Indicator, int], ...]  # each indicator and its column number in the scan


def fuse(indicators: Sequence[Indicator], prefix: str = "fusion") -> tuple[list[Fused], list[Indicator]]:
    """Groups of at least two simple indicators over the same table and keys, and the other indicators."""
    groups: dict[tuple[str, tuple[str, ...]], list[Simple]] = {}
    alone: list[Indicator] = []
    for indicator in indicators:
        shape = simple(indicator)
        if shape is None:
            alone.append(indicator)
        else:
            groups.setdefault((shape.table, shape.keys), []).append(shape)
    fused: list[Fused] = []
    for (table, keys), shapes in groups.items():
        if len(shapes) < 2:
            alone += [s.indicator for s in shapes]
            continue
        columns = [f"{key} AS {name}" for key, name in zip(keys, KEYS, strict=True)]
        for n, shape in enumerate(shapes):
            for value, name in zip(shape.values, VALUES, strict=True):
                sql = "NULL" if value is None else _restricted(value, shape.where).sql("duckdb")
                columns.append(f"{sql} AS {name[0]}_{n}")
            count = "count(*)" if shape.where is None else f"count(*) FILTER (WHERE {shape.where.sql('duckdb')})"
            columns.append(f"{count} AS k_{n}")
        group = ", ".join(k for k in keys if k.upper() != "NULL")
        name = f"{prefix}_{len(fused)}"
        sql = f"SELECT {', '.join(columns)} FROM {table} GROUP BY {group}"
        fused.append(Fused(name, sql, tuple((s.indicator, n) for n, s in enumerate(shapes))))
    return fused, alone


def member_sql(fused: Fused, indicator: Indicator, n: int) -> str:
    """The base rows of one indicator of a shared scan, as its own query would have given them."""
    return (
        f"SELECT '{indicator.code}' AS code, {', '.join(KEYS)}, n_{n} AS numerateur, d_{n} AS denominateur "
        f"FROM {fused.name} WHERE k_{n} > 0"
    )
