"""A national history written straight into the warehouse, in DuckDB SQL (benchmarks).

Same shapes as the landlord's history (`historique`), simplified so that every value is a pure function of
(seed, dwelling, year): random numbers are hashes, so no row needs a Python loop and any year can be
recomputed in any query. The stock: ensembles spread over every commune (the COG loaded, else the built-in
gazetteer), several hundred landlords, new ensembles delivered each year, buildings demolished, houses sold
after being put on sale, buildings renovated (their label changes the next 1 January), ensembles
rehabilitated. Occupancy: in each year a let dwelling changes tenant with probability TURNOVER, the new lease
being preceded by a vacancy of at most 364 days, so MODE on 1 January N only depends on the change of year N;
attributions and vacancies are these changes. Simplified compared with the landlord's history: one DPE label
per ensemble, no works between leases, complaints drawn over the base stock.

Each millésime is an "rpls" snapshot whose logements.parquet has exactly the columns and types written by the
RPLS import; each event table is a snapshot written by `write_event_snapshot`.
"""

import math
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from .. import __version__
from ..entrepot.entrepot import Snapshot, Warehouse
from ..evenements.schema import event_schemas
from ..evenements.stockage import write_event_snapshot
from ..geographie.referentiel import COMMUNE_PATTERN, DEPARTEMENT_SQL, gazetteer
from .historique_evenements import (
    ANSWERING,
    ARREARS,
    BREAKDOWNS,
    CATEGORIES,
    COMPLAINTS,
    COST_PER_DWELLING,
    SATISFIED,
    TIGHT_ZONES,
)
from .historique_parc import (
    DELIVERY_RATE,
    DEMOLITION_RATE,
    DYNAMIC,
    REHAB_RATE,
    RENOVATION_E_RATE,
    RENOVATION_FG_RATE,
    RENT_GROWTH,
    RENT_LEVEL,
)
from .historique_vie import TURNOVER
from .import_rpls import SQL_TYPES
from .schema import rpls_schema
from .synthetique import (
    CONTINGENTS,
    DPE_BY_AGE,
    FINANCING,
    PERIODS,
    PROGRAMMES,
    RECENT_SHARE,
    RENT_FACTOR,
    ROOM_SHARES,
    ROOM_SURFACE,
    SEGMENTS,
    STREET_TYPES,
    STREETS,
    ZONE_RENT,
)

DWELLINGS_PER_LANDLORD = 9_000
DEPARTEMENT_LANDLORDS = 6  # landlords working in each département
COVERAGE_SHARE = 0.2  # at most this share of the stock goes to one small ensemble in every commune
# rates of the landlord's history (table in `historique`); what the simpler mechanisms here need besides:
OFFER_RATE, SOLD_SHARE = 0.0035, 0.6  # put on sale a year; share of those sold within 3 years
RELET_QUICK_SHARE, RELET_LONG_MEAN = 0.7, 300.0  # vacancies capped at 364 days: 2.9 % vacant, 1.4 % > 3 months
RENOVATION = {4: RENOVATION_E_RATE, 5: RENOVATION_FG_RATE, 6: RENOVATION_FG_RATE}
MEMORY_LIMIT = "12GB"


@dataclass(frozen=True)
class NationalHistorySummary:
    first_year: int
    years: int
    landlords: int
    communes: int
    dwellings_first: int  # in stock on 1 January of the first millésime
    dwellings_last: int
    rpls_rows: int
    event_rows: int
    seconds: float
    snapshots: tuple[str, ...]
    rows_by_table: tuple[tuple[str, int], ...]


def _u(a: str, b: str | int, tag: str) -> str:
    """SQL of a uniform number in [0, 1) drawn from (a, b) for the purpose `tag`."""
    return f"r({a}, {b}, {zlib.crc32(tag.encode()) & 0xFFFF})"


def _case(u: str, values: list[Any], weights: list[float]) -> str:
    """SQL CASE picking values[k] with probability weights[k] (normalised) from the uniform `u`."""
    total, cumulative, parts = float(sum(weights)), 0.0, []
    for value, weight in zip(values[:-1], weights[:-1], strict=True):
        cumulative += weight / total
        parts.append(f"WHEN {u} < {float(cumulative)!r} THEN {value}")
    return f"CASE {' '.join(parts)} ELSE {values[-1]} END"


def _quoted(values: list[str]) -> list[str]:
    return ["'" + v.replace("'", "''") + "'" for v in values]


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_quoted(values)) + "]"


class _Writer:
    """One national history: a DuckDB connection, the tables it builds, the snapshots it has written."""

    def __init__(
        self,
        warehouse: Warehouse,
        dwellings: int,
        seed: int,
        first_year: int,
        years: int,
        events: int,
        cog: Snapshot | None,
        progress: Callable[[float], None],
    ):
        self.warehouse, self.n, self.seed = warehouse, dwellings, seed
        self.first, self.last, self.years = first_year, first_year + years - 1, years
        self.events, self.cog, self.advance = events, cog, progress
        self.landlords = max(1, dwellings // DWELLINGS_PER_LANDLORD)
        self.snapshots: list[str] = []
        self.rows: dict[str, int] = {}
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT})
        self.con.execute(f"SET temp_directory = '{warehouse.root / '.temporaire'}'")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute(f"CREATE MACRO r(a, b, k) AS (hash(a, b, k, {int(seed)}) >> 11)::DOUBLE * 2.0 ** -53")
        self.con.execute("CREATE MACRO jan1(y) AS make_date(y::INTEGER, 1, 1)")
        self.con.execute("CREATE MACRO day_in(y, u) AS make_date(y::INTEGER, 1, 2) + floor(u * 363)::INTEGER")

    # --- reference tables --------------------------------------------------------------------

    def communes(self) -> int:
        if self.cog is not None:
            self.con.execute(f"""
                CREATE TABLE raw_communes AS
                SELECT code, libelle, dep, reg, coalesce(epci, '') AS epci, 'B1' AS zone, NULL::VARCHAR AS cp,
                       NULL::DOUBLE AS lat, NULL::DOUBLE AS lon, greatest(coalesce(population, 0), 1)::DOUBLE AS w
                FROM read_parquet('{self.cog.table("communes")}')
                WHERE type = 'commune-actuelle' AND regexp_full_match(code, '{COMMUNE_PATTERN}')""")
        else:
            gaz = gazetteer()
            self.con.execute(
                "CREATE TABLE raw_communes (code VARCHAR, libelle VARCHAR, dep VARCHAR, reg VARCHAR, epci VARCHAR,"
                " zone VARCHAR, cp VARCHAR, lat DOUBLE, lon DOUBLE, w DOUBLE)"
            )
            self.con.executemany(
                "INSERT INTO raw_communes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.code,
                        c.nom,
                        c.departement,
                        gaz.departements[c.departement]["region"],
                        c.epci,
                        c.zone,
                        c.code_postal,
                        c.lat,
                        c.lon,
                        c.poids,
                    )
                    for c in gaz.communes
                ],
            )
        zone_rent = _case_map("zone", ZONE_RENT, "5.9")
        tight = ", ".join(_quoted(list(TIGHT_ZONES)))
        self.con.execute(f"""
            CREATE TABLE communes AS
            SELECT (row_number() OVER (ORDER BY code) - 1)::INTEGER AS c, *,
                   (sum(w) OVER (ORDER BY code) - w) / sum(w) OVER () AS lo,
                   dense_rank() OVER (ORDER BY dep) AS dep_rank, {zone_rent} AS zone_rent,
                   zone IN ({tight}) AS tight
            FROM raw_communes""")
        row = self.con.execute("SELECT count(*) FROM communes").fetchone()
        return int(row[0]) if row else 0

    def landlords_table(self) -> None:
        self.con.execute(f"""
            CREATE TABLE landlords AS
            SELECT l::INTEGER AS l, printf('%06d', 900000 + l) AS numero, printf('%014d', 99900000000000 + l) AS siret,
                   CASE WHEN l % 3 = 0 THEN 'OPH' ELSE 'ESH' END AS cat,
                   CASE WHEN l % 3 = 0 THEN 'Office synthétique de l''habitat n° ' ELSE 'Habitat synthétique n° ' END
                       || (l + 1) AS rs
            FROM range({self.landlords}) t(l)""")

    # --- the stock -----------------------------------------------------------------------------

    def ensembles(self, communes: int) -> None:
        """Base ensembles (the stock of the first millésime), then one ensemble per new-build operation."""
        coverage = communes if communes * 7 <= COVERAGE_SHARE * self.n else 0
        first = self.first
        periods = [(lo, min(hi, first - 1)) for lo, hi, _ in PERIODS if lo < first] + [(first - 4, first - 1)]
        shares = [s for lo, _, s in PERIODS if lo < first] + [RECENT_SHARE]
        year = _case(
            _u("e", 0, "period"),
            [f"{lo} + floor({_u('e', 0, 'year')} * {hi - lo + 1})::INTEGER" for lo, hi in periods],
            shares,
        )
        candidates = 2 * self.n // 30 + coverage + 1000
        self.con.execute(f"""
            CREATE TABLE base_raw AS
            SELECT e::INTEGER AS e, e < {coverage} OR {_u("e", 0, "individual")} < 0.5 AS individual,
                   CASE WHEN e < {coverage} THEN 3 + floor({_u("e", 0, "size")} * 8)
                        WHEN individual THEN 4 + floor({_u("e", 0, "size")} * 17)
                        ELSE 8 + floor({_u("e", 0, "size")} * 125) END::INTEGER AS size,
                   CASE WHEN e < {coverage} THEN e END AS covered, {year} AS year
            FROM range({candidates}) t(e)""")
        self.con.execute(f"""
            CREATE TABLE base AS
            SELECT e, individual, least(size, {self.n} - cum + size)::INTEGER AS size, covered, year, 'base' AS kind
            FROM (SELECT *, sum(size) OVER (ORDER BY e) AS cum FROM base_raw)
            WHERE cum - size < {self.n}""")
        targets = [round(self.n * DELIVERY_RATE * 1.01**k) for k in range(self.years + 3)]
        bounds = [sum(targets[: k + 1]) for k in range(len(targets))]
        delivery_year = "CASE " + " ".join(f"WHEN mid < {b} THEN {first + k}" for k, b in enumerate(bounds)) + " END"
        self.con.execute(f"""
            CREATE TABLE new_raw AS
            SELECT (e + 10000000)::INTEGER AS e, {_u("e", 1, "individual")} < 0.3 AS individual,
                   CASE WHEN individual THEN 4 + floor({_u("e", 1, "size")} * 17)
                        ELSE 10 + floor({_u("e", 1, "size")} * 80) END::INTEGER AS size
            FROM range({2 * bounds[-1] // 20 + 100}) t(e)""")
        self.con.execute(f"""
            CREATE TABLE new AS
            SELECT e, individual, size, NULL::INTEGER AS covered, year, 'new' AS kind FROM (
                SELECT *, {delivery_year} AS year FROM (
                    SELECT *, sum(size) OVER (ORDER BY e) - size / 2 AS mid FROM new_raw))
            WHERE year IS NOT NULL""")
        self._ensemble_attributes()

    def _ensemble_attributes(self) -> None:
        first = self.first
        financing = {
            label: _case(_u("e", 0, "finan"), _quoted(codes), probs) for label, (codes, probs) in FINANCING.items()
        }
        labels = list(DPE_BY_AGE.items())
        label_case = (
            "CASE "
            + " ".join(
                f"WHEN year < {upper} THEN {_case(_u('e', 0, 'dpe'), [str(k) for k in range(7)], probs)}"
                for upper, probs in labels[:-1]
            )
            + f" ELSE {_case(_u('e', 0, 'dpe'), [str(k) for k in range(7)], labels[-1][1])} END"
        )
        rent_factor = _case_map("finan", RENT_FACTOR, "0.9")
        pipeline = f"kind = 'new' AND year > {self.last}"
        self.con.execute(f"""
            CREATE TABLE ens AS
            WITH a AS (
                SELECT x.*, c.c, c.dep_rank FROM (
                    SELECT *, {_u("e", 0, "commune")} AS u_commune FROM (SELECT * FROM base UNION ALL SELECT * FROM new)
                ) x ASOF JOIN communes c ON x.u_commune >= c.lo
            )
            SELECT e, kind, individual, size, coalesce(covered, a.c)::INTEGER AS c,
                   ((dep_rank * {DEPARTEMENT_LANDLORDS} + floor({_u("e", 0, "landlord")} * {DEPARTEMENT_LANDLORDS}))
                    % {self.landlords})::INTEGER AS l,
                   year::SMALLINT AS year, {pipeline} AS pipeline,
                   CASE WHEN kind = 'new' THEN {_u("e", 0, "qpv")} < 0.12 * CASE WHEN individual THEN 0.3 ELSE 1 END
                        ELSE {_u("e", 0, "qpv")}
                             < CASE WHEN year < 1975 THEN 0.55 WHEN year < 2000 THEN 0.30 ELSE 0.08 END
                                                  * CASE WHEN individual THEN 0.3 ELSE 1 END END AS qpv,
                   CASE WHEN kind = 'new' THEN '13' WHEN year < 1977 THEN {financing["old"]}
                        WHEN year < 2000 THEN {financing["pla"]} ELSE {financing["new"]} END AS finan,
                   CASE WHEN {_u("e", 0, "dpe_known")} < 0.07 AND kind = 'base' THEN NULL
                        ELSE {label_case} END::INTEGER AS label,
                   {_u("e", 0, "programme")} AS u_programme, {_u("e", 0, "street")} AS u_street,
                   {_u("e", 0, "offer")} AS u_offer, {_u("e", 0, "rehab")} AS u_rehab
            FROM a""")
        self.con.execute(f"""
            CREATE TABLE ens2 AS
            SELECT e.*, qpv AND {_u("e.e", 0, "ru")} < CASE WHEN kind = 'new' THEN 0.7 ELSE 0.45 END AS ru,
                   (sum(size) FILTER (WHERE NOT pipeline) OVER (ORDER BY kind, e.e) - size)::INTEGER AS first_i,
                   c.zone_rent * {rent_factor} * CASE WHEN kind = 'new' THEN 1.25
                       ELSE least(greatest(1 + 0.006 * (year - 1980), 0.85), 1.3) END
                       * (0.85 + 0.3 * {_u("e.e", 0, "rent")}) AS rent_m2,
                   CASE WHEN kind = 'new' THEN day_in(year, {_u("e.e", 0, "delivery")}) END AS delivery,
                   {_u("e.e", 0, "plai")} AS u_plai, {_u("e.e", 0, "pls")} AS u_pls
            FROM ens e JOIN communes c USING (c)""")
        self.con.execute("DROP TABLE ens")
        self.con.execute("ALTER TABLE ens2 RENAME TO ens")
        old_collective = "kind = 'base' AND NOT individual AND year < 1975"
        offered = f"kind = 'base' AND (individual OR size <= 60) AND year < {first - 10} AND NOT ({old_collective})"
        row = self.con.execute(
            f"SELECT sum(size) FILTER ({old_collective}), sum(size) FILTER ({offered}) FROM ens"
        ).fetchone()
        self.p_demolition = DEMOLITION_RATE * self.n / max(row[0] or 1, 1) if row else 0.0
        p_offer = OFFER_RATE * self.n / max((row[1] or 1) if row else 1, 1)
        self.con.execute(f"""
            CREATE TABLE ensembles AS
            SELECT *, {old_collective} AS old_collective,
                   CASE WHEN {offered} AND u_offer < {p_offer} * {self.years + 3}
                        THEN day_in({first - 3} + floor(u_offer / {p_offer}), {_u("e", 0, "offer_day")}) END AS offer,
                   CASE WHEN kind = 'base' AND year < 1995 AND NOT ({offered}) AND u_rehab < {REHAB_RATE * self.years}
                        THEN {first} + floor(u_rehab / {REHAB_RATE})::INTEGER END AS rehab_year,
                   CASE WHEN kind = 'new' THEN round(size * (0.15 + 0.3 * u_plai))::INTEGER END AS n_plai,
                   CASE WHEN kind = 'new' THEN round(size * (0.1 + 0.3 * u_pls))::INTEGER END AS n_pls
            FROM ens""")

    def dwellings(self) -> None:
        """One row per dwelling ever held, with its static columns and the days that shape its history."""
        first = self.first
        rooms = _case(_u("i", 0, "rooms"), [str(k) for k in range(1, 8)], list(ROOM_SHARES))
        surface = "[" + ", ".join(str(s) for s in ROOM_SURFACE[1:]) + "]"
        contingent = _case(_u("i", 0, "contingent"), _quoted(CONTINGENTS[0]), CONTINGENTS[1])
        # label after renovation: B, C, D or E, never worse than the label before minus one
        renovated = _case(_u("bld", 0, "after"), ["1", "2", "3", "4"], [0.08, 0.45, 0.35, 0.12])
        renovation = " ".join(
            f"WHEN label = {label} AND {_u('bld', 0, 'renovation')} < {rate * self.years} "
            f"THEN {first} + floor({_u('bld', 0, 'renovation')} / {rate})::INTEGER"
            for label, rate in RENOVATION.items()
        )
        lease_mean = 365.25 / -math.log(1 - TURNOVER)
        self.con.execute(f"""
            CREATE TABLE d AS
            WITH x AS (
                SELECT en.*, (first_i + k)::INTEGER AS i, k::INTEGER AS rank,
                       CASE WHEN individual THEN k ELSE k // 30 END::INTEGER AS b,
                       CASE WHEN individual THEN 1 ELSE least(30, size - (k // 30) * 30) END AS building_size
                FROM (SELECT *, unnest(range(size)) AS k FROM ensembles WHERE NOT pipeline) en
            ), y AS (
                SELECT *, e::BIGINT * 4096 + b AS bld,
                       {rooms} AS rooms0,
                       CASE WHEN kind = 'base' AND {_u("i", 0, "static")} < 0.005 THEN 4
                            WHEN kind = 'base' AND {_u("i", 0, "static")} < 0.009 THEN 5 ELSE 0 END AS static_mode,
                       CASE WHEN kind = 'new' THEN delivery
                            ELSE day_in(year, {_u("e", 0, "delivery")}) END AS delivery_day
                FROM x
            ), z AS (
                SELECT *,
                       CASE WHEN individual THEN least(greatest(rooms0 + floor({_u("i", 0, "rooms+")} * 2), 2), 7)
                            ELSE rooms0 END::INTEGER AS rooms,
                       CASE WHEN old_collective
                                 AND {_u("bld", 0, "demolition")} < {self.p_demolition * (self.years + 1)}
                            THEN day_in({first - 1} + floor({_u("bld", 0, "demolition")} / {self.p_demolition}),
                                        {_u("bld", 0, "demolition_day")}) END AS demolition,
                       CASE WHEN offer IS NOT NULL AND static_mode = 0 AND {_u("i", 0, "sold")} < {SOLD_SHARE}
                            THEN offer + 90 + floor({_u("i", 0, "sale_day")} * 1095)::INTEGER END AS sale0,
                       {_case(_u("i", 0, "buyer"), _quoted(["1", "3", "2"]), [0.7, 0.15, 0.15])} AS buyer,
                       CASE WHEN NOT individual AND {_u("bld", 0, "tall")} < CASE WHEN building_size >= 20 THEN 0.75
                            ELSE 0.25 END THEN greatest(1, round(building_size / 20)) ELSE 0 END::INTEGER AS lifts,
                       CASE WHEN kind = 'new' AND rank < n_plai THEN '11'
                            WHEN kind = 'new' AND rank >= size - n_pls THEN '14' ELSE finan END AS finan_d
                FROM y
            )
            SELECT i, e, rank, b, bld, kind, individual, c, l, year, qpv, ru, static_mode, rooms, lifts,
                   least(greatest(round({surface}[rooms] + ({_u("i", 0, "surface")} - 0.5) * 20
                                        + CASE WHEN individual THEN 8 ELSE 0 END), 12), 250)::INTEGER AS surface,
                   CASE WHEN NOT individual THEN rank % 6 END AS storey, finan_d AS finan,
                   rent_m2 * CASE WHEN kind = 'new' THEN {_case_map("finan_d", RENT_FACTOR, "1.0")} ELSE 1.0 END
                       AS rent_m2,
                   {contingent} AS contreslog, delivery_day,
                   CASE WHEN delivery_day >= jan1({first - 1}) THEN delivery_day + CASE
                        WHEN {_u("i", 0, "first_let")} < 0.85 THEN 1 + floor({_u("i", 0, "first_let_days")} * 60)
                        ELSE 61 + floor({_u("i", 0, "first_let_days")} * 120) END::INTEGER END AS first_lease,
                   greatest(jan1({first - 1}) - 1 - floor(-ln(1 - {_u("i", 0, "old_lease")}) * {lease_mean})::INTEGER,
                            delivery_day) AS old_lease,
                   demolition, demolition - 30 - floor({_u("i", 0, "relocation")} * 500)::INTEGER AS relocation,
                   CASE WHEN dayofyear(sale0) = 1 THEN sale0 + 1 ELSE sale0 END AS sale, buyer,
                   offer, rehab_year,
                   rehab_year IS NOT NULL AND {_u("i", 0, "pmr")} < 0.25 AND (rank % 6 = 0 OR individual OR lifts > 0)
                       AS accessible_after_rehab,
                   CASE WHEN label IS NOT NULL AND demolition IS NULL AND offer IS NULL AND kind = 'base'
                        THEN CASE {renovation} END END AS renovation_year,
                   {renovated}::INTEGER AS renovated_label, label,
                   (day_in(2000, {_u("bld", 0, "works_day")}) - jan1(2000))::INTEGER AS works_offset,
                   CASE WHEN individual THEN 'S4' WHEN year >= 2000 THEN 'S3' WHEN qpv THEN 'S1' ELSE 'S2' END
                       AS segment,
                   u_programme, u_street
            FROM z""")
        self.con.execute(f"""
            CREATE OR REPLACE TABLE d AS
            SELECT * EXCLUDE (renovated_label), least(renovated_label, label - 1) AS renovated_label,
                   coalesce(demolition, sale) AS exit_day,
                   CASE WHEN demolition IS NOT NULL THEN '4' WHEN sale IS NOT NULL THEN buyer END AS exit_reason,
                   CASE WHEN demolition IS NOT NULL THEN relocation
                        WHEN sale IS NOT NULL AND buyer <> '1'
                            THEN sale - 60 - floor({_u("i", 0, "empty")} * 120)::INTEGER
                        ELSE sale END AS stop_day
            FROM d""")

    # --- occupancy ---------------------------------------------------------------------------

    def turnovers(self) -> None:
        """Every change of tenant, from the year before the first millésime to the year after the last one.

        In year y a let dwelling changes tenant with probability TURNOVER: the new lease starts on a random
        day of y, after a vacancy of at most 364 days (so 1 January y is the only one it may cover).
        """
        lease = f"(jan1(y) + floor({_u('i', 'y', 'lease')} * 365)::INTEGER)"
        quick = f"1 + floor({_u('i', 'y', 'vacancy')} * 90)"
        long = f"91 + least(floor(-{RELET_LONG_MEAN} * ln(1 - {_u('i', 'y', 'vacancy')})), 273)"
        vacancy = f"(CASE WHEN {_u('i', 'y', 'quick')} < {RELET_QUICK_SHARE} THEN {quick} ELSE {long} END)::INTEGER"
        self.con.execute(f"""
            CREATE TABLE turnovers AS
            SELECT i, y::SMALLINT AS y, lease, vacant_from FROM (
                SELECT i, y, {lease} AS lease, {lease} - {vacancy} AS vacant_from, first_lease, delivery_day, stop_day
                FROM (SELECT i, first_lease, delivery_day, stop_day FROM d WHERE static_mode = 0),
                     range({self.first - 1}, {self.last + 2}) t(y)
                WHERE {_u("i", "y", "turnover")} < {TURNOVER})
            WHERE vacant_from > coalesce(first_lease, delivery_day) AND (stop_day IS NULL OR lease < stop_day)""")

    def states(self) -> None:
        """MODE, lease and vacancy start of each dwelling on 1 January, from the first millésime to the year
        after the last one (arrears on 31 December)."""
        parts = [
            f"""
            SELECT g.i, {year}::SMALLINT AS annee,
                   CASE WHEN exit_day < j THEN '9' WHEN static_mode > 0 THEN static_mode::VARCHAR
                        WHEN stop_day <= j THEN '3' WHEN first_lease > j THEN '2'
                        WHEN now.lease > j AND now.vacant_from <= j THEN '2' ELSE '1' END AS mode,
                   CASE WHEN first_lease > j THEN delivery_day ELSE now.vacant_from END AS vacant_since,
                   coalesce(past.lease, first_lease, old_lease) AS lease,
                   past.lease IS NOT NULL OR (first_lease IS NULL AND old_lease > delivery_day) AS relet
            FROM (SELECT i, jan1({year}) AS j, exit_day, static_mode, stop_day, first_lease, delivery_day, old_lease
                  FROM d WHERE delivery_day < jan1({year}) AND (exit_day IS NULL OR exit_day >= jan1({year - 1}))) g
            ASOF LEFT JOIN turnovers past ON g.i = past.i AND g.j >= past.lease
            LEFT JOIN turnovers now ON now.i = g.i AND now.y = {year}"""
            for year in range(self.first, self.last + 2)
        ]
        self.con.execute(f"CREATE TABLE states AS {' UNION ALL '.join(parts)}")

    # --- RPLS millésimes ---------------------------------------------------------------------

    def static_columns(self) -> dict[str, str]:
        """SQL of the RPLS columns that do not change from one millésime to the next (over d, g, o)."""
        programmes = _list([p.upper() for p in PROGRAMMES])
        return {
            "IDENT_REP": "lpad((i + 1)::VARCHAR, 10, '0')",
            "IDENT_INT": "concat('L', l, '-', i + 1)",
            "DROIT": f"CASE WHEN {_u('i', 0, 'droit')} < 0.97 THEN '1' ELSE '3' END",
            "DEPCOM": "g.code",
            "CODEPOSTAL": "g.cp",
            "LIBCOM": "g.libelle",
            "NUMVOIE": "(1 + floor(u_street * 119) + b % 40 * 2)::VARCHAR",
            "TYPVOIE": f"{_list(STREET_TYPES)}[1 + floor(u_street * 1000)::INTEGER % {len(STREET_TYPES)}]",
            "NOMVOIE": f"{_list([s.upper() for s in STREETS])}[1 + floor(u_street * 7919)::INTEGER % {len(STREETS)}]",
            "NUMAPPT": "CASE WHEN NOT individual THEN (rank % 60 + 1)::VARCHAR END",
            "ETAGE": "storey::VARCHAR",
            "BAT": "CASE WHEN NOT individual THEN ['A','B','C','D','E','F','G','H','J','K'][1 + b % 10] END",
            "IMMEU": "concat('E', e, '-B', b)",
            "COMPLGEO": f"concat({programmes}[1 + floor(u_programme * {len(PROGRAMMES)})::INTEGER], ' ', e)",
            "QPV": "CASE WHEN qpv THEN '1' ELSE '2' END",
            "TYPECONST": "CASE WHEN individual THEN 'I' ELSE 'C' END",
            "NBPIECE": "rooms",
            "SURFHAB": "surface",
            "CONSTRUCT": "year",
            "LOCAT": "year",
            "PATRIMOINE": "year",
            "ORIGINE": f"CASE WHEN kind = 'new' THEN CASE WHEN {_u('e', 0, 'vefa')} < 0.5 THEN '4' ELSE '1' END"
            " WHEN year >= 2010 THEN '4' ELSE '1' END",
            "FINAN": "finan",
            "CONV": "'1'",
            "MODESURF": "'3'",
            "SURFMODE": "surface",
            "LOYERACC": f"CASE WHEN individual THEN 0 ELSE floor({_u('i', 0, 'charges')} * 40) END",
            "CUS": "CASE WHEN finan IN ('11', '10') THEN '11' WHEN finan = '14' THEN '14' WHEN finan = '16' THEN '16'"
            " ELSE '13' END",
            "IDENTGES": "o.numero",
            "CODSEGPATRIM": "segment",
            "LIBSEGPATRIM": f"{_list(list(SEGMENTS.values()))}[right(segment, 1)::INTEGER]",
            "LOYERMAXAPL": "round(rent_m2 * surface * 1.10, 2)",
            "LOYERMAXCUS": "round(rent_m2 * surface * 1.15, 2)",
            "CONTRESLOG": "contreslog",
            "DEP": "g.dep",
            "REG": "g.reg",
            "EPCI": "g.epci",
            "X": "round(g.lon + (u_street - 0.5) * 0.04, 6)",
            "Y": "round(g.lat + (u_programme - 0.5) * 0.03, 6)",
            "EPSG": "CASE WHEN g.lat IS NOT NULL THEN 4326 END",
            "CAT_ORG": "o.cat",
            "RS": "o.rs",
            "SIRET": "o.siret",
        }

    def dynamic_columns(self, year: int) -> dict[str, str]:
        """SQL of the RPLS columns of millésime `year` that change (over rpls_static and s = states)."""
        let = "s.mode = '1'"
        label = f"CASE WHEN renovation_year < {year} THEN renovated_label ELSE label END"
        letters = "['A', 'B', 'C', 'D', 'E', 'F', 'G']"
        gone = f"exit_day < jan1({year})"
        return {
            "SORTIEPATRIM": f"CASE WHEN {gone} THEN exit_reason ELSE '9' END",
            "MODE": "s.mode",
            "BAIL": f"CASE WHEN {let} THEN date_trunc('month', s.lease) END",
            "LOYERPRINC": f"CASE WHEN s.mode IN ('1', '2', '4') THEN round({RENT_LEVEL} * rent_m2 * surface "
            f"* (0.96 + 0.08 * {_u('i', 0, 'rent')}) / {1 + RENT_GROWTH} ** ({self.last} - {year}), 2) END",
            "DPEDATE": f"CASE WHEN renovation_year < {year}"
            " THEN date_trunc('month', jan1(renovation_year) + works_offset)"
            f" WHEN kind = 'new' THEN date_trunc('month', delivery_day) WHEN label IS NOT NULL"
            f" THEN make_date(2013 + floor({_u('i', 0, 'dpe_year')} * {self.first - 2013})::INTEGER,"
            f" 1 + floor({_u('i', 0, 'dpe_month')} * 12)::INTEGER, 1) ELSE DATE '1900-01-01' END",
            "DPEENERGIE": f"{letters}[1 + {label}]",
            "DPESERRE": f"{letters}[1 + greatest({label} - CASE WHEN {_u('e', 0, 'ges')} < 0.4 THEN 1 ELSE 0 END, 0)]",
            "QUALACQ": f"CASE WHEN {gone} AND exit_reason = '1' THEN '01'"
            f" WHEN {gone} AND exit_reason = '2' THEN '10' END",
            "MISCOMMERCIAL": f"CASE WHEN offer < jan1({year}) THEN '1' ELSE '2' END",
            "PRIXVENTE": f"CASE WHEN {gone} AND exit_reason <> '4' THEN round(surface * (1200 + 1000 * "
            f"{_u('i', 0, 'price')}), -2) END",
            "REMLOCDATE": f"CASE WHEN {let} AND s.relet THEN date_trunc('month', s.lease) END",
            "DUREEVACANCE": f"CASE WHEN s.mode = '2'"
            f" THEN greatest(1, ceil((jan1({year}) - s.vacant_since) / 30.4375)) END",
            "PMR": f"CASE WHEN year >= 2007 OR kind = 'new' OR (accessible_after_rehab AND rehab_year < {year})"
            " THEN '1' ELSE '2' END",
        }

    def rpls_static(self) -> None:
        """The static columns typed as the import types them, their derived identifiers, and what the dynamic
        columns are computed from."""
        expressions = self.static_columns()
        typed = ", ".join(
            f"CAST({expressions.get(c.nom, 'NULL')} AS {SQL_TYPES.get(c.type, 'VARCHAR')}) AS {c.field}"
            for c in rpls_schema().colonnes
            if c.nom not in DYNAMIC
        )
        ensemble_key = "concat_ws('|', siret, depcom, coalesce(complgeo, nomvoie))"
        building_key = (
            f"concat_ws('|', {ensemble_key}, coalesce(immeu, concat_ws(' ', bat, numvoie, typvoie, nomvoie)))"
        )
        self.con.execute(f"""
            CREATE TABLE rpls_static AS
            SELECT *, siret AS organisme_id, (hash({ensemble_key}) >> 1)::BIGINT AS ensemble_id,
                   (hash({building_key}) >> 1)::BIGINT AS batiment_id,
                   {DEPARTEMENT_SQL.format(c="depcom")} AS departement,
                   CASE WHEN qpv = '1' OR qpv LIKE 'Q%' THEN true WHEN qpv = '2' THEN false END AS en_qpv
            FROM (SELECT i, e, exit_day, exit_reason, rent_m2, surface, renovation_year, renovated_label, label,
                         works_offset, kind, delivery_day, offer, rehab_year, accessible_after_rehab, year, {typed}
                  FROM d JOIN communes g USING (c) JOIN landlords o USING (l))""")

    def rpls(self, year: int) -> int:
        """Millésime `year`, with exactly the columns and types the RPLS import writes."""
        dynamic = self.dynamic_columns(year)
        columns = ", ".join(
            f"CAST({dynamic[c.nom]} AS {SQL_TYPES.get(c.type, 'VARCHAR')}) AS {c.field}"
            if c.nom in DYNAMIC
            else c.field
            for c in rpls_schema().colonnes
        )
        select = (
            f"SELECT *, (sortiepatrim IS NULL OR sortiepatrim = '9') AS en_stock FROM ("
            f"SELECT {columns}, organisme_id, ensemble_id, batiment_id, departement, en_qpv "
            f"FROM rpls_static JOIN (SELECT * FROM states WHERE annee = {year}) s USING (i))"
        )
        provenance: dict[str, Any] = {
            "fichier": f"historique national synthétique {year}",
            "format": "synthétique (SQL)",
            "encodage": "sans objet",
            "organisme": None,
            "graine": self.seed,
            "colonnes_inconnues_conservees": [],
            "colonnes_absentes": [],
            "referentiel_geographique": f"COG {self.cog.vintage}" if self.cog else "répertoire intégré",
            "logiciel": f"pilote-cus {__version__}",
        }
        with self.warehouse.new_snapshot("rpls", year, provenance) as folder:
            target = folder / "logements.parquet"
            self.con.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
            row = self.con.execute(
                f"SELECT count(*), count(*) FILTER (en_stock) FROM read_parquet('{target}')"
            ).fetchone()
            total, in_stock = row if row else (0, 0)
            provenance.update({"lignes": int(total), "logements_au_1er_janvier": int(in_stock)})
        self.snapshots.append(self.warehouse.current("rpls", year).id)
        return int(in_stock)

    # --- events ------------------------------------------------------------------------------

    def publish(self, name: str, select: str) -> int:
        """Write event table `name` from `select` (declared columns, any order) through write_event_snapshot."""
        schema = event_schemas()[name]
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW draft_{name} AS {select}")
        present = set(self.con.execute(f"SELECT * FROM draft_{name} LIMIT 0").fetchnumpy())
        missing = "".join(f", NULL AS {c.nom}" for c in schema.colonnes if c.nom not in present)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW source_{name} AS SELECT *{missing} FROM draft_{name}")
        provenance: dict[str, Any] = {
            "fichier": f"historique national synthétique : {name}",
            "format": "synthétique (SQL)",
            "graine": self.seed,
            "logiciel": f"pilote-cus {__version__}",
        }
        snapshot = write_event_snapshot(self.con, self.warehouse, schema, f"source_{name}", provenance)
        self.snapshots.append(snapshot.id)
        self.rows[name] = int(snapshot.provenance["lignes"])
        return self.rows[name]

    def operations(self) -> str:
        first, last = self.first, self.last
        window = f"BETWEEN jan1({first}) AND jan1({last + 1}) - 1"
        renovations = """
            SELECT 'REN-' || renovation_year || '-' || bld AS id_operation, any_value(l) AS l, 'RENOVATION_ENERGETIQUE'
                       AS type_evenement, jan1(renovation_year) + any_value(works_offset) AS date_evenement,
                   any_value(c) AS c, NULL AS financement, count(*) AS nb_logements, NULL AS nb_places,
                   any_value(qpv) AS en_qpv, any_value(ru) AS renouvellement_urbain, NULL AS eligible_pret_cdc,
                   ['A','B','C','D','E','F','G'][1 + any_value(label)] AS etiquette_avant,
                   ['A','B','C','D','E','F','G'][1 + any_value(renovated_label)] AS etiquette_apres,
                   260 + 40 * any_value(label) AS conso_avant, 60 + 30 * any_value(renovated_label) AS conso_apres,
                   count(*) * 30000.0 AS montant_ht, any_value(segment) AS segment
            FROM d WHERE renovation_year IS NOT NULL GROUP BY bld, renovation_year"""
        rehabs = f"""
            SELECT 'REH-' || rehab_year || '-' || e, any_value(l), 'REHABILITATION',
                   jan1(rehab_year) + min(works_offset), any_value(c), NULL, count(*), NULL, any_value(qpv),
                   any_value(ru), {_u("e", 0, "cdc")} < 0.6, NULL, NULL, NULL, NULL, count(*) * 28000.0,
                   any_value(segment)
            FROM d WHERE rehab_year IS NOT NULL AND (exit_day IS NULL OR exit_day > jan1(rehab_year) + works_offset)
            GROUP BY e, rehab_year"""
        demolitions = f"""
            SELECT 'DEM-' || year(demolition) || '-' || bld, any_value(l), 'DEMOLITION', demolition, any_value(c),
                   NULL, count(*), NULL, any_value(qpv), any_value(ru), NULL, NULL, NULL, NULL, NULL,
                   count(*) * 11000.0, any_value(segment)
            FROM d WHERE demolition {window} GROUP BY bld, demolition"""
        offers = f"""
            SELECT 'CES-' || e, any_value(l), 'MISE_EN_VENTE', offer, any_value(c), NULL,
                   count(*) FILTER (static_mode = 0), NULL, any_value(qpv), any_value(ru), NULL, NULL, NULL, NULL,
                   NULL, NULL, any_value(segment)
            FROM d WHERE offer {window} GROUP BY e, offer"""
        sales = f"""
            SELECT 'CES-' || e || '-' || year(exit_day), any_value(l), 'VENTE', max(exit_day), any_value(c), NULL,
                   count(*), NULL, any_value(qpv), any_value(ru), NULL, NULL, NULL, NULL, NULL,
                   sum(round(surface * (1200 + 1000 * {_u("i", 0, "price")}), -2)), any_value(segment)
            FROM d WHERE exit_reason IN ('1', '2', '3') AND exit_day {window} GROUP BY e, year(exit_day)"""
        new_builds = []
        for event, shift in (
            ("DEPOT_FINANCEMENT", "approved - 30 - floor(u_pls * 120)::INTEGER"),
            ("AGREMENT", "approved"),
            ("MISE_EN_SERVICE", "delivery"),
        ):
            for name, count in (("PLAI", "n_plai"), ("PLS", "n_pls"), ("PLUS", "size - n_plai - n_pls")):
                new_builds.append(f"""
                    SELECT 'NEUF-' || e, l, '{event}', {shift}, c, '{name}', {count}, NULL, qpv, ru, NULL, NULL,
                           NULL, NULL, NULL, {count} * 165000.0, CASE WHEN individual THEN 'S4' ELSE 'S3' END
                    FROM (SELECT *, delivery - 365 - floor(u_plai * 730)::INTEGER AS approved FROM ensembles
                          WHERE kind = 'new') WHERE {shift} {window} AND {count} > 0""")
        hebergement = []
        for event, shift in (
            ("DEPOT_FINANCEMENT", "delivery - 800"),
            ("AGREMENT", "delivery - 700"),
            ("MISE_EN_SERVICE", "delivery"),
        ):
            hebergement.append(f"""
                SELECT 'HEB-' || e, l, '{event}', {shift}, c, 'PLAI', 0, 15 + floor(u_plai * 66)::INTEGER, qpv, false,
                       NULL, NULL, NULL, NULL, NULL, 4500000.0, NULL
                FROM ensembles WHERE kind = 'new' AND u_pls < 0.1 AND {shift} {window}""")
        union = " UNION ALL ".join([renovations, rehabs, demolitions, offers, sales, *new_builds, *hebergement])
        return f"""
            SELECT u.* EXCLUDE (l, c), o.siret AS organisme, g.code AS depcom,
                   CASE WHEN id_operation LIKE 'HEB-%' THEN 'HEBERGEMENT' ELSE 'LOGEMENT' END AS produit
            FROM ({union}) u JOIN landlords o USING (l) JOIN communes g USING (c)"""

    def attributions(self) -> str:
        prefet = "contreslog IN ('1', '2', '5')"
        quartile_out = _case(_u("i", "annee", "quartile"), ["1", "2", "3", "4"], [0.23, 0.30, 0.27, 0.20])
        quartile_in = _case(_u("i", "annee", "quartile"), ["1", "2", "3", "4"], [0.32, 0.30, 0.23, 0.15])
        contingent = (
            "CASE WHEN contreslog IN ('1', '2', '5') THEN 'PREFET' WHEN contreslog = '3' THEN 'ACTION_LOGEMENT' "
            "WHEN contreslog = '4' THEN 'COLLECTIVITE' WHEN contreslog = '7' THEN 'BAILLEUR' ELSE 'AUTRE' END"
        )
        return f"""
            SELECT concat('ATT-', year(lease), '-', lpad(i::VARCHAR, 8, '0'), '-', dayofyear(lease))
                       AS id_attribution,
                   o.siret AS organisme, lease AS date_bail, lpad((i + 1)::VARCHAR, 10, '0') AS ident_rep,
                   g.code AS depcom, qpv AS en_qpv, g.tight AS zone_tendue,
                   CASE WHEN finan IN ('10', '11') THEN 'PLAI' WHEN finan = '14' THEN 'PLS' WHEN finan = '16' THEN 'PLI'
                        WHEN finan IN ('12', '13', '52', '50', '51') THEN 'PLUS' ELSE 'AUTRE' END AS financement,
                   (CASE WHEN qpv THEN {quartile_in} ELSE {quartile_out} END)::INTEGER AS quartile,
                   {_u("i", "annee", "ru")} < CASE WHEN qpv THEN 0.04 ELSE 0.015 END AS relogement_ru,
                   dalo, dalo OR {_u("i", "annee", "priority")} < CASE WHEN {prefet} THEN 0.55 ELSE 0.22 END
                       AS prioritaire,
                   {_u("i", "annee", "agreement")} < 0.1 AS accord_collectif, {contingent} AS contingent,
                   mutation AS mutation_interne, mutation OR {_u("i", "annee", "social")} < 0.205 AS deja_parc_social,
                   {_u("i", "annee", "hebergement")} < 0.04 AS sortant_hebergement,
                   {_u("i", "annee", "plai")} < CASE WHEN qpv THEN 0.72 ELSE 0.69 END AS sous_plafond_plai,
                   segment
            FROM (SELECT d.*, x.lease, x.annee,
                         {_u("i", "x.annee", "dalo")} < CASE WHEN {prefet} THEN 0.18 ELSE 0.02 END AS dalo,
                         {_u("i", "x.annee", "mutation")} < 0.12 AS mutation
                  FROM (SELECT i, y AS annee, lease FROM turnovers WHERE y BETWEEN {self.first} AND {self.last}
                        UNION ALL SELECT i, 0, first_lease FROM d
                        WHERE first_lease BETWEEN jan1({self.first}) AND jan1({self.last + 1}) - 1) x
                  JOIN d USING (i))
            JOIN landlords o USING (l) JOIN communes g USING (c)"""

    def vacancies(self) -> str:
        end = f"jan1({self.last + 1}) - 1"
        return f"""
            SELECT lpad((i + 1)::VARCHAR, 10, '0') AS ident_rep, o.siret AS organisme, g.code AS depcom,
                   date_debut, CASE WHEN date_fin <= {end} THEN date_fin END AS date_fin, motif, segment
            FROM (SELECT i, vacant_from AS date_debut, lease - 1 AS date_fin, 'LOCATION' AS motif FROM turnovers
                      WHERE vacant_from <= {end}
                  UNION ALL SELECT i, delivery_day, first_lease - 1, 'LOCATION' FROM d
                      WHERE first_lease >= jan1({self.first - 1})
                  UNION ALL SELECT i, stop_day, exit_day - 1, CASE WHEN exit_reason = '4' THEN 'DEMOLITION'
                      ELSE 'VENTE' END FROM d
                      WHERE static_mode = 0 AND stop_day < exit_day AND exit_day >= jan1({self.first - 1})
                        AND stop_day <= {end})
            JOIN d USING (i) JOIN landlords o USING (l) JOIN communes g USING (c)"""

    def arrears(self) -> str:
        months = _case(_u("i", "annee", "months"), ["1", "2", "3", "4"], [0.38, 0.22, 0.05, 0.35])
        return f"""
            SELECT concat(lpad((i + 1)::VARCHAR, 10, '0'), '-', strftime(lease, '%Y%m%d')) AS id_bail,
                   o.siret AS organisme, lpad((i + 1)::VARCHAR, 10, '0') AS ident_rep, g.code AS depcom,
                   jan1(annee) - 1 AS date_situation, mois AS mois_impayes,
                   round(mois * (rent_m2 * surface + 60) * (0.5 + 0.5 * {_u("i", "annee", "amount")}), 2) AS montant,
                   {_u("i", "annee", "support")} < CASE WHEN mois > 3 THEN 0.40 ELSE 0.10 END AS accompagnement_social,
                   {_u("i", "annee", "plan")} < CASE WHEN mois > 3 THEN 0.50 ELSE 0.15 END AS plan_apurement, segment
            FROM (SELECT d.*, s.annee, s.lease,
                         CASE WHEN m = 4 THEN 4 + floor(-8 * ln(1 - {_u("i", "s.annee", "long")}))
                              ELSE m END::INTEGER AS mois
                  FROM (SELECT *, ({months})::INTEGER AS m FROM states
                        WHERE annee > {self.first} AND mode = '1' AND lease < jan1(annee)
                          AND {_u("i", "annee", "arrears")} < {ARREARS}) s JOIN d USING (i))
            JOIN landlords o USING (l) JOIN communes g USING (c)"""

    def complaints(self, count: int) -> str:
        categories = _case(_u("k", 0, "category"), _quoted([c for c, _ in CATEGORIES]), [w for _, w in CATEGORIES])
        close = f"""CASE WHEN {_u("k", 0, "closed")} < 0.8 THEN 1 + floor({_u("k", 0, "close_days")} * 30)
                        ELSE 31 + floor(-40 * ln(1 - {_u("k", 0, "close_days")})) END::INTEGER"""
        end = f"jan1({self.last + 1}) - 1"
        return f"""
            SELECT 'REC-' || lpad(k::VARCHAR, 10, '0') AS id_reclamation, o.siret AS organisme, g.code AS depcom,
                   {categories} AS categorie, {_u("k", 0, "written")} < 0.6 AS ecrite, received AS date_reception,
                   CASE WHEN answered <= {end} THEN answered END AS date_reponse,
                   CASE WHEN closed <= {end} THEN closed END AS date_cloture, segment
            FROM (SELECT k, received, i, received + closed_after AS closed,
                         received + least(closed_after, 1 + floor(-7 * ln(1 - {_u("k", 0, "answer")})))::INTEGER
                             AS answered
                  FROM (SELECT k, jan1({self.first} + k % {self.years}) + floor({_u("k", 0, "day")} * 365)::INTEGER
                                   AS received, {close} AS closed_after,
                               floor({_u("k", 0, "dwelling")} * {self.n})::INTEGER AS i
                        FROM range({count}) t(k)))
            JOIN d USING (i) JOIN landlords o USING (l) JOIN communes g USING (c)"""

    def equipment(self) -> None:
        self.con.execute(f"""
            CREATE TABLE equipment AS
            SELECT 'ASC-' || bld || '-' || (k + 1) AS id_equipement, l, c, 'ASCENSEUR' AS type_equipement,
                   (CASE WHEN kind = 'new' THEN year
                         ELSE greatest(year, 1990 + floor({_u("bld", "k", "since")} * {self.first - 1990}))
                    END)::SMALLINT
                       AS annee_mise_en_service, year(demolition)::SMALLINT AS annee_retrait, segment
            FROM (SELECT bld, any_value(lifts) AS lifts, any_value(kind) AS kind, any_value(year) AS year,
                         any_value(demolition) AS demolition, any_value(l) AS l, any_value(c) AS c,
                         any_value(segment) AS segment FROM d WHERE lifts > 0 GROUP BY bld), range(lifts) t(k)
            UNION ALL
            SELECT 'CHA-' || e, l, c, 'CHAUFFERIE',
                   (CASE WHEN kind = 'new' THEN year
                         ELSE greatest(year, 1985 + floor({_u("e", 0, "boiler_since")} * {self.first - 1985}))
                    END)::SMALLINT,
                   NULL, segment
            FROM (SELECT e, any_value(kind) AS kind, any_value(year) AS year, any_value(l) AS l, any_value(c) AS c,
                         any_value(segment) AS segment FROM d WHERE NOT individual GROUP BY e)
            WHERE {_u("e", 0, "boiler")} < 0.3""")
        self.con.execute(f"""
            DELETE FROM equipment WHERE annee_mise_en_service > {self.last} OR annee_retrait < {self.first}""")

    def equipment_select(self) -> str:
        return """
            SELECT id_equipement, o.siret AS organisme, g.code AS depcom, type_equipement, annee_mise_en_service,
                   annee_retrait, segment
            FROM equipment JOIN landlords o USING (l) JOIN communes g USING (c)"""

    def breakdowns(self) -> str:
        """Breakdowns of each device in service: a count around BREAKDOWNS[type] a year, random days."""
        rate = _case_map("type_equipement", {k: v[0] for k, v in BREAKDOWNS.items()}, "0")
        median = _case_map("type_equipement", {k: v[1] for k, v in BREAKDOWNS.items()}, "0")
        return f"""
            SELECT concat('PAN-', id_equipement, '-', annee, '-', k + 1) AS id_panne, id_equipement,
                   o.siret AS organisme, g.code AS depcom, type_equipement,
                   jan1(annee) + floor(r(device, annee * 100 + k, 7) * 365)::INTEGER AS date_panne,
                   round(least(greatest({median} * exp(2.4 * (r(device, annee * 100 + k, 8) - 0.5)), 0.5), 720), 1)
                       AS duree_heures, segment
            FROM (SELECT *
                  FROM (SELECT q.*, annee, floor(2 * {rate} * r(device, annee, 9) + r(device, annee, 10))::INTEGER AS n
                        FROM (SELECT *, hash(id_equipement) AS device FROM equipment) q,
                             range({self.first}, {self.last + 1}) t(annee)
                        WHERE annee_mise_en_service <= annee AND (annee_retrait IS NULL OR annee_retrait > annee)),
                       range(n) t(k))
            JOIN landlords o USING (l) JOIN communes g USING (c)"""

    def caretakers(self) -> str:
        return f"""
            SELECT o.siret AS organisme, annee, g.code AS depcom,
                   round(n / (85 + 20 * r(l, c, 11)), 1) AS etp
            FROM (SELECT l, c, annee, count(*) AS n FROM states JOIN d USING (i)
                  WHERE annee <= {self.last} AND mode <> '9' GROUP BY ALL)
            JOIN landlords o USING (l) JOIN communes g USING (c)"""

    def costs(self) -> str:
        rows = []
        for nature, (per_dwelling, split) in COST_PER_DWELLING.items():
            if nature == "TFPB":
                amount = f"(n - 0.3 * n_qpv) * {per_dwelling}"
            elif split:
                amount = f"CASE WHEN flag THEN n_ru * {per_dwelling} * 1.15 ELSE (n - n_ru) * {per_dwelling} END"
            else:
                amount = (
                    f"n * {per_dwelling} * CASE WHEN '{nature}' = 'GESTION' THEN 0.8 + 0.4 * r(l, 0, 12) ELSE 1 END"
                )
            flags = "[false, true]" if split else "[false]"
            rows.append(f"""
                SELECT l, annee, dep, '{nature}' AS nature, flag, {amount} * 1.02 ** (annee - {self.first}) AS montant
                FROM counts, unnest({flags}) t(flag)""")
        return f"""
            WITH counts AS (
                SELECT l, annee, g.dep, count(*) AS n, count(*) FILTER (ru) AS n_ru, count(*) FILTER (qpv) AS n_qpv
                FROM states JOIN d USING (i) JOIN communes g USING (c)
                WHERE annee <= {self.last} AND mode <> '9' GROUP BY ALL)
            SELECT o.siret AS organisme, annee, dep AS departement, nature, flag AS renouvellement_urbain,
                   round(montant, 2) AS montant_ht
            FROM ({" UNION ALL ".join(rows)}) JOIN landlords o USING (l) WHERE montant > 0
            UNION ALL
            SELECT organisme, year(date_evenement), {DEPARTEMENT_SQL.format(c="depcom")},
                   'INVESTISSEMENT_REHABILITATION', renouvellement_urbain, sum(montant_ht)
            FROM source_operations WHERE type_evenement IN ('REHABILITATION', 'RENOVATION_ENERGETIQUE')
            GROUP BY ALL"""

    def surveys(self) -> str:
        parts = []
        for q, (outside, inside) in SATISFIED.items():
            parts.append(f"""
                SELECT e, annee, '{q}' AS question, answering,
                       least(answering, round(answering * CASE WHEN qpv THEN {inside} ELSE {outside} END
                             * (0.9 + 0.2 * r(e, annee, {zlib.crc32(q.encode()) & 0xFFFF})))) AS satisfied
                FROM per_residence""")
        return f"""
            WITH per_residence AS (
                SELECT e, annee, any_value(qpv) AS qpv,
                       round(count(*) * {ANSWERING} * (0.7 + 0.6 * r(e, annee, 13)))::INTEGER AS answering
                FROM states JOIN d USING (i) WHERE annee <= {self.last} AND mode <> '9' GROUP BY e, annee)
            SELECT o.siret AS organisme, s.annee, g.code AS depcom,
                   concat({_list([p.upper() for p in PROGRAMMES])}[1 + floor(u_programme * {len(PROGRAMMES)})::INTEGER],
                          ' ', s.e) AS residence,
                   en.qpv AS en_qpv, question, answering AS repondants, satisfied AS satisfaits, en.segment
            FROM ({" UNION ALL ".join(parts)}) s
            JOIN (SELECT e, any_value(qpv) AS qpv, any_value(u_programme) AS u_programme, any_value(l) AS l,
                         any_value(c) AS c, any_value(segment) AS segment FROM d GROUP BY e) en USING (e)
            JOIN landlords o USING (l) JOIN communes g USING (c)
            WHERE answering > 0"""


def _case_map(column: str, mapping: dict[str, float], default: str) -> str:
    whens = " ".join(f"WHEN {column} = '{key}' THEN {value}" for key, value in mapping.items())
    return f"CASE {whens} ELSE {default} END"


def write_national_history(
    warehouse: Warehouse,
    *,
    dwellings: int = 5_400_000,
    seed: int = 7,
    first_year: int = 2019,
    years: int = 6,
    events: int = 30_000_000,
    cog: Snapshot | None = None,
    progress: Callable[[float], None] | None = None,
) -> NationalHistorySummary:
    """Write one "rpls" snapshot per millésime and one snapshot per event table, holding the warehouse lock.

    `progress` receives increments summing to 100.
    """
    started = time.perf_counter()
    advance = progress or (lambda amount: None)
    with warehouse.lock():
        warehouse.remove_abandoned()
        writer = _Writer(warehouse, dwellings, seed, first_year, years, events, cog, advance)
        try:
            return _write(writer, started)
        finally:
            writer.con.close()
            shutil.rmtree(warehouse.root / ".temporaire", ignore_errors=True)


def _write(w: _Writer, started: float) -> NationalHistorySummary:
    communes = w.communes()
    w.landlords_table()
    w.ensembles(communes)
    w.dwellings()
    w.advance(8)
    w.turnovers()
    w.states()
    w.advance(12)
    stock = {}
    w.rpls_static()
    for year in range(w.first, w.last + 1):
        stock[year] = w.rpls(year)
        w.advance(30 / w.years)
    w.equipment()
    w.con.execute(f"CREATE TEMP VIEW source_operations AS {w.operations()}")
    selects = {
        "operations": w.operations(),
        "attributions": w.attributions(),
        "vacances": w.vacancies(),
        "impayes": w.arrears(),
        "equipements": w.equipment_select(),
        "pannes": w.breakdowns(),
        "gardiens": w.caretakers(),
        "couts": w.costs(),
        "enquetes": w.surveys(),
    }
    for name, select in selects.items():
        w.publish(name, select)
        w.advance(4)
    natural = round(COMPLAINTS * w.n * w.years)
    w.publish("reclamations", w.complaints(max(natural, w.events - sum(w.rows.values()))))
    w.advance(14)
    row = w.con.execute("SELECT count(*) FROM states WHERE annee <= ?", [w.last]).fetchone()
    return NationalHistorySummary(
        first_year=w.first,
        years=w.years,
        landlords=w.landlords,
        communes=communes,
        dwellings_first=stock[w.first],
        dwellings_last=stock[w.last],
        rpls_rows=int(row[0]) if row else 0,
        event_rows=sum(w.rows.values()),
        seconds=round(time.perf_counter() - started, 1),
        snapshots=tuple(w.snapshots),
        rows_by_table=tuple(sorted(w.rows.items())),
    )
