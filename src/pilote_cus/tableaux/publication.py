"""Publication: indicator results computed by DuckDB over the warehouse, copied into the application database.

One pass of the engine computes every year and every 3- and 6-year window for the published mailles; the
rows are shaped in SQL (labels, provenance, landlord ids) and streamed into `Resultat` through the Django
connection (executemany on SQLite, COPY on PostgreSQL) inside the transaction that switches the active
publication, so a dashboard sees the old results or the new ones, never a mix. Web requests then read only
the application database.

Stored rows:
- maille "bailleur": one landlord, all départements (`organisme` set, territory = the landlord's code);
- maille "departement" with `organisme` set: one landlord in one département (engine maille
  "bailleur_departement"), the grain of the objectives of a convention;
- maille "departement", "region", "france" with `organisme` empty: all landlords summed (the regional
  consolidation).
"""

import csv
import io
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb
from django.db import connection, transaction

from ..comptes.models import Implantation, Organisme
from ..conventions.models import Convention
from ..entrepot.entrepot import Warehouse
from ..indicateurs.catalogue import CERTAINTY_LABELS, Indicator, catalogue, tables_read
from ..indicateurs.moteur import NoData, Period, Sources, collect_sources, make_plan, stock_snapshots
from ..indicateurs.service import output_code, output_label
from .models import Publication, Resultat
from .requetes import off_track_counts

ENGINE_MAILLES = ("bailleur", "bailleur_departement", "departement", "region", "france")
HORIZONS = (3, 6)
BATCH = 50_000
COLUMNS = (
    "publication_id",
    "organisme_id",
    "generation",
    "code",
    "indicateur",
    "libelle",
    "maille",
    "code_territoire",
    "periode",
    "numerateur",
    "denominateur",
    "valeur",
    "unite",
    "certitude",
    "instantanes",
)


def published_periods(years: Sequence[int]) -> list[Period]:
    """Every year of the data, and every window of 3 and 6 consecutive years inside it."""
    first, last = min(years), max(years)
    periods = [Period(str(y), y, y) for y in range(first, last + 1)]
    for horizon in HORIZONS:
        periods += [Period(f"{s}-{s + horizon - 1}", s, s + horizon - 1) for s in range(first, last - horizon + 2)]
    return periods


def publier(
    warehouse: Warehouse, generations: Sequence[int] = (1, 2), progress: Callable[[float], None] | None = None
) -> Publication:
    """Compute and publish every indicator of `generations`; return the new active publication.

    `progress` receives increments summing to 100. Raises NoData when the warehouse holds no RPLS.
    """
    started = time.perf_counter()
    advance = progress or (lambda amount: None)
    cat = catalogue()
    indicators = [i for i in cat.indicators if i.generation in generations]
    con = duckdb.connect()
    try:
        years = sorted(stock_snapshots(warehouse))
        if not years:
            raise NoData("Aucun RPLS dans l'entrepôt : importez au moins un fichier RPLS avant de publier.")
        sources = collect_sources(con, warehouse, range(years[0], years[-1] + 1))
        plan = make_plan(sources, indicators, published_periods(years), ENGINE_MAILLES)
        advance(5)
        for name, sql in plan.statements.items():
            kind = "TABLE" if name in plan.materialised else "VIEW"
            con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {sql}")
        con.execute(f"CREATE TEMP TABLE brut AS {plan.result}")
        advance(55)
        _describe(con, indicators, plan.periods, sources)
        landlords = _landlords(con, warehouse, years[-1])
        with transaction.atomic():
            ids = _organismes(con, landlords)
            _implantations(landlords, ids)
            snapshots = sorted({s.id for s in sources.stock_vintages.values()} | _event_ids(sources))
            publication = Publication.objects.create(
                catalogue=cat.version, instantanes=" ".join(snapshots), active=False
            )
            count = _write(con, publication.pk, advance)
            Publication.objects.filter(active=True).update(active=False)
            publication.active = True
            publication.resultats = count
            publication.duree_s = round(time.perf_counter() - started, 2)
            publication.save(update_fields=["active", "resultats", "duree_s"])
        old = list(Publication.objects.filter(active=False).values_list("pk", flat=True))
        Resultat.objects.filter(publication_id__in=old).delete()  # by the indexed column, not through a join
        off_track_counts(Convention.objects.all(), publication)  # the State's console reads them kept
        advance(5)
        return publication
    finally:
        con.close()


def _event_ids(sources: Sources) -> set[str]:
    return {i for ids in sources.event_snapshots.values() for i in ids}


def _describe(
    con: duckdb.DuckDBPyConnection, indicators: Sequence[Indicator], periods: Sequence[Period], sources: Sources
) -> None:
    """Small tables for the final shaping: labels per output code, provenance per indicator and period (periods
    whose data is incomplete are left out, as `compute` does)."""
    labels = []
    for i in indicators:
        for ventilation in [None, *i.ventilations]:
            labels.append(
                (
                    i.code,
                    ventilation or "",
                    output_code(i, ventilation),
                    output_label(i, ventilation),
                    i.generation,
                    i.unite,
                    CERTAINTY_LABELS[i.certitude],
                )
            )
    con.execute(
        "CREATE TEMP TABLE libelles (indicateur VARCHAR, ventilation VARCHAR, code VARCHAR, libelle VARCHAR, "
        "generation INTEGER, unite VARCHAR, certitude VARCHAR)"
    )
    con.executemany("INSERT INTO libelles VALUES (?, ?, ?, ?, ?, ?, ?)", labels)
    provenance = []
    for i in indicators:
        tables = set(tables_read(i.sql))
        for p in periods:
            if not sources.missing(tables, p.years):
                provenance.append((i.code, p.label, " ".join(sources.snapshots_for(tables, p.years))))
    con.execute("CREATE TEMP TABLE provenance (indicateur VARCHAR, periode VARCHAR, instantanes VARCHAR)")
    con.executemany("INSERT INTO provenance VALUES (?, ?, ?)", provenance)


def _landlords(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, vintage: int) -> list[tuple[Any, ...]]:
    """(code, name, département, région, dwellings in stock) from the latest RPLS snapshot."""
    path = warehouse.current("rpls", vintage).table("logements")
    return con.execute(
        f"""
        SELECT l.organisme_id, max(l.rs), l.departement, coalesce(max(d.reg), max(l.reg), ''),
               count(*) FILTER (WHERE l.en_stock)
        FROM read_parquet('{path}') AS l
        LEFT JOIN geo_departements AS d ON d.code = l.departement
        WHERE l.organisme_id IS NOT NULL AND l.departement IS NOT NULL
        GROUP BY l.organisme_id, l.departement
        ORDER BY 1, 3
        """
    ).fetchall()


def _organismes(con: duckdb.DuckDBPyConnection, landlords: list[tuple[Any, ...]]) -> dict[str, int]:
    """Create the landlords the application does not know yet; register code → id in DuckDB."""
    names = {code: name for code, name, *_ in landlords}
    codes = {
        r[0] for r in con.execute("SELECT DISTINCT code_territoire FROM brut WHERE maille = 'bailleur'").fetchall()
    }
    wanted = set(names) | codes
    known = dict(Organisme.objects.filter(code__in=wanted).values_list("code", "pk"))
    Organisme.objects.bulk_create(
        [Organisme(code=c, nom=(names.get(c) or c)[:200]) for c in sorted(wanted - set(known))], batch_size=500
    )
    ids = dict(Organisme.objects.filter(code__in=wanted).values_list("code", "pk"))
    con.execute("CREATE TEMP TABLE organismes (code VARCHAR, id BIGINT)")
    con.executemany("INSERT INTO organismes VALUES (?, ?)", list(ids.items()))
    return ids


def _implantations(landlords: list[tuple[Any, ...]], ids: dict[str, int]) -> None:
    """Where each landlord owns dwellings: the State's perimeter follows the latest RPLS."""
    present = {code for code, *_ in landlords}
    Implantation.objects.filter(organisme__code__in=present).delete()
    Implantation.objects.bulk_create(
        [
            Implantation(organisme_id=ids[code], departement=dep, region=reg, logements=count)
            for code, _, dep, reg, count in landlords
        ],
        batch_size=1000,
    )


def _final_sql(publication_id: int) -> str:
    return f"""
        SELECT {publication_id} AS publication_id, o.id AS organisme_id, l.generation, l.code, b.code AS indicateur,
               l.libelle,
               CASE WHEN b.maille = 'bailleur_departement' THEN 'departement' ELSE b.maille END AS maille,
               CASE WHEN b.maille = 'bailleur_departement' THEN split_part(b.code_territoire, '|', 2)
                    ELSE b.code_territoire END AS code_territoire,
               b.periode, b.numerateur, b.denominateur, b.valeur, l.unite, l.certitude, p.instantanes
        FROM brut AS b
        JOIN libelles AS l ON l.indicateur = b.code AND l.ventilation = coalesce(b.ventilation, '')
        JOIN provenance AS p ON p.indicateur = b.code AND p.periode = b.periode
        LEFT JOIN organismes AS o ON o.code = CASE WHEN b.maille = 'bailleur' THEN b.code_territoire
                                                   WHEN b.maille = 'bailleur_departement'
                                                   THEN split_part(b.code_territoire, '|', 1) END
        WHERE b.code_territoire IS NOT NULL
    """


def _write(con: duckdb.DuckDBPyConnection, publication_id: int, advance: Callable[[float], None]) -> int:
    """Stream the rows into Resultat through Django's connection (same transaction); return their number."""
    row = con.execute("SELECT count(*) FROM brut").fetchone()
    total = max(int(row[0]) if row else 0, 1)
    reader = con.execute(_final_sql(publication_id)).to_arrow_reader(BATCH)
    table = Resultat._meta.db_table
    names = ", ".join(COLUMNS)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # no progress inside the COPY: the progress callback may write to this same connection (the upload
            # row of a web import), which would wait for the COPY to end, forever
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
                for batch in reader:
                    copy.write(_csv(batch))
                    written += batch.num_rows
            advance(30 * written / total)
        else:
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
            for batch in reader:
                cursor.executemany(insert, list(_tuples(batch)))
                written += batch.num_rows
                advance(30 * batch.num_rows / total)
    return written


def _tuples(batch: Any) -> Iterator[tuple[Any, ...]]:
    return zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _csv(batch: Any) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in _tuples(batch):
        writer.writerow(["\\N" if v is None else repr(v) if isinstance(v, float) else v for v in row])
    return buffer.getvalue()
