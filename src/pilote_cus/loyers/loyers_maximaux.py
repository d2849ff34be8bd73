"""Redistribution of the CUS maximum rents by class of service rendered, the masse check, IRL revision and the
impact on each tenant, computed in DuckDB over Arrow tables.

New maximum rent (€/m², monthly) = current maximum rent × coefficient of the ensemble's class; monthly maximum
rent of a dwelling = that × surface, rounded down to the cent so that a masse fitted to the authorised one never
exceeds it. Parameters (CUS codes, +5 % cap, bands) are data: `loyers_maximaux.toml`. Rules:
../shared/domain/LOYERS_SLS_PLAFONDS.md §2; RPLS fields: ../shared/domain/RPLS.md.
"""

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from ..declarations import load
from ..exports import write_table

DWELLING_COLUMNS = ("logement_id", "ensemble_id", "classe", "financement", "surface", "loyer_max_m2", "loyer")


class RentError(ValueError):
    """A rule, a dwelling table or a parameter the redistribution cannot use; the message is French."""


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    majoration_locataire_en_place: float
    tranches_variation_pct: tuple[float, ...]
    codes_cus: dict[str, str]


@cache
def parameters() -> Parameters:
    return load(Parameters, __package__, "loyers_maximaux.toml")


@dataclass(frozen=True)
class ClassRule:
    libelle: str
    coefficient: float


@dataclass(frozen=True)
class Rule:
    """One coefficient per class; the class code is the CUS segment (CODSEGPATRIM), its label LIBSEGPATRIM."""

    classes: dict[str, ClassRule]
    source: str = "règle"

    def scaled(self, factor: float) -> "Rule":
        if not factor > 0:
            raise RentError(f"Facteur d'ajustement invalide : {factor} (strictement positif attendu).")
        return Rule(
            {code: ClassRule(c.libelle, c.coefficient * factor) for code, c in self.classes.items()},
            f"{self.source} × {factor:.6f}",
        )


def rule_from_mapping(data: Mapping[str, Any], source: str = "règle", classes: Sequence[str] = ()) -> Rule:
    """`{"A": {"libelle": "…", "coefficient": 1.1}, …}` (or `{"A": 1.1}`), checked: every class of `classes` has
    a coefficient, coefficients are numbers > 0, codes ≤ 20 characters and labels ≤ 50 (RPLS lengths)."""
    if not data:
        raise RentError(f"{source} : aucune classe déclarée.")
    rules: dict[str, ClassRule] = {}
    for code, value in data.items():
        entry = value if isinstance(value, Mapping) else {"coefficient": value}
        unknown = set(entry) - {"libelle", "coefficient"}
        if unknown:
            raise RentError(f"{source}, classe « {code} » : clé inconnue : {', '.join(sorted(unknown))}.")
        coefficient = entry.get("coefficient")
        if isinstance(coefficient, bool) or not isinstance(coefficient, int | float) or not coefficient > 0:
            raise RentError(
                f"{source}, classe « {code} » : coefficient strictement positif attendu, « {coefficient} »."
            )
        label = str(entry.get("libelle") or f"Classe {code}")
        if not 1 <= len(str(code)) <= 20 or len(label) > 50:
            raise RentError(f"{source}, classe « {code} » : code de 1 à 20 caractères et libellé d'au plus 50.")
        rules[str(code)] = ClassRule(label, float(coefficient))
    missing = sorted(set(classes) - set(rules))
    if missing:
        raise RentError(f"{source} : classe(s) sans coefficient : {', '.join(missing)}.")
    return Rule(rules, source)


def read_rule(path: Path, classes: Sequence[str] = ()) -> Rule:
    """A rule file: one `[classes.CODE]` table per class with `libelle` and `coefficient`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RentError(f"{path} : fichier illisible ({error.strerror or error}).") from None
    except tomllib.TOMLDecodeError as error:
        raise RentError(f"{path} : TOML illisible : {error}") from None
    if set(data) != {"classes"}:
        raise RentError(f"{path} : une seule table attendue, [classes.CODE] (trouvé : {', '.join(sorted(data))}).")
    return rule_from_mapping(data["classes"], str(path), classes)


@dataclass(frozen=True)
class Redistribution:
    logements: pa.Table
    ensembles: pa.Table
    masse_actuelle: float
    masse_nouvelle: float
    masse_nouvelle_exacte: float  # before rounding each dwelling down to the cent
    masse_autorisee: float

    @property
    def respecte_masse(self) -> bool:
        return round(self.masse_nouvelle, 2) <= round(self.masse_autorisee, 2)

    @property
    def depassement(self) -> float:
        return round(max(0.0, self.masse_nouvelle - self.masse_autorisee), 2)

    @property
    def facteur_ajustement(self) -> float:
        """The factor on every coefficient that brings the masse to the authorised one."""
        return self.masse_autorisee / self.masse_nouvelle_exacte

    def message(self) -> str:
        if self.respecte_masse:
            return (
                f"Masse des loyers maximaux : {_euros(self.masse_nouvelle)} par mois, dans la limite autorisée "
                f"de {_euros(self.masse_autorisee)}."
            )
        return (
            f"La nouvelle masse des loyers maximaux ({_euros(self.masse_nouvelle)} par mois) dépasse la masse "
            f"autorisée ({_euros(self.masse_autorisee)}) de {_euros(self.depassement)}. Multipliez les "
            f"coefficients par {self.facteur_ajustement:.6f} pour la respecter."
        )


def _euros(value: float) -> str:
    return f"{value:,.2f} €".replace(",", " ").replace(".", ",")


def _as_table(rows: pa.Table | Sequence[Mapping[str, Any]]) -> pa.Table:
    return rows if isinstance(rows, pa.Table) else pa.Table.from_pylist([dict(r) for r in rows])


def _connect(**tables: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    return con


def _check_dwellings(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    missing = [c for c in DWELLING_COLUMNS if c not in table.column_names]
    if missing:
        raise RentError(f"Logements : colonne(s) absente(s) : {', '.join(missing)}.")
    codes = ", ".join(f"'{c}'" for c in parameters().codes_cus)
    bad = con.sql(f"""
        SELECT logement_id, CASE
            WHEN surface IS NULL OR surface <= 0 THEN 'surface'
            WHEN loyer_max_m2 IS NULL OR loyer_max_m2 <= 0 THEN 'loyer_max_m2'
            WHEN financement IS NULL OR financement NOT IN ({codes}) THEN 'financement'
            WHEN classe IS NULL THEN 'classe' END AS colonne
        FROM logements WHERE colonne IS NOT NULL ORDER BY logement_id LIMIT 5""").fetchall()
    if bad:
        where = "; ".join(f"logement {ident} : {column}" for ident, column in bad)
        raise RentError(
            f"Logements invalides ({where}) : surface et loyer maximal positifs, classe renseignée, "
            f"financement parmi {', '.join(parameters().codes_cus)} attendus."
        )


def redistribute(
    dwellings: pa.Table | Sequence[Mapping[str, Any]], rule: Rule, masse_autorisee: float
) -> Redistribution:
    """New maximum rent per dwelling and ensemble under `rule`, and the masse check (monthly euros)."""
    table = _as_table(dwellings)
    classes = pa.Table.from_pylist(
        [{"classe": k, "libelle_classe": c.libelle, "coefficient": c.coefficient} for k, c in rule.classes.items()],
        schema=pa.schema([("classe", pa.string()), ("libelle_classe", pa.string()), ("coefficient", pa.float64())]),
    )
    con = _connect(logements=table, classes=classes)
    _check_dwellings(con, table)
    missing = [r[0] for r in con.sql("SELECT DISTINCT CAST(classe AS VARCHAR) FROM logements ORDER BY 1").fetchall()]
    missing = [c for c in missing if c not in rule.classes]
    if missing:
        raise RentError(f"{rule.source} : classe(s) sans coefficient : {', '.join(missing)}.")
    dwelling_table = con.sql("""
        SELECT l.logement_id, l.ensemble_id, CAST(l.classe AS VARCHAR) AS classe, c.libelle_classe,
               l.financement, l.surface::DOUBLE AS surface, l.loyer::DOUBLE AS loyer_actuel,
               l.loyer_max_m2::DOUBLE AS loyer_max_m2_actuel, c.coefficient,
               l.loyer_max_m2 * c.coefficient AS loyer_max_m2_exact,
               round(l.loyer_max_m2 * c.coefficient, 2) AS loyer_max_m2,
               floor(round(l.surface * l.loyer_max_m2 * c.coefficient * 100, 6)) / 100 AS loyer_max_mensuel
        FROM logements l JOIN classes c ON c.classe = CAST(l.classe AS VARCHAR)
        ORDER BY l.logement_id""").to_arrow_table()
    con.register("nouveaux", dwelling_table)
    current, new, exact = con.sql("""
        SELECT sum(surface * loyer_max_m2_actuel), sum(loyer_max_mensuel), sum(surface * loyer_max_m2_exact)
        FROM nouveaux""").fetchone() or (0.0, 0.0, 0.0)
    return Redistribution(
        dwelling_table,
        ensembles(dwelling_table),
        round(current or 0.0, 2),
        round(new or 0.0, 2),
        exact or 0.0,
        masse_autorisee,
    )


def ensembles(logements: pa.Table) -> pa.Table:
    """Per ensemble: dwellings, surface, current and new masse, and the new maximum rent per m² (surface-weighted)."""
    return (
        _connect(nouveaux=logements)
        .sql("""
        SELECT ensemble_id, classe, any_value(libelle_classe) AS libelle_classe, count(*) AS logements,
               sum(surface) AS surface, round(sum(surface * loyer_max_m2_actuel), 2) AS masse_actuelle,
               round(sum(loyer_max_mensuel), 2) AS masse_nouvelle,
               round(sum(loyer_max_mensuel) / sum(surface), 2) AS loyer_max_m2
        FROM nouveaux GROUP BY ensemble_id, classe ORDER BY ensemble_id, classe""")
        .to_arrow_table()
    )


def fit_rule(rule: Rule, redistribution: Redistribution) -> Rule:
    """The rule whose coefficients, all multiplied by the same factor, give exactly the authorised masse."""
    return rule.scaled(redistribution.facteur_ajustement)


@dataclass(frozen=True)
class IrlRevision:
    date_effet: date
    variation_pct: float  # IRL variation over the year, e.g. 3.5 for +3.5 %

    def __post_init__(self) -> None:
        if not math.isfinite(self.variation_pct) or self.variation_pct <= -100:
            raise RentError(f"Variation de l'IRL invalide : {self.variation_pct} %.")


def revise_irl(logements: pa.Table, revision: IrlRevision) -> pa.Table:
    """Maximum rents revised with the IRL (same columns, plus `date_revision_irl`)."""
    factor = 1 + revision.variation_pct / 100
    con = _connect(nouveaux=logements)
    return con.execute(
        """
        SELECT * REPLACE (loyer_max_m2_exact * $f AS loyer_max_m2_exact,
                          round(loyer_max_m2_exact * $f, 2) AS loyer_max_m2,
                          floor(round(surface * loyer_max_m2_exact * $f * 100, 6)) / 100 AS loyer_max_mensuel),
               $d::DATE AS date_revision_irl
        FROM nouveaux ORDER BY logement_id""",
        {"f": factor, "d": revision.date_effet},
    ).to_arrow_table()


def impact(logements: pa.Table, revision: IrlRevision | None = None, cap_sitting_tenant: bool = True) -> pa.Table:
    """Rent each tenant would pay under the new maximum rent, and the gap with the current rent.

    A rent above the new maximum comes down to it (gain for the tenant); a rent below it may rise to it (loss),
    at most to the current rent revised with the IRL (`revision`, none = 0 %) + 5 % when `cap_sitting_tenant`.
    `logements` is a redistribution's (or `revise_irl`'s) dwelling table; dwellings without rent are left out.
    """
    irl = 1 + (revision.variation_pct / 100 if revision else 0.0)
    cap = irl * (1 + parameters().majoration_locataire_en_place)
    con = _connect(nouveaux=logements)
    return con.execute(
        """
        WITH applicable AS (
            SELECT logement_id, ensemble_id, classe, surface, loyer_actuel, loyer_max_mensuel,
                   floor(round(loyer_actuel * $cap * 100, 6)) / 100 AS plafond_locataire_en_place,
                   CASE WHEN loyer_actuel >= loyer_max_mensuel OR NOT $capped THEN loyer_max_mensuel
                        ELSE least(loyer_max_mensuel, plafond_locataire_en_place) END AS loyer_applicable
            FROM nouveaux WHERE loyer_actuel IS NOT NULL)
        SELECT logement_id, ensemble_id, classe, surface, loyer_actuel, loyer_max_mensuel, loyer_applicable,
               $capped AND loyer_applicable < loyer_max_mensuel AS plafonne_locataire_en_place,
               round(loyer_applicable - loyer_actuel, 2) AS ecart_mensuel,
               CASE WHEN loyer_actuel > 0 THEN round((loyer_applicable / loyer_actuel - 1) * 100, 2) END
                   AS variation_pct,
               CASE WHEN round(loyer_applicable - loyer_actuel, 2) < 0 THEN 'baisse : gain pour le locataire'
                    WHEN round(loyer_applicable - loyer_actuel, 2) > 0 THEN 'hausse : perte pour le locataire'
                    ELSE 'inchangé' END AS sens
        FROM applicable ORDER BY logement_id""",
        {"cap": cap, "capped": cap_sitting_tenant},
    ).to_arrow_table()


def band_table(bounds: Sequence[float], unit: str = "%") -> pa.Table:
    """Half-open bands [bas, haut) between `bounds`, with French labels, for joins in SQL."""
    edges = [-math.inf, *sorted(bounds), math.inf]
    rows = []
    for order, (low, high) in enumerate(pairwise(edges)):
        if low == -math.inf:
            label = f"moins de {high:g} {unit}"
        elif high == math.inf:
            label = f"{low:g} {unit} et plus"
        else:
            label = f"de {low:g} à moins de {high:g} {unit}"
        rows.append({"ordre": order, "bas": low, "haut": high, "tranche": label})
    return pa.Table.from_pylist(rows)


@dataclass(frozen=True)
class Distribution:
    tranches: pa.Table  # tranche, logements (an unchanged rent has its own band)
    resume: dict[str, Any]  # counts by direction, min / median / max of the gap (€) and of the variation (%)


def distribution(impact_table: pa.Table) -> Distribution:
    con = _connect(impact=impact_table, bandes=band_table(parameters().tranches_variation_pct))
    bands = con.sql("""
        WITH classes AS (
            SELECT CASE WHEN ecart_mensuel = 0 THEN -1 ELSE b.ordre END AS ordre,
                   CASE WHEN ecart_mensuel = 0 THEN 'inchangé' ELSE b.tranche END AS tranche
            FROM impact i JOIN bandes b ON i.variation_pct >= b.bas AND i.variation_pct < b.haut)
        SELECT tranche, count(*) AS logements FROM classes GROUP BY ordre, tranche ORDER BY ordre""").to_arrow_table()
    row = con.sql("""
        SELECT count(*) AS logements,
               count(*) FILTER (WHERE ecart_mensuel < 0) AS baisses,
               count(*) FILTER (WHERE ecart_mensuel > 0) AS hausses,
               count(*) FILTER (WHERE ecart_mensuel = 0) AS inchanges,
               count(*) FILTER (WHERE plafonne_locataire_en_place) AS plafonnes_locataire_en_place,
               min(ecart_mensuel) AS ecart_min, round(median(ecart_mensuel), 2) AS ecart_median,
               max(ecart_mensuel) AS ecart_max, min(variation_pct) AS variation_min_pct,
               round(median(variation_pct), 2) AS variation_mediane_pct, max(variation_pct) AS variation_max_pct
        FROM impact""").to_arrow_table()
    return Distribution(bands, row.to_pylist()[0])


def rpls_fields(logements: pa.Table) -> pa.Table:
    """The RPLS fields of the CUS per dwelling: CODSEGPATRIM, LIBSEGPATRIM, CUS, LOYERMAXCUS (monthly €)."""
    codes = pa.Table.from_pylist([{"financement": k, "code": v} for k, v in parameters().codes_cus.items()])
    return (
        _connect(nouveaux=logements, codes=codes)
        .sql("""
        SELECT n.logement_id AS IDENT_REP, n.classe AS CODSEGPATRIM, n.libelle_classe AS LIBSEGPATRIM,
               c.code AS CUS, n.loyer_max_mensuel AS LOYERMAXCUS
        FROM nouveaux n JOIN codes c USING (financement) ORDER BY n.logement_id""")
        .to_arrow_table()
    )


def export_rpls_fields(logements: pa.Table, fmt: str, output: Path | None) -> Path | None:
    return write_table(
        rpls_fields(logements),
        fmt,
        output,
        "Loyers maximaux CUS",
        {"Contenu": "Champs RPLS de la CUS par logement (CODSEGPATRIM, LIBSEGPATRIM, CUS, LOYERMAXCUS)"},
    )
