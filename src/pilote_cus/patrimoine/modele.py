"""The stock data model over a snapshot: organisme → ensemble immobilier → bâtiment → logement.

Only the dwellings are stored (logements.parquet); the three upper levels are views derived from
them, so they can never disagree with the dwellings of the same snapshot.
"""

import duckdb

from ..entrepot.entrepot import Snapshot


def register_stock(con: duckdb.DuckDBPyConnection, snapshot: Snapshot) -> None:
    """Create the views logements, ensembles, batiments, organismes of `snapshot` on `con`."""
    landlord = snapshot.provenance.get("organisme") or {}
    name = (landlord.get("raison_sociale") or "").replace("'", "''")
    siret = (landlord.get("siret") or "").replace("'", "''")
    con.execute(f"CREATE OR REPLACE TEMP VIEW logements AS SELECT * FROM read_parquet('{snapshot.table('logements')}')")
    con.execute("""
        CREATE OR REPLACE TEMP VIEW ensembles AS
        SELECT ensemble_id, any_value(organisme_id) AS organisme_id, any_value(depcom) AS depcom,
               any_value(coalesce(complgeo, nomvoie)) AS libelle, count(*) AS logements,
               count(DISTINCT batiment_id) AS batiments, bool_or(en_qpv) AS en_qpv,
               avg(x) AS x, avg(y) AS y, any_value(epsg) AS epsg
        FROM logements WHERE en_stock GROUP BY ensemble_id""")
    con.execute("""
        CREATE OR REPLACE TEMP VIEW batiments AS
        SELECT batiment_id, any_value(ensemble_id) AS ensemble_id, any_value(depcom) AS depcom,
               any_value(concat_ws(' ', numvoie, typvoie, nomvoie)) AS adresse,
               any_value(coalesce(immeu, bat)) AS libelle, count(*) AS logements,
               mode(typeconst) AS type_construction, min(construct) AS annee_construction,
               avg(x) AS x, avg(y) AS y, any_value(epsg) AS epsg
        FROM logements WHERE en_stock GROUP BY batiment_id""")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW organismes AS
        SELECT organisme_id, coalesce(any_value(rs), NULLIF('{name}', '')) AS raison_sociale,
               coalesce(any_value(siret), NULLIF('{siret}', '')) AS siret,
               count(*) FILTER (en_stock) AS logements
        FROM logements GROUP BY organisme_id""")
