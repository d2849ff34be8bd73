"""Open reference data for the grid, read from files the user supplies (the product ships none of them).

- INSEE BPE (base permanente des équipements), counts per commune/IRIS × equipment type:
  https://www.insee.fr/fr/statistiques/3568638 (Parquet or `;`-separated CSV; columns DEPCOM, DCIRIS,
  TYPEQU, NB_EQUIP).
- Public-transport stops of a GTFS feed (`stops.txt`: stop_id, stop_lat, stop_lon; optional location_type,
  parent_station), e.g. https://transport.data.gouv.fr.
- QPV polygons (GeoJSON, WGS84, property `code_qp`): https://www.data.gouv.fr (ANCT, quartiers prioritaires).

Each loader checks its file and columns and fills one DuckDB table of the reference connection.
"""

import itertools
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

BPE_COLUMNS = ("DEPCOM", "DCIRIS", "TYPEQU", "NB_EQUIP")
STOP_COLUMNS = ("stop_id", "stop_lat", "stop_lon")
QPV_CODE = "code_qp"


class ReferenceError(ValueError):
    """A reference file that cannot be used; the French message names the path and the column."""


class ReferenceData:
    """One DuckDB connection holding the loaded reference tables: `bpe`, `arrets`, `qpv`, `qpv_aretes`."""

    def __init__(self, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self.connection = connection or duckdb.connect()
        self.loaded: dict[str, str] = {}  # source → path

    def _check_columns(self, path: Path, relation: str, required: tuple[str, ...]) -> None:
        columns = {row[0] for row in self.connection.sql(f"DESCRIBE {relation}").fetchall()}
        missing = [c for c in required if c not in columns]
        if missing:
            raise ReferenceError(
                f"{path} : colonne(s) absente(s) : {', '.join(missing)} (colonnes attendues : {', '.join(required)})."
            )

    def load_bpe(self, path: Path) -> int:
        """Load BPE equipment counts; returns the number of rows."""
        _exists(path, "BPE")
        quoted = _quote(path)
        if path.suffix.lower() == ".parquet":
            relation = f"(SELECT * FROM read_parquet({quoted}))"
        else:
            relation = f"(SELECT * FROM read_csv({quoted}, delim = ';', header = true, all_varchar = true))"
        try:
            self._check_columns(path, relation, BPE_COLUMNS)
        except duckdb.Error as error:
            raise ReferenceError(f"{path} : fichier BPE illisible ({error}).") from None
        bad = self.connection.sql(
            f"SELECT count(*) FROM {relation} WHERE NB_EQUIP IS NOT NULL AND TRY_CAST(NB_EQUIP AS DOUBLE) IS NULL"
        ).fetchone()
        if bad and bad[0]:
            raise ReferenceError(f"{path} : colonne NB_EQUIP : {bad[0]} valeur(s) non numérique(s).")
        self.connection.execute(
            f"""CREATE OR REPLACE TABLE bpe AS
                SELECT DEPCOM AS commune, DCIRIS AS iris, TYPEQU AS typequ,
                       sum(CAST(NB_EQUIP AS DOUBLE)) AS nombre
                FROM {relation} GROUP BY ALL"""
        )
        self.loaded["bpe"] = str(path)
        return _count(self.connection, "bpe")

    def load_stops(self, path: Path) -> int:
        """Load the stops of a GTFS `stops.txt` (stations excluded, platforms grouped by parent station)."""
        _exists(path, "arrêts GTFS")
        relation = f"(SELECT * FROM read_csv({_quote(path)}, header = true, all_varchar = true))"
        try:
            self._check_columns(path, relation, STOP_COLUMNS)
        except duckdb.Error as error:
            raise ReferenceError(f"{path} : fichier d'arrêts illisible ({error}).") from None
        columns = {row[0] for row in self.connection.sql(f"DESCRIBE {relation}").fetchall()}
        location_type = "location_type" if "location_type" in columns else "NULL"
        parent = "parent_station" if "parent_station" in columns else "NULL"
        self.connection.execute(
            f"""CREATE OR REPLACE TEMP TABLE arrets_brut AS
                SELECT row_number() OVER () + 1 AS ligne, stop_id,
                       coalesce(nullif(trim({parent}), ''), stop_id) AS zone,
                       coalesce(nullif(trim({location_type}), ''), '0') AS type_lieu,
                       stop_lat, stop_lon,
                       TRY_CAST(stop_lat AS DOUBLE) AS lat, TRY_CAST(stop_lon AS DOUBLE) AS lon
                FROM {relation}"""
        )
        bad = self.connection.sql(
            """SELECT ligne, CASE WHEN lat IS NULL OR NOT lat BETWEEN -90 AND 90 THEN 'stop_lat' ELSE 'stop_lon' END,
                      CASE WHEN lat IS NULL OR NOT lat BETWEEN -90 AND 90 THEN stop_lat ELSE stop_lon END
               FROM arrets_brut
               WHERE lat IS NULL OR lon IS NULL OR NOT lat BETWEEN -90 AND 90 OR NOT lon BETWEEN -180 AND 180
               ORDER BY ligne LIMIT 1"""
        ).fetchone()
        if bad:
            raise ReferenceError(f"{path} : ligne {bad[0]}, colonne {bad[1]} : coordonnée invalide « {bad[2]} ».")
        self.connection.execute(
            """CREATE OR REPLACE TABLE arrets AS
               SELECT stop_id, zone, lat, lon FROM arrets_brut WHERE type_lieu IN ('0', '4')"""
        )
        self.connection.execute("DROP TABLE arrets_brut")
        self.loaded["arrets"] = str(path)
        return _count(self.connection, "arrets")

    def load_qpv(self, path: Path) -> int:
        """Load QPV polygons as edges (one row per segment of every ring) for a point-in-polygon test in SQL."""
        _exists(path, "QPV")
        try:
            collection = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ReferenceError(f"{path} : GeoJSON illisible ({error}).") from None
        features = collection.get("features") if isinstance(collection, dict) else None
        if not isinstance(features, list):
            raise ReferenceError(f"{path} : une FeatureCollection GeoJSON est attendue (clé « features »).")
        names: dict[str, list[Any]] = {"code": [], "nom": []}
        edges: dict[str, list[Any]] = {"code": [], "x1": [], "y1": [], "x2": [], "y2": []}
        for number, feature in enumerate(features, start=1):
            properties = feature.get("properties") or {}
            code = properties.get(QPV_CODE)
            if not code:
                raise ReferenceError(f"{path} : objet n° {number} : propriété « {QPV_CODE} » absente.")
            geometry = feature.get("geometry") or {}
            for ring in _rings(geometry, path, number):
                for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                    for key, value in zip(edges, (code, x1, y1, x2, y2), strict=True):
                        edges[key].append(value)
            names["code"].append(code)
            names["nom"].append(properties.get("nom_qp") or code)
        for table, columns in (("qpv", names), ("qpv_aretes", edges)):
            self.connection.register("source_qpv", pa.table(columns))
            self.connection.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM source_qpv")
            self.connection.unregister("source_qpv")
        self.loaded["qpv"] = str(path)
        return _count(self.connection, "qpv")


def _rings(geometry: dict[str, Any], path: Path, number: int) -> list[list[tuple[float, float]]]:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    polygons: list[Any]
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = list(coordinates)
    else:
        raise ReferenceError(f"{path} : objet n° {number} : géométrie « {kind} » (Polygon ou MultiPolygon attendu).")
    try:
        rings = [[(float(p[0]), float(p[1])) for p in ring] for polygon in polygons for ring in polygon]
    except (TypeError, ValueError, IndexError):
        raise ReferenceError(f"{path} : objet n° {number} : coordonnées invalides.") from None
    return rings


def _exists(path: Path, what: str) -> None:
    if not path.is_file():
        raise ReferenceError(f"{path} : fichier {what} introuvable.")


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    row = connection.sql(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
