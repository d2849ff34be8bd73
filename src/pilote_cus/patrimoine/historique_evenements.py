"""The event files of a synthetic landlord's history, read off its stock (`historique_parc`).

One CSV per event schema (evenements/schemas): `;`-separated, UTF-8, header = the declared column names,
dates JJ/MM/AAAA, booleans oui/non, decimal comma, empty = unknown. Rates: see the table in `historique`.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..evenements.schema import EventColumn, EventSchema, event_schemas
from ..geographie.referentiel import departement_of
from .historique_parc import NEVER, History, _first_of, _segment_of_ensemble, csv_bytes
from .historique_vie import LET, MOTIFS, jan1, random_days, year_of

# attributions
TIGHT_ZONES = ("Abis", "A", "B1")
CONTINGENT_OF_CONTRESLOG = {
    "1": "PREFET",
    "2": "PREFET",
    "5": "PREFET",
    "3": "ACTION_LOGEMENT",
    "4": "COLLECTIVITE",
    "6": "AUTRE",
    "7": "BAILLEUR",
}
FINANCING_OF_CUS = {"11": "PLAI", "13": "PLUS", "14": "PLS", "16": "PLI"}
DALO = {"PREFET": 0.18, "other": 0.02}
PRIORITY = {"PREFET": 0.55, "other": 0.22}
QUARTILES = {"qpv": (0.32, 0.30, 0.23, 0.15), "hors_qpv": (0.23, 0.30, 0.27, 0.20)}
UNDER_PLAI_CEILING = (0.98, 0.85, 0.60, 0.25)  # by quartile
MUTATION, ALREADY_SOCIAL_OTHERWISE, LEAVING_HEBERGEMENT, COLLECTIVE_AGREEMENT = 0.12, 0.205, 0.04, 0.10
RU_REHOUSING = {"qpv": 0.04, "hors_qpv": 0.015}
# arrears on 31 December
ARREARS, ARREARS_MONTHS = 0.11, (0.38, 0.22, 0.05)  # share of leases; 1, 2, 3 months (the rest: more)
SUPPORT, PLAN = (0.40, 0.10), (0.50, 0.15)  # over 3 months, otherwise
CHARGES = 60.0
# complaints
COMPLAINTS, WRITTEN, CLOSED_WITHIN_30_DAYS = 0.4, 0.6, 0.8
CATEGORIES = (
    ("TECHNIQUE", 0.45),
    ("PROPRETE", 0.12),
    ("TROUBLE_VOISINAGE", 0.15),
    ("CHARGES_LOYER", 0.13),
    ("ADMINISTRATIVE", 0.10),
    ("AUTRE", 0.05),
)
# equipment and breakdowns
BOILER_SHARE = 0.3
BREAKDOWNS = {"ASCENSEUR": (5.0, 16.0), "CHAUFFERIE": (1.5, 8.0)}  # a year, median hours
# caretakers and costs
DWELLINGS_PER_CARETAKER = (85, 105)
COST_PER_DWELLING = {  # € a year, first year; RU: whether the nature is split in / out of urban renewal
    "GESTION": (1_000.0, False),
    "COTISATIONS_CGLLS_ANCOLS": (95.0, False),
    "TFPB": (480.0, False),
    "ENTRETIEN_COURANT": (560.0, True),
    "GROS_ENTRETIEN": (620.0, True),
    "REMPLACEMENT_COMPOSANTS": (750.0, True),
}
COST_GROWTH, RU_MAINTENANCE_FACTOR, TFPB_QPV_ABATEMENT = 0.02, 1.15, 0.3
# surveys
ANSWERING = 0.12
SATISFIED = {  # outside QPV, in QPV
    "PROPRETE_PARTIES_COMMUNES": (0.72, 0.62),
    "SATISFACTION_GLOBALE": (0.82, 0.74),
    "TRAITEMENT_RECLAMATIONS": (0.66, 0.58),
    "EQUIPEMENTS": (0.75, 0.68),
}

Columns = dict[str, Any]


def write_events(
    h: History, rng: np.random.Generator, folder: Path, tick: Callable[[], None]
) -> tuple[dict[str, Path], dict[str, int]]:
    """One CSV per event schema, in the order of the schemas."""
    equipment = _equipment(h, rng)
    builders: dict[str, Callable[[], Columns]] = {
        "attributions": lambda: _attributions(h, rng),
        "couts": lambda: _costs(h, rng),
        "enquetes": lambda: _surveys(h, rng),
        "equipements": lambda: equipment,
        "gardiens": lambda: _caretakers(h, rng),
        "impayes": lambda: _arrears(h, rng),
        "operations": lambda: _operations(h),
        "pannes": lambda: _breakdowns(h, rng, equipment),
        "reclamations": lambda: _complaints(h, rng),
        "vacances": lambda: _vacancies(h),
    }
    files, rows = {}, {}
    for name, schema in event_schemas().items():
        path = folder / f"{name}.csv"
        rows[name] = write_event_csv(path, schema, builders[name]())
        files[name] = path
        tick()
    return files, rows


# --- writing -------------------------------------------------------------------------------


def _formatted(values: Any, column: EventColumn) -> pa.Array:
    if column.type == "date":
        days = np.asarray(values, dtype=np.int64)
        known = days < NEVER
        dates = pa.array(np.where(known, days, 0).astype("datetime64[D]")).cast(pa.timestamp("s"))
        return pc.if_else(pa.array(known), pc.strftime(dates, format="%d/%m/%Y"), pa.scalar(None, pa.string()))
    array = pa.array(values, from_pandas=True)
    if column.type == "booleen":
        return pc.if_else(array, "oui", "non")
    if column.type == "decimal":
        return pc.replace_substring(pc.round(array.cast(pa.float64()), 2).cast(pa.string()), ".", ",")
    return array.cast(pa.string())


def write_event_csv(path: Path, schema: EventSchema, columns: Columns) -> int:
    """Write `columns` (raw values: days for dates, bools, floats; None or NEVER = empty) as the schema says."""
    unknown = set(columns) - set(schema.by_name())
    if unknown:
        raise ValueError(f"{schema.nom} : colonnes non déclarées {sorted(unknown)}")
    n = len(next(iter(columns.values())))
    table = pa.table(
        {
            c.nom: _formatted(columns[c.nom], c) if c.nom in columns else pa.nulls(n, pa.string())
            for c in schema.colonnes
        }
    )
    path.write_bytes(csv_bytes(table))
    return n


def _numbered(prefix: str, days: np.ndarray) -> pa.Array:
    """PREFIX-AAAA-NNNNNN, numbered within each year (rows ordered by day)."""
    years = year_of(days)
    first = np.searchsorted(years, years)
    sequence = pc.utf8_lpad(pa.array(np.arange(len(days)) - first + 1).cast(pa.string()), 6, "0")
    return pc.binary_join_element_wise(prefix, pa.array(years).cast(pa.string()), sequence, "-")


def _lookup(table: dict[str, str], keys: np.ndarray, default: str) -> np.ndarray:
    return np.array([table.get(k, default) for k in keys.tolist()], dtype=object)


# --- the stock's own events ------------------------------------------------------------------


def _operations(h: History) -> Columns:
    rows = sorted(
        h.operations,
        key=lambda r: (r["date_evenement"], r["id_operation"], r["type_evenement"], r.get("financement") or ""),
    )
    names = [c.nom for c in event_schemas()["operations"].colonnes]
    return {name: [row.get(name) for row in rows] for name in names}


def _vacancies(h: History) -> Columns:
    s = h.spells
    since = jan1(h.first_year - 1)  # known on 1 January of the first millésime, and the year before
    index = np.flatnonzero((s.kind != LET) & (s.end >= since) & (s.start <= h.horizon))
    index = index[np.lexsort((s.dwelling[index], s.start[index]))]
    dwelling = s.dwelling[index]
    ensemble = h.ensemble[dwelling]
    return {
        "ident_rep": h.column("IDENT_REP")[dwelling],
        "organisme": h.siret(h.ens.landlord[ensemble]),
        "depcom": h.depcom(h.ens.commune[ensemble]),
        "date_debut": s.start[index],
        "date_fin": np.where(s.end[index] <= h.horizon, s.end[index], NEVER),
        "motif": MOTIFS[s.kind[index]],
        "segment": h.column("CODSEGPATRIM")[dwelling],
    }


def _attributions(h: History, rng: np.random.Generator) -> Columns:
    """Every lease signed during the history (re-lettings and first lettings): the day after a vacancy."""
    s = h.spells
    index = np.flatnonzero((s.kind == LET) & (s.start >= jan1(h.first_year)) & (s.start <= h.horizon))
    index = index[np.lexsort((s.dwelling[index], s.start[index]))]
    dwelling = s.dwelling[index]
    ensemble = h.ensemble[dwelling]
    commune = h.ens.commune[ensemble]
    qpv = h.ens.qpv[ensemble]
    n = len(index)
    contingent = _lookup(CONTINGENT_OF_CONTRESLOG, h.column("CONTRESLOG")[dwelling], "AUTRE")
    prefet = contingent == "PREFET"
    dalo = rng.random(n) < np.where(prefet, DALO["PREFET"], DALO["other"])
    priority = dalo | (rng.random(n) < np.where(prefet, PRIORITY["PREFET"], PRIORITY["other"]))
    cumulative = np.where(qpv[:, None], np.cumsum(QUARTILES["qpv"]), np.cumsum(QUARTILES["hors_qpv"]))
    quartile = 1 + (rng.random(n)[:, None] > cumulative[:, :3]).sum(axis=1)
    mutation = rng.random(n) < MUTATION
    tight = np.array([p.zone in TIGHT_ZONES for p in h.places])
    return {
        "id_attribution": _numbered("ATT", s.start[index]),
        "organisme": h.siret(h.ens.landlord[ensemble]),
        "date_bail": s.start[index],
        "ident_rep": h.column("IDENT_REP")[dwelling],
        "depcom": h.depcom(commune),
        "en_qpv": qpv,
        "zone_tendue": tight[commune],
        "financement": _lookup(FINANCING_OF_CUS, h.column("CUS")[dwelling], "AUTRE"),
        "quartile": quartile,
        "relogement_ru": rng.random(n) < np.where(qpv, RU_REHOUSING["qpv"], RU_REHOUSING["hors_qpv"]),
        "dalo": dalo,
        "prioritaire": priority,
        "accord_collectif": rng.random(n) < COLLECTIVE_AGREEMENT,
        "contingent": contingent,
        "mutation_interne": mutation,
        "deja_parc_social": mutation | (rng.random(n) < ALREADY_SOCIAL_OTHERWISE),
        "sortant_hebergement": rng.random(n) < LEAVING_HEBERGEMENT,
        "sous_plafond_plai": rng.random(n) < np.asarray(UNDER_PLAI_CEILING)[quartile - 1],
        "segment": h.column("CODSEGPATRIM")[dwelling],
    }


def _arrears(h: History, rng: np.random.Generator) -> Columns:
    """Leases in arrears on 31 December of each year."""
    s = h.spells
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for year in h.vintages:
        day = jan1(year + 1) - 1
        index = np.flatnonzero((s.kind == LET) & (s.start <= day) & (s.end >= day))
        index = index[rng.random(len(index)) < ARREARS]
        parts.append((index, np.full(len(index), day)))
    index = np.concatenate([p[0] for p in parts])
    situation = np.concatenate([p[1] for p in parts])
    n = len(index)
    dwelling = s.dwelling[index]
    ensemble = h.ensemble[dwelling]
    draw = rng.random(n)
    bounds = np.cumsum(ARREARS_MONTHS)
    months = np.where(draw < bounds[-1], 1 + (draw[:, None] > bounds[:2]).sum(axis=1), 4 + rng.geometric(0.12, n) - 1)
    months = np.minimum(months, 36)
    long = months > 3
    rent = h.rent[dwelling] / (1 + 0.02) ** (h.last_year - year_of(situation))
    lease = pa.array(s.start[index].astype("datetime64[D]")).cast(pa.timestamp("s"))
    ident = h.column("IDENT_REP")[dwelling]
    return {
        "id_bail": pc.binary_join_element_wise(pa.array(ident), pc.strftime(lease, format="%Y%m%d"), "-"),
        "organisme": h.siret(h.ens.landlord[ensemble]),
        "ident_rep": ident,
        "depcom": h.depcom(h.ens.commune[ensemble]),
        "date_situation": situation,
        "mois_impayes": months,
        "montant": np.round(months * (rent + CHARGES) * rng.uniform(0.5, 1.0, n), 2),
        "accompagnement_social": rng.random(n) < np.where(long, SUPPORT[0], SUPPORT[1]),
        "plan_apurement": rng.random(n) < np.where(long, PLAN[0], PLAN[1]),
        "segment": h.column("CODSEGPATRIM")[dwelling],
    }


def _complaints(h: History, rng: np.random.Generator) -> Columns:
    dwellings, received = [], []
    for year in h.vintages:
        held = np.flatnonzero(h.in_stock(year))
        repeated = np.repeat(held, rng.poisson(COMPLAINTS, len(held)))
        dwellings.append(repeated)
        received.append(random_days(rng, np.full(len(repeated), year)))
    dwelling = np.concatenate(dwellings)
    day = np.concatenate(received)
    order = np.lexsort((dwelling, day))
    dwelling, day = dwelling[order], day[order]
    n = len(day)
    closed = day + np.where(
        rng.random(n) < CLOSED_WITHIN_30_DAYS,
        rng.integers(1, 31, n),
        31 + np.ceil(rng.exponential(40.0, n)).astype(np.int64),
    )
    answered = np.minimum(closed, day + np.ceil(rng.lognormal(np.log(5), 0.7, n)).astype(np.int64))
    ensemble = h.ensemble[dwelling]
    names, weights = zip(*CATEGORIES, strict=True)
    return {
        "id_reclamation": _numbered("REC", day),
        "organisme": h.siret(h.ens.landlord[ensemble]),
        "depcom": h.depcom(h.ens.commune[ensemble]),
        "programme": h.column("COMPLGEO")[dwelling],
        "categorie": np.asarray(names, dtype=object)[rng.choice(len(names), size=n, p=weights)],
        "ecrite": rng.random(n) < WRITTEN,
        "date_reception": day,
        "date_reponse": np.where(answered <= h.horizon, answered, NEVER),
        "date_cloture": np.where(closed <= h.horizon, closed, NEVER),
        "segment": h.column("CODSEGPATRIM")[dwelling],
    }


# --- equipment, caretakers, costs, surveys ---------------------------------------------------


def _equipment(h: History, rng: np.random.Generator) -> Columns:
    """Lifts of the 5+ floor buildings and collective boiler rooms, in service at some point of the history."""
    first = _first_of(h.building)
    ensemble = h.ensemble[first]
    built = h.ens.year[ensemble]
    new = ensemble >= h.base_ensembles
    since = np.where(new, built, np.maximum(built, rng.integers(1990, h.first_year, len(first))))
    demolished = np.where(h.demolition_day < NEVER, year_of(np.minimum(h.demolition_day, jan1(3000))), 0)
    lifts = np.repeat(np.arange(len(first)), h.building_lifts)
    rank = np.arange(len(lifts)) - np.repeat(np.cumsum(h.building_lifts) - h.building_lifts, h.building_lifts)
    lift_ids = pc.binary_join_element_wise(
        "ASC", pc.utf8_lpad(pa.array(lifts).cast(pa.string()), 6, "0"), pa.array(rank + 1).cast(pa.string()), "-"
    ).to_numpy(zero_copy_only=False)

    n_ens = len(h.ens.size)
    gone = np.bincount(h.ensemble[h.exit_reason == 4], minlength=n_ens) == h.ens.size
    last_demolition = np.zeros(n_ens, dtype=np.int64)
    np.maximum.at(last_demolition, ensemble, demolished)
    boiler = ~h.ens.individual & (rng.random(n_ens) < BOILER_SHARE)
    boilers = np.flatnonzero(boiler)
    boiler_since = np.where(
        boilers >= h.base_ensembles,
        h.ens.year[boilers],
        np.maximum(h.ens.year[boilers], rng.integers(1985, h.first_year, len(boilers))),
    )
    segments = _segment_of_ensemble(h)
    kind = np.concatenate(
        [np.full(len(lifts), "ASCENSEUR", dtype=object), np.full(len(boilers), "CHAUFFERIE", dtype=object)]
    )
    owner = np.concatenate([ensemble[lifts], boilers])
    start = np.concatenate([since[lifts], boiler_since])
    end = np.concatenate([demolished[lifts], np.where(gone[boilers], last_demolition[boilers], 0)])
    ids = np.concatenate([lift_ids, np.array([f"CHA-{e:06d}" for e in boilers], dtype=object)])
    keep = (start <= h.last_year) & ((end == 0) | (end >= h.first_year))
    return {
        "id_equipement": ids[keep],
        "organisme": h.siret(h.ens.landlord[owner[keep]]),
        "depcom": h.depcom(h.ens.commune[owner[keep]]),
        "programme": h.ensemble_name[owner[keep]],  # the RPLS COMPLGEO of the ensemble served
        "type_equipement": kind[keep],
        "annee_mise_en_service": start[keep],
        "annee_retrait": pa.array(end[keep], mask=end[keep] == 0),
        "segment": segments[owner[keep]],
    }


def _breakdowns(h: History, rng: np.random.Generator, equipment: Columns) -> Columns:
    kind = equipment["type_equipement"]
    start = equipment["annee_mise_en_service"]
    end = equipment["annee_retrait"].fill_null(0).to_numpy()
    mean = np.array([BREAKDOWNS[k][0] for k in kind])
    rate = rng.gamma(4.0, mean / 4.0)
    owners, days = [], []
    for year in h.vintages:
        active = np.flatnonzero((start <= year) & ((end == 0) | (end > year)))
        repeated = np.repeat(active, rng.poisson(rate[active]))
        owners.append(repeated)
        days.append(random_days(rng, np.full(len(repeated), year)))
    owner = np.concatenate(owners)
    day = np.concatenate(days)
    order = np.lexsort((owner, day))
    owner, day = owner[order], day[order]
    median = np.array([BREAKDOWNS[k][1] for k in kind])[owner]
    return {
        "id_panne": _numbered("PAN", day),
        "id_equipement": equipment["id_equipement"][owner],
        "organisme": equipment["organisme"][owner],
        "depcom": equipment["depcom"][owner],
        "type_equipement": kind[owner],
        "date_panne": day,
        "duree_heures": np.round(np.clip(median * rng.lognormal(0, 0.9, len(day)), 0.5, 720), 1),
        "segment": equipment["segment"][owner],
    }


def _grouped_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.unique(keys, return_counts=True)


def _caretakers(h: History, rng: np.random.Generator) -> Columns:
    communes = len(h.places)
    ratio = rng.uniform(*DWELLINGS_PER_CARETAKER, (len(h.people), communes))
    landlord = h.ens.landlord[h.ensemble]
    commune = h.ens.commune[h.ensemble]
    out: dict[str, list[Any]] = {"organisme": [], "annee": [], "depcom": [], "etp": []}
    for year in h.vintages:
        held = h.in_stock(year)
        keys, counts = _grouped_counts(landlord[held] * communes + commune[held])
        owner, where = keys // communes, keys % communes
        out["organisme"].extend(h.siret(owner))
        out["annee"].extend([year] * len(keys))
        out["depcom"].extend(h.depcom(where))
        out["etp"].extend(np.round(counts / ratio[owner, where], 1))
    return out


def _costs(h: History, rng: np.random.Generator) -> Columns:
    """Costs per landlord, year and département; RU split for maintenance and investment."""
    landlord = h.ens.landlord[h.ensemble]
    departments = sorted({departement_of(p.code) for p in h.places})
    department = np.array([departments.index(departement_of(p.code)) for p in h.places])[h.ens.commune[h.ensemble]]
    ru = h.ensemble_ru[h.ensemble]
    qpv = h.ens.qpv[h.ensemble]
    factor = rng.lognormal(0, 0.1, len(h.people))
    investment: dict[tuple[str, int, str, bool], float] = {}
    for row in h.operations:
        if row["type_evenement"] in ("REHABILITATION", "RENOVATION_ENERGETIQUE"):
            year = int(year_of(np.array([row["date_evenement"]]))[0])
            key = (row["organisme"], year, departement_of(row["depcom"]), bool(row["renouvellement_urbain"]))
            investment[key] = investment.get(key, 0.0) + float(row["montant_ht"])
    out: dict[str, list[Any]] = {
        name: [] for name in ("organisme", "annee", "departement", "nature", "renouvellement_urbain", "montant_ht")
    }

    def add(siret: str, year: int, dep: str, nature: str, in_ru: bool, amount: float) -> None:
        for name, value in zip(out, (siret, year, dep, nature, in_ru, round(amount, 2)), strict=True):
            out[name].append(value)

    for year in h.vintages:
        held = h.in_stock(year)
        growth = (1 + COST_GROWTH) ** (year - h.first_year)
        for owner in range(len(h.people)):
            siret = h.people[owner].siret
            for d, dep in enumerate(departments):
                mine = held & (landlord == owner) & (department == d)
                count, in_ru, in_qpv = int(mine.sum()), int((mine & ru).sum()), int((mine & qpv).sum())
                if not count:
                    continue
                noise = rng.lognormal(0, 0.05, len(COST_PER_DWELLING) * 2)
                for k, (nature, (per_dwelling, split)) in enumerate(COST_PER_DWELLING.items()):
                    base = per_dwelling * growth * (factor[owner] if nature == "GESTION" else 1.0)
                    if nature == "TFPB":
                        add(
                            siret, year, dep, nature, False, (count - TFPB_QPV_ABATEMENT * in_qpv) * base * noise[2 * k]
                        )
                    elif not split:
                        add(siret, year, dep, nature, False, count * base * noise[2 * k])
                    else:
                        add(siret, year, dep, nature, False, (count - in_ru) * base * noise[2 * k])
                        if in_ru:
                            add(siret, year, dep, nature, True, in_ru * base * RU_MAINTENANCE_FACTOR * noise[2 * k + 1])
                for flag in (False, True):
                    amount = investment.get((siret, year, dep, flag), 0.0)
                    if amount:
                        add(siret, year, dep, "INVESTISSEMENT_REHABILITATION", flag, amount)
    return out


def _surveys(h: History, rng: np.random.Generator) -> Columns:
    """Yearly satisfaction survey, per residence (ensemble) and question."""
    n_ens = len(h.ens.size)
    segments = _segment_of_ensemble(h)
    questions = list(SATISFIED)
    out: dict[str, list[Any]] = {
        name: []
        for name in (
            "organisme",
            "annee",
            "depcom",
            "residence",
            "en_qpv",
            "question",
            "repondants",
            "satisfaits",
            "segment",
        )
    }
    for year in h.vintages:
        held = np.bincount(h.ensemble[h.in_stock(year)], minlength=n_ens)
        answering = rng.binomial(held, ANSWERING)
        surveyed = np.flatnonzero(answering)
        qpv = h.ens.qpv[surveyed]
        for question in questions:
            share = np.where(qpv, SATISFIED[question][1], SATISFIED[question][0])
            satisfied = rng.binomial(answering[surveyed], share)
            out["organisme"].extend(h.siret(h.ens.landlord[surveyed]))
            out["annee"].extend([year] * len(surveyed))
            out["depcom"].extend(h.depcom(h.ens.commune[surveyed]))
            out["residence"].extend(h.ensemble_name[surveyed])
            out["en_qpv"].extend(qpv.tolist())
            out["question"].extend([question] * len(surveyed))
            out["repondants"].extend(answering[surveyed].tolist())
            out["satisfaits"].extend(satisfied.tolist())
            out["segment"].extend(segments[surveyed])
    return out
