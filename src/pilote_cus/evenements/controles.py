"""The checks applied to every value of an event file, generated as SQL from its schema.

Each declared column gets a typed expression (the raw text turned into its SQL type, NULL when it does not
parse) and anomaly conditions (true when the value is wrong), each tied to a code of the error catalogue.
Values are not trimmed (as for the RPLS, decision 0002): « ` oui` » is refused and shown between quotes.
"""

from dataclasses import dataclass
from pathlib import Path

from ..entrepot.entrepot import Snapshot
from ..geographie.referentiel import COMMUNE_PATTERN
from ..imports.erreurs import catalogue
from .schema import EventColumn, EventSchema

DEPARTEMENT_PATTERN = r"^(0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5])$|^97[12346]$"
DECIMAL_PATTERN = r"-?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][-+]?[0-9]+)?"
TRUE_WORDS = ("1", "oui", "o", "vrai", "true")
FALSE_WORDS = ("0", "non", "n", "faux", "false")
# Plausibility of dates and years when the schema gives no bounds (not a regulation: a typing guard).
FIRST_DATE, LAST_DATE = "1900-01-01", "2100-12-31"
FIRST_YEAR, LAST_YEAR = 1800, 2100
# Pairs (earlier, later) that cannot be in the other order on one line, by schema.
DATE_ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "vacances": (("date_debut", "date_fin"),),
    "reclamations": (("date_reception", "date_reponse"), ("date_reception", "date_cloture")),
    "equipements": (("annee_mise_en_service", "annee_retrait"),),
}
# Every code an event import may report, in the order the documentation lists them.
ERROR_CODES = (
    "FICHIER_INTROUVABLE",
    "FICHIER_VIDE",
    "FICHIER_BINAIRE",
    "FORMAT_NON_PRIS_EN_CHARGE",
    "CLASSEUR_ILLISIBLE",
    "ENCODAGE_MIXTE",
    "ENCODAGE_NON_RECONNU",
    "ENTETE_NON_RECONNU",
    "COLONNE_OBLIGATOIRE_ABSENTE",
    "COLONNE_EN_DOUBLE",
    "COLONNE_SANS_NOM",
    "NOMBRE_CHAMPS",
    "GUILLEMETS",
    "LIGNE_ILLISIBLE",
    "AUCUNE_LIGNE",
    "VALEUR_OBLIGATOIRE_ABSENTE",
    "LONGUEUR_MAX_DEPASSEE",
    "ENTIER_INVALIDE",
    "NOMBRE_INVALIDE",
    "HORS_BORNES",
    "ANNEE_INCORRECTE",
    "DATE_JOUR_INVALIDE",
    "BOOLEEN_INVALIDE",
    "CODE_INCONNU",
    "COMMUNE_INVALIDE",
    "COMMUNE_INCONNUE",
    "DEPARTEMENT_INVALIDE",
    "DATES_INCOHERENTES",
    "CLE_EN_DOUBLE",
)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def known_communes(cogs: list[Snapshot]) -> str:
    """SQL of the commune codes of the loaded COG snapshots."""
    paths = ", ".join(f"'{sql_path(s.table('communes'))}'" for s in cogs)
    return f"(SELECT code FROM read_parquet([{paths}]))"


def key_filter(schema: EventSchema) -> str:
    """Rows whose key can be compared: its mandatory columns parsed (invalid values are reported apart)."""
    declared = schema.by_name()
    mandatory = [quote(n) for n in schema.cle if declared[n].obligatoire]
    return " AND ".join(f"{n} IS NOT NULL" for n in mandatory) or "true"


def typed_column(name: str) -> str:
    """Name of the typed twin of a raw column in the validation query."""
    return quote(name + "__t")


def typed_expression(column: EventColumn, v: str) -> str:
    """SQL turning the raw text `v` into the column's type; NULL when it does not parse."""
    kind = column.type
    if kind == "entier":
        return f"CASE WHEN regexp_full_match({v}, '-?[0-9]+') THEN TRY_CAST({v} AS INTEGER) END"
    if kind == "decimal":
        return (
            f"CASE WHEN regexp_full_match({v}, '{DECIMAL_PATTERN}') THEN TRY_CAST(replace({v}, ',', '.') AS DOUBLE) END"
        )
    if kind == "annee":
        return f"CASE WHEN regexp_full_match({v}, '[0-9]{{4}}') THEN TRY_CAST({v} AS SMALLINT) END"
    if kind == "date":
        return (
            f"CAST(CASE WHEN length({v}) = 10 THEN coalesce(try_strptime({v}, '%Y-%m-%d'), "
            f"try_strptime({v}, '%d/%m/%Y')) END AS DATE)"
        )
    if kind == "booleen":
        return (
            f"CASE WHEN list_contains({sql_list(TRUE_WORDS)}, lower({v})) THEN true "
            f"WHEN list_contains({sql_list(FALSE_WORDS)}, lower({v})) THEN false END"
        )
    if kind == "code":  # codes are matched whatever their case, and stored as declared
        upper = tuple(code.upper() for code in column.codes)
        return f"{sql_list(column.codes)}[list_position({sql_list(upper)}, upper({v}))]"
    return v


@dataclass(frozen=True)
class Check:
    """One anomaly condition: true on a line where `column` is wrong."""

    column: str
    code: str
    condition: str
    other: str = "NULL"  # SQL of a related column and its value, shown in the message


def _bounds(column: EventColumn) -> tuple[float | None, float | None]:
    if column.type == "annee":
        low = column.minimum if column.minimum is not None else FIRST_YEAR
        high = column.maximum if column.maximum is not None else LAST_YEAR
        return low, high
    return column.minimum, column.maximum


def column_checks(column: EventColumn, v: str, t: str) -> list[Check]:
    name, kind = column.nom, column.type
    blank = f"(starts_with({v}, ' ') AND trim({v}) = '')"
    given = f"{v} IS NOT NULL AND NOT {blank}"
    checks = []
    if column.obligatoire:
        checks.append(Check(name, "VALEUR_OBLIGATOIRE_ABSENTE", f"{v} IS NULL OR {blank}"))
    if column.longueur_max:
        checks.append(Check(name, "LONGUEUR_MAX_DEPASSEE", f"length({v}) > {column.longueur_max}"))
    invalid = {
        "entier": "ENTIER_INVALIDE",
        "decimal": "NOMBRE_INVALIDE",
        "annee": "ANNEE_INCORRECTE",
        "date": "DATE_JOUR_INVALIDE",
        "booleen": "BOOLEEN_INVALIDE",
        "code": "CODE_INCONNU",
    }
    if kind in invalid:
        wrong = f"{t} IS NULL" + (f" OR NOT isfinite({t})" if kind == "decimal" else "")
        if kind == "date":
            wrong += f" OR {t} < DATE '{FIRST_DATE}' OR {t} > DATE '{LAST_DATE}'"
        checks.append(Check(name, invalid[kind], f"{given} AND ({wrong})"))
    elif kind == "commune":
        checks.append(Check(name, "COMMUNE_INVALIDE", f"{given} AND NOT regexp_full_match({v}, '{COMMUNE_PATTERN}')"))
    elif kind == "departement":
        checks.append(
            Check(name, "DEPARTEMENT_INVALIDE", f"{given} AND NOT regexp_full_match({v}, '{DEPARTEMENT_PATTERN}')")
        )
    low, high = _bounds(column)
    if kind in ("entier", "decimal", "annee") and (low is not None or high is not None):
        outside = " OR ".join(
            part
            for part in (f"{t} < {low}" if low is not None else "", f"{t} > {high}" if high is not None else "")
            if part
        )
        code = "ANNEE_INCORRECTE" if kind == "annee" else "HORS_BORNES"
        finite = f"isfinite({t})" if kind == "decimal" else f"{t} IS NOT NULL"
        checks.append(Check(name, code, f"{finite} AND ({outside})"))
    return checks


def order_checks(schema: EventSchema, present: set[str]) -> list[Check]:
    """Later date (or year) before the earlier one on the same line."""
    checks = []
    for earlier, later in DATE_ORDER.get(schema.nom, ()):
        if earlier in present and later in present:
            condition = f"{typed_column(later)} < {typed_column(earlier)}"
            shown = f"concat('{earlier} (« ', {quote(earlier)}, ' »)')"
            checks.append(Check(later, "DATES_INCOHERENTES", condition, other=shown))
    return checks


def date_order_problems(schemas: dict[str, EventSchema]) -> list[str]:
    """DATE_ORDER entries that do not name two date or year columns of a declared schema."""
    problems = []
    for name, pairs in DATE_ORDER.items():
        columns = schemas[name].by_name() if name in schemas else None
        for pair in pairs:
            if columns is None or any(c not in columns or columns[c].type not in ("date", "annee") for c in pair):
                problems.append(f"evenements/controles.py : ordre de dates {name} {pair} : colonnes inconnues")
    return problems


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _detail(column: EventColumn, code: str, value: str | None) -> str:
    low, high = _bounds(column)
    if code in ("HORS_BORNES", "ANNEE_INCORRECTE"):
        prefix = " (attendu : aaaa," if code == "ANNEE_INCORRECTE" else " (attendu :"
        if low is not None and high is not None:
            return f"{prefix} de {_number(low)} à {_number(high)})"
        return f"{prefix} au moins {_number(low)})" if low is not None else f"{prefix} au plus {_number(high or 0)})"
    return {
        "CODE_INCONNU": f" (codes admis : {', '.join(column.codes)})",
        "DATE_JOUR_INVALIDE": f" (attendu : aaaa-mm-jj ou jj/mm/aaaa, de {FIRST_DATE[:4]} à {LAST_DATE[:4]})",
        "BOOLEEN_INVALIDE": " (attendu : 1 ou 0, oui ou non, o ou n, vrai ou faux, true ou false)",
        "LONGUEUR_MAX_DEPASSEE": f" ({len(value or '')} caractères, au plus {column.longueur_max})",
        "COMMUNE_INVALIDE": " (5 caractères du COG, par exemple 69123, 2A004 ou 97101)",
        "DEPARTEMENT_INVALIDE": " (01 à 95, 2A, 2B, 971 à 974 ou 976)",
        "ENTIER_INVALIDE": " (nombre entier sans décimale)",
        "NOMBRE_INVALIDE": " (nombre, virgule ou point décimal)",
    }.get(code, "")


def message(column: EventColumn, code: str, value: str | None, other: str | None) -> str:
    """The French sentence of one anomaly, e.g. « date_bail = « 31/02/2024 » : date invalide (…). »"""
    if code == "VALEUR_OBLIGATOIRE_ABSENTE":
        return f"{column.nom} : valeur obligatoire absente."
    if code == "DATES_INCOHERENTES":
        return f"{column.nom} = « {value} » : antérieure à {other} sur la même ligne."
    title = catalogue()[code].titre
    return f"{column.nom} = « {value} » : {title[0].lower()}{title[1:]}{_detail(column, code, value)}."
