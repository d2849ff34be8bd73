"""Scoring ensembles with a grid: raw value, points, weight and a French explanation per criterion, the total,
the proposed class and the class retained after the landlord's overrides (each with a mandatory reason).

Distances, counts and point-in-polygon tests run in DuckDB on the reference connection; Python applies the
scales and writes the explanations.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from pilote_cus.classement.grille import LANDLORD_FIELDS, BpeParameters, Criterion, EnteredParameters, Grid
from pilote_cus.classement.references import ReferenceData

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = 111_000.0  # a little under the true 111 195 m: the bounding box only pre-filters
DPE_LABELS = "ABCDEFG"
_TRUE = {"1", "oui", "o", "true", "vrai", "yes"}
_FALSE = {"0", "non", "n", "false", "faux", "no"}


class ClassementError(ValueError):
    """Input that cannot be scored (missing field, unloaded source, override without reason…), in French."""


@dataclass(frozen=True)
class Override:
    """A class forced by the landlord for one ensemble; the reason is mandatory and kept with the result."""

    ensemble_id: str
    classe: str
    motif: str


@dataclass(frozen=True)
class CriterionScore:
    ensemble_id: str
    criterion: str
    label: str
    raw_value: float | None
    points: float
    weight: float
    weighted_points: float
    explanation: str


@dataclass(frozen=True)
class EnsembleScore:
    ensemble_id: str
    total: float
    proposed_class: str
    retained_class: str
    override_reason: str | None


@dataclass
class Scoring:
    grid_version: str
    details: list[CriterionScore] = field(default_factory=list)
    ensembles: list[EnsembleScore] = field(default_factory=list)

    def ensemble(self, ensemble_id: str) -> EnsembleScore:
        return next(e for e in self.ensembles if e.ensemble_id == ensemble_id)

    def detail(self, ensemble_id: str, criterion: str) -> CriterionScore:
        return next(d for d in self.details if d.ensemble_id == ensemble_id and d.criterion == criterion)


def fr_number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", " ").replace(".", ",")


def fr_points(points: float) -> str:
    return f"{fr_number(points)} point{'s' if points >= 2 else ''}"


def _rows(ensembles: Iterable[dict[str, Any]] | duckdb.DuckDBPyRelation) -> list[dict[str, Any]]:
    if isinstance(ensembles, duckdb.DuckDBPyRelation):
        return [dict(zip(ensembles.columns, row, strict=True)) for row in ensembles.fetchall()]
    return [dict(row) for row in ensembles]


def _check_ensembles(rows: list[dict[str, Any]], grid: Grid) -> None:
    sources = {c.source for c in grid.criteres}
    required = ["id", "commune"]
    if sources & {"arrets", "qpv"}:
        required += ["lat", "lon"]
    if any(isinstance(c.parameters, BpeParameters) and c.parameters.perimetre == "iris" for c in grid.criteres):
        required.append("iris")
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        name = f"ensemble n° {number}" + (f" « {row['id']} »" if row.get("id") is not None else "")
        for key in required:
            if row.get(key) is None or row.get(key) == "":
                raise ClassementError(f"{name} : champ « {key} » absent.")
        if str(row["id"]) in seen:
            raise ClassementError(f"{name} : identifiant en double.")
        seen.add(str(row["id"]))
        for key, bound in (("lat", 90), ("lon", 180)):
            if key in required:
                try:
                    ok = abs(float(row[key])) <= bound
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    raise ClassementError(f"{name} : champ « {key} » : coordonnée invalide « {row[key]} ».")


def _register(connection: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    def column(key: str, kind: type) -> list[Any]:
        return [None if r.get(key) in (None, "") else kind(r[key]) for r in rows]

    table = pa.table(
        {
            "id": column("id", str),
            "commune": column("commune", str),
            "iris": column("iris", str),
            "lat": pa.array(column("lat", float), pa.float64()),
            "lon": pa.array(column("lon", float), pa.float64()),
        }
    )
    connection.register("ensembles_source", table)
    connection.execute("CREATE OR REPLACE TEMP TABLE ensembles_classement AS SELECT * FROM ensembles_source")
    connection.unregister("ensembles_source")


def _stops_counts(connection: duckdb.DuckDBPyConnection, distance_m: float) -> dict[str, float]:
    rows = connection.execute(
        f"""SELECT e.id, count(DISTINCT a.zone)
            FROM ensembles_classement e
            LEFT JOIN arrets a
              ON a.lat BETWEEN e.lat - $box AND e.lat + $box
             AND a.lon BETWEEN e.lon - $box / cos(radians(e.lat)) AND e.lon + $box / cos(radians(e.lat))
             AND 2 * {EARTH_RADIUS_M} * asin(sqrt(
                     pow(sin(radians(a.lat - e.lat) / 2), 2)
                     + cos(radians(e.lat)) * cos(radians(a.lat)) * pow(sin(radians(a.lon - e.lon) / 2), 2)
                 )) <= $distance
            GROUP BY e.id""",
        {"box": distance_m / METRES_PER_DEGREE, "distance": distance_m},
    ).fetchall()
    return {str(i): float(n) for i, n in rows}


def _bpe_counts(connection: duckdb.DuckDBPyConnection, parameters: BpeParameters) -> dict[str, float]:
    key = parameters.perimetre
    unknown = connection.execute(
        f"SELECT id, {key} FROM ensembles_classement WHERE {key} NOT IN (SELECT DISTINCT {key} FROM bpe) ORDER BY id"
    ).fetchall()
    if unknown:
        where = ", ".join(f"« {i} » ({code})" for i, code in unknown[:5])
        hint = " ; pour Paris, Lyon et Marseille, donnez le code de l'arrondissement" if key == "commune" else ""
        raise ClassementError(f"code {key} absent de la BPE chargée pour : {where}{hint}.")
    missing = connection.execute(
        "SELECT unnest($types) EXCEPT SELECT DISTINCT typequ FROM bpe", {"types": parameters.types}
    ).fetchall()
    if missing:
        raise ClassementError(
            f"type(s) d'équipement absent(s) de la BPE chargée : {', '.join(sorted(m[0] for m in missing))}."
        )
    rows = connection.execute(
        f"""SELECT e.id, coalesce(sum(b.nombre), 0)
            FROM ensembles_classement e
            LEFT JOIN bpe b ON b.{key} = e.{key} AND list_contains($types, b.typequ)
            GROUP BY e.id""",
        {"types": parameters.types},
    ).fetchall()
    return {str(i): float(n) for i, n in rows}


def _qpv_membership(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Even-odd ray casting over every ring edge: a point is inside a QPV if an eastward ray crosses its
    boundary an odd number of times (holes and multi-polygons included)."""
    rows = connection.execute(
        """SELECT inside.id, min(inside.code || ' (' || q.nom || ')')
           FROM (SELECT e.id, a.code
                 FROM ensembles_classement e
                 JOIN qpv_aretes a
                   ON (a.y1 > e.lat) <> (a.y2 > e.lat)
                  AND e.lon < (a.x2 - a.x1) * (e.lat - a.y1) / (a.y2 - a.y1) + a.x1
                 GROUP BY e.id, a.code
                 HAVING count(*) % 2 = 1) AS inside
           JOIN qpv q ON q.code = inside.code
           GROUP BY inside.id"""
    ).fetchall()
    return {str(i): str(label) for i, label in rows}


def _landlord_value(criterion: Criterion, row: dict[str, Any], key: str) -> tuple[float | None, str]:
    value = row.get(key)
    label = LANDLORD_FIELDS.get(key, criterion.libelle)
    if value is None or value == "":
        return None, f"{label} : non renseigné"
    where = f"ensemble « {row['id']} », critère « {criterion.nom} », champ « {key} »"
    if criterion.source == "saisie":
        try:
            return entered_value(criterion, value)
        except ValueError as error:
            raise ClassementError(f"{where} : {error}.") from None
    if key == "ascenseur":
        text = str(value).strip().lower()
        if isinstance(value, bool) or text in _TRUE | _FALSE:
            flag = value if isinstance(value, bool) else text in _TRUE
            return float(flag), f"{label} : {'oui' if flag else 'non'}"
        raise ClassementError(f"{where} : valeur « {value} » (oui ou non attendu).")
    if key == "etiquette_dpe":
        letter = str(value).strip().upper()
        if len(letter) != 1 or letter not in DPE_LABELS:
            raise ClassementError(f"{where} : étiquette « {value} » (de A à G attendu).")
        return float(DPE_LABELS.index(letter) + 1), f"{label} : {letter}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ClassementError(f"{where} : valeur non numérique « {value} ».") from None
    unit = " %" if key.startswith("taux_") else ""
    shown = str(int(number)) if key == "annee_construction" else fr_number(number)
    return number, f"{label} : {shown}{unit}"


def entered_value(criterion: Criterion, raw: Any) -> tuple[float | None, str]:
    """A hand-entered value checked against the criterion's declared levels or bounds (`ValueError` in French)."""
    if raw is None or str(raw).strip() == "":
        return None, f"{criterion.libelle} : non renseigné"
    parameters: EnteredParameters = criterion.parameters
    number = parameters.check(raw)
    return number, f"{criterion.libelle} (saisi) : {parameters.label(number)}"


def criterion_score(ensemble_id: str, criterion: Criterion, value: float | None, text: str) -> CriterionScore:
    points = 0.0 if value is None else criterion.bareme.apply(value)
    return CriterionScore(
        ensemble_id,
        criterion.nom,
        criterion.libelle,
        value,
        points,
        criterion.poids,
        points * criterion.poids,
        f"{text} → {fr_points(points)}",
    )


def _raw_values(
    criterion: Criterion, rows: list[dict[str, Any]], references: ReferenceData
) -> dict[str, tuple[float | None, str]]:
    connection = references.connection
    parameters = criterion.parameters
    if criterion.source in ("bpe", "arrets", "qpv") and criterion.source not in references.loaded:
        raise ClassementError(
            f"critère « {criterion.nom} » : la source « {criterion.source} » n'a pas été chargée "
            "(fichier de référence à fournir)."
        )
    if criterion.source == "arrets":
        counts = _stops_counts(connection, parameters.distance_m)
        return {
            i: (n, f"{int(n)} arrêt{'s' if n >= 2 else ''} à moins de {fr_number(parameters.distance_m)} m")
            for i, n in counts.items()
        }
    if criterion.source == "bpe":
        counts = _bpe_counts(connection, parameters)
        scope = {str(r["id"]): r["commune"] if parameters.perimetre == "commune" else r["iris"] for r in rows}
        where = "la commune" if parameters.perimetre == "commune" else "l'IRIS"
        return {
            i: (
                n,
                f"{fr_number(n)} équipement{'s' if n >= 2 else ''} ({', '.join(parameters.types)}) "
                f"dans {where} {scope[i]}",
            )
            for i, n in counts.items()
        }
    if criterion.source == "qpv":
        inside = _qpv_membership(connection)
        return {
            str(r["id"]): (1.0, f"dans le QPV {inside[str(r['id'])]}") if str(r["id"]) in inside else (0.0, "hors QPV")
            for r in rows
        }
    return {str(r["id"]): _landlord_value(criterion, r, parameters.champ) for r in rows}


def _check_overrides(overrides: Sequence[Override], grid: Grid, ids: set[str]) -> dict[str, Override]:
    by_id: dict[str, Override] = {}
    classes = [c.nom for c in grid.classes]
    for override in overrides:
        what = f"forçage de l'ensemble « {override.ensemble_id} » en classe « {override.classe} »"
        if not override.motif or not override.motif.strip():
            raise ClassementError(f"{what} refusé : le motif est obligatoire.")
        if override.classe not in classes:
            raise ClassementError(f"{what} refusé : classe inconnue de la grille (classes : {', '.join(classes)}).")
        if override.ensemble_id not in ids:
            raise ClassementError(f"{what} refusé : ensemble absent des ensembles classés.")
        if override.ensemble_id in by_id:
            raise ClassementError(f"{what} refusé : l'ensemble est déjà forcé.")
        by_id[override.ensemble_id] = override
    return by_id


def score(
    ensembles: Iterable[dict[str, Any]] | duckdb.DuckDBPyRelation,
    grid: Grid,
    references: ReferenceData,
    overrides: Sequence[Override] = (),
    on: date | None = None,
) -> Scoring:
    """Score every ensemble on every criterion of the grid, propose a class and apply the overrides."""
    if on is not None and not grid.valide_du <= on <= grid.valide_au:
        raise ClassementError(
            f"grille version {grid.version} valable du {grid.valide_du:%d/%m/%Y} au {grid.valide_au:%d/%m/%Y}, "
            f"pas au {on:%d/%m/%Y}."
        )
    rows = _rows(ensembles)
    _check_ensembles(rows, grid)
    forced = _check_overrides(overrides, grid, {str(r["id"]) for r in rows})
    _register(references.connection, rows)
    result = Scoring(grid.version)
    totals = {str(r["id"]): 0.0 for r in rows}
    for criterion in grid.criteres:
        values = _raw_values(criterion, rows, references)
        for row in rows:
            ensemble_id = str(row["id"])
            detail = criterion_score(ensemble_id, criterion, *values[ensemble_id])
            totals[ensemble_id] += detail.weighted_points
            result.details.append(detail)
    references.connection.execute("DROP TABLE ensembles_classement")
    for ensemble_id, total in totals.items():
        proposed = grid.class_for(total)
        override = forced.get(ensemble_id)
        result.ensembles.append(
            EnsembleScore(
                ensemble_id,
                round(total, 6),
                proposed,
                override.classe if override else proposed,
                override.motif.strip() if override else None,
            )
        )
    return result
