"""A synthetic landlord: a realistic RPLS file, deterministic from a seed, 1 000 to 5 400 000 dwellings.

Distributions are calibrated on the published national figures (SDES, RPLS; see
shared/domain/CHIFFRES.md): 85 % collective, rooms 7.4/20.2/37/27.8/7.5 %, ~31 % in QPV, vacancy
2.9 % of dwellings offered for rent (1.4 % over 3 months), mobility ~9.3 %, average rent about
6.5 €/m² (higher in Île-de-France). The figures it produces are synthetic, never real ones.
The file goes through the same import path as a landlord's real file.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..geographie.referentiel import COMMUNE_PATTERN, gazetteer
from .schema import rpls_schema

MIN_DWELLINGS, MAX_DWELLINGS = 1_000, 5_400_000
CHUNK_DWELLINGS = 400_000

ROOMS = np.array([1, 2, 3, 4, 5, 6, 7])
ROOM_SHARES = np.array([0.074, 0.202, 0.370, 0.278, 0.060, 0.013, 0.003])
ROOM_SURFACE = np.array([0.0, 30, 47, 64, 78, 92, 105, 118])
PERIODS = [(1920, 1948, 0.06), (1949, 1974, 0.34), (1975, 1999, 0.30), (2000, 2009, 0.10), (2010, 2019, 0.15)]
RECENT_SHARE = 0.05  # built from 2020 to the year before the millésime
ZONE_RENT = {"Abis": 7.9, "A": 7.0, "B1": 6.2, "B2": 5.9, "C": 5.5}
DPE_CLASSES = np.array(list("ABCDEFG"))
DPE_BY_AGE = {  # probabilities of A..G by construction period
    1975: [0.00, 0.02, 0.18, 0.42, 0.26, 0.09, 0.03],
    2000: [0.00, 0.04, 0.30, 0.42, 0.18, 0.05, 0.01],
    2013: [0.01, 0.15, 0.55, 0.25, 0.04, 0.00, 0.00],
    9999: [0.05, 0.45, 0.45, 0.05, 0.00, 0.00, 0.00],
}
FINANCING = {  # (codes, probabilities, rent factor per code)
    "old": (["52", "51", "53", "54", "55", "50", "99"], [0.70, 0.10, 0.05, 0.05, 0.05, 0.03, 0.02]),
    "pla": (["12", "11", "14", "10", "49"], [0.75, 0.05, 0.08, 0.07, 0.05]),
    "new": (["13", "11", "14"], [0.60, 0.25, 0.15]),
}
RENT_FACTOR = {"11": 0.88, "10": 0.9, "13": 1.0, "12": 0.97, "14": 1.35, "16": 1.6}
CUS_CEILING = {"11": "11", "10": "11", "14": "14", "16": "16"}
CONTINGENTS = (["1", "2", "3", "4", "5", "6", "7"], [0.04, 0.22, 0.20, 0.18, 0.02, 0.04, 0.30])
PROGRAMMES = [
    "Les Tilleuls",
    "Les Érables",
    "Le Parc",
    "Les Glycines",
    "La Roseraie",
    "Les Coteaux",
    "Bellevue",
    "Le Moulin",
    "Les Cèdres",
    "La Source",
    "Les Châtaigniers",
    "Le Verger",
    "Les Peupliers",
    "Château-Gaillard",
    "Les Mûriers",
    "La Forêt",
    "Pré-Fleuri",
    "Les Hêtres",
]
STREETS = [
    "Jean Jaurès",
    "Victor Hugo",
    "de la République",
    "Pasteur",
    "des Écoles",
    "du Général Leclerc",
    "Émile Zola",
    "de la Gare",
    "Jean Moulin",
    "Gambetta",
    "des Frênes",
    "Lénine",
    "Aimé Césaire",
    "de l'Égalité",
    "Louise Michel",
    "Pierre Sémard",
]
STREET_TYPES = ["RUE", "AV", "BD", "ALL", "PL", "CHE"]
SEGMENTS = {
    "S1": "Patrimoine ancien en QPV",
    "S2": "Patrimoine ancien hors QPV",
    "S3": "Patrimoine récent",
    "S4": "Logements individuels",
}


@dataclass(frozen=True)
class Place:
    """A commune where the synthetic stock is placed; lat/lon may be unknown (NaN)."""

    code: str
    nom: str
    code_postal: str
    departement: str
    region: str
    epci: str
    zone: str
    lat: float
    lon: float
    poids: float


def places_from_gazetteer() -> tuple[Place, ...]:
    gaz = gazetteer()
    return tuple(
        Place(
            c.code,
            c.nom,
            c.code_postal,
            c.departement,
            gaz.departements[c.departement]["region"],
            c.epci,
            c.zone,
            c.lat,
            c.lon,
            c.poids,
        )
        for c in gaz.communes
    )


def places_from_cog(communes_parquet: Path) -> tuple[Place, ...]:
    """Every commune of a loaded COG, weighted by population (benchmarks at national scale)."""
    import duckdb

    rows = duckdb.sql(
        f"SELECT code, libelle, dep, reg, coalesce(epci, ''), greatest(coalesce(population, 0), 1) "
        f"FROM read_parquet('{communes_parquet}') WHERE type = 'commune-actuelle' "
        f"AND regexp_full_match(code, '{COMMUNE_PATTERN}')"
    ).fetchall()
    return tuple(
        Place(code, nom, "", dep, reg, epci, "B1", float("nan"), float("nan"), float(pop))
        for code, nom, dep, reg, epci, pop in rows
    )


@dataclass(frozen=True)
class Landlord:
    numero: str
    raison_sociale: str
    siret: str
    categorie: str


@dataclass(frozen=True)
class SyntheticSummary:
    path: Path
    dwellings: int
    ensembles: int
    landlords: tuple[Landlord, ...]
    vintage: int


def _landlords(count: int) -> tuple[Landlord, ...]:
    names = []
    for i in range(count):
        category = "OPH" if i % 3 == 0 else "ESH"
        label = "Office synthétique de l'habitat" if category == "OPH" else "Habitat synthétique"
        names.append(Landlord(f"{900000 + i:06d}", f"{label} n° {i + 1}", f"{99900000000000 + i:014d}", category))
    return tuple(names)


def _pick(rng: np.random.Generator, values: list[str], weights: list[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(values)[rng.choice(len(values), size=size, p=p / p.sum())]


def _ensemble_sizes(rng: np.random.Generator, target: int, individual: bool) -> np.ndarray:
    sizes: list[np.ndarray] = []
    total = 0
    while total < target:
        if individual:
            batch = rng.integers(4, 41, size=4096)
        else:
            batch = np.clip(rng.lognormal(np.log(70), 0.8, size=4096), 8, 600).astype(np.int64)
        sizes.append(batch)
        total += int(batch.sum())
    flat = np.concatenate(sizes)
    cut = int(np.searchsorted(np.cumsum(flat), target))
    flat = flat[: cut + 1].copy()
    flat[-1] -= int(flat.sum()) - target
    return flat[flat > 0]


class _Ensembles:
    """Attributes drawn once per ensemble immobilier."""

    def __init__(
        self,
        rng: np.random.Generator,
        dwellings: int,
        vintage: int,
        landlords: int,
        communes: tuple[Place, ...],
    ):
        collective = _ensemble_sizes(rng, round(dwellings * 0.85), individual=False)
        individual = _ensemble_sizes(rng, dwellings - round(dwellings * 0.85), individual=True)
        self.size = np.concatenate([collective, individual])
        n = len(self.size)
        order = rng.permutation(n)
        self.size = self.size[order]
        self.individual = np.concatenate([np.zeros(len(collective), bool), np.ones(len(individual), bool)])[order]
        weights = np.array([c.poids for c in communes], dtype=float)
        self.commune = rng.choice(len(communes), size=n, p=weights / weights.sum())
        shares = np.array([p[2] for p in PERIODS] + [RECENT_SHARE])
        period = rng.choice(len(shares), size=n, p=shares / shares.sum())
        # periods are clipped to the year before the millésime, so older millésimes stay possible
        bounds = np.array([(p[0], p[1]) for p in PERIODS] + [(2020, vintage - 1)])
        bounds[:, 1] = np.minimum(bounds[:, 1], vintage - 1)
        bounds[:, 0] = np.minimum(bounds[:, 0], bounds[:, 1])
        self.year = rng.integers(bounds[period, 0], bounds[period, 1] + 1)
        qpv_p = np.where(self.year < 1975, 0.55, np.where(self.year < 2000, 0.30, 0.08))
        self.qpv = rng.random(n) < np.where(self.individual, qpv_p * 0.3, qpv_p)
        self.financing = np.empty(n, dtype=object)
        for label, mask in (
            ("old", self.year < 1977),
            ("pla", (self.year >= 1977) & (self.year < 2000)),
            ("new", self.year >= 2000),
        ):
            codes, probs = FINANCING[label]
            self.financing[mask] = _pick(rng, codes, probs, int(mask.sum()))
        self.dpe = np.zeros(n, dtype=np.int64)
        lower = 0
        for upper, probs in DPE_BY_AGE.items():
            mask = (self.year >= lower) & (self.year < upper)
            self.dpe[mask] = rng.choice(7, size=int(mask.sum()), p=np.asarray(probs) / sum(probs))
            lower = upper
        self.dpe_known = rng.random(n) > 0.07
        zone_rent = np.array([ZONE_RENT[c.zone] for c in communes])[self.commune]
        factor = np.array([RENT_FACTOR.get(f, 0.9) for f in self.financing])
        age = np.clip(1 + 0.006 * (self.year - 1980), 0.85, 1.3)
        self.rent_m2 = zone_rent * factor * age * rng.lognormal(0, 0.08, size=n)
        self.buildings = np.where(self.individual, self.size, np.maximum(1, self.size // 35))
        acquisition = self.year + rng.integers(5, 40, n)
        self.acquired = (rng.random(n) < 0.12) & (acquisition < vintage)
        self.entry_year = np.where(self.acquired, acquisition, self.year)
        self.landlord = (self.commune * 7 + rng.integers(0, max(landlords, 1), n)) % max(landlords, 1)
        self.lat = np.array([c.lat for c in communes])[self.commune] + rng.normal(0, 0.015, n)
        self.lon = np.array([c.lon for c in communes])[self.commune] + rng.normal(0, 0.02, n)
        self.programme = rng.integers(0, len(PROGRAMMES), n)
        self.street = rng.integers(0, len(STREETS), n)
        self.street_type = rng.integers(0, len(STREET_TYPES), n)
        self.number = rng.integers(1, 120, n)
        self.first_dwelling = np.concatenate([[0], np.cumsum(self.size)[:-1]])


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def _join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _masked(array: pa.Array, keep: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(keep), array, pa.scalar(None, pa.string()))


def _month_year(months: np.ndarray, years: np.ndarray) -> pa.Array:
    return _join(pc.utf8_lpad(_text(months), 2, "0"), _text(years), sep="/")


def _chunk(
    rng: np.random.Generator,
    ens: _Ensembles,
    ids: np.ndarray,
    vintage: int,
    landlords: tuple[Landlord, ...],
    communes: tuple[Place, ...],
) -> dict[str, pa.Array]:
    """Columns for the dwellings of the ensembles `ids`."""
    sizes = ens.size[ids]
    e = np.repeat(ids, sizes)
    n = len(e)
    rank = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    global_index = ens.first_dwelling[e] + rank
    individual = ens.individual[e]
    building = np.where(individual, rank, rng.integers(0, np.iinfo(np.int64).max, n) % ens.buildings[e])
    year = ens.year[e]

    rooms = rng.choice(ROOMS, size=n, p=ROOM_SHARES)
    rooms = np.where(individual, np.clip(rooms + rng.integers(0, 2, n), 2, 7), rooms)
    surface = np.clip(np.round(ROOM_SURFACE[rooms] + rng.normal(0, 6, n) + individual * 8), 12, 250).astype(int)

    exit_draw = rng.random(n)
    exited = exit_draw < 0.005
    exit_reason = np.where(exit_draw < 0.002, "1", np.where(exit_draw < 0.0023, "2", "4"))
    new = ens.entry_year[e] == vintage - 1
    draw = rng.random(n)
    mode = np.full(n, "1", dtype=object)
    mode[draw < 0.013] = "3"
    mode[(draw >= 0.013) & (draw < 0.018)] = "4"
    mode[(draw >= 0.018) & (draw < 0.022)] = "5"
    vacancy_p = np.where(new, 0.08, 0.029)
    offered = draw >= 0.022
    mode[offered & (rng.random(n) < vacancy_p)] = "2"
    mode[exited] = "9"
    vacant = mode == "2"
    vacancy_months = np.where(rng.random(n) < 0.52, rng.integers(1, 4, n), rng.integers(4, 37, n))

    let = mode == "1"
    moved_last_year = new | (rng.random(n) < 0.093)
    first_let = ens.entry_year[e]
    lease_low = np.maximum(first_let, vintage - 25)
    lease_year = np.where(
        moved_last_year,
        vintage - 1,
        lease_low + (rng.random(n) * np.maximum(vintage - 1 - lease_low, 1)).astype(int),
    )
    lease_year = np.minimum(lease_year, vintage - 1)
    lease_month = rng.integers(1, 13, n)

    rent = np.round(ens.rent_m2[e] * surface * rng.normal(1, 0.04, n), 2)
    no_rent = np.isin(mode, ["3", "5", "9"])
    dpe_known = ens.dpe_known[e]
    dpe = np.clip(ens.dpe[e] + np.where(rng.random(n) < 0.1, rng.integers(-1, 2, n), 0), 0, 6)
    ges = np.clip(dpe - (rng.random(n) < 0.4), 0, 6)
    dpe_year = rng.integers(2013, vintage, n)
    financing = ens.financing[e]
    old = year < 1977
    segment = np.where(individual, "S4", np.where(year >= 2000, "S3", np.where(ens.qpv[e], "S1", "S2")))
    commune = ens.commune[e]
    landlord = ens.landlord[e]
    dep = np.array([c.departement for c in communes])[commune]
    commune_has_postcode = np.array([bool(c.code_postal) for c in communes])
    located = ~np.isnan(ens.lat[e])

    def strings(values: list[str], index: np.ndarray) -> pa.Array:
        return pa.array(values).take(pa.array(index))

    none = pa.nulls(n, pa.string())
    lease = _masked(_month_year(lease_month, lease_year), let)
    columns: dict[str, pa.Array] = {
        "IDENT_REP": pc.utf8_lpad(_text(global_index + 1), 10, "0"),
        "IDENT_INT": _join("L", _text(landlord), "-", _text(global_index + 1)),
        "DROIT": pa.array(np.where(rng.random(n) < 0.97, "1", "3")),
        "DEPCOM": strings([c.code for c in communes], commune),
        "CODEPOSTAL": _masked(strings([c.code_postal for c in communes], commune), commune_has_postcode[commune]),
        "LIBCOM": strings([c.nom for c in communes], commune),
        "NUMVOIE": _text(ens.number[e] + building % 40 * 2),
        "TYPVOIE": strings(STREET_TYPES, ens.street_type[e]),
        "NOMVOIE": strings([s.upper() for s in STREETS], ens.street[e]),
        "NUMAPPT": _masked(_text(rank % 60 + 1), ~individual),
        "ETAGE": _masked(_text(rank % 6), ~individual),
        "BAT": _masked(strings(list("ABCDEFGHJK"), building % 10), ~individual),
        "IMMEU": _join("E", _text(e), "-B", _text(building)),
        "COMPLGEO": _join(strings([p.upper() for p in PROGRAMMES], ens.programme[e]), _text(e), sep=" "),
        "QPV": pa.array(np.where(ens.qpv[e], "1", "2")),
        "TYPECONST": pa.array(np.where(individual, "I", "C")),
        "NBPIECE": _text(rooms),
        "SURFHAB": _text(surface),
        "CONSTRUCT": _text(year),
        "LOCAT": _text(np.maximum(year, np.where(ens.acquired[e], first_let, year))),
        "PATRIMOINE": _text(ens.entry_year[e]),
        "ORIGINE": pa.array(np.where(ens.acquired[e], "2", np.where(year >= 2010, "4", "1"))),
        "FINAN": pa.array(financing.astype(str)),
        "CONV": pa.array(np.where(~old | (rng.random(n) < 0.85), "1", "2")),
        "SORTIEPATRIM": pa.array(np.where(exited, exit_reason, "9")),
        "MODE": pa.array(mode.astype(str)),
        "BAIL": lease,
        "MODESURF": pa.array(np.full(n, "3")),
        "SURFMODE": _text(surface),
        "LOYERPRINC": pc.if_else(pa.array(no_rent), pa.scalar("9999"), _text(rent)),
        "LOYERACC": _text(np.where(individual, 0, rng.integers(0, 40, n))),
        "CUS": pa.array([CUS_CEILING.get(f, "13") for f in financing]),
        "DPEDATE": pc.if_else(pa.array(dpe_known), _month_year(rng.integers(1, 13, n), dpe_year), pa.scalar("01/1900")),
        "DPEENERGIE": _masked(strings(list(DPE_CLASSES), dpe), dpe_known),
        "DPESERRE": _masked(strings(list(DPE_CLASSES), ges), dpe_known),
        "IDENTGES": strings([x.numero for x in landlords], landlord),
        "CODSEGPATRIM": pa.array(segment),
        "LIBSEGPATRIM": strings(list(SEGMENTS.values()), np.searchsorted(list(SEGMENTS), segment)),
        "LOYERMAXAPL": _text(np.round(ens.rent_m2[e] * surface * 1.10, 2)),
        "LOYERMAXCUS": _text(np.round(ens.rent_m2[e] * surface * 1.15, 2)),
        "QUALACQ": _masked(pa.array(np.full(n, "01")), exited & (exit_reason == "1")),
        "MISCOMMERCIAL": pa.array(np.where(individual & (rng.random(n) < 0.05), "1", "2")),
        "PRIXVENTE": _masked(_text(rng.integers(60_000, 160_000, n)), exited & (exit_reason != "4")),
        "REMLOCDATE": _masked(lease, let & moved_last_year & ~new),
        "CONTRESLOG": _pick(rng, *CONTINGENTS, n),
        "DUREEVACANCE": _masked(_text(vacancy_months), vacant),
        "PMR": pa.array(np.where(year >= 2007, "1", "2")),
        "DEP": pa.array(dep),
        "REG": strings([c.region for c in communes], commune),
        "EPCI": strings([c.epci for c in communes], commune),
        "X": _masked(_text(np.round(np.nan_to_num(ens.lon[e]) + (building % 7) * 0.0004, 6)), located),
        "Y": _masked(_text(np.round(np.nan_to_num(ens.lat[e]) + (building % 5) * 0.0003, 6)), located),
        "EPSG": _masked(pa.array(np.full(n, "4326")), located),
        "CAT_ORG": strings([x.categorie for x in landlords], landlord),
        "RS": strings([x.raison_sociale for x in landlords], landlord),
        "SIRET": strings([x.siret for x in landlords], landlord),
    }
    for name in (
        "INDREP",
        "NUMBOITE",
        "ESC",
        "COULOIR",
        "COMPLIDENT",
        "ENTREE",
        "LIEUDIT",
        "PRODFIN",
        "IRIS",
    ):
        columns[name] = none
    return columns


_NOT_LATIN1 = {"œ": "oe", "Œ": "OE", "’": "'", "–": "-", "—": "-"}


def _latin1(data: bytes) -> bytes:
    """Latin-1 has no œ: spell it as files from older systems do."""
    for char, spelling in _NOT_LATIN1.items():
        data = data.replace(char.encode(), spelling.encode())
    return data.decode("utf-8").encode("latin-1", errors="replace")


def generate_rpls(
    path: Path,
    dwellings: int,
    seed: int,
    *,
    vintage: int = 2024,
    layout: str = "open data",
    encoding: str = "latin-1",
    landlords: int | None = None,
    progress: Callable[[int], None] | None = None,
    places: tuple[Place, ...] | None = None,
) -> SyntheticSummary:
    if not MIN_DWELLINGS <= dwellings <= MAX_DWELLINGS:
        raise ValueError(f"nombre de logements hors de {MIN_DWELLINGS:_} – {MAX_DWELLINGS:_}".replace("_", " "))
    if layout not in ("open data", "transmission"):
        raise ValueError(f"format inconnu : {layout}")
    count = landlords or (1 if layout == "transmission" or dwellings <= 200_000 else dwellings // 9_000)
    if layout == "transmission" and count != 1:
        raise ValueError("un fichier de transmission décrit un seul organisme")
    people = _landlords(count)
    rng = np.random.default_rng(seed)
    places = places or places_from_gazetteer()
    ens = _Ensembles(rng, dwellings, vintage, count, places)
    schema = rpls_schema()
    order = schema.transmission_names() if layout == "transmission" else [c.nom for c in schema.colonnes]
    ends = np.cumsum(ens.size)
    tmp = path.with_name(path.name + ".partiel")
    with tmp.open("wb") as out:
        if layout == "transmission":
            boss = people[0]
            header = (
                f"{vintage};{boss.numero};{boss.raison_sociale};1 place de la République;{boss.siret};{dwellings}\n"
            )
            out.write(header.encode(encoding))
        else:
            out.write((";".join(order) + "\n").encode(encoding))

        start = 0
        while start < len(ens.size):
            stop = int(np.searchsorted(ends, ends[start] - ens.size[start] + CHUNK_DWELLINGS)) + 1
            ids = np.arange(start, min(stop, len(ens.size)))
            columns = _chunk(rng, ens, ids, vintage, people, places)
            n = len(columns["IDENT_REP"])
            table = pa.table({name: columns.get(name, pa.nulls(n, pa.string())) for name in order})
            sink = pa.BufferOutputStream()
            options = pacsv.WriteOptions(include_header=False, delimiter=";", quoting_style="none")
            pacsv.write_csv(table, sink, options)
            data = sink.getvalue().to_pybytes()
            out.write(data if encoding == "utf-8" else _latin1(data))
            if progress:
                progress(n)
            start = int(ids[-1]) + 1
    tmp.replace(path)
    return SyntheticSummary(path, dwellings, len(ens.size), people, vintage)
