"""The plain-pandas baseline of the indicator benchmark returns the engine's rows, for every indicator.

A small warehouse: three synthetic RPLS vintages and every event table, drawn in SQL from the stock with
deterministic pseudo-random choices (missing flags and consumptions, unknown commune, boundary dates of
vacancies and complaints, costs with and without département, a later snapshot replacing a year).
"""

import math
from pathlib import Path

import duckdb
import pytest

from pilote_cus.bench.indicateurs_pandas import compute_from_warehouse
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.evenements.schema import event_schemas
from pilote_cus.evenements.stockage import write_event_snapshot
from pilote_cus.indicateurs.catalogue import MAILLES, catalogue
from pilote_cus.indicateurs.moteur import Period, collect_sources, make_plan, run_duckdb
from pilote_cus.patrimoine.import_rpls import import_rpls
from pilote_cus.patrimoine.synthetique import generate_rpls

YEARS = (2021, 2022, 2023)
YEARLY = [Period(str(y), y, y) for y in YEARS]
CUMULATED = Period("2021-2023", 2021, 2023)
BOOLEAN = "[true, false, NULL][pick(k, '{salt}', 3) + 1]"

EVENTS = {
    "operations": """
        SELECT 'OP-{salt}-' || row_number() OVER () AS id_operation, organisme_id AS organisme,
               ['DEPOT_FINANCEMENT', 'AGREMENT', 'MISE_EN_SERVICE', 'REHABILITATION', 'RENOVATION_ENERGETIQUE',
                'MISE_EN_VENTE', 'VENTE', 'DEMOLITION'][pick(k, 'type', 8) + 1] AS type_evenement,
               make_date(annee, 1 + pick(k, 'mois', 12), 1 + pick(k, 'jour', 28)) AS date_evenement,
               CASE WHEN pick(k, 'inconnue', 25) = 0 THEN '99001' ELSE depcom END AS depcom,
               CASE WHEN pick(k, 'produit', 4) = 0 THEN 'HEBERGEMENT' ELSE 'LOGEMENT' END AS produit,
               ['PLAI', 'PLUS', 'PLS', 'PLI', NULL][pick(k, 'fin', 5) + 1] AS financement,
               1 + pick(k, 'nb', 20) AS nb_logements,
               CASE WHEN pick(k, 'sans_places', 3) > 0 THEN pick(k, 'places', 60) END AS nb_places,
               pick(k, 'qpv', 3) = 0 AS en_qpv, pick(k, 'ru', 4) = 0 AS renouvellement_urbain,
               {cdc} AS eligible_pret_cdc,
               ['A', 'B', 'C', 'D', 'E', 'F', 'G', NULL][pick(k, 'avant', 8) + 1] AS etiquette_avant,
               ['A', 'B', 'C', 'D', 'E', 'F', 'G', NULL][pick(k, 'apres', 8) + 1] AS etiquette_apres,
               CASE WHEN pick(k, 'ca?', 3) > 0 THEN 100 + pick(k, 'ca', 300) END AS conso_avant,
               CASE WHEN pick(k, 'cp?', 3) > 0 THEN 50 + pick(k, 'cp', 200) END AS conso_apres,
               1000.0 * pick(k, 'montant', 100) AS montant_ht, {segment} AS segment
        FROM stock WHERE pick(k, '{salt}', 6) = 0 AND annee IN ({years})
    """,
    "attributions": """
        SELECT 'AT' || row_number() OVER () AS id_attribution, organisme_id AS organisme,
               make_date(annee, 1 + pick(k, 'mois', 12), 1 + pick(k, 'jour', 28)) AS date_bail, ident_rep,
               CASE WHEN pick(k, 'inconnue', 30) = 0 THEN '99001' ELSE depcom END AS depcom,
               [true, false, false, NULL][pick(k, 'qpv', 4) + 1] AS en_qpv, {zt} AS zone_tendue,
               ['PLAI', 'PLUS', 'PLS', 'PLI', 'AUTRE', NULL][pick(k, 'fin', 6) + 1] AS financement,
               [1, 2, 3, 4, NULL][pick(k, 'quartile', 5) + 1] AS quartile, {ru} AS relogement_ru,
               [true, false, false, false, NULL][pick(k, 'dalo', 5) + 1] AS dalo,
               [true, false, false, NULL][pick(k, 'prio', 4) + 1] AS prioritaire, {ac} AS accord_collectif,
               ['PREFET', 'ACTION_LOGEMENT', 'COLLECTIVITE', 'BAILLEUR', 'AUTRE'][pick(k, 'ct', 5) + 1] AS contingent,
               pick(k, 'mutation', 6) = 0 AS mutation_interne, {dps} AS deja_parc_social,
               {sh} AS sortant_hebergement, {spp} AS sous_plafond_plai, {segment} AS segment
        FROM stock WHERE pick(k, 'attribution', 4) = 0
    """,
    "vacances": """
        SELECT ident_rep, organisme_id AS organisme, depcom,
               CASE WHEN pick(k, 'bord', 8) = 0 THEN make_date(annee - 1, 10, 1) + pick(k, 'oct', 2)
                    ELSE make_date(annee - 2, 6, 1) + pick(k, 'debut', 760) END AS date_debut,
               CASE WHEN pick(k, 'bord', 8) = 0 THEN make_date(annee, 1, 1) - pick(k, 'jan', 2)
                    WHEN pick(k, 'ouverte', 4) > 0 THEN date_debut + pick(k, 'duree', 400) END AS date_fin,
               ['LOCATION', 'LOCATION', 'TRAVAUX', 'VENTE'][pick(k, 'motif', 4) + 1] AS motif, {segment} AS segment
        FROM stock WHERE pick(k, 'vacance', 3) = 0
    """,
    "impayes": """
        SELECT 'B' || k AS id_bail, organisme_id AS organisme, ident_rep, depcom,
               make_date(annee, s.mois, [30, 31][s.mois // 12 + 1]) AS date_situation,
               pick(k || s.mois, 'mois', 8) AS mois_impayes, 10.0 * pick(k || s.mois, 'montant', 500) AS montant,
               pick(k || s.mois, 'as', 2) = 0 AS accompagnement_social,
               pick(k || s.mois, 'plan', 3) = 0 AS plan_apurement, {segment} AS segment
        FROM stock, unnest([6, 12]) AS s(mois)
        WHERE pick(k, 'impaye', 6) = 0 AND (s.mois = 6 OR pick(k, 'decembre', 2) = 0)
    """,
    "reclamations": """
        SELECT 'R' || row_number() OVER () AS id_reclamation, organisme_id AS organisme, depcom,
               NULL AS programme,
               'TECHNIQUE' AS categorie, [true, true, false][pick(k, 'ecrite', 3) + 1] AS ecrite,
               make_date(annee, 1 + pick(k, 'mois', 12), 1 + pick(k, 'jour', 28)) AS date_reception,
               CASE WHEN pick(k, 'rep?', 5) > 0 THEN date_reception + pick(k, 'rep', 40) END AS date_reponse,
               CASE WHEN pick(k, 'clo?', 5) > 0 THEN date_reception + pick(k, 'clo', 60) END AS date_cloture,
               {segment} AS segment
        FROM stock WHERE pick(k, 'reclamation', 5) = 0
    """,
    "equipements": """
        SELECT 'EQ' || batiment_id AS id_equipement, any_value(organisme_id) AS organisme,
               any_value(depcom) AS depcom, NULL AS programme,
               ['ASCENSEUR', 'CHAUFFERIE'][pick(batiment_id::VARCHAR, 'type', 2) + 1] AS type_equipement,
               2015 + pick(batiment_id::VARCHAR, 'service', 10) AS annee_mise_en_service,
               CASE WHEN pick(batiment_id::VARCHAR, 'retrait?', 3) = 0
                    THEN 2020 + pick(batiment_id::VARCHAR, 'retrait', 4) END AS annee_retrait,
               any_value(codsegpatrim) AS segment
        FROM stock WHERE annee = 2023 AND pick(batiment_id::VARCHAR, 'equipement', 3) = 0
        GROUP BY batiment_id
    """,
    "pannes": """
        SELECT 'P' || row_number() OVER () AS id_panne, id_equipement, organisme, depcom, type_equipement,
               make_date(y.annee, 1 + pick(id_equipement || y.annee || n.i, 'mois', 12), 5) AS date_panne,
               NULL AS duree_heures, segment
        FROM equipements_source, range(2020, 2024) AS y(annee), range(3) AS n(i)
        WHERE pick(id_equipement || y.annee || n.i, 'panne', 2) = 0
    """,
    "gardiens": """
        SELECT organisme_id AS organisme, annee, depcom, 'R1' AS residence,
               0.5 * (1 + pick(organisme_id || depcom || annee, 'etp', 4)) AS etp, any_value(codsegpatrim) AS segment
        FROM stock GROUP BY ALL HAVING pick(organisme_id || depcom || annee, 'gardien', 3) > 0
    """,
    "couts": """
        WITH lignes AS (
            SELECT DISTINCT organisme_id AS organisme, annee, departement FROM stock
        )
        SELECT organisme, annee,
               CASE WHEN (organisme = '{a}' AND annee = 2022) OR (organisme = '{b}' AND annee = 2023
                          AND nature = 'TFPB') THEN NULL ELSE departement END AS departement,
               nature, ru AS renouvellement_urbain,
               1000.0 + pick(organisme || annee || departement || nature || coalesce(ru::VARCHAR, '?'), 'm', 9000)
                   AS montant_ht
        FROM lignes,
             unnest(['GESTION', 'COTISATIONS_CGLLS_ANCOLS', 'ENTRETIEN_COURANT', 'GROS_ENTRETIEN', 'TFPB',
                     'INVESTISSEMENT_REHABILITATION', 'REMPLACEMENT_COMPOSANTS']) AS n(nature),
             unnest([true, false, NULL]) AS r(ru)
    """,
    "enquetes": """
        SELECT organisme, annee, depcom, 'R1' AS residence, pick(k, 'qpv', 3) = 0 AS en_qpv, question,
               5 + pick(k, 'rep', 50) AS repondants,
               (5 + pick(k, 'rep', 50)) * pick(k, 'sat', 100) // 100 AS satisfaits,
               segment
        FROM (SELECT DISTINCT organisme_id AS organisme, annee, depcom, codsegpatrim AS segment FROM stock),
             unnest(['PROPRETE_PARTIES_COMMUNES', 'SATISFACTION_GLOBALE']) AS q(question),
             LATERAL (SELECT organisme || annee || depcom || segment || question AS k)
    """,
}  # fmt: skip


def _fill(sql: str, **extra: str) -> str:
    flags = {name: BOOLEAN.format(salt=name) for name in ("cdc", "zt", "ru", "ac", "dps", "sh", "spp")}
    segment = "CASE WHEN pick(k, 'sans_segment', 10) > 0 THEN codsegpatrim END"
    return sql.format(segment=segment, **flags, **extra)


def _write(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, table: str, select: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE source AS {select}")
    with warehouse.lock():
        write_event_snapshot(con, warehouse, event_schemas()[table], "source", {})


def build_warehouse(folder: Path, dwellings: int) -> Warehouse:
    warehouse = Warehouse(folder / "donnees")
    for vintage in YEARS:
        path = folder / f"rpls_{vintage}.csv"
        generate_rpls(path, dwellings, 11, vintage=vintage, landlords=2)
        import_rpls(path, warehouse, vintage=vintage)
    vintages = " UNION ALL ".join(
        f"SELECT *, {v} AS annee FROM read_parquet('{warehouse.current('rpls', v).table('logements')}')" for v in YEARS
    )
    con = duckdb.connect()
    con.execute("CREATE MACRO pick(k, salt, n) AS CAST(hash(k || ':' || salt) % n AS INTEGER)")
    con.execute(f"CREATE TABLE stock AS SELECT *, ident_rep || organisme_id || annee AS k FROM ({vintages})")
    landlords = [row[0] for row in con.execute("SELECT DISTINCT organisme_id FROM stock ORDER BY 1").fetchall()]
    _write(con, warehouse, "operations", _fill(EVENTS["operations"], salt="a", years="2021, 2022, 2023"))
    _write(con, warehouse, "operations", _fill(EVENTS["operations"], salt="b", years="2023"))  # replaces 2023
    for table in ("attributions", "vacances", "impayes", "reclamations", "equipements", "gardiens", "enquetes"):
        _write(con, warehouse, table, _fill(EVENTS[table]))
    con.execute(f"CREATE TABLE equipements_source AS {EVENTS['equipements']}")
    _write(con, warehouse, "pannes", EVENTS["pannes"])
    _write(con, warehouse, "couts", EVENTS["couts"].format(a=landlords[0], b=landlords[1]))
    con.close()
    return warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build_warehouse(tmp_path_factory.mktemp("indicateurs_pandas"), 2_000)


Key = tuple[str, str | None, str, str, str]


def _keyed(rows: list[dict]) -> dict[Key, tuple[float, float | None, float | None]]:
    keyed = {}
    for r in rows:
        key = (r["code"], r["ventilation"], r["maille"], r["code_territoire"], r["periode"])
        assert key not in keyed, f"ligne en double : {key}"
        keyed[key] = (r["numerateur"], r["denominateur"], r["valeur"])
    return keyed


def _both(warehouse: Warehouse, periods: list[Period], organismes: tuple[str, ...] = ()) -> tuple[dict, dict]:
    years = range(min(p.first for p in periods), max(p.last for p in periods) + 1)
    with duckdb.connect() as con:
        plan = make_plan(collect_sources(con, warehouse, years, organismes), catalogue().indicators, periods, MAILLES)
        engine = run_duckdb(con, plan)
    return _keyed(engine), _keyed(compute_from_warehouse(warehouse, plan, organismes))


def _close(a: float | None, b: float | None) -> bool:
    """Equal, but for the order of floating-point additions (euros, ETP)."""
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12))


def _differences(engine: dict, pandas: dict) -> list[str]:
    lines = [f"absente en pandas : {k}" for k in sorted(set(engine) - set(pandas), key=str)]
    lines += [f"en trop en pandas : {k}" for k in sorted(set(pandas) - set(engine), key=str)]
    for key in sorted(set(engine) & set(pandas), key=str):
        if not all(_close(a, b) for a, b in zip(engine[key], pandas[key], strict=True)):
            lines.append(f"{key} : moteur {engine[key]}, pandas {pandas[key]}")
    return lines


@pytest.fixture(scope="module")
def compared(warehouse: Warehouse) -> tuple[dict, dict]:
    return _both(warehouse, [*YEARLY, CUMULATED])


def test_same_rows_as_the_engine_yearly_and_cumulated(compared):
    engine, pandas = compared

    assert _differences(engine, pandas)[:20] == []


def test_every_indicator_has_figures_every_year_and_cumulated(compared):
    _, pandas = compared

    for indicator in catalogue().indicators:
        for period in [*YEARLY, CUMULATED]:
            france = [
                v for k, v in pandas.items() if k[0] == indicator.code and k[2:] == ("france", "FR", period.label)
            ]
            assert any(numerator > 0 and value for numerator, _, value in france), (indicator.code, period.label)
        published = {k[1] for k in pandas if k[0] == indicator.code}
        total = {None} if indicator.total or not indicator.ventilations else set()
        assert published == set(indicator.ventilations) | total, indicator.code


def test_cumulation_over_the_first_year_stock_and_sum_of_ratios(compared):
    _, pandas = compared

    renovated = {p.label: pandas[("G1-C3", None, "france", "FR", p.label)] for p in [*YEARLY, CUMULATED]}
    assert renovated["2021-2023"][:2] == (sum(renovated[str(y)][0] for y in YEARS), renovated["2021"][1])
    dalo = {p.label: pandas[("G1-E1", None, "france", "FR", p.label)] for p in [*YEARLY, CUMULATED]}
    assert dalo["2021-2023"][:2] == (sum(dalo[str(y)][0] for y in YEARS), sum(dalo[str(y)][1] for y in YEARS))


def test_same_rows_for_one_landlord(warehouse, compared):
    landlord = min(k[3] for k in compared[0] if k[2] == "bailleur")

    engine, pandas = _both(warehouse, YEARLY, organismes=(landlord,))

    assert {k[3] for k in pandas if k[2] == "bailleur"} == {landlord}
    assert _differences(engine, pandas)[:20] == []


def test_same_rows_without_events(tmp_path):
    warehouse = Warehouse(tmp_path / "donnees")
    generate_rpls(tmp_path / "rpls.csv", 1_000, 3, vintage=2022)
    import_rpls(tmp_path / "rpls.csv", warehouse, vintage=2022)

    engine, pandas = _both(warehouse, [Period("2022", 2022, 2022)])

    assert {k[0] for k in engine} == {"G1-C3", "G1-C4", "G1-F2", "G1-G4", "PP-2", "PP-3", "PP-4", "SR-1"}
    assert _differences(engine, pandas) == []
