"""The stock of a synthetic landlord over several years: dwellings, exits, works, operations, RPLS files.

The base stock and the dwellings delivered during the history are drawn by the one-file generator
(`synthetique`), so the static RPLS columns look the same; what changes from one 1 January to the next
(occupancy, lease, labels, accessibility, exits, sale offers, rent) is replaced per millésime from the
spells (`historique_vie`) and from the works drawn here. Rates: see the table in `historique`.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .historique_vie import (
    DEMOLITION,
    LEASE_MEAN_DAYS,
    LET,
    MODE_OF_KIND,
    NEVER,
    SALE,
    Spells,
    cut_spells,
    jan1,
    month_start,
    random_days,
    simulate_spells,
    year_of,
)
from .schema import rpls_schema
from .synthetique import DPE_BY_AGE, PERIODS, RENT_FACTOR, ZONE_RENT, Landlord, Place, _chunk, _Ensembles, _latin1

WARMUP_YEARS = 5  # spells are simulated from this many years before the first millésime
PIPELINE_YEARS = 3  # operations delivered after the last year file and get approval within it
RECENT_FROM = PERIODS[-1][1] + 2  # _Ensembles draws recent buildings from there to the millésime before
FIRST_YEAR_MIN = 2014  # the one-file generator dates DPE from 2013

DELIVERY_RATE, NET_GROWTH = 0.015, 0.01
NEW_FINANCING = (0.30, 0.45, 0.25)  # PLAI, PLUS, PLS
NEW_FINAN_CODES = ("11", "13", "14")
FINANCING_NAMES = ("PLAI", "PLUS", "PLS")
NEW_OPERATION_MAX = 120
NEW_QPV_SHARE, NEW_RU_IN_QPV, NEW_RU_OUTSIDE, VEFA_SHARE, NEW_RENT_AGE = 0.12, 0.7, 0.05, 0.5, 1.25
HEBERGEMENT_RATE, HEBERGEMENT_PLACES = 0.0015, (15, 80)
DEMOLITION_RATE, OFFER_RATE = 0.003, 0.005
OCCUPANT_PURCHASE_RATE, VACANT_SALE_SHARE, SOCIAL_BUYER_SHARE = 0.05, 0.5, 0.15
RU_SHARE_OF_QPV = 0.45
REHAB_RATE, REHAB_WITH_RENOVATION, CDC_ELIGIBLE_SHARE, PMR_AFTER_REHAB = 0.02, 0.5, 0.6, 0.25
RENOVATION_FG_RATE, RENOVATION_E_RATE, DIAGNOSIS_RATE = 0.10, 0.03, 0.15
STATIC_MODES = ((4, 0.005), (5, 0.004))  # managed by an association, caretaker's dwelling: never re-let
TALL_BUILDING, DWELLINGS_PER_LIFT = (0.75, 0.25), 20  # share of 5+ floor buildings (≥ 20 dwellings, fewer)
RENT_GROWTH, RENT_LEVEL = 0.029, 0.95  # CHIFFRES: 5.99 €/m² (2021) → 6.52 (2024)
# label after an energy renovation (probabilities of A..G), by label before (D..G)
RENOVATED_LABEL = {
    6: (0, 0.05, 0.35, 0.40, 0.20, 0, 0),
    5: (0, 0.05, 0.40, 0.40, 0.15, 0, 0),
    4: (0, 0.10, 0.55, 0.35, 0, 0, 0),
    3: (0, 0.20, 0.80, 0, 0, 0, 0),
}
CONSUMPTION_BOUNDS = (0, 51, 91, 151, 231, 331, 451, 600)  # kWh/m²/yr of A..G (former DPE scale, G1-C3)
LABELS = np.array(list("ABCDEFG"), dtype=object)
SEGMENT_NEW, SEGMENT_INDIVIDUAL = "S3", "S4"
# QUALACQ: 01 sitting tenant, 10 other legal person (another social landlord); a private buyer is left blank
BUYER = {1: "01", 2: "10"}
_ENSEMBLE_ARRAYS = (
    "size",
    "individual",
    "commune",
    "year",
    "qpv",
    "financing",
    "dpe",
    "dpe_known",
    "rent_m2",
    "buildings",
    "acquired",
    "entry_year",
    "landlord",
    "lat",
    "lon",
    "programme",
    "street",
    "street_type",
    "number",
)
DYNAMIC = (
    "SORTIEPATRIM",
    "MODE",
    "BAIL",
    "LOYERPRINC",
    "DPEDATE",
    "DPEENERGIE",
    "DPESERRE",
    "QUALACQ",
    "MISCOMMERCIAL",
    "PRIXVENTE",
    "REMLOCDATE",
    "DUREEVACANCE",
    "PMR",
)


@dataclass
class NewBuilds:
    """New-build operations, one ensemble each, delivered from the first year to a few years after the last."""

    ens: _Ensembles
    delivery: np.ndarray  # day put into service
    approved: np.ndarray
    filed: np.ndarray
    financing: np.ndarray  # dwellings PLAI, PLUS, PLS, one row per operation
    vefa: np.ndarray
    ru: np.ndarray


@dataclass
class Labels:
    """What a dwelling's DPE and accessibility are on a 1 January."""

    label: np.ndarray  # 0..6 for A..G, -1 unknown
    ges: np.ndarray
    dpe_day: np.ndarray  # first day of the month of the last DPE, NEVER if none
    pmr: np.ndarray

    def copy(self) -> "Labels":
        return Labels(self.label.copy(), self.ges.copy(), self.dpe_day.copy(), self.pmr.copy())


@dataclass
class History:
    """Everything the files are written from. Per-dwelling arrays cover every dwelling ever held."""

    first_year: int
    last_year: int
    people: tuple[Landlord, ...]
    places: tuple[Place, ...]
    ens: _Ensembles  # base ensembles, then the new ones delivered up to the last year
    base_ensembles: int
    ensemble_ru: np.ndarray
    ensemble_name: np.ndarray  # COMPLGEO: the residence
    static: dict[str, pa.Array]  # RPLS columns as drawn; DYNAMIC ones are replaced per millésime
    ensemble: np.ndarray
    building: np.ndarray
    floor: np.ndarray
    surface: np.ndarray
    rent: np.ndarray  # monthly rent in the last millésime
    delivery: np.ndarray  # day put into service (first letting)
    static_mode: np.ndarray  # 0, or MODE 4 / 5 for the whole history
    building_lifts: np.ndarray
    spells: Spells = field(init=False)
    exit_day: np.ndarray = field(init=False)
    exit_reason: np.ndarray = field(init=False)  # SORTIEPATRIM 1–4, 0 while held
    price: np.ndarray = field(init=False)
    offer_day: np.ndarray = field(init=False)  # put on sale (commercialisation), NEVER if not
    demolition_day: np.ndarray = field(init=False)  # per building
    states: dict[int, Labels] = field(default_factory=dict)  # on 1 January of each millésime
    operations: list[dict[str, Any]] = field(default_factory=list)
    _columns: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def vintages(self) -> range:
        return range(self.first_year, self.last_year + 1)

    @property
    def horizon(self) -> int:
        """The last day of the history (31 December of the last year)."""
        return int(jan1(self.last_year + 1)) - 1

    def column(self, name: str) -> np.ndarray:
        """A static RPLS column as a numpy array."""
        if name not in self._columns:
            self._columns[name] = self.static[name].to_numpy(zero_copy_only=False)
        return self._columns[name]

    def siret(self, landlord: np.ndarray) -> np.ndarray:
        return np.array([p.siret for p in self.people], dtype=object)[landlord]

    def depcom(self, commune: np.ndarray) -> np.ndarray:
        return np.array([p.code for p in self.places], dtype=object)[commune]

    def in_stock(self, year: int) -> np.ndarray:
        """Held on 1 January of `year`."""
        day = jan1(year)
        return (self.delivery < day) & (self.exit_day >= day)


def build_history(
    rng: np.random.Generator,
    dwellings: int,
    first_year: int,
    years: int,
    people: tuple[Landlord, ...],
    places: tuple[Place, ...],
) -> History:
    if first_year < FIRST_YEAR_MIN:
        raise ValueError(f"premier millésime : {FIRST_YEAR_MIN} au plus tôt")
    last_year = first_year + years - 1
    history, builds = _stock(rng, dwellings, first_year, last_year, people, places)
    _simulate(rng, history)
    _demolitions(rng, history, dwellings)
    offers = _sales(rng, history, dwellings)
    _works(rng, history, dwellings)
    _stock_operations(rng, history, builds, offers)
    _hebergement(rng, history, dwellings)
    return history


# --- the stock -----------------------------------------------------------------------------


def _base_ensembles(
    rng: np.random.Generator, dwellings: int, first_year: int, landlords: int, places: tuple[Place, ...]
) -> _Ensembles:
    ens = _Ensembles(rng, dwellings, max(first_year, RECENT_FROM), landlords, places)
    late = ens.year >= first_year
    ens.year = np.where(late, rng.integers(first_year - 4, first_year, len(late)), ens.year)
    ens.acquired = ens.acquired & ~late & (ens.entry_year < first_year)
    ens.entry_year = np.where(ens.acquired, ens.entry_year, ens.year)
    return ens


def _new_builds(
    rng: np.random.Generator, dwellings: int, first_year: int, last_year: int, landlords: int, places: tuple[Place, ...]
) -> NewBuilds:
    years = np.arange(first_year, last_year + 1 + PIPELINE_YEARS)
    targets = np.maximum(np.round(dwellings * DELIVERY_RATE * (1 + NET_GROWTH) ** (years - first_year)), 1)
    drawn = _Ensembles(rng, 2 * int(targets.sum()) + 100, max(int(years[-1]) + 1, RECENT_FROM), landlords, places)
    drawn.size = np.minimum(drawn.size, NEW_OPERATION_MAX)
    drawn.buildings = np.where(drawn.individual, drawn.size, np.maximum(1, drawn.size // 35))
    middle = np.cumsum(drawn.size) - drawn.size / 2
    ens = _select(drawn, middle < targets.sum())
    n = len(ens.size)
    year = years[np.minimum(np.searchsorted(np.cumsum(targets), middle[:n]), len(years) - 1)]
    ens.year, ens.entry_year = year, year.copy()
    ens.acquired = np.zeros(n, dtype=bool)
    ens.qpv = rng.random(n) < np.where(ens.individual, NEW_QPV_SHARE / 3, NEW_QPV_SHARE)
    newest = np.asarray(DPE_BY_AGE[max(DPE_BY_AGE)])
    ens.dpe = rng.choice(7, size=n, p=newest / newest.sum())
    ens.dpe_known = np.ones(n, dtype=bool)
    ens.financing = np.full(n, "13", dtype=object)
    ens.rent_m2 = np.array([ZONE_RENT[p.zone] for p in places])[ens.commune] * NEW_RENT_AGE * rng.lognormal(0, 0.08, n)
    delivery = random_days(rng, year)
    approved = delivery - rng.integers(365, 3 * 365 + 1, n)
    filed = approved - rng.integers(30, 151, n)
    financing = rng.multinomial(ens.size, rng.dirichlet(np.asarray(NEW_FINANCING) * 8, n))
    vefa = rng.random(n) < VEFA_SHARE
    ru = rng.random(n) < np.where(ens.qpv, NEW_RU_IN_QPV, NEW_RU_OUTSIDE)
    return NewBuilds(ens, delivery, approved, filed, financing, vefa, ru)


def _select(ens: _Ensembles, keep: np.ndarray) -> _Ensembles:
    return _combine(ens, ens, np.zeros(0, dtype=np.int64), keep)


def _combine(base: _Ensembles, new: _Ensembles, keep_base: np.ndarray | slice, keep_new: np.ndarray) -> _Ensembles:
    ens = copy.copy(base)
    for name in _ENSEMBLE_ARRAYS:
        setattr(ens, name, np.concatenate([getattr(base, name)[keep_base], getattr(new, name)[keep_new]]))
    ens.first_dwelling = np.concatenate([[0], np.cumsum(ens.size)[:-1]])
    return ens


def _label_index(values: pa.Array) -> np.ndarray:
    letters = values.to_numpy(zero_copy_only=False)
    index = np.full(len(letters), -1, dtype=np.int64)
    for i, letter in enumerate(LABELS):
        index[letters == letter] = i
    return index


def _month_days(values: pa.Array) -> np.ndarray:
    """First day of the month of `mm/yyyy` values."""
    months = pc.cast(pc.utf8_slice_codeunits(values, 0, 2), pa.int64()).to_numpy()
    years = pc.cast(pc.utf8_slice_codeunits(values, 3, 7), pa.int64()).to_numpy()
    return ((years - 1970) * 12 + months - 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _lifts(rng: np.random.Generator, ensemble: np.ndarray, building: np.ndarray, ens: _Ensembles) -> np.ndarray:
    """Lifts per building: collective buildings of 5 floors or more, one lift per staircase."""
    size = np.bincount(building)
    collective = ~ens.individual[ensemble[_first_of(building)]]
    tall = collective & (rng.random(len(size)) < np.where(size >= 20, *TALL_BUILDING))
    return np.where(tall, np.maximum(1, np.round(size / DWELLINGS_PER_LIFT)), 0).astype(np.int64)


def _first_of(groups: np.ndarray) -> np.ndarray:
    """Index of the first element of each group 0..max."""
    first = np.zeros(int(groups.max()) + 1, dtype=np.int64)
    first[groups[::-1]] = np.arange(len(groups))[::-1]
    return first


def _stock(
    rng: np.random.Generator,
    dwellings: int,
    first_year: int,
    last_year: int,
    people: tuple[Landlord, ...],
    places: tuple[Place, ...],
) -> tuple[History, NewBuilds]:
    base = _base_ensembles(rng, dwellings, first_year, len(people), places)
    builds = _new_builds(rng, dwellings, first_year, last_year, len(people), places)
    delivered = builds.ens.year <= last_year
    ens = _combine(base, builds.ens, slice(None), delivered)
    n_base = len(base.size)
    columns = _chunk(rng, ens, np.arange(len(ens.size)), first_year, people, places)
    ensemble = np.repeat(np.arange(len(ens.size)), ens.size)
    n = len(ensemble)
    is_new = ensemble >= n_base
    operation = np.where(is_new, ensemble - n_base, 0)
    counts = builds.financing[delivered][operation]
    rank = np.arange(n) - ens.first_dwelling[ensemble]
    category = (rank >= counts[:, 0]).astype(np.int64) + (rank >= counts[:, 0] + counts[:, 1])
    finan = np.where(is_new, np.asarray(NEW_FINAN_CODES)[category], columns["FINAN"].to_numpy(zero_copy_only=False))
    columns["FINAN"] = pa.array(finan.astype(str))
    columns["CUS"] = pa.array(np.where(is_new, finan, columns["CUS"].to_numpy(zero_copy_only=False)).astype(str))
    vefa = np.where(builds.vefa[delivered][operation], "4", "1")
    columns["ORIGINE"] = pa.array(np.where(is_new, vefa, columns["ORIGINE"].to_numpy(zero_copy_only=False)).astype(str))
    surface = pc.cast(columns["SURFHAB"], pa.int64()).to_numpy()
    factor = np.where(is_new, np.array([RENT_FACTOR.get(f, 1.0) for f in finan]), 1.0)
    rent = np.round(RENT_LEVEL * ens.rent_m2[ensemble] * surface * factor * rng.normal(1, 0.04, n), 2)
    delivery = np.concatenate([random_days(rng, ens.entry_year[:n_base]), builds.delivery[delivered]])[ensemble]
    draw = rng.random(n)
    static_mode = np.zeros(n, dtype=np.int64)
    low = 0.0
    for mode, share in STATIC_MODES:
        static_mode[(draw >= low) & (draw < low + share) & ~is_new] = mode
        low += share
    building = pc.dictionary_encode(columns["IMMEU"]).indices.to_numpy().astype(np.int64)
    names = [c.nom for c in rpls_schema().colonnes]
    history = History(
        first_year=first_year,
        last_year=last_year,
        people=people,
        places=places,
        ens=ens,
        base_ensembles=n_base,
        ensemble_ru=np.concatenate([base.qpv & (rng.random(n_base) < RU_SHARE_OF_QPV), builds.ru[delivered]]),
        ensemble_name=columns["COMPLGEO"].to_numpy(zero_copy_only=False)[ens.first_dwelling],
        static={name: pa.array(columns[name]) if name in columns else pa.nulls(n, pa.string()) for name in names},
        ensemble=ensemble,
        building=building,
        floor=pc.cast(columns["ETAGE"], pa.int64()).fill_null(0).to_numpy(),
        surface=surface,
        rent=rent,
        delivery=delivery,
        static_mode=static_mode,
        building_lifts=_lifts(rng, ensemble, building, ens),
    )
    label = _label_index(columns["DPEENERGIE"])
    dpe_day = np.where(is_new, month_start(delivery), _month_days(columns["DPEDATE"]))
    pmr = columns["PMR"].to_numpy(zero_copy_only=False) == "1"
    history.states[first_year] = Labels(
        label, _label_index(columns["DPESERRE"]), np.where(label >= 0, dpe_day, NEVER), pmr
    )
    return history, builds


def _simulate(rng: np.random.Generator, h: History) -> None:
    start = jan1(h.first_year - WARMUP_YEARS)
    locat = pc.cast(h.static["LOCAT"], pa.int64()).to_numpy()
    lease = start - np.ceil(rng.exponential(LEASE_MEAN_DAYS, len(h.delivery))).astype(np.int64)
    lease = np.maximum(lease, np.maximum(jan1(locat), h.delivery))
    first_letting = h.delivery >= start
    begin = np.where(h.static_mode > 0, NEVER, np.maximum(h.delivery, start))
    h.spells = simulate_spells(rng, begin, lease, first_letting, h.horizon)
    h.exit_day = np.full(len(h.delivery), NEVER)
    h.exit_reason = np.zeros(len(h.delivery), dtype=np.int64)


# --- exits ---------------------------------------------------------------------------------


def _after_new_year(days: np.ndarray) -> np.ndarray:
    """No exit on 1 January: the dwelling is either held on that day (gone during the year) or not."""
    return days + (jan1(year_of(np.minimum(days, jan1(3000)))) == days)


def _weighted_order(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Indices with a positive weight, in a random order favouring heavy ones."""
    candidates = np.flatnonzero(weights > 0)
    keys = rng.exponential(size=len(candidates)) / weights[candidates]
    return candidates[np.argsort(keys, kind="stable")]


def _take_until(order: np.ndarray, sizes: np.ndarray, target: float) -> np.ndarray:
    """The first units of `order` whose sizes add up to about `target`."""
    middle = np.cumsum(sizes[order]) - sizes[order] / 2
    return order[: int(np.searchsorted(middle, target))]


def _pick_by_year(order: np.ndarray, sizes: np.ndarray, years: np.ndarray, per_year: float) -> np.ndarray:
    """Year given to each unit (0: none), taking `order` in turn, so that about `per_year` dwellings go each year."""
    chosen = np.zeros(len(sizes), dtype=np.int64)
    middle = np.cumsum(sizes[order]) - sizes[order] / 2
    start = 0
    for k, year in enumerate(years):
        stop = int(np.searchsorted(middle, per_year * (k + 1)))
        chosen[order[start:stop]] = year
        start = stop
    return chosen


def _demolitions(rng: np.random.Generator, h: History, dwellings: int) -> None:
    """Old collective buildings demolished (urban renewal first), emptied over the 6–24 months before."""
    size = np.bincount(h.building)
    ensemble = h.ensemble[_first_of(h.building)]
    old = (ensemble < h.base_ensembles) & ~h.ens.individual[ensemble] & (h.ens.year[ensemble] < 1975)
    weights = np.where(old, np.where(h.ensemble_ru[ensemble], 6.0, 1.0), 0.0)
    years = np.arange(h.first_year - 1, h.last_year + 1)
    year = _pick_by_year(_weighted_order(rng, weights), size, years, DEMOLITION_RATE * dwellings)
    day = _after_new_year(random_days(rng, np.where(year > 0, year, h.first_year)))
    h.demolition_day = np.where(year > 0, day, NEVER)
    targets = np.flatnonzero(h.demolition_day[h.building] < NEVER)
    demolished = h.demolition_day[h.building[targets]]
    relocation = demolished - rng.integers(180, 721, len(targets))
    spell = h.spells.at(targets, relocation)
    let = (spell >= 0) & (h.spells.kind[spell] == LET)
    leaving = relocation + (rng.random(len(targets)) * np.maximum(demolished - relocation - 30, 1)).astype(np.int64)
    empty_from = np.where(let, np.minimum(leaving, h.spells.end[spell] + 1), relocation)
    cut = np.full(len(h.ensemble), NEVER)
    cut[targets] = np.where(spell >= 0, empty_from, demolished)
    lived = spell >= 0
    h.spells = cut_spells(
        h.spells,
        cut,
        Spells(
            targets[lived],
            empty_from[lived],
            demolished[lived] - 1,
            np.full(int(lived.sum()), DEMOLITION, dtype=np.int8),
            np.zeros(int(lived.sum()), dtype=bool),
        ),
    )
    h.exit_day[targets] = demolished
    h.exit_reason[targets] = 4


def _sales(rng: np.random.Generator, h: History, dwellings: int) -> np.ndarray:
    """Ensembles put on sale (mostly houses): a sitting tenant buys, or a vacated dwelling is kept empty and sold.

    Returns the day each ensemble was put on sale (NEVER if not).
    """
    n_ens = len(h.ens.size)
    demolished = np.zeros(n_ens, dtype=bool)
    demolished[h.ensemble[h.exit_reason == 4]] = True
    eligible = (np.arange(n_ens) < h.base_ensembles) & ~demolished & (h.ens.year < h.first_year - 10)
    weights = np.where(eligible, np.where(h.ens.individual, 8.0, np.where(h.ens.size <= 60, 1.0, 0.0)), 0.0)
    years = np.arange(h.first_year - WARMUP_YEARS + 1, h.last_year + 1)
    year = _pick_by_year(_weighted_order(rng, weights), h.ens.size, years, OFFER_RATE * dwellings)
    offer = np.where(year > 0, random_days(rng, np.where(year > 0, year, h.first_year)), NEVER)
    h.offer_day = np.where(h.static_mode == 0, offer[h.ensemble], NEVER)
    targets = np.flatnonzero(h.offer_day < NEVER)
    buys = h.offer_day[targets] + 90
    buys = _after_new_year(
        buys + np.ceil(rng.exponential(365.25 / OCCUPANT_PURCHASE_RATE, len(targets))).astype(np.int64)
    )
    spell = h.spells.at(targets, buys)
    tenant_buys = (spell >= 0) & (h.spells.kind[spell] == LET) & (buys <= h.horizon)
    s = h.spells
    after = np.flatnonzero((s.kind != LET) & (s.start > h.offer_day[s.dwelling]))
    first_vacancy = np.full(len(h.ensemble), NEVER)
    owners, first = np.unique(s.dwelling[after], return_index=True)
    first_vacancy[owners] = s.start[after[first]]
    vacated = first_vacancy[targets]
    kept_empty = (vacated < NEVER) & (rng.random(len(targets)) < VACANT_SALE_SHARE)
    sold_empty = _after_new_year(np.minimum(vacated, jan1(3000)) + rng.integers(60, 241, len(targets)))
    empty_sale = kept_empty & (~tenant_buys | (vacated < buys))
    tenant_sale = tenant_buys & ~empty_sale
    cut = np.full(len(h.ensemble), NEVER)
    cut[targets[empty_sale]] = vacated[empty_sale]
    cut[targets[tenant_sale]] = buys[tenant_sale]
    count = int(empty_sale.sum())
    added = Spells(
        targets[empty_sale],
        vacated[empty_sale],
        sold_empty[empty_sale] - 1,
        np.full(count, SALE, dtype=np.int8),
        np.zeros(count, dtype=bool),
    )
    h.spells = cut_spells(h.spells, cut, added)
    buyer = np.where(rng.random(len(targets)) < SOCIAL_BUYER_SHARE, 2, 3)
    h.exit_day[targets[empty_sale]] = sold_empty[empty_sale]
    h.exit_reason[targets[empty_sale]] = buyer[empty_sale]
    h.exit_day[targets[tenant_sale]] = buys[tenant_sale]
    h.exit_reason[targets[tenant_sale]] = 1
    h.price = np.round(h.surface * rng.uniform(1200, 2200, len(h.surface)), -2)
    return offer


# --- works ---------------------------------------------------------------------------------


def _operation(h: History, ensemble: int, **values: Any) -> dict[str, Any]:
    """An operations row on `ensemble`, with what the ensemble says (landlord, commune, QPV, segment)."""
    commune = int(h.ens.commune[ensemble])
    row = {
        "organisme": h.people[int(h.ens.landlord[ensemble])].siret,
        "depcom": h.places[commune].code,
        "produit": "LOGEMENT",
        "en_qpv": bool(h.ens.qpv[ensemble]),
        "renouvellement_urbain": bool(h.ensemble_ru[ensemble]),
    }
    row.update(values)
    return row


def _segment_of_ensemble(h: History) -> np.ndarray:
    return h.column("CODSEGPATRIM")[h.ens.first_dwelling]


def _works(rng: np.random.Generator, h: History, dwellings: int) -> None:
    """Energy renovations, rehabilitations and new DPE, year by year; labels change the next 1 January."""
    state = h.states[h.first_year].copy()
    renovated = np.zeros(len(h.ensemble), dtype=bool)
    rehabilitated = np.zeros(len(h.ensemble), dtype=bool)
    n_ens = len(h.ens.size)
    segments = _segment_of_ensemble(h)
    for year in h.vintages:
        h.states[year] = state.copy()
        held = h.in_stock(year)
        steady = held & (h.exit_day == NEVER) & (h.offer_day == NEVER)
        works_day = random_days(rng, np.full(n_ens, year))
        chosen = _renovations(rng, h, state, steady & ~renovated, works_day, year, segments)
        renovated |= chosen[h.ensemble] & steady & (h.states[year].label >= 3)
        candidates = steady & ~rehabilitated & (h.ens.year[h.ensemble] < 1995)
        forced = chosen & (rng.random(n_ens) < REHAB_WITH_RENOVATION)
        size = np.bincount(h.ensemble[candidates], minlength=n_ens)
        others = _take_until(
            _weighted_order(rng, np.where(forced, 0.0, size.astype(float))),
            size,
            REHAB_RATE * held.sum() - size[forced].sum(),
        )
        rehab = forced.copy()
        rehab[others] = True
        done = candidates & rehab[h.ensemble]
        rehabilitated |= done
        accessible = done & ~state.pmr & ((h.floor == 0) | (h.building_lifts[h.building] > 0))
        state.pmr |= accessible & (rng.random(len(done)) < PMR_AFTER_REHAB)
        eligible = rng.random(n_ens) < CDC_ELIGIBLE_SHARE
        cost = rng.uniform(15_000, 45_000, n_ens)
        count = np.bincount(h.ensemble[done], minlength=n_ens)
        for e in np.flatnonzero(count):
            h.operations.append(
                _operation(
                    h,
                    int(e),
                    id_operation=f"REH-{year}-{e:06d}",
                    type_evenement="REHABILITATION",
                    date_evenement=int(works_day[e]),
                    nb_logements=int(count[e]),
                    eligible_pret_cdc=bool(eligible[e]),
                    montant_ht=round(float(count[e] * cost[e]), 2),
                    segment=segments[e],
                )
            )
        unknown = held & (state.label < 0) & (rng.random(len(held)) < DIAGNOSIS_RATE)
        drawn = np.clip(h.ens.dpe[h.ensemble] + rng.integers(-1, 2, len(held)), 0, 6)
        state.label = np.where(unknown, drawn, state.label)
        state.ges = np.where(unknown, np.clip(drawn - (rng.random(len(held)) < 0.4), 0, 6), state.ges)
        state.dpe_day = np.where(unknown, month_start(random_days(rng, np.full(len(held), year))), state.dpe_day)


def _renovations(
    rng: np.random.Generator,
    h: History,
    state: Labels,
    candidates: np.ndarray,
    works_day: np.ndarray,
    year: int,
    segments: np.ndarray,
) -> np.ndarray:
    """Energy renovations of `year`: ensembles with F/G (then E) dwellings; returns the ensembles chosen."""
    n_ens = len(h.ens.size)
    chosen = np.zeros(n_ens, dtype=bool)
    for labels, rate in (((5, 6), RENOVATION_FG_RATE), ((4,), RENOVATION_E_RATE)):
        count = np.bincount(h.ensemble[candidates & np.isin(state.label, labels)], minlength=n_ens)
        count[chosen] = 0
        chosen[_take_until(_weighted_order(rng, count.astype(float)), count, rate * count.sum())] = True
    done = np.flatnonzero(candidates & chosen[h.ensemble] & (state.label >= 3))
    groups, group_of, count = np.unique(
        h.ensemble[done] * 8 + state.label[done], return_inverse=True, return_counts=True
    )
    before = groups % 8
    after = np.zeros(len(groups), dtype=np.int64)
    for label, probabilities in RENOVATED_LABEL.items():
        mask = before == label
        after[mask] = rng.choice(7, size=int(mask.sum()), p=probabilities)
    cost = rng.uniform(20_000, 40_000, len(groups))
    bounds = np.asarray(CONSUMPTION_BOUNDS)
    consumption_before = rng.uniform(bounds[before], bounds[before + 1] - 1)
    consumption_after = rng.uniform(bounds[after], bounds[after + 1] - 1)
    for g, key in enumerate(groups):
        e = int(key // 8)
        h.operations.append(
            _operation(
                h,
                e,
                id_operation=f"REN-{year}-{e:06d}-{LABELS[before[g]]}",
                type_evenement="RENOVATION_ENERGETIQUE",
                date_evenement=int(works_day[e]),
                nb_logements=int(count[g]),
                etiquette_avant=LABELS[before[g]],
                etiquette_apres=LABELS[after[g]],
                conso_avant=round(float(consumption_before[g]), 1),
                conso_apres=round(float(consumption_after[g]), 1),
                montant_ht=round(float(count[g] * cost[g]), 2),
                segment=segments[e],
            )
        )
    new_label = after[group_of]
    state.label[done] = new_label
    state.ges[done] = np.where(state.ges[done] < 0, new_label, np.minimum(state.ges[done], new_label + 1))
    state.dpe_day[done] = month_start(works_day[h.ensemble[done]])
    return chosen


# --- operations on the stock -----------------------------------------------------------------


def _in_window(h: History, day: int) -> bool:
    return int(jan1(h.first_year)) <= day <= h.horizon


def _stock_operations(rng: np.random.Generator, h: History, builds: NewBuilds, offer: np.ndarray) -> None:
    """New builds (filing, approval, delivery by financing), demolitions, sale offers and sales."""
    cost = rng.uniform(140_000, 190_000, len(builds.ens.size))
    for op in range(len(builds.ens.size)):
        commune = int(builds.ens.commune[op])
        common = {
            "organisme": h.people[int(builds.ens.landlord[op])].siret,
            "depcom": h.places[commune].code,
            "produit": "LOGEMENT",
            "en_qpv": bool(builds.ens.qpv[op]),
            "renouvellement_urbain": bool(builds.ru[op]),
            "segment": SEGMENT_INDIVIDUAL if builds.ens.individual[op] else SEGMENT_NEW,
        }
        for kind, day in (
            ("DEPOT_FINANCEMENT", builds.filed[op]),
            ("AGREMENT", builds.approved[op]),
            ("MISE_EN_SERVICE", builds.delivery[op]),
        ):
            if not _in_window(h, int(day)):
                continue
            for k, name in enumerate(FINANCING_NAMES):
                count = int(builds.financing[op, k])
                if count:
                    h.operations.append(
                        {
                            **common,
                            "id_operation": f"NEUF-{op:06d}",
                            "type_evenement": kind,
                            "date_evenement": int(day),
                            "financement": name,
                            "nb_logements": count,
                            "montant_ht": round(float(count * cost[op]), 2),
                        }
                    )
    _demolition_operations(rng, h)
    _sale_operations(h, offer)


def _demolition_operations(rng: np.random.Generator, h: History) -> None:
    size = np.bincount(h.building)
    ensemble = h.ensemble[_first_of(h.building)]
    cost = rng.uniform(8_000, 15_000, len(size))
    segments = _segment_of_ensemble(h)
    for b in np.flatnonzero(h.demolition_day < NEVER):
        day = int(h.demolition_day[b])
        if _in_window(h, day):
            e = int(ensemble[b])
            h.operations.append(
                _operation(
                    h,
                    e,
                    id_operation=f"DEM-{year_of(np.array([day]))[0]}-{b:06d}",
                    type_evenement="DEMOLITION",
                    date_evenement=day,
                    nb_logements=int(size[b]),
                    montant_ht=round(float(size[b] * cost[b]), 2),
                    segment=segments[e],
                )
            )


def _sale_operations(h: History, offer: np.ndarray) -> None:
    segments = _segment_of_ensemble(h)
    for e in np.flatnonzero(offer < NEVER):
        day = int(offer[e])
        if not _in_window(h, day):
            continue
        mine = h.ensemble == e
        on_sale = int((mine & (h.offer_day < NEVER) & (h.exit_day >= day)).sum())
        if on_sale:
            h.operations.append(
                _operation(
                    h,
                    int(e),
                    id_operation=f"CES-{e:06d}",
                    type_evenement="MISE_EN_VENTE",
                    date_evenement=day,
                    nb_logements=on_sale,
                    segment=segments[e],
                )
            )
    sold = np.flatnonzero((h.exit_reason >= 1) & (h.exit_reason <= 3) & (h.exit_day <= h.horizon))
    sold = sold[h.exit_day[sold] >= jan1(h.first_year)]
    years = year_of(h.exit_day[sold])
    keys = h.ensemble[sold] * 10_000 + years
    for key in np.unique(keys):
        members = sold[keys == key]
        ensemble, year = int(key // 10_000), int(key % 10_000)
        h.operations.append(
            _operation(
                h,
                ensemble,
                id_operation=f"CES-{ensemble:06d}-{year}",
                type_evenement="VENTE",
                date_evenement=int(h.exit_day[members].max()),
                nb_logements=len(members),
                montant_ht=float(h.price[members].sum()),
                segment=segments[ensemble],
            )
        )


def _hebergement(rng: np.random.Generator, h: History, dwellings: int) -> None:
    """Places of hébergement / adapted housing (not in the RPLS): filed, approved, delivered."""
    years = np.arange(h.first_year, h.last_year + 1 + PIPELINE_YEARS)
    target = HEBERGEMENT_RATE * dwellings
    count = int(np.ceil(target * len(years) / np.mean(HEBERGEMENT_PLACES))) + 2
    places = rng.integers(HEBERGEMENT_PLACES[0], HEBERGEMENT_PLACES[1] + 1, count)
    index = ((np.cumsum(places) - places / 2) // target).astype(np.int64)
    keep = index < len(years)
    year = years[np.minimum(index, len(years) - 1)]
    weights = np.array([p.poids for p in h.places])
    commune = rng.choice(len(h.places), size=count, p=weights / weights.sum())
    landlord = rng.integers(0, len(h.people), count)
    qpv = rng.random(count) < 0.2
    delivery = random_days(rng, year)
    approved = delivery - rng.integers(365, 3 * 365 + 1, count)
    filed = approved - rng.integers(30, 151, count)
    cost = rng.uniform(60_000, 90_000, count)
    for k in np.flatnonzero(keep):
        for kind, day in (("DEPOT_FINANCEMENT", filed[k]), ("AGREMENT", approved[k]), ("MISE_EN_SERVICE", delivery[k])):
            if _in_window(h, int(day)):
                h.operations.append(
                    {
                        "id_operation": f"HEB-{k:05d}",
                        "organisme": h.people[int(landlord[k])].siret,
                        "type_evenement": kind,
                        "date_evenement": int(day),
                        "depcom": h.places[int(commune[k])].code,
                        "produit": "HEBERGEMENT",
                        "financement": "PLAI",
                        "nb_logements": 0,
                        "nb_places": int(places[k]),
                        "en_qpv": bool(qpv[k]),
                        "renouvellement_urbain": False,
                        "montant_ht": round(float(places[k] * cost[k]), 2),
                    }
                )


# --- RPLS millésimes -------------------------------------------------------------------------


def _texts(values: np.ndarray, keep: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values).astype(str), mask=~keep)


def _month_year(days: np.ndarray, keep: np.ndarray) -> pa.Array:
    dates = pa.array(np.where(keep, days, 0).astype("datetime64[D]")).cast(pa.timestamp("s"))
    return pc.if_else(pa.array(keep), pc.strftime(dates, format="%m/%Y"), pa.scalar(None, pa.string()))


def vintage_columns(h: History, year: int) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """The dwellings of millésime `year` (held on 1 January, or gone during the year before) and their
    DYNAMIC columns."""
    day = jan1(year)
    rows = np.flatnonzero((h.delivery < day) & (h.exit_day >= jan1(year - 1)))
    gone = h.exit_day[rows] < day
    spell = h.spells.at(rows, day)
    static = h.static_mode[rows]
    if np.any((spell < 0) & (static == 0) & ~gone):
        raise AssertionError("logement sans période au 1er janvier")
    kind = h.spells.kind[np.maximum(spell, 0)]
    mode = np.where(gone, "9", np.where(static > 0, static.astype(str), MODE_OF_KIND[kind])).astype(str)
    start = h.spells.start[np.maximum(spell, 0)]
    let = mode == "1"
    relet = let & ~h.spells.first[np.maximum(spell, 0)] & (start > h.delivery[rows])
    vacant = mode == "2"
    months = np.maximum(1, np.ceil((day - start) / 30.4375)).astype(np.int64)
    state = h.states[year]
    label, ges = state.label[rows], state.ges[rows]
    reason = h.exit_reason[rows]
    sold = gone & (reason >= 1) & (reason <= 3)
    rent = np.round(h.rent[rows] / (1 + RENT_GROWTH) ** (h.last_year - year), 2)
    offered = h.offer_day[rows] <= jan1(year) - 1
    buyer = np.array([BUYER.get(int(r), "") for r in reason], dtype=object)
    columns = {
        "SORTIEPATRIM": pa.array(np.where(gone, reason.astype(str), "9")),
        "MODE": pa.array(mode),
        "BAIL": _month_year(start, let),
        "LOYERPRINC": pa.array(np.where(np.isin(mode, ["1", "2", "4"]), rent.astype(str), "9999")),
        "DPEDATE": pc.fill_null(_month_year(state.dpe_day[rows], label >= 0), "01/1900"),
        "DPEENERGIE": _texts(LABELS[np.maximum(label, 0)], label >= 0),
        "DPESERRE": _texts(LABELS[np.maximum(ges, 0)], ges >= 0),
        "QUALACQ": _texts(buyer, gone & (buyer != "")),
        "MISCOMMERCIAL": pa.array(np.where(offered, "1", "2")),
        "PRIXVENTE": _texts(h.price[rows].astype(np.int64), sold),
        "REMLOCDATE": _month_year(start, relet),
        "DUREEVACANCE": _texts(months, vacant),
        "PMR": pa.array(np.where(state.pmr[rows], "1", "2")),
    }
    return rows, columns


def csv_bytes(table: pa.Table) -> bytes:
    """`;`-separated, header unquoted, values never quoted (none holds a `;`, a quote or a line break)."""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, delimiter=";", quoting_style="none"))
    return (";".join(table.column_names) + "\n").encode() + sink.getvalue().to_pybytes()


def write_rpls_vintages(h: History, folder: Path, tick: Callable[[], None]) -> tuple[dict[int, Path], dict[int, int]]:
    """rpls_<AAAA>.csv for each millésime, open-data layout in Latin-1, as the one-file generator writes it."""
    order = [c.nom for c in rpls_schema().colonnes]
    static = pa.table(h.static)
    files, counts = {}, {}
    for year in h.vintages:
        rows, dynamic = vintage_columns(h, year)
        table = static.take(pa.array(rows))
        table = pa.table({name: dynamic.get(name, table.column(name)) for name in order})
        path = folder / f"rpls_{year}.csv"
        path.write_bytes(_latin1(csv_bytes(table)))
        files[year] = path
        counts[year] = int(h.in_stock(year).sum())
        tick()
    return files, counts
