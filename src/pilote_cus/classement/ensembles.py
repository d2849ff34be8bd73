"""The landlord's ensembles read from the current RPLS snapshot of the warehouse, so that a landlord can
classify without writing a CSV file.

One row per `ensemble_id` (the key computed at import: landlord, commune, programme name), over the dwellings
in stock at the 1 January of the snapshot. The id is `str(ensemble_id)`: the maximum-rent pages find the
adopted version's ensembles with it. Fields named as the grid's landlord fields (`grille.LANDLORD_FIELDS`):

- `etiquette_dpe`: the most frequent energy label of the ensemble (ties: the worse one); the worst label and
  the distribution are kept for reading (`etiquette_dpe_pire`, `repartition_dpe`);
- `annee_construction`: the mean construction year, rounded;
- `taux_vacance`: vacant dwellings (MODE 2) among those offered for rent (MODE 1 or 2), in %;
- `taux_rotation`: dwellings let whose current lease started in the year before the snapshot, among those
  offered for rent, in % (moves of the year still in place on 1 January: a lower bound of the turnover).

Lifts and complaints come from the landlord's event files `equipements` and `reclamations` when their
optional column `programme` (the RPLS COMPLGEO) is filled. An event belongs to the ensemble of the same
landlord, commune and programme name (`complgeo`, compared in capitals with spaces trimmed and collapsed;
ensembles whose names differ only so are counted together):

- `ascenseur`: « oui » if a lift (`ASCENSEUR`) of the ensemble is in service on 1 January of the snapshot
  (put into service before that year, not withdrawn before it), « non » if the ensemble is named in the
  equipment register (any equipment, any year) but has no lift in service then;
- `reclamations_par_logement`: complaints received in the year before the snapshot (the last full year)
  ÷ dwellings of the ensemble, when the ensemble is named by at least one complaint (any year) and the
  landlord has complaints located by programme in that year (otherwise the year is not known: 0 would lie).

Any other ensemble keeps these fields empty (the score explains « non renseigné »); a CSV file can bring them.
Snapshots written before the column existed have no `programme`: they are skipped.

Coordinates: the centroid of the located dwellings, in the coordinate system most used in the ensemble. WGS84
(EPSG:4326) is read as is, Lambert-93 (EPSG:2154) converted with the IGN closed formulas (no pyproj); the
overseas projections are not converted (the ensemble has no lat/lon, said in `sans_coordonnees`).
"""

import math
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ..entrepot.entrepot import NoSnapshot, Warehouse
from ..evenements.schema import event_schemas
from ..evenements.stockage import snapshots_by_year

WGS84, LAMBERT_93 = 4326, 2154


class EnsemblesError(ValueError):
    """No usable RPLS snapshot or no dwelling of the landlord, in French."""


@dataclass
class EnsemblesEntrepot:
    snapshot_id: str
    vintage: int
    rows: list[dict[str, Any]]
    sans_coordonnees: list[str] = field(default_factory=list)  # ids of ensembles without lat/lon
    evenements: list[str] = field(default_factory=list)  # ids of the event snapshots read (lifts, complaints)


# GRS80 ellipsoid and the Lambert-93 secant cone (IGN, NTG_71)
_A, _E = 6_378_137.0, 0.0818191910428158
_LON0, _PHI0, _PHI1, _PHI2 = (math.radians(d) for d in (3.0, 46.5, 44.0, 49.0))
_X0, _Y0 = 700_000.0, 6_600_000.0


def _m(phi: float) -> float:
    return math.cos(phi) / math.sqrt(1 - (_E * math.sin(phi)) ** 2)


def _t(phi: float) -> float:
    s = _E * math.sin(phi)
    return math.tan(math.pi / 4 - phi / 2) / ((1 - s) / (1 + s)) ** (_E / 2)


_N = (math.log(_m(_PHI1)) - math.log(_m(_PHI2))) / (math.log(_t(_PHI1)) - math.log(_t(_PHI2)))
_AF = _A * _m(_PHI1) / (_N * _t(_PHI1) ** _N)
_RHO0 = _AF * _t(_PHI0) ** _N


def wgs84_to_lambert93(lat: float, lon: float) -> tuple[float, float]:
    """(x, y) in metres; used to check the inverse."""
    rho = _AF * _t(math.radians(lat)) ** _N
    theta = _N * (math.radians(lon) - _LON0)
    return _X0 + rho * math.sin(theta), _Y0 + _RHO0 - rho * math.cos(theta)


def lambert93_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """(lat, lon) in degrees; the latitude is found by fixed-point iteration (converges to < 1e-11 rad)."""
    dx, dy = x - _X0, _RHO0 - (y - _Y0)
    rho = math.copysign(math.hypot(dx, dy), _N)
    t = (rho / _AF) ** (1 / _N)
    lon = math.atan2(dx, dy) / _N + _LON0
    phi = math.pi / 2 - 2 * math.atan(t)
    for _ in range(20):
        s = _E * math.sin(phi)
        following = math.pi / 2 - 2 * math.atan(t * ((1 - s) / (1 + s)) ** (_E / 2))
        if abs(following - phi) < 1e-12:
            phi = following
            break
        phi = following
    return math.degrees(phi), math.degrees(lon)


def to_wgs84(x: float | None, y: float | None, epsg: int | None) -> tuple[float, float] | None:
    if x is None or y is None:
        return None
    if epsg == WGS84:
        return (y, x) if abs(y) <= 90 and abs(x) <= 180 else None
    if epsg == LAMBERT_93:
        return lambert93_to_wgs84(x, y)
    return None


# the programme name as compared: capitals, spaces trimmed and collapsed, NULL when empty
def _key(sql: str) -> str:
    return f"nullif(upper(trim(regexp_replace({sql}, '\\s+', ' ', 'g'))), '')"


QUERY = """
WITH l AS (
    SELECT * FROM read_parquet($path)
    WHERE organisme_id = $organisme AND en_stock AND ensemble_id IS NOT NULL
),
located AS (
    SELECT ensemble_id, epsg, avg(x) AS x, avg(y) AS y, count(*) AS n
    FROM l WHERE x IS NOT NULL AND y IS NOT NULL AND epsg IS NOT NULL
    GROUP BY ensemble_id, epsg
),
centroids AS (
    SELECT ensemble_id, arg_max(epsg, n * 100000 + epsg) AS epsg, arg_max(x, n * 100000 + epsg) AS x,
           arg_max(y, n * 100000 + epsg) AS y
    FROM located GROUP BY ensemble_id
),
labels AS (
    SELECT ensemble_id, dpeenergie AS etiquette, count(*) AS n
    FROM l WHERE dpeenergie IN ('A', 'B', 'C', 'D', 'E', 'F', 'G')
    GROUP BY ensemble_id, dpeenergie
),
dpe AS (
    SELECT ensemble_id, arg_max(etiquette, n * 10 + ascii(etiquette) - 64) AS etiquette_dpe,
           max(etiquette) AS etiquette_dpe_pire,
           string_agg(etiquette || ' : ' || n, ', ' ORDER BY etiquette) AS repartition_dpe
    FROM labels GROUP BY ensemble_id
),
stock AS (
    SELECT ensemble_id,
           coalesce(mode(complgeo), mode(nomvoie), '') AS nom,
           {key} AS cle,
           mode(depcom) AS commune,
           mode(iris) AS iris,
           count(*) AS logements,
           round(avg(construct))::INTEGER AS annee_construction,
           count(*) FILTER (mode IN ('1', '2')) AS offerts,
           count(*) FILTER (mode = '2') AS vacants,
           count(*) FILTER (mode = '1' AND year(bail) = $vintage - 1) AS emmenagements
    FROM l GROUP BY ensemble_id
)
SELECT s.ensemble_id::VARCHAR AS id, s.nom, s.cle, s.commune, s.iris, s.logements, s.annee_construction,
       d.etiquette_dpe, d.etiquette_dpe_pire, d.repartition_dpe,
       CASE WHEN s.offerts > 0 THEN round(100.0 * s.vacants / s.offerts, 2) END AS taux_vacance,
       CASE WHEN s.offerts > 0 THEN round(100.0 * s.emmenagements / s.offerts, 2) END AS taux_rotation,
       c.x, c.y, c.epsg
FROM stock s
LEFT JOIN dpe d USING (ensemble_id)
LEFT JOIN centroids c USING (ensemble_id)
ORDER BY s.commune, s.nom, id
""".replace("{key}", _key("mode(complgeo)"))


LIFTS = """
SELECT depcom, {key} AS cle,
       count(*) FILTER (type_equipement = 'ASCENSEUR' AND annee_mise_en_service < $vintage
                        AND (annee_retrait IS NULL OR annee_retrait >= $vintage)) AS ascenseurs
FROM ({source}) WHERE organisme = $organisme AND {key} IS NOT NULL
GROUP BY ALL
"""
COMPLAINTS = """
SELECT depcom, {key} AS cle, count(*) FILTER (annee = $vintage - 1) AS reclamations
FROM ({source}) WHERE organisme = $organisme AND {key} IS NOT NULL
GROUP BY ALL
"""
EVENT_COLUMNS = {
    "equipements": ("organisme", "depcom", "programme", "type_equipement", "annee_mise_en_service", "annee_retrait"),
    "reclamations": ("organisme", "depcom", "programme", "annee"),
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _located_events(
    connection: duckdb.DuckDBPyConnection, warehouse: Warehouse, name: str
) -> tuple[str | None, list[str]]:
    """SQL of the rows of event table `name` readers take today, from the snapshots that have the column
    `programme` (older ones are skipped), and the ids of these snapshots; None if there is none."""
    columns = ", ".join(f'"{c}"' for c in EVENT_COLUMNS[name])
    parts, ids = [], []
    for snapshot, years in snapshots_by_year(warehouse, event_schemas()[name]):
        table = f"read_parquet({_literal(str(snapshot.table(name)))})"
        present = {str(row[0]) for row in connection.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()}
        if "programme" not in present:
            continue
        where = "" if years is None else f" WHERE annee IN ({', '.join(str(y) for y in years)})"
        parts.append(f"SELECT {columns} FROM {table}{where}")
        ids.append(snapshot.id)
    return (" UNION ALL ".join(parts) if parts else None), ids


def _lifts_and_complaints(
    connection: duckdb.DuckDBPyConnection, warehouse: Warehouse, organisme_code: str, vintage: int
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int], list[str]]:
    """By (commune, programme key): lifts in service on 1 January of `vintage` (the ensembles named in the
    equipment register), complaints received in `vintage - 1` (the ensembles named by a complaint); the ids
    of the snapshots read."""
    found: list[dict[tuple[str, str], int]] = []
    read: list[str] = []
    for name, query in (("equipements", LIFTS), ("reclamations", COMPLAINTS)):
        source, ids = _located_events(connection, warehouse, name)
        counts: dict[tuple[str, str], int] = {}
        if source is not None:
            sql = query.format(source=source, key=_key("programme"))
            rows = connection.execute(sql, {"organisme": organisme_code, "vintage": vintage}).fetchall()
            counts = {(str(depcom), str(key)): int(n) for depcom, key, n in rows}
            read += ids
        found.append(counts)
    return found[0], found[1], read


def _add_lifts_and_complaints(
    rows: list[dict[str, Any]], lifts: dict[tuple[str, str], int], complaints: dict[tuple[str, str], int]
) -> None:
    """Set `ascenseur` and `reclamations_par_logement` of each row (None: not known); pops `cle`."""
    dwellings: dict[tuple[str, str], int] = {}
    for row in rows:
        if row["cle"] is not None:
            key = (str(row["commune"]), str(row["cle"]))
            dwellings[key] = dwellings.get(key, 0) + int(row["logements"])
    year_known = sum(complaints.values()) > 0  # complaints located by programme in the year before the snapshot
    for row in rows:
        cle = row.pop("cle")
        key = (str(row["commune"]), str(cle))
        row["ascenseur"] = None
        row["reclamations_par_logement"] = None
        if cle is None:
            continue
        if key in lifts:
            row["ascenseur"] = "oui" if lifts[key] > 0 else "non"
        if year_known and key in complaints:
            row["reclamations_par_logement"] = round(complaints[key] / dwellings[key], 2)


def ensembles_entrepot(warehouse: Warehouse, organisme_code: str) -> EnsemblesEntrepot:
    """The landlord's ensembles of the current RPLS snapshot, ready for `score`."""
    try:
        snapshot = warehouse.current("rpls")
    except NoSnapshot:
        raise EnsemblesError(
            "L'entrepôt ne contient aucun instantané RPLS : importez d'abord le RPLS, ou téléversez un fichier "
            "CSV des ensembles."
        ) from None
    connection = duckdb.connect()
    try:
        cursor = connection.execute(
            QUERY,
            {"path": str(snapshot.table("logements")), "organisme": organisme_code, "vintage": snapshot.vintage},
        )
        names = [d[0] for d in cursor.description or []]
        records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except (duckdb.Error, OSError) as error:
        connection.close()
        raise EnsemblesError(f"Instantané RPLS {snapshot.id} illisible ({error}).") from None
    try:
        lifts, complaints, events = _lifts_and_complaints(connection, warehouse, organisme_code, snapshot.vintage)
    except (duckdb.Error, OSError) as error:
        raise EnsemblesError(f"Équipements ou réclamations de l'entrepôt illisibles ({error}).") from None
    finally:
        connection.close()
    if not records:
        raise EnsemblesError(
            f"Aucun logement de l'organisme {organisme_code} dans l'instantané RPLS {snapshot.id} "
            f"(millésime {snapshot.vintage}) : vérifiez que son RPLS a été importé, ou téléversez un fichier CSV."
        )
    _add_lifts_and_complaints(records, lifts, complaints)
    result = EnsemblesEntrepot(snapshot.id, snapshot.vintage, [], evenements=events)
    for record in records:
        x, y, epsg = record.pop("x"), record.pop("y"), record.pop("epsg")
        point = to_wgs84(x, y, epsg)
        if point is None:
            result.sans_coordonnees.append(record["id"])
        record["lat"], record["lon"] = (round(point[0], 6), round(point[1], 6)) if point else (None, None)
        result.rows.append(record)
    return result
