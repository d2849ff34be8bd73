"""Geography: the Code officiel géographique (COG) loaded by the user, or the built-in gazetteer.

The COG is kept in the warehouse as a snapshot of kind "cog" (communes, départements, régions, EPCI).
Without it, the small built-in gazetteer (gazetteer.toml) names the communes of the demo.
"""

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from ..entrepot.entrepot import Snapshot, Warehouse

COG_URL = "https://www.data.gouv.fr/fr/datasets/decoupage-administratif-communal-francais-issu-d-openstreetmap/"
FRANCE = ("FR", "France")
COMMUNE_PATTERN = r"^(0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5])[0-9]{3}$|^97[12346][0-9]{2}$"
COMMUNE_KINDS = ("commune-actuelle", "arrondissement-municipal")


class ReferenceDataError(Exception):
    """A reference file is missing or malformed; the message names the file and what is wrong."""


@dataclass(frozen=True)
class GazetteerCommune:
    code: str
    nom: str
    epci: str
    code_postal: str
    zone: str
    lat: float
    lon: float
    poids: float

    @property
    def departement(self) -> str:
        return departement_of(self.code)


@dataclass(frozen=True)
class Gazetteer:
    regions: dict[str, str]
    departements: dict[str, dict[str, str]]
    epci: dict[str, str]
    communes: tuple[GazetteerCommune, ...]


def departement_of(commune_code: str) -> str:
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]


DEPARTEMENT_SQL = "CASE WHEN {c} LIKE '97%' THEN left({c}, 3) ELSE left({c}, 2) END"


@cache
def gazetteer() -> Gazetteer:
    raw = tomllib.loads(resources.files(__package__).joinpath("gazetteer.toml").read_text(encoding="utf-8"))
    communes = tuple(GazetteerCommune(**c) for c in raw["communes"])
    return Gazetteer(raw["regions"], raw["departements"], raw["epci"], communes)


def _cog_year(folder: Path, year: int | None) -> int:
    years = sorted(int(m.group(1)) for p in folder.glob("communes_*.csv") if (m := re.search(r"(\d{4})", p.name)))
    if year is not None:
        if year not in years:
            raise ReferenceDataError(f"{folder} : pas de fichier communes_{year}.csv (trouvés : {years or 'aucun'}).")
        return year
    if not years:
        raise ReferenceDataError(f"{folder} : aucun fichier communes_AAAA.csv. Téléchargez le COG : {COG_URL}")
    return years[-1]


def _require(path: Path) -> Path:
    if not path.is_file():
        raise ReferenceDataError(f"Fichier de référence absent : {path}")
    return path


def _check_columns(con: duckdb.DuckDBPyConnection, path: Path, needed: set[str]) -> None:
    header = con.sql(f"SELECT * FROM read_csv('{path}', all_varchar=true) LIMIT 0").columns
    missing = sorted(needed - set(header))
    if missing:
        raise ReferenceDataError(f"{path.name} : colonne(s) absente(s) : {', '.join(missing)}")


def load_cog(warehouse: Warehouse, folder: Path, year: int | None = None) -> Snapshot:
    """Import the COG files of `folder` (communes_AAAA.csv, commune_epci_AAAA.csv, départements, régions)."""
    year = _cog_year(folder, year)
    communes = _require(folder / f"communes_{year}.csv")
    epci = _require(folder / f"commune_epci_{year}.csv")
    departements = _require(folder / "departements.json")
    regions = _require(folder / "regions.json")
    con = duckdb.connect()
    _check_columns(con, communes, {"code", "nom", "departement", "region", "type", "commune"})
    _check_columns(con, epci, {"code_commune", "siren_epci", "nom_epci"})
    for path in (departements, regions):
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
            if not all({"code", "nom"} <= set(e) for e in entries):
                raise ValueError("champs code et nom attendus")
        except ValueError as error:
            raise ReferenceDataError(f"{path.name} : contenu invalide ({error})") from error
    kinds = ", ".join(f"'{k}'" for k in COMMUNE_KINDS)
    header = con.sql(f"SELECT * FROM read_csv('{communes}', all_varchar=true) LIMIT 0").columns
    population = "population" if "population" in header else "NULL"
    provenance: dict[str, Any] = {
        "dossier": str(folder),
        "fichiers": [p.name for p in (communes, epci, departements, regions)],
    }
    with warehouse.lock(), warehouse.new_snapshot("cog", year, provenance) as target:
        con.sql(f"""
            CREATE TABLE c AS
            SELECT code, nom AS libelle, departement AS dep, region AS reg, type, coalesce(commune, code) AS parent,
                   TRY_CAST(TRY_CAST({population} AS DOUBLE) AS BIGINT) AS population
            FROM read_csv('{communes}', all_varchar=true) WHERE type IN ({kinds})
            QUALIFY row_number() OVER (PARTITION BY code ORDER BY type = 'commune-actuelle' DESC) = 1
        """)
        con.sql(f"""
            COPY (
              SELECT c.code, c.libelle, c.dep, c.reg, e.siren_epci AS epci, e.nom_epci AS epci_libelle, c.type,
                     c.population
              FROM c LEFT JOIN read_csv('{epci}', all_varchar=true) e ON e.code_commune = c.parent
              ORDER BY c.code
            ) TO '{target / "communes.parquet"}' (FORMAT parquet)
        """)
        con.sql(f"""COPY (SELECT code, nom AS libelle, region AS reg FROM read_json('{departements}', columns={{
            code: 'VARCHAR', nom: 'VARCHAR', region: 'VARCHAR'}}) ORDER BY code)
            TO '{target / "departements.parquet"}' (FORMAT parquet)""")
        con.sql(f"""COPY (SELECT code, nom AS libelle FROM read_json('{regions}', columns={{
            code: 'VARCHAR', nom: 'VARCHAR'}}) ORDER BY code) TO '{target / "regions.parquet"}' (FORMAT parquet)""")
        counts = con.sql("SELECT count(*) FROM c").fetchone()
        provenance["communes"] = counts[0] if counts else 0
    return warehouse.current("cog", year)


def cog_for(warehouse: Warehouse, vintage: int) -> Snapshot | None:
    """The COG closest to a millésime: the latest one not after it, else the oldest one loaded."""
    loaded = sorted({s.vintage for s in warehouse.history("cog")})
    if not loaded:
        return None
    before = [y for y in loaded if y <= vintage]
    return warehouse.current("cog", before[-1] if before else loaded[0])


def register_geography(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, vintage: int) -> str:
    """Create the views geo_communes, geo_departements, geo_regions; return the source used."""
    cog = cog_for(warehouse, vintage)
    if cog is not None:
        for table in ("communes", "departements", "regions"):
            con.sql(f"CREATE OR REPLACE TEMP VIEW geo_{table} AS SELECT * FROM read_parquet('{cog.table(table)}')")
        return f"COG {cog.vintage} ({cog.id})"
    gaz = gazetteer()
    rows = [
        (c.code, c.nom, c.departement, gaz.departements[c.departement]["region"], c.epci, gaz.epci[c.epci])
        for c in gaz.communes
    ]
    con.sql(
        "CREATE OR REPLACE TEMP TABLE geo_communes (code VARCHAR, libelle VARCHAR, dep VARCHAR, reg VARCHAR,"
        " epci VARCHAR, epci_libelle VARCHAR)"
    )
    con.executemany("INSERT INTO geo_communes VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.sql("CREATE OR REPLACE TEMP TABLE geo_departements (code VARCHAR, libelle VARCHAR, reg VARCHAR)")
    con.executemany(
        "INSERT INTO geo_departements VALUES (?, ?, ?)",
        [(k, v["nom"], v["region"]) for k, v in gaz.departements.items()],
    )
    con.sql("CREATE OR REPLACE TEMP TABLE geo_regions (code VARCHAR, libelle VARCHAR)")
    con.executemany("INSERT INTO geo_regions VALUES (?, ?)", list(gaz.regions.items()))
    return "répertoire intégré (COG non chargé)"
