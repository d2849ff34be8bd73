"""The synthetic landlord's history: files that import, and that agree with each other year after year."""

import hashlib
from pathlib import Path

import duckdb
import pytest

from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.evenements.schema import event_schemas
from pilote_cus.evenements.stockage import event_view_sql
from pilote_cus.geographie.referentiel import load_cog
from pilote_cus.patrimoine.historique import (
    HistorySummary,
    NationalHistorySummary,
    generate_history,
    write_national_history,
)
from pilote_cus.patrimoine.import_rpls import import_rpls
from pilote_cus.patrimoine.synthetique import generate_rpls

FIRST, YEARS = 2019, 6
LAST = FIRST + YEARS - 1


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> HistorySummary:
    return generate_history(tmp_path_factory.mktemp("historique"), 15_000, 4, first_year=FIRST, years=YEARS)


@pytest.fixture(scope="module")
def con(history: HistorySummary, tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Each millésime imported (views r2019…), each event file read as text (views by schema name)."""
    warehouse = Warehouse(tmp_path_factory.mktemp("entrepot"))
    con = duckdb.connect()
    for year, path in history.rpls_files.items():
        snapshot = import_rpls(path, warehouse).snapshot
        assert snapshot.vintage == year
        con.execute(f"CREATE VIEW r{year} AS SELECT * FROM read_parquet('{snapshot.table('logements')}')")
    for name, path in history.event_files.items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{path}', delim=';', header=true, all_varchar=true)")
    con.execute("""CREATE MACRO day(x) AS strptime(x, '%d/%m/%Y')::DATE""")
    con.execute("""CREATE MACRO num(x) AS replace(x, ',', '.')::DOUBLE""")
    con.execute("""CREATE VIEW ops AS SELECT *, day(date_evenement) AS d, year(day(date_evenement)) AS y,
                   nb_logements::INTEGER AS n FROM operations""")
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    row = con.sql(sql).fetchone()
    assert row is not None
    return row


def test_every_millesime_imports_with_the_stock_announced(history, con):
    assert sorted(history.rpls_files) == list(range(FIRST, LAST + 1))
    for year, count in history.dwellings.items():
        assert one(con, f"SELECT count(*) FILTER (en_stock) FROM r{year}")[0] == count
    assert one(con, f"SELECT count(DISTINCT organisme_id) FROM r{FIRST}")[0] == 1
    assert history.dwellings[FIRST] == pytest.approx(15_000, rel=0.01)


def test_event_files_have_the_declared_header(history):
    for name, schema in event_schemas().items():
        header = history.event_files[name].read_text(encoding="utf-8").split("\n", 1)[0]
        assert header == ";".join(c.nom for c in schema.colonnes)
        assert history.event_rows[name] > 0


def test_event_files_import(history, tmp_path):
    importer = pytest.importorskip("pilote_cus.evenements.import_evenements")
    warehouse = Warehouse(tmp_path)
    for name, path in history.event_files.items():
        result = importer.import_events(warehouse, name, path)
        assert result.rows == history.event_rows[name]
        if name != "equipements":
            assert set(range(FIRST, LAST + 1)) <= set(result.years)


def test_stock_of_next_year_is_stock_plus_deliveries_minus_sales_and_demolitions(con):
    for year in range(FIRST, LAST):
        before, after = (one(con, f"SELECT count(*) FILTER (en_stock) FROM r{y}")[0] for y in (year, year + 1))
        delivered, sold, demolished = one(
            con,
            f"""SELECT sum(n) FILTER (type_evenement = 'MISE_EN_SERVICE' AND produit = 'LOGEMENT'),
                       sum(n) FILTER (type_evenement = 'VENTE'), sum(n) FILTER (type_evenement = 'DEMOLITION')
                FROM ops WHERE y = {year}""",
        )
        assert after == before + delivered - (sold or 0) - (demolished or 0)
        assert one(
            con,
            f"""SELECT count(*) FILTER (sortiepatrim IN ('1', '2', '3')), count(*) FILTER (sortiepatrim = '4'),
                       count(*) FILTER (NOT en_stock AND mode = '9') FROM r{year + 1}""",
        ) == (sold or 0, demolished or 0, (sold or 0) + (demolished or 0))
        new_by_financing = con.sql(
            f"""SELECT CASE finan WHEN '11' THEN 'PLAI' WHEN '13' THEN 'PLUS' WHEN '14' THEN 'PLS' END, count(*)
                FROM r{year + 1} WHERE locat = {year} AND patrimoine = {year} GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        delivered_by_financing = con.sql(
            f"""SELECT financement, sum(n) FROM ops WHERE y = {year} AND type_evenement = 'MISE_EN_SERVICE'
                AND produit = 'LOGEMENT' GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        assert new_by_financing == delivered_by_financing
    for year in range(FIRST + 1, LAST):  # gone dwellings appear once, then never again
        assert one(
            con,
            f"SELECT count(*) FROM r{year} a JOIN r{year + 1} b USING (ident_rep) WHERE NOT a.en_stock",
        ) == (0,)


def test_financing_filed_and_approved_before_delivery(con):
    late = con.sql("""
        SELECT id_operation FROM ops
        GROUP BY id_operation, financement
        HAVING max(d) FILTER (type_evenement = 'DEPOT_FINANCEMENT') > max(d) FILTER (type_evenement = 'AGREMENT')
            OR max(d) FILTER (type_evenement = 'AGREMENT') + INTERVAL 1 YEAR
               > max(d) FILTER (type_evenement = 'MISE_EN_SERVICE')
            OR max(d) FILTER (type_evenement = 'AGREMENT') + INTERVAL 1096 DAY
               < max(d) FILTER (type_evenement = 'MISE_EN_SERVICE')""").fetchall()
    assert late == []
    offers = one(
        con,
        """SELECT count(*), count(*) FILTER (o.d < v.d) FROM ops v JOIN ops o
           ON o.type_evenement = 'MISE_EN_VENTE' AND v.id_operation LIKE o.id_operation || '-%'
           WHERE v.type_evenement = 'VENTE'""",
    )
    assert offers[0] > 0 and offers[0] == offers[1]
    assert one(con, "SELECT sum(nb_places::INTEGER) FROM ops WHERE produit = 'HEBERGEMENT'")[0] > 0


def test_labels_change_exactly_as_the_energy_renovations_say(con):
    for year in range(FIRST, LAST):
        changes = con.sql(f"""
            SELECT a.depcom, a.dpeenergie, b.dpeenergie, count(*) FROM r{year} a JOIN r{year + 1} b USING (ident_rep)
            WHERE a.en_stock AND b.en_stock AND a.dpeenergie <> b.dpeenergie GROUP BY ALL ORDER BY ALL""").fetchall()
        renovations = con.sql(f"""
            SELECT depcom, etiquette_avant, etiquette_apres, sum(n) FROM ops
            WHERE type_evenement = 'RENOVATION_ENERGETIQUE' AND y = {year} AND etiquette_avant <> etiquette_apres
            GROUP BY ALL ORDER BY ALL""").fetchall()
        assert changes == renovations
        assert changes


def test_renovations_improve_labels_and_reach_many_f_g_dwellings(con):
    assert one(
        con,
        """SELECT count(*) FROM ops WHERE type_evenement = 'RENOVATION_ENERGETIQUE'
           AND (etiquette_apres > etiquette_avant OR num(conso_apres) >= num(conso_avant))""",
    ) == (0,)
    renovated, poor = one(
        con,
        f"""SELECT count(*) FILTER (b.dpeenergie < 'F'), count(*) FROM r{FIRST} a JOIN r{LAST} b USING (ident_rep)
            WHERE a.en_stock AND b.en_stock AND a.dpeenergie IN ('F', 'G')""",
    )
    assert renovated / poor > 0.25
    eligible = one(
        con, "SELECT count(*) FILTER (eligible_pret_cdc = 'oui') FROM ops WHERE type_evenement = 'REHABILITATION'"
    )
    assert eligible[0] > 0


def test_mode_on_1_january_is_the_vacancy_covering_that_day(con):
    for year in range(FIRST, LAST + 1):
        mismatches = one(
            con,
            f"""WITH v AS (SELECT ident_rep, motif FROM vacances
                           WHERE day(date_debut) <= DATE '{year}-01-01'
                             AND (date_fin IS NULL OR day(date_fin) >= DATE '{year}-01-01'))
                SELECT count(*) FILTER (r.mode = '2' AND v.motif IS DISTINCT FROM 'LOCATION'),
                       count(*) FILTER (r.mode = '3' AND v.motif NOT IN ('TRAVAUX', 'VENTE', 'DEMOLITION')),
                       count(*) FILTER (r.mode = '3' AND v.motif IS NULL),
                       count(*) FILTER (r.mode IN ('1', '4', '5') AND v.motif IS NOT NULL),
                       count(*) FILTER (r.mode = '2')
                FROM r{year} r LEFT JOIN v USING (ident_rep) WHERE r.en_stock""",
        )
        assert mismatches[:4] == (0, 0, 0, 0)
        assert mismatches[4] > 0


def test_attributions_follow_a_vacancy_on_a_real_dwelling(con):
    orphans = one(
        con,
        """SELECT count(*) FROM attributions a LEFT JOIN vacances v
           ON v.ident_rep = a.ident_rep AND day(v.date_fin) + 1 = day(a.date_bail) AND v.motif = 'LOCATION'
           WHERE v.ident_rep IS NULL""",
    )
    assert orphans == (0,)
    for year in range(FIRST, LAST):  # the dwelling is in the millésime before or after the lease
        unknown = one(
            con,
            f"""SELECT count(*) FILTER (r.ident_rep IS NULL),
                       count(*) FILTER (r.depcom <> a.depcom OR r.en_qpv <> (a.en_qpv = 'oui'))
                FROM attributions a LEFT JOIN (SELECT * FROM r{year} UNION ALL SELECT * FROM r{year + 1}
                    QUALIFY row_number() OVER (PARTITION BY ident_rep) = 1) r USING (ident_rep)
                WHERE year(day(a.date_bail)) = {year}""",
        )
        assert unknown == (0, 0)


def test_rates_follow_published_figures_and_hypotheses(history, con):
    """CHIFFRES.md and the hypotheses of the docstring of `historique`, averaged over the years."""
    rpls = " UNION ALL ".join(f"SELECT {y} AS annee, * FROM r{y}" for y in range(FIRST, LAST + 1))
    con.execute(f"CREATE OR REPLACE TEMP VIEW rpls AS {rpls}")
    vacant, structural, mobility = one(
        con,
        """SELECT 100 * count(*) FILTER (mode = '2') / count(*) FILTER (mode IN ('1', '2')),
                  100 * count(*) FILTER (mode = '2' AND dureevacance > 3) / count(*) FILTER (mode IN ('1', '2')),
                  100 * count(*) FILTER (mode = '1' AND locat <> annee - 1 AND year(bail) = annee - 1)
                      / count(*) FILTER (mode = '1' AND locat <> annee - 1)
           FROM rpls""",
    )
    assert vacant == pytest.approx(2.9, abs=0.8)
    assert structural == pytest.approx(1.4, abs=0.5)
    assert mobility == pytest.approx(9.3, abs=1.0)
    stock = sum(history.dwellings[y] for y in range(FIRST, LAST))
    delivered, sold, demolished = one(
        con,
        f"""SELECT sum(n) FILTER (type_evenement = 'MISE_EN_SERVICE' AND produit = 'LOGEMENT'),
                   sum(n) FILTER (type_evenement = 'VENTE'), sum(n) FILTER (type_evenement = 'DEMOLITION')
            FROM ops WHERE y < {LAST}""",
    )
    assert 100 * delivered / stock == pytest.approx(1.5, abs=0.3)
    assert 100 * sold / stock == pytest.approx(0.2, abs=0.1)
    assert 100 * demolished / stock == pytest.approx(0.3, abs=0.15)
    pmr = [one(con, f"SELECT avg((pmr = '1')::INTEGER) FROM r{y} WHERE en_stock")[0] for y in range(FIRST, LAST + 1)]
    assert pmr == sorted(pmr) and pmr[-1] - pmr[0] > 0.05
    shares = dict(
        zip(
            ("dalo", "prioritaire", "quartile1_hors_qpv", "prefet", "mutation", "deja", "hebergement", "plai"),
            one(
                con,
                """SELECT avg((dalo = 'oui')::INT), avg((prioritaire = 'oui')::INT),
                          avg((quartile = '1')::INT) FILTER (en_qpv = 'non'), avg((contingent = 'PREFET')::INT),
                          avg((mutation_interne = 'oui')::INT), avg((deja_parc_social = 'oui')::INT),
                          avg((sortant_hebergement = 'oui')::INT), avg((sous_plafond_plai = 'oui')::INT)
                   FROM attributions""",
            ),
            strict=True,
        )
    )
    ranges = {
        "dalo": (0.05, 0.08),
        "prioritaire": (0.25, 0.40),
        "quartile1_hors_qpv": (0.20, 0.28),
        "prefet": (0.22, 0.32),
        "mutation": (0.10, 0.15),
        "deja": (0.27, 0.33),
        "hebergement": (0.03, 0.05),
        "plai": (0.65, 0.75),
    }
    for name, (low, high) in ranges.items():
        assert low <= shares[name] <= high, name
    leases = one(con, "SELECT count(*) FROM attributions")[0]
    assert leases / YEARS / history.dwellings[FIRST] == pytest.approx(0.093 + 0.015, abs=0.02)
    over_3, support, plan = one(
        con,
        """SELECT count(*) FILTER (mois_impayes::INT > 3), avg((accompagnement_social = 'oui')::INT)
                  FILTER (mois_impayes::INT > 3), avg((plan_apurement = 'oui')::INT) FILTER (mois_impayes::INT > 3)
           FROM impayes""",
    )
    assert 0.03 <= over_3 / YEARS / history.dwellings[FIRST] <= 0.05
    assert support == pytest.approx(0.40, abs=0.05) and plan == pytest.approx(0.50, abs=0.05)
    complaints, written, quick = one(
        con,
        """SELECT count(*), avg((ecrite = 'oui')::INT), avg((day(date_cloture) <= day(date_reception) + 30)::INT)
           FROM reclamations""",
    )
    assert complaints / YEARS / history.dwellings[FIRST] == pytest.approx(0.4, abs=0.05)
    assert written == pytest.approx(0.6, abs=0.03) and quick == pytest.approx(0.8, abs=0.04)
    lifts = one(con, "SELECT count(*) FROM equipements WHERE type_equipement = 'ASCENSEUR'")[0]
    collective = one(con, f"SELECT count(*) FROM r{FIRST} WHERE typeconst = 'C' AND en_stock")[0]
    assert collective / lifts == pytest.approx(25, abs=6)
    per_lift = one(con, "SELECT count(*) FROM pannes WHERE type_equipement = 'ASCENSEUR'")[0] / lifts / YEARS
    assert 4 <= per_lift <= 6
    caretakers = one(con, f"SELECT sum(num(etp)) FROM gardiens WHERE annee = '{FIRST}'")[0]
    assert 90 <= history.dwellings[FIRST] / caretakers <= 100
    management = one(
        con,
        f"SELECT sum(num(montant_ht)) FROM couts WHERE annee = '{FIRST}' AND nature = 'GESTION'",
    )[0]
    assert management / history.dwellings[FIRST] == pytest.approx(1_000, rel=0.25)
    clean_outside, clean_qpv = one(
        con,
        """SELECT sum(satisfaits::INT) FILTER (en_qpv = 'non') / sum(repondants::INT) FILTER (en_qpv = 'non'),
                  sum(satisfaits::INT) FILTER (en_qpv = 'oui') / sum(repondants::INT) FILTER (en_qpv = 'oui')
           FROM enquetes WHERE question = 'PROPRETE_PARTIES_COMMUNES'""",
    )
    assert clean_outside == pytest.approx(0.72, abs=0.04) and clean_qpv < clean_outside


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes(tmp_path):
    for name, seed in (("a", 8), ("b", 8), ("c", 9)):
        generate_history(tmp_path / name, 2_000, seed, first_year=2021, years=3, landlords=2)
    a, b, c = (_digests(tmp_path / name) for name in "abc")
    assert a == b
    assert len(a) == 3 + len(event_schemas())
    assert all(a[name] != c[name] for name in a)


def test_several_landlords_keep_their_own_stock(tmp_path, warehouse):
    summary = generate_history(tmp_path, 3_000, 2, first_year=2022, years=2, landlords=3)
    snapshot = import_rpls(summary.rpls_files[2022], warehouse).snapshot
    landlords = duckdb.sql(
        f"SELECT list(DISTINCT organisme_id ORDER BY organisme_id) FROM read_parquet('{snapshot.table('logements')}')"
    ).fetchone()
    sirets = sorted(p.siret for p in summary.landlords)
    assert landlords == (sirets,)
    operations = duckdb.sql(
        f"SELECT list(DISTINCT organisme ORDER BY organisme) FROM read_csv('{summary.event_files['operations']}', "
        "delim=';', header=true, all_varchar=true)"
    ).fetchone()
    assert operations == (sirets,)


def test_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="hors de"):
        generate_history(tmp_path, 500, 1)
    with pytest.raises(ValueError, match="au moins deux"):
        generate_history(tmp_path, 2_000, 1, years=1)


# --- the national history, written in SQL ------------------------------------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, NationalHistorySummary]:
    warehouse = Warehouse(tmp_path_factory.mktemp("national"))
    return warehouse, write_national_history(warehouse, dwellings=20_000, seed=3, events=150_000)


@pytest.fixture(scope="module")
def ncon(national) -> duckdb.DuckDBPyConnection:
    """Views r2019… over the millésimes and one view per event table, as the indicators read them."""
    warehouse, _ = national
    con = duckdb.connect()
    for year in range(FIRST, LAST + 1):
        path = warehouse.current("rpls", year).table("logements")
        con.execute(f"CREATE VIEW r{year} AS SELECT * FROM read_parquet('{path}')")
    for name, schema in event_schemas().items():
        con.execute(f"CREATE VIEW {name} AS {event_view_sql(warehouse, schema)[0]}")
    return con


def _describe(path: Path) -> list[tuple]:
    return duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()


def test_national_millesimes_have_the_parquet_schema_of_the_import(national, tmp_path, warehouse):
    generate_rpls(tmp_path / "reference_2024.csv", 1_000, 1)
    expected = _describe(import_rpls(tmp_path / "reference_2024.csv", warehouse).snapshot.table("logements"))
    national_warehouse, summary = national
    for year in range(FIRST, LAST + 1):
        snapshot = national_warehouse.current("rpls", year)
        assert _describe(snapshot.table("logements")) == expected
        assert snapshot.id in summary.snapshots
    assert summary.dwellings_first == pytest.approx(20_000, rel=0.02)
    assert summary.dwellings_last > summary.dwellings_first


def test_national_history_writes_every_event_table(national, ncon):
    national_warehouse, summary = national
    assert summary.event_rows >= 150_000
    assert dict(summary.rows_by_table).keys() == event_schemas().keys()
    for name, schema in event_schemas().items():
        snapshot = national_warehouse.current(name, 0)
        assert snapshot.provenance["lignes"] == dict(summary.rows_by_table)[name] > 0
        if schema.nature == "evenements":
            assert set(range(FIRST, LAST + 1)) <= set(snapshot.provenance["annees"]), name
        key = ", ".join(schema.cle)
        assert one(ncon, f"SELECT count(*) FROM (SELECT {key} FROM {name} GROUP BY ALL HAVING count(*) > 1)") == (0,)


def test_national_history_is_consistent_from_year_to_year(ncon):
    for year in range(FIRST, LAST):
        before, after = (one(ncon, f"SELECT count(*) FILTER (en_stock) FROM r{y}")[0] for y in (year, year + 1))
        delivered, sold, demolished, renovated = one(
            ncon,
            f"""SELECT sum(nb_logements) FILTER (type_evenement = 'MISE_EN_SERVICE' AND produit = 'LOGEMENT'),
                       coalesce(sum(nb_logements) FILTER (type_evenement = 'VENTE'), 0),
                       coalesce(sum(nb_logements) FILTER (type_evenement = 'DEMOLITION'), 0),
                       sum(nb_logements) FILTER (type_evenement = 'RENOVATION_ENERGETIQUE')
                FROM operations WHERE annee = {year}""",
        )
        assert after == before + delivered - sold - demolished
        changed = one(
            ncon,
            f"""SELECT count(*) FROM r{year} a JOIN r{year + 1} b USING (ident_rep)
                WHERE a.en_stock AND b.en_stock AND a.dpeenergie <> b.dpeenergie""",
        )[0]
        assert changed == renovated
    for year in range(FIRST, LAST + 1):
        assert one(
            ncon,
            f"""WITH v AS (SELECT ident_rep, motif FROM vacances WHERE date_debut <= DATE '{year}-01-01'
                           AND (date_fin IS NULL OR date_fin >= DATE '{year}-01-01'))
                SELECT count(*) FILTER ((r.mode = '2') <> (v.motif IS NOT DISTINCT FROM 'LOCATION'))
                FROM r{year} r LEFT JOIN v USING (ident_rep) WHERE r.en_stock""",
        ) == (0,)
    assert one(
        ncon,
        """SELECT count(*) FROM attributions a LEFT JOIN vacances v
           ON v.ident_rep = a.ident_rep AND v.date_fin + 1 = a.date_bail WHERE v.ident_rep IS NULL""",
    ) == (0,)
    rpls = " UNION ALL ".join(f"SELECT ident_rep FROM r{y}" for y in range(FIRST, LAST + 1))
    assert one(
        ncon,
        f"SELECT count(*) FROM attributions WHERE annee < {LAST} AND ident_rep NOT IN ({rpls})",
    ) == (0,)


def test_national_rates_follow_published_figures(ncon):
    vacant, mobility, collective = one(
        ncon,
        f"""SELECT 100 * count(*) FILTER (mode = '2') / count(*) FILTER (mode IN ('1', '2')),
                   100 * count(*) FILTER (mode = '1' AND locat <> {LAST - 1} AND year(bail) = {LAST - 1})
                       / count(*) FILTER (mode = '1' AND locat <> {LAST - 1}),
                   100 * avg((typeconst = 'C')::INTEGER) FILTER (en_stock)
            FROM r{LAST}""",
    )
    assert vacant == pytest.approx(2.9, abs=0.6)
    assert mobility == pytest.approx(9.3, abs=1.0)
    assert collective == pytest.approx(85, abs=3)
    pmr = [one(ncon, f"SELECT avg((pmr = '1')::INTEGER) FROM r{y} WHERE en_stock")[0] for y in range(FIRST, LAST + 1)]
    assert pmr == sorted(pmr)
    dalo, prefet = one(ncon, "SELECT avg(dalo::INTEGER), avg((contingent = 'PREFET')::INTEGER) FROM attributions")
    assert 0.05 <= dalo <= 0.08 and 0.22 <= prefet <= 0.32


def test_national_history_spreads_over_the_cog_communes(tmp_path, cog_dir):
    warehouse = Warehouse(tmp_path)
    cog = load_cog(warehouse, cog_dir)
    summary = write_national_history(warehouse, dwellings=30_000, seed=5, years=2, events=40_000, cog=cog)
    assert summary.communes > 30_000
    logements = warehouse.current("rpls", FIRST + 1).table("logements")
    communes = cog.table("communes")
    unknown, distinct = duckdb.sql(
        f"""SELECT count(*) FILTER (depcom NOT IN (SELECT code FROM read_parquet('{communes}'))),
                   count(DISTINCT depcom) FROM read_parquet('{logements}')"""
    ).fetchone() or (None, None)
    assert unknown == 0 and distinct > 100


def test_national_history_same_seed_same_content(tmp_path):
    def fingerprints(folder: Path) -> dict[str, list]:
        warehouse = Warehouse(folder)
        write_national_history(warehouse, dwellings=3_000, seed=11, years=2, events=10_000)
        return {
            s.kind + str(s.vintage): duckdb.sql(
                f"SELECT count(*), sum(hash(COLUMNS(*))) FROM read_parquet('{s.path}/*.parquet')"
            ).fetchall()
            for s in warehouse.history()
        }

    assert fingerprints(tmp_path / "a") == fingerprints(tmp_path / "b")
