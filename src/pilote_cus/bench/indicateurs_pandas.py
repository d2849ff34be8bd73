"""Every CUS indicator computed with plain pandas: the baseline of the indicator benchmark.

Written from the definitions of the catalogue, not from its SQL, so that the benchmark also cross-checks
the engine: it must return the same rows as `moteur.run_duckdb` (code, ventilation, maille,
code_territoire, periode, numerateur, denominateur, valeur). Only each indicator's declared rules (unit,
ventilations, total, cumulation) come from the catalogue. Missing values follow SQL: a missing flag
counts as "no", a sum over nothing is missing, not zero.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..entrepot.entrepot import Warehouse
from ..evenements.schema import event_schemas
from ..evenements.stockage import snapshots_by_year
from ..geographie.referentiel import register_geography
from ..indicateurs.catalogue import MAILLES, Indicator, warehouse_schema
from ..indicateurs.moteur import FRANCE_CODE, Period, Plan, Sources

KEYS = ["annee", "organisme", "depcom", "departement", "segment"]
GRAIN = [*KEYS, "ventilation"]
VALUES = ["numerateur", "denominateur"]
FINANCINGS = ["PLAI", "PLUS", "PLS"]
NONE = np.nan  # no numerator, or no denominator, on a row

# Columns read from each table (parc: organisme_id and codsegpatrim are renamed organisme and segment).
COLUMNS = {
    "parc": ["ident_rep", "organisme_id", "depcom", "departement", "codsegpatrim", "en_qpv", "mode",
             "dpedate", "dpeenergie", "pmr", "batiment_id"],
    "operations": [*KEYS, "type_evenement", "produit", "financement", "nb_logements", "nb_places", "en_qpv",
                   "renouvellement_urbain", "eligible_pret_cdc", "etiquette_avant", "etiquette_apres",
                   "conso_avant", "conso_apres"],
    "attributions": [*KEYS, "en_qpv", "zone_tendue", "financement", "quartile", "relogement_ru", "dalo",
                     "prioritaire", "accord_collectif", "contingent", "mutation_interne", "deja_parc_social",
                     "sortant_hebergement", "sous_plafond_plai"],
    "vacances": ["organisme", "ident_rep", "date_debut", "date_fin", "motif"],
    "impayes": [*KEYS, "id_bail", "date_situation", "mois_impayes", "accompagnement_social", "plan_apurement"],
    "reclamations": [*KEYS, "ecrite", "date_reception", "date_reponse", "date_cloture"],
    "equipements": ["organisme", "depcom", "departement", "segment", "type_equipement", "annee_mise_en_service",
                    "annee_retrait"],
    "pannes": [*KEYS, "type_equipement"],
    "gardiens": [*KEYS, "etp"],
    "couts": ["annee", "organisme", "departement", "nature", "renouvellement_urbain", "montant_ht"],
    "enquetes": [*KEYS, "question", "en_qpv", "satisfaits", "repondants"],
}  # fmt: skip
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "SMALLINT": pa.int16(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "DATE": pa.date32(),
}


@dataclass(frozen=True)
class PandasSources:
    """What the pandas computation reads: Parquet files and the geography."""

    stock: dict[int, Path]  # RPLS vintage → logements.parquet
    events: dict[str, list[tuple[Path, list[int] | None]]]  # table → files, each with its years (None: all rows)
    communes: pd.DataFrame  # code, dep, reg, epci
    departements: pd.DataFrame  # code, reg


def pandas_sources(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, sources: Sources) -> PandasSources:
    """The files and geography that `moteur.collect_sources` registered on `con` as views."""
    stock = {vintage: snapshot.table("logements") for vintage, snapshot in sources.stock_vintages.items()}
    events = {
        name: [(snapshot.table(name), years) for snapshot, years in snapshots_by_year(warehouse, schema)]
        for name, schema in event_schemas().items()
    }
    communes = con.sql("SELECT code, dep, reg, epci FROM geo_communes").df()
    departements = con.sql("SELECT code, reg FROM geo_departements").df()
    return PandasSources(stock, events, communes, departements)


def _read(path: Path, columns: list[str], filters: list[tuple[str, str, Any]] | None = None) -> pd.DataFrame:
    return pd.read_parquet(path, columns=columns, filters=filters, to_pandas_kwargs={"date_as_object": False})


def _empty(table: str, columns: list[str]) -> pd.DataFrame:
    types = warehouse_schema()[table]
    schema = pa.schema([(c, _ARROW_TYPES[types[c]]) for c in columns])
    return schema.empty_table().to_pandas(date_as_object=False)


class Tables:
    """Each table read once, on first use, with the columns the indicators need; aggregates shared by
    several indicators computed once."""

    def __init__(self, sources: PandasSources, organismes: Sequence[str] = ()):
        self.sources = sources
        self.organismes = list(organismes)  # read only these landlords' rows (every indicator is per landlord)
        self._read: dict[str, pd.DataFrame] = {}
        self._shared: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._read:
            self._read[name] = self._stock() if name == "parc" else self._events(name)
        return self._read[name]

    def release(self, name: str) -> None:
        self._read.pop(name, None)

    def shared(self, name: str, build: Callable[["Tables"], pd.DataFrame]) -> pd.DataFrame:
        if name not in self._shared:
            self._shared[name] = build(self)
        return self._shared[name]

    def _stock(self) -> pd.DataFrame:
        """Dwellings in stock on 1 January of each vintage."""
        in_stock: list[tuple[str, str, Any]] = [("en_stock", "==", True)]
        if self.organismes:
            in_stock.append(("organisme_id", "in", self.organismes))
        parts = [
            _read(path, COLUMNS["parc"], in_stock).assign(annee=vintage) for vintage, path in self.sources.stock.items()
        ]
        frame = pd.concat(parts, ignore_index=True) if parts else _empty("parc", [*COLUMNS["parc"], "annee"])
        return frame.rename(columns={"organisme_id": "organisme", "codsegpatrim": "segment"})

    def _events(self, name: str) -> pd.DataFrame:
        columns = COLUMNS[name]
        landlords: list[tuple[str, str, Any]] = [("organisme", "in", self.organismes)] if self.organismes else []
        parts = [
            _read(path, columns, (landlords + ([] if years is None else [("annee", "in", years)])) or None)
            for path, years in self.sources.events.get(name, [])
        ]
        return pd.concat(parts, ignore_index=True) if parts else _empty(name, columns)


def aggregate(frame: pd.DataFrame, numerateur: Any, denominateur: Any, ventilation: Any = None) -> pd.DataFrame:
    """Numerator and denominator summed at the finest grain (year, landlord, commune, segment, ventilation)."""
    rows = frame.reindex(columns=KEYS)
    by = KEYS if ventilation is None else GRAIN
    if ventilation is not None:
        rows["ventilation"] = ventilation
    rows["numerateur"] = numerateur.astype(float) if isinstance(numerateur, pd.Series) else numerateur
    rows["denominateur"] = denominateur.astype(float) if isinstance(denominateur, pd.Series) else denominateur
    summed = rows.groupby(by, dropna=False, sort=False)[VALUES].sum(min_count=1).reset_index()
    return summed.reindex(columns=[*GRAIN, *VALUES])


def share(frame: pd.DataFrame, counted: pd.Series, ventilation: Any = None) -> pd.DataFrame:
    """Rows counted among all rows."""
    return aggregate(frame, counted, 1.0, ventilation)


def stock_counts(t: Tables) -> pd.DataFrame:
    """Dwellings in stock on 1 January per grain and QPV flag: all, accessible (PMR), labelled F or G."""
    parc = t["parc"]
    counts = parc[[*KEYS, "en_qpv"]].assign(
        logements=1, accessibles=parc["pmr"].eq("1"), energivores=parc["dpeenergie"].isin(["F", "G"])
    )
    return counts.groupby([*KEYS, "en_qpv"], dropna=False, sort=False).sum().reset_index()


def stock(t: Tables, column: str = "logements") -> pd.DataFrame:
    """Denominator: dwellings in stock on 1 January (all, or those counted in `column` of stock_counts)."""
    counts = t.shared("stock", stock_counts)
    counts = counts[counts[column] > 0]
    return aggregate(counts, NONE, counts[column])


def qpv_split(flag: pd.Series) -> pd.Series:
    return pd.Series(np.where(flag.eq(True), "QPV", "HORS_QPV"), index=flag.index)


# --- patrimoine -----------------------------------------------------------------------------------


def operations(t: Tables, kind: str, product: str | None = None, financed: bool = False) -> pd.DataFrame:
    ops = t["operations"]
    kept = ops["type_evenement"].eq(kind)
    if product:
        kept &= ops["produit"].eq(product)
    if financed:
        kept &= ops["financement"].isin(FINANCINGS)
    return ops[kept]


def dwellings_by_financing(kind: str) -> Callable[[Tables], pd.DataFrame]:
    def compute(t: Tables) -> pd.DataFrame:
        ops = operations(t, kind, "LOGEMENT", financed=True)
        return aggregate(ops, ops["nb_logements"], NONE, ops["financement"])

    return compute


def places(kind: str) -> Callable[[Tables], pd.DataFrame]:
    def compute(t: Tables) -> pd.DataFrame:
        ops = operations(t, kind, "HEBERGEMENT")
        return aggregate(ops, ops["nb_places"].fillna(0), NONE)

    return compute


def approved_share(outside: str) -> Callable[[Tables], pd.DataFrame]:
    """PP-1 shares: approved dwellings outside QPV or outside urban renewal, among approved dwellings."""

    def compute(t: Tables) -> pd.DataFrame:
        ops = operations(t, "AGREMENT", "LOGEMENT", financed=True)
        return aggregate(ops, ops["nb_logements"].where(ops[outside].eq(False)), ops["nb_logements"])

    return compute


def sales(t: Tables) -> pd.DataFrame:
    ops = operations(t, "MISE_EN_VENTE")
    return aggregate(ops, ops["nb_logements"], NONE)


def sales_share(t: Tables) -> pd.DataFrame:
    return pd.concat([sales(t), stock(t)], ignore_index=True)


def thermal_renovation(t: Tables) -> pd.DataFrame:
    """G1-C3: from over 230 to under 150 kWh/m²/yr; from E-F-G to A-B-C when consumptions cannot tell."""
    ops = operations(t, "RENOVATION_ENERGETIQUE")
    before, after = ops["conso_avant"], ops["conso_apres"]
    passed = (before > 230) & (after < 150)
    failed = (before <= 230) | (after >= 150)  # one known consumption suffices to fail
    by_label = ops["etiquette_avant"].isin(["E", "F", "G"]) & ops["etiquette_apres"].isin(["A", "B", "C"])
    renovated = ops[passed | (~(passed | failed) & by_label)]
    return pd.concat([aggregate(renovated, renovated["nb_logements"], NONE), stock(t)], ignore_index=True)


def energy_label_share(t: Tables) -> pd.DataFrame:
    """PP-2: dwellings from F or G to A–E, among the F or G stock."""
    ops = operations(t, "RENOVATION_ENERGETIQUE")
    ops = ops[ops["etiquette_avant"].isin(["F", "G"]) & ops["etiquette_apres"].isin(["A", "B", "C", "D", "E"])]
    labelled = stock(t, "energivores")
    return pd.concat([aggregate(ops, ops["nb_logements"], NONE), labelled], ignore_index=True)


def rehabilitation_share(t: Tables) -> pd.DataFrame:
    ops = operations(t, "REHABILITATION")
    ops = ops[ops["eligible_pret_cdc"].eq(True)]
    return pd.concat([aggregate(ops, ops["nb_logements"], NONE), stock(t)], ignore_index=True)


def diagnosed_buildings(t: Tables) -> pd.DataFrame:
    """G1-C4: buildings whose every dwelling has an energy diagnosis (date after 1 January 1900)."""
    parc = t["parc"]
    dwellings = parc.assign(qpv=parc["en_qpv"].eq(True), diagnosed=parc["dpedate"] > pd.Timestamp(1900, 1, 1))
    buildings = dwellings.groupby(["annee", "organisme", "batiment_id"], dropna=False, sort=False).agg(
        depcom=("depcom", "min"),
        departement=("departement", "min"),
        segment=("segment", "min"),
        qpv=("qpv", "any"),
        diagnosed=("diagnosed", "all"),
    )
    buildings = buildings.reset_index()
    return share(buildings, buildings["diagnosed"], qpv_split(buildings["qpv"]))


def cost_per_dwelling(natures: Sequence[str], by_urban_renewal: bool) -> Callable[[Tables], pd.DataFrame]:
    """€ spent over dwellings in stock, per département when the landlord gave every cost of the year by
    département, otherwise for the landlord as a whole."""

    def compute(t: Tables) -> pd.DataFrame:
        costs = t["couts"]
        detailed = (
            costs.assign(par_departement=costs["departement"].notna())
            .groupby(["annee", "organisme"], as_index=False)["par_departement"]
            .all()
        )
        spent = costs[costs["nature"].isin(natures)]
        split = np.where(spent["renouvellement_urbain"].eq(True), "RU", "HORS_RU") if by_urban_renewal else None
        numerators = aggregate(spent, spent["montant_ht"], NONE, split)
        parc = t.shared("stock", stock_counts).merge(detailed, on=["annee", "organisme"])
        parc = parc.assign(departement=parc["departement"].where(parc["par_departement"]), depcom=NONE, segment=NONE)
        split = np.where(parc["en_qpv"].eq(True), "RU", "HORS_RU") if by_urban_renewal else None
        return pd.concat([numerators, aggregate(parc, NONE, parc["logements"], split)], ignore_index=True)

    return compute


# --- politique sociale ----------------------------------------------------------------------------

AttributionRule = Callable[[pd.DataFrame], pd.Series]
ATTRIBUTION_SHARES: dict[str, tuple[AttributionRule | None, AttributionRule]] = {
    # code: (attributions considered, or None for all; those counted in the numerator)
    "G1-E1": (None, lambda a: a["dalo"].eq(True)),
    "G1-E1-QPV": (lambda a: a["dalo"].eq(True), lambda a: a["en_qpv"].eq(True)),
    "G1-E2": (None, lambda a: a["prioritaire"].eq(True) | a["accord_collectif"].eq(True)),
    "G1-E3": (None, lambda a: a["contingent"].eq("PREFET")),
    "G1-F1": (None, lambda a: a["mutation_interne"].eq(True)),
    "PP-5": (None, lambda a: a["deja_parc_social"].eq(True) | a["mutation_interne"].eq(True)),
    "PS-1": (lambda a: a["en_qpv"].eq(False), lambda a: a["quartile"].eq(1) | a["relogement_ru"].eq(True)),
    "PS-2": (None, lambda a: a["dalo"].eq(True) | a["prioritaire"].eq(True)),
    "PS-2-HQPV": (lambda a: a["dalo"].eq(True) | a["prioritaire"].eq(True), lambda a: a["en_qpv"].eq(False)),
    "PS-3": (None, lambda a: a["dalo"].eq(True)),
    "PS-3-HQPV": (lambda a: a["dalo"].eq(True), lambda a: a["en_qpv"].eq(False)),
}  # fmt: skip


def attribution_counts(t: Tables) -> pd.DataFrame:
    """Per grain, for every share of ATTRIBUTION_SHARES, the attributions considered and those counted."""
    a = t["attributions"]
    counts = a[KEYS].copy()
    for code, (considered, counted) in ATTRIBUTION_SHARES.items():
        among = pd.Series(True, index=a.index) if considered is None else considered(a)
        counts[f"{code}:denominateur"] = among
        counts[f"{code}:numerateur"] = among & counted(a)
    return counts.groupby(KEYS, dropna=False, sort=False).sum().reset_index()


def attribution_share(code: str) -> Callable[[Tables], pd.DataFrame]:
    def compute(t: Tables) -> pd.DataFrame:
        counts = t.shared("attributions", attribution_counts)
        counts = counts[counts[f"{code}:denominateur"] > 0]
        return aggregate(counts, counts[f"{code}:numerateur"], counts[f"{code}:denominateur"])

    return compute


def under_plai_ceiling(by_financing: bool) -> Callable[[Tables], pd.DataFrame]:
    """G1-E4: attributions in tight-market zones to households under the PLAI ceiling."""

    def compute(t: Tables) -> pd.DataFrame:
        a = t["attributions"]
        a = a[a["zone_tendue"].eq(True)]
        if by_financing:
            a = a[a["financement"].isin(FINANCINGS)]
        split = a["financement"] if by_financing else qpv_split(a["en_qpv"])
        return share(a, a["sous_plafond_plai"].eq(True), split)

    return compute


def leaving_shelter(t: Tables) -> pd.DataFrame:
    a = t["attributions"]
    return aggregate(a, a["sortant_hebergement"].eq(True), NONE)


def long_vacancy(t: Tables) -> pd.DataFrame:
    """G1-F2: dwellings offered for rent (MODE 1 or 2), vacant on 1 January (MODE 2) with a vacancy covering that
    day and begun by 1 October."""
    parc = t["parc"]
    offered = parc[parc["mode"].isin(["1", "2"])]
    vacancies = t["vacances"]
    vacancies = vacancies[vacancies["motif"].eq("LOCATION")]
    long_ones = []
    for year in sorted(offered["annee"].unique()):
        covering = (vacancies["date_debut"] <= pd.Timestamp(year - 1, 10, 1)) & (
            vacancies["date_fin"].isna() | (vacancies["date_fin"] >= pd.Timestamp(year, 1, 1))
        )
        long_ones.append(vacancies.loc[covering, ["organisme", "ident_rep"]].dropna().assign(annee=year))
    if not long_ones:
        return share(offered, pd.Series(False, index=offered.index))
    vacant = pd.concat(long_ones, ignore_index=True).drop_duplicates()
    flagged = offered.merge(vacant, on=["annee", "organisme", "ident_rep"], how="left", indicator=True)
    return share(flagged, flagged["_merge"].eq("both") & flagged["mode"].eq("2"))  # vacant on 1 January


def last_situations(t: Tables) -> pd.DataFrame:
    """Each tenancy once a year: its last known situation."""
    owed = t["impayes"].sort_values("date_situation", ascending=False, na_position="last", kind="stable")
    keys = ["organisme", "id_bail", "annee"]
    where = owed.groupby(keys, dropna=False)[["depcom", "departement", "segment"]].transform("min")
    return owed.assign(**{c: where[c] for c in where.columns}).drop_duplicates(keys)


def arrears(flag: str) -> Callable[[Tables], pd.DataFrame]:
    """Tenancies in arrears of more than 3 months at their last situation of the year having `flag` (social
    support, repayment plan)."""

    def compute(t: Tables) -> pd.DataFrame:
        owed = t.shared("impayes", last_situations)
        owed = owed[owed["mois_impayes"] > 3]
        return share(owed, owed[flag].eq(True))

    return compute


# --- qualité de service, gestion ------------------------------------------------------------------


def complaints(t: Tables) -> pd.DataFrame:
    """G1-G1: written complaints answered within 30 days of reception, and closed within 30 days too."""
    c = t["reclamations"]
    c = c[c["ecrite"].eq(True)]
    answered = (c["date_reponse"] - c["date_reception"]).dt.days <= 30
    closed = (c["date_cloture"] - c["date_reception"]).dt.days <= 30
    return share(c, answered & closed)


def breakdowns(t: Tables) -> pd.DataFrame:
    """G1-G2: breakdowns per device in service during the year, lifts and boiler rooms apart."""
    failures = t["pannes"]
    numerators = aggregate(failures, 1.0, NONE, failures["type_equipement"])
    years = pd.DataFrame({"annee": sorted(set(t.sources.stock) | set(failures["annee"].dropna().astype(int)))})
    devices = t["equipements"].merge(years, how="cross")
    in_service = (devices["annee_mise_en_service"] <= devices["annee"]) & (
        devices["annee_retrait"].isna() | (devices["annee_retrait"] >= devices["annee"])
    )
    devices = devices[in_service]
    return pd.concat([numerators, aggregate(devices, NONE, 1.0, devices["type_equipement"])], ignore_index=True)


def cleanliness(t: Tables) -> pd.DataFrame:
    answers = t["enquetes"]
    answers = answers[answers["question"].eq("PROPRETE_PARTIES_COMMUNES")]
    return aggregate(answers, answers["satisfaits"], answers["repondants"], qpv_split(answers["en_qpv"]))


def caretakers(t: Tables) -> pd.DataFrame:
    """G1-G4: dwellings in stock over caretakers (full-time equivalents)."""
    counts, staff = t.shared("stock", stock_counts), t["gardiens"]
    return pd.concat([aggregate(counts, counts["logements"], NONE), aggregate(staff, NONE, staff["etp"])])


def accessible(t: Tables) -> pd.DataFrame:
    counts = t.shared("stock", stock_counts)
    return aggregate(counts, counts["accessibles"], counts["logements"])


MAINTENANCE = ("ENTRETIEN_COURANT", "GROS_ENTRETIEN")
OPERATIONS, ATTRIBUTIONS, COSTS = ("operations",), ("attributions",), ("couts", "parc")
# code → (tables read, computation at the finest grain); the tables tell when a table can be released
BASES: dict[str, tuple[tuple[str, ...], Callable[[Tables], pd.DataFrame]]] = {
    "G1-A1": (OPERATIONS, dwellings_by_financing("DEPOT_FINANCEMENT")),
    "G1-A2": (OPERATIONS, dwellings_by_financing("MISE_EN_SERVICE")),
    "G1-B1": (OPERATIONS, places("DEPOT_FINANCEMENT")),
    "G1-B2": (OPERATIONS, places("MISE_EN_SERVICE")),
    "G1-C1": (COSTS, cost_per_dwelling(("INVESTISSEMENT_REHABILITATION", "REMPLACEMENT_COMPOSANTS"), True)),
    "G1-C2": (COSTS, cost_per_dwelling(MAINTENANCE, by_urban_renewal=True)),
    "G1-C3": (("operations", "parc"), thermal_renovation),
    "G1-C4": (("parc",), diagnosed_buildings),
    "G1-D1": (OPERATIONS, sales),
    **{code: (ATTRIBUTIONS, attribution_share(code)) for code in ATTRIBUTION_SHARES},
    "G1-E4": (ATTRIBUTIONS, under_plai_ceiling(by_financing=False)),
    "G1-E4-FIN": (ATTRIBUTIONS, under_plai_ceiling(by_financing=True)),
    "G1-E5": (ATTRIBUTIONS, leaving_shelter),
    "G1-F2": (("parc", "vacances"), long_vacancy),
    "G1-F3": (("impayes",), arrears("accompagnement_social")),
    "G1-F4": (("impayes",), arrears("plan_apurement")),
    "G1-G1": (("reclamations",), complaints),
    "G1-G2": (("equipements", "pannes"), breakdowns),
    "G1-G3": (("enquetes",), cleanliness),
    "G1-G4": (("gardiens", "parc"), caretakers),
    "G1-H1": (COSTS, cost_per_dwelling(("GESTION", "COTISATIONS_CGLLS_ANCOLS", *MAINTENANCE, "TFPB"), False)),
    "G-1": (COSTS, cost_per_dwelling(("GESTION",), by_urban_renewal=False)),
    "PP-1": (OPERATIONS, dwellings_by_financing("AGREMENT")),
    "PP-1-HQPV": (OPERATIONS, approved_share("en_qpv")),
    "PP-1-HANRU": (OPERATIONS, approved_share("renouvellement_urbain")),
    "PP-2": (("operations", "parc"), energy_label_share),
    "PP-3": (("operations", "parc"), rehabilitation_share),
    "PP-4": (("operations", "parc"), sales_share),
    "SR-1": (("parc",), accessible),
}


def finest_grain(indicators: Sequence[Indicator], tables: Tables) -> pd.DataFrame:
    """Every indicator at its finest grain; the stock first, each table released after its last reader."""
    ordered = sorted(indicators, key=lambda i: ("parc" not in BASES[i.code][0], BASES[i.code][0]))
    readers = Counter(table for i in ordered for table in BASES[i.code][0])
    bases = []
    for indicator in ordered:
        reads, compute = BASES[indicator.code]
        bases.append(compute(tables).assign(code=indicator.code))
        readers.subtract(reads)
        for table in reads:
            if not readers[table]:
                tables.release(table)
    return pd.concat(bases, ignore_index=True)


# --- roll-up --------------------------------------------------------------------------------------


def _territories(base: pd.DataFrame, sources: PandasSources, mailles: Sequence[str]) -> pd.DataFrame:
    """One row per base row and maille having a territory: code, maille, territoire, annee, ventilation, values."""
    communes = sources.communes.dropna(subset=["code"]).rename(columns={"code": "depcom", "reg": "reg_commune"})
    departements = sources.departements.dropna(subset=["code"]).rename(columns={"code": "departement"})
    rows = base.merge(communes, on="depcom", how="left")
    rows["departement"] = rows["departement"].fillna(rows["dep"])
    rows = rows.merge(departements, on="departement", how="left")
    rows["region"] = rows["reg_commune"].fillna(rows["reg"])
    columns = {"region": "region", "departement": "departement", "epci": "epci", "commune": "depcom"}
    columns |= {"segment": "segment", "bailleur": "organisme"}
    kept = ["code", "annee", "ventilation", *VALUES]
    parts = []
    for maille in mailles:
        territory = pd.Series(FRANCE_CODE, index=rows.index) if maille == "france" else rows[columns[maille]]
        part = rows[kept].assign(maille=maille, territoire=territory)
        parts.append(part[territory.notna()])
    return pd.concat(parts, ignore_index=True)


def _rules(indicators: Sequence[Indicator]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": [i.code for i in indicators],
            "ventile": [bool(i.ventilations) for i in indicators],
            "total": [i.total for i in indicators],
            "comptage": [i.is_count for i in indicators],
            "premiere_annee": [i.cumul == "premiere_annee" for i in indicators],
            "echelle": [i.scale for i in indicators],
        }
    )


def rollup(
    base: pd.DataFrame,
    sources: PandasSources,
    indicators: Sequence[Indicator],
    periods: Sequence[Period],
    mailles: Sequence[str],
) -> pd.DataFrame:
    """Σ numerators and Σ denominators per territory and period, each ventilation and their total, then the value."""
    calendar = pd.DataFrame(
        [(p.label, year, p.first) for p in periods for year in p.years], columns=["periode", "annee", "debut"]
    )
    rows = _territories(base, sources, mailles).merge(calendar, on="annee")
    rows["den_premiere"] = rows["denominateur"].where(rows["annee"] == rows["debut"])
    summed = ["numerateur", "denominateur", "den_premiere"]
    by = ["code", "maille", "territoire", "periode"]
    detail = rows.groupby([*by, "ventilation"], dropna=False, as_index=False)[summed].sum(min_count=1)
    totals = rows.groupby(by, as_index=False)[summed].sum(min_count=1).assign(ventilation=NONE, est_total=True)
    sums = pd.concat([detail.assign(est_total=False), totals], ignore_index=True).merge(_rules(indicators), on="code")
    published = (sums["ventile"] & ~sums["est_total"] & sums["ventilation"].notna()) | (
        sums["ventile"] & sums["est_total"] & sums["total"]
    )
    published |= ~sums["ventile"] & ~sums["est_total"]
    has_figure = sums["numerateur"].notna() | (~sums["comptage"] & sums["denominateur"].notna())
    out = sums[published & has_figure].copy()
    out["ventilation"] = out["ventilation"].where(out["ventile"] & ~out["est_total"])
    out["denominateur"] = out["den_premiere"].where(out["premiere_annee"], out["denominateur"])
    out.loc[out["comptage"], "denominateur"] = NONE
    out["numerateur"] = out["numerateur"].fillna(0.0)
    ratio = out["numerateur"] / out["denominateur"].where(out["denominateur"] != 0) * out["echelle"]
    out["valeur"] = out["numerateur"].where(out["comptage"], ratio)
    return out.rename(columns={"territoire": "code_territoire"})[
        ["code", "ventilation", "maille", "code_territoire", "periode", "numerateur", "denominateur", "valeur"]
    ]


def compute_pandas(
    sources: PandasSources,
    indicators: Sequence[Indicator],
    periods: Sequence[Period],
    mailles: Sequence[str],
    organismes: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The rows `moteur.run_duckdb` returns for the same indicators, periods, mailles and landlords."""
    unknown = sorted(set(mailles) - set(MAILLES)) + sorted({i.code for i in indicators} - set(BASES))
    if unknown:
        raise ValueError(f"maille ou indicateur inconnu du calcul pandas : {', '.join(unknown)}")
    tables = Tables(sources, organismes)
    first, last = min(p.first for p in periods), max(p.last for p in periods)
    base = finest_grain(indicators, tables)
    kept = base["annee"].between(first, last)
    if organismes:
        kept &= base["organisme"].isin(organismes)
    base = base[kept].astype({"annee": int})
    result = rollup(base, sources, indicators, periods, mailles)
    return result.astype(object).where(result.notna(), None).to_dict("records")


def compute_from_warehouse(warehouse: Warehouse, plan: Plan, organismes: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The rows of `plan` (made by `moteur.make_plan`, run by `moteur.run_duckdb`), computed with pandas.

    DuckDB only names the geography (the COG loaded, or the built-in gazetteer), as `collect_sources` did.
    """
    vintages = plan.sources.stock_vintages
    with duckdb.connect() as con:
        register_geography(con, warehouse, max(vintages) if vintages else max(p.last for p in plan.periods))
        sources = pandas_sources(con, warehouse, plan.sources)
    return compute_pandas(sources, plan.indicators, plan.periods, plan.mailles, organismes)
