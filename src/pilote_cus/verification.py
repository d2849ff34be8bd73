"""`cus verifier`: load every declaration shipped as data and check it against the warehouse schema.

Errors name the file, the entry and what is wrong (unknown key, unknown column, bad SQL).
"""

import duckdb

from .declarations import DeclarationError
from .evenements.controles import ERROR_CODES, date_order_problems
from .evenements.schema import event_schemas
from .imports.erreurs import catalogue
from .patrimoine import etat_des_lieux
from .patrimoine.import_rpls import DERIVED, DERIVED_TYPES, SQL_TYPES
from .patrimoine.schema import SchemaError, rpls_schema


def _empty_dwellings(con: duckdb.DuckDBPyConnection) -> None:
    schema = rpls_schema()
    columns = [f'"{c.field}" {SQL_TYPES.get(c.type, "VARCHAR")}' for c in schema.colonnes]
    columns += [f"{name} {DERIVED_TYPES[name]}" for name in DERIVED]
    con.execute(f"CREATE TABLE logements ({', '.join(columns)})")


def verify() -> list[str]:
    """Problems found, as French sentences; empty when everything is consistent."""
    problems: list[str] = []
    try:
        catalogue()
    except ValueError as error:
        problems.append(str(error))
    try:
        rpls_schema()
    except SchemaError as error:
        problems.append(str(error))
    problems += _event_problems()
    problems += _indicator_problems()
    try:
        decl = etat_des_lieux.declaration()
    except DeclarationError as error:
        return [*problems, str(error)]
    con = duckdb.connect()
    _empty_dwellings(con)
    for breakdown in decl.repartitions:
        for modality in breakdown.modalites:
            _check(
                con,
                f"count(*) FILTER (WHERE {modality.condition})",
                f"etat_des_lieux.toml : répartition {breakdown.variable}, modalité {modality.code}",
                problems,
            )
    for ratio in decl.ratios:
        where = f"etat_des_lieux.toml : ratio {ratio.variable}/{ratio.modalite}"
        for part, sql in (("numérateur", ratio.numerateur), ("dénominateur", ratio.denominateur)):
            _check(con, sql.format(annee_precedente=2000), f"{where}, {part}", problems)
        for column in ratio.requiert:
            _check(con, f"count({column})", f"{where}, colonne requise", problems)
    return problems


def _indicator_problems() -> list[str]:
    """The indicator catalogue loads: fields, units, and SQL reading only known tables and columns."""
    from .indicateurs.catalogue import load_catalogue

    try:
        indicators = load_catalogue().indicators
    except DeclarationError as error:
        return [f"catalogue des indicateurs : {error}"]
    return [] if indicators else ["catalogue des indicateurs : aucune déclaration"]


def _event_problems() -> list[str]:
    """Every event schema loads; the importer's date orders and error codes refer to what exists."""
    try:
        schemas = event_schemas()
    except (DeclarationError, ValueError) as error:
        return [f"schémas des fichiers d'événements : {error}"]
    problems = date_order_problems(schemas)
    known = catalogue()
    problems += [
        f"evenements/controles.py : code {code} absent du catalogue" for code in ERROR_CODES if code not in known
    ]
    return problems


def _check(con: duckdb.DuckDBPyConnection, expression: str, where: str, problems: list[str]) -> None:
    try:
        con.execute(f"SELECT {expression} FROM logements")
    except duckdb.Error as error:
        problems.append(f"{where} : {str(error).splitlines()[0]}")
