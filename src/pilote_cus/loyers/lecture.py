"""What the rent pages read: the landlord's dwellings from the current RPLS snapshot, classed by the adopted
classement, as the input of `loyers_maximaux`; and the households of an uploaded file for the SLS simulation.

Mapping rule: a dwelling takes the class (retained, else proposed) of the adopted version's ensemble whose `id`
equals the dwelling's RPLS `ensemble_id` written as text; a dwelling whose ensemble has no class is listed and
left out of the redistribution. Surface: SURFMODE, the surface the APL convention's maximum rent is expressed on
(MODESURF 1 utile, 2 corrigée, 3 habitable), SURFHAB when MODESURF is 9 or empty; so that current maximum rent
per m² × surface gives back LOYERMAXAPL (or LOYERMAXCUS) to the cent. Parameters: `lecture.toml`.
"""

import csv
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from ..declarations import load
from ..entrepot.entrepot import NoSnapshot, Warehouse
from .loyers_maximaux import parameters as rent_parameters
from .plafonds import ZONES
from .simulation import FLAGS, HOUSEHOLD_FIELDS

BASES = {"apl": "loyermaxapl", "cus": "loyermaxcus"}
BASE_LABELS = {
    "apl": "loyer maximal de la convention APL (LOYERMAXAPL)",
    "cus": "loyer maximal de la CUS en vigueur (LOYERMAXCUS)",
}


class LectureError(ValueError):
    """Nothing to simulate (no snapshot, no adopted classement, no dwelling); the message is French."""


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    taille_max_menages_mo: int
    erreurs_affichees: int
    modes_surface: dict[str, str]
    financement_par_finan: dict[str, str]


@cache
def parameters() -> Parameters:
    return load(Parameters, __package__, "lecture.toml")


@dataclass(frozen=True)
class Dwellings:
    """The landlord's dwellings ready for `redistribute`, and what was left out (with why)."""

    logements: pa.Table  # DWELLING_COLUMNS + programme, depcom, mode_surface
    instantane: str
    millesime: int
    sans_classe: list[dict[str, Any]]  # ensemble_id, programme, depcom, logements: ensembles without a class
    ecartes: dict[str, int]  # reason → dwellings left out for a missing surface, maximum rent or financing
    total_en_stock: int

    @property
    def masse_actuelle(self) -> float:
        con = duckdb.connect()
        con.register("l", self.logements)
        row = con.sql("SELECT coalesce(sum(surface * loyer_max_m2), 0) FROM l").fetchone()
        return round(float(row[0]) if row else 0.0, 2)


def ensemble_classes(resultats: Mapping[str, Any]) -> dict[str, str]:
    """Ensemble id → class of a classement's results (the retained class, else the proposed one)."""
    classes: dict[str, str] = {}
    for e in resultats.get("ensembles", []):
        classe = e.get("classe_retenue") or e.get("classe_proposee")
        if classe:
            classes[str(e["id"])] = str(classe)
    return classes


def _mapping_table(mapping: Mapping[str, str], key: str, value: str) -> pa.Table:
    return pa.table(
        {key: list(mapping), value: list(mapping.values())},
        schema=pa.schema([(key, pa.string()), (value, pa.string())]),
    )


def read_dwellings(data_dir: Path, organisme_code: str, classes: Mapping[str, str], base: str = "apl") -> Dwellings:
    """The dwellings in stock of `organisme_code` in the current RPLS snapshot, with their ensemble's class."""
    if base not in BASES:
        raise LectureError(f"Base du loyer maximal inconnue « {base} » (apl ou cus).")
    try:
        snapshot = Warehouse(data_dir).current("rpls")
    except NoSnapshot:
        raise LectureError(
            "Aucun instantané RPLS dans l'entrepôt : importez d'abord votre fichier RPLS (page « Imports »)."
        ) from None
    path = snapshot.table("logements")
    params = parameters()
    financing_by_cus = {code: name for name, code in rent_parameters().codes_cus.items()}
    con = duckdb.connect()
    con.register("par_cus", _mapping_table(financing_by_cus, "code", "financement"))
    con.register("par_finan", _mapping_table(params.financement_par_finan, "code", "financement"))
    con.register("modes", _mapping_table(params.modes_surface, "code", "libelle"))
    con.register("classes", _mapping_table(classes, "ensemble_id", "classe"))
    con.execute(
        f"""
        CREATE TEMP TABLE lus AS
        SELECT coalesce(p.ident_rep, p.ident_int) AS logement_id, CAST(p.ensemble_id AS VARCHAR) AS ensemble_id,
               p.complgeo AS programme, p.depcom,
               CASE WHEN m.code IS NOT NULL AND p.surfmode > 0 THEN p.surfmode ELSE p.surfhab END AS surface,
               CASE WHEN m.code IS NOT NULL AND p.surfmode > 0 THEN m.libelle ELSE 'habitable' END AS mode_surface,
               coalesce(c.financement, f.financement) AS financement,
               p.{BASES[base]} AS loyer_max_mensuel,
               CASE WHEN p.loyerprinc > 0 AND p.loyerprinc < 9999 THEN p.loyerprinc END AS loyer,
               k.classe
        FROM read_parquet(?) p
        LEFT JOIN modes m ON m.code = p.modesurf
        LEFT JOIN par_cus c ON c.code = p.cus
        LEFT JOIN par_finan f ON f.code = p.finan
        LEFT JOIN classes k ON k.ensemble_id = CAST(p.ensemble_id AS VARCHAR)
        WHERE p.organisme_id = ? AND p.en_stock""",
        [str(path), organisme_code],
    )
    total = _count(con, "SELECT count(*) FROM lus")
    if total == 0:
        raise LectureError(
            f"Aucun logement en stock de l'organisme {organisme_code} dans l'instantané RPLS {snapshot.id}."
        )
    ecartes = {
        "surface absente ou nulle": _count(con, "SELECT count(*) FROM lus WHERE NOT coalesce(surface > 0, false)"),
        f"{BASE_LABELS[base]} absent ou nul": _count(
            con, "SELECT count(*) FROM lus WHERE surface > 0 AND NOT coalesce(loyer_max_mensuel > 0, false)"
        ),
        "financement inconnu (champs CUS et FINAN)": _count(
            con, "SELECT count(*) FROM lus WHERE surface > 0 AND loyer_max_mensuel > 0 AND financement IS NULL"
        ),
    }
    sans_classe = [
        dict(zip(("ensemble_id", "programme", "depcom", "logements"), row, strict=True))
        for row in con.sql("""
            SELECT coalesce(ensemble_id, '(sans ensemble)'), any_value(programme), any_value(depcom), count(*)
            FROM lus WHERE classe IS NULL GROUP BY 1 ORDER BY 4 DESC, 1""").fetchall()
    ]
    logements = con.sql("""
        SELECT logement_id, ensemble_id, classe, financement, surface,
               loyer_max_mensuel / surface AS loyer_max_m2, loyer, programme, depcom, mode_surface
        FROM lus
        WHERE classe IS NOT NULL AND surface > 0 AND loyer_max_mensuel > 0 AND financement IS NOT NULL
        ORDER BY logement_id""").to_arrow_table()
    return Dwellings(logements, snapshot.id, snapshot.vintage, sans_classe, ecartes, total)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.sql(sql).fetchone()
    return int(row[0]) if row else 0


# --- households file of the SLS simulation ----------------------------------------------------------------

FINANCINGS = ("PLAI", "PLUS", "PLS", "PLI")
TRUE, FALSE = {"1", "oui", "o", "vrai", "true", "x"}, {"", "0", "non", "n", "faux", "false"}
HOUSEHOLD_COLUMNS = (*HOUSEHOLD_FIELDS, *FLAGS)
COLUMN_HELP = {
    "menage_id": "identifiant du ménage (texte, unique)",
    "surface": "surface habitable du logement en m² (nombre > 0)",
    "ressources": "ressources annuelles du ménage en € (revenu fiscal de référence N-2, nombre ≥ 0 ; vide "
    "seulement pour un ménage sans réponse à l'enquête ou bénéficiaire de l'APL)",
    "categorie": "catégorie de ménage (entier de 1 à 6, au-delà : personnes supplémentaires)",
    "zone_plafonds": "zone des plafonds de ressources : paris, idf ou autres",
    "zone_sls": "zone du SLS (supplément de loyer de référence) : 1, 2, 3 ou 4",
    "financement": "financement du logement : PLAI, PLUS, PLS ou PLI",
    "loyer": "loyer principal mensuel en € (vide : pas de plafonnement à 30 %)",
    "qpv": "logement en QPV : oui / non (facultative)",
    "zrr": "logement en zone de revitalisation rurale : oui / non (facultative)",
    "exoneration_plh": "zone exonérée par le PLH : oui / non (facultative)",
    "apl": "ménage bénéficiaire de l'APL, non enquêté : oui / non (facultative)",
    "sans_reponse": "ménage sans réponse à l'enquête sur les ressources (SLS forfaitaire) : oui / non (facultative)",
}


@dataclass(frozen=True)
class RowError:
    ligne: int
    colonne: str
    valeur: str
    message: str

    def __str__(self) -> str:
        return f"ligne {self.ligne}, colonne « {self.colonne} », valeur « {self.valeur} » : {self.message}"


@dataclass
class HouseholdsError(ValueError):
    """A rejected households file: a general message and, when the rows are at fault, the first row errors."""

    message: str
    erreurs: list[RowError] = field(default_factory=list)
    total: int = 0

    def __str__(self) -> str:
        return self.message


def _number(text: Any) -> float:
    if isinstance(text, bool):
        raise ValueError
    if isinstance(text, int | float):
        value = float(text)
    else:
        value = float(str(text).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", "."))
    if not math.isfinite(value):
        raise ValueError
    return value


def _cell(column: str, raw: Any) -> Any:
    """The value of one cell, or ValueError with the French reason."""
    text = "" if raw is None else str(raw).strip()
    if column == "menage_id":
        if not text:
            raise ValueError("identifiant vide")
        return text
    if column in FLAGS:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ValueError("oui ou non attendu")
    if column == "zone_plafonds":
        if text.lower() not in ZONES:
            raise ValueError(f"zone attendue parmi {', '.join(ZONES)}")
        return text.lower()
    if column == "financement":
        if text.upper() not in FINANCINGS:
            raise ValueError(f"financement attendu parmi {', '.join(FINANCINGS)}")
        return text.upper()
    if column in ("loyer", "ressources") and not text:
        return None  # ressources: checked with the row's flags (only a household without answer or with APL)
    try:
        value = _number(raw if isinstance(raw, int | float) else text)
    except ValueError:
        raise ValueError("nombre attendu") from None
    if column in ("categorie", "zone_sls"):
        if not value.is_integer() or value < 1 or (column == "zone_sls" and value > 4):
            raise ValueError("entier de 1 à 4 attendu" if column == "zone_sls" else "entier ≥ 1 attendu")
        return int(value)
    if column == "surface" and value <= 0:
        raise ValueError("surface strictement positive attendue")
    if value < 0:
        raise ValueError("nombre positif ou nul attendu")
    return value


def _csv_rows(content: bytes, name: str) -> Iterator[list[Any]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            raise HouseholdsError(f"{name} : fichier illisible (encodage UTF-8 attendu).") from None
    first = text.split("\n", 1)[0]
    yield from csv.reader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ",")


def _xlsx_rows(content: bytes, name: str) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types on a damaged file
        raise HouseholdsError(f"{name} : classeur XLSX illisible.") from None
    try:
        sheet = book.worksheets[0]
        yield from sheet.iter_rows(values_only=True)
    finally:
        book.close()


def raw_ressources_empty(raw: Sequence[Any], positions: dict[str, int]) -> bool:
    """The ressources cell is empty (not merely invalid: an invalid value already has its own error)."""
    position = positions["ressources"]
    cell = raw[position] if position < len(raw) else None
    return cell is None or str(cell).strip() == ""


def read_households(content: bytes, name: str) -> pa.Table:
    """The households of a CSV (`;` or `,`) or XLSX file (first sheet), one row per household, validated:
    every error names the row, the column and the value; nothing is kept of a rejected file."""
    params = parameters()
    if len(content) > params.taille_max_menages_mo * 1024 * 1024:
        raise HouseholdsError(f"{name} : fichier trop volumineux ({params.taille_max_menages_mo} Mo au plus).")
    is_xlsx = name.lower().endswith(".xlsx") or content[:2] == b"PK"
    rows = _xlsx_rows(content, name) if is_xlsx else _csv_rows(content, name)
    header = next(rows, None)
    if not header:
        raise HouseholdsError(f"{name} : fichier vide.")
    columns = [str(c or "").strip().lower() for c in header]
    missing = [c for c in HOUSEHOLD_FIELDS if c not in columns]
    if missing:
        raise HouseholdsError(
            f"{name} : colonne(s) absente(s) : {', '.join(missing)} (colonnes attendues : "
            f"{', '.join(HOUSEHOLD_COLUMNS)} ; les {len(FLAGS)} dernières sont facultatives)."
        )
    positions = {c: columns.index(c) for c in HOUSEHOLD_COLUMNS if c in columns}
    values: dict[str, list[Any]] = {c: [] for c in HOUSEHOLD_COLUMNS}
    errors: list[RowError] = []
    total_errors = 0
    seen: set[str] = set()
    for number, raw in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in raw):
            continue
        for column in HOUSEHOLD_COLUMNS:
            position = positions.get(column)
            cell = raw[position] if position is not None and position < len(raw) else None
            try:
                value = _cell(column, cell)
                if column == "menage_id":
                    if value in seen:
                        raise ValueError("identifiant déjà présent plus haut dans le fichier")
                    seen.add(value)
            except ValueError as error:
                total_errors += 1
                if len(errors) < params.erreurs_affichees:
                    errors.append(RowError(number, column, "" if cell is None else str(cell), str(error)))
                value = None
            values[column].append(value)
        ressources_missing = values["ressources"][-1] is None and raw_ressources_empty(raw, positions)
        if ressources_missing and not (values["sans_reponse"][-1] or values["apl"][-1]):
            total_errors += 1
            if len(errors) < params.erreurs_affichees:
                message = "nombre attendu (vide seulement pour un ménage sans réponse à l'enquête ou à l'APL)"
                errors.append(RowError(number, "ressources", "", message))
    if total_errors:
        raise HouseholdsError(
            f"{name} : {total_errors} erreur(s) ; aucun ménage n'a été simulé. Corrigez le fichier et "
            "téléversez-le de nouveau.",
            errors,
            total_errors,
        )
    if not seen:
        raise HouseholdsError(f"{name} : aucun ménage dans le fichier.")
    return pa.table(values)
