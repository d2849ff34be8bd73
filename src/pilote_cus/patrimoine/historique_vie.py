"""The spells of a dwelling's life: a lease, or a vacancy with its motif, one after the other.

A dwelling starts let (or vacant for its first letting when it is new). A lease lasts an exponential time
(TURNOVER a year); the departing tenant leaves a vacancy offered for rent (sometimes after works), which ends
the day before the next lease. Sales and demolitions cut these spells (see `historique_parc`). The RPLS of
1 January N is read off the spell covering that day; vacancies and attributions are the spells themselves.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

TURNOVER = 0.093  # CHIFFRES: mobility 2018
LEASE_MEAN_DAYS = 365.25 / -np.log(1 - TURNOVER)
# vacancy offered for rent: 75 % re-let within 3 months, the others after 3 + ~7 months (hypothèse chosen to
# give 2.9 % of vacant dwellings, 1.4 % for more than 3 months, CHIFFRES)
RELET_QUICK_SHARE, RELET_QUICK_DAYS, RELET_LONG_MEAN = 0.75, 90, 217.0
FIRST_LET_QUICK_SHARE, FIRST_LET_QUICK_DAYS, FIRST_LET_LONG_MEAN = 0.85, 60, 120.0
LONGEST = 2 * 365  # no vacancy offered for rent lasts more than 3 months + 2 years
WORKS_AFTER_DEPARTURE = 0.08  # works between two leases (MODE 3)

LET, OFFERED, WORKS, SALE, DEMOLITION = 0, 1, 2, 3, 4
MOTIFS = np.array(["", "LOCATION", "TRAVAUX", "VENTE", "DEMOLITION"], dtype=object)
MODE_OF_KIND = np.array(["1", "2", "3", "3", "3"], dtype=object)
NEVER = np.int64(2**40)  # a day that never comes (no exit, no offer)
_KEY, _OFFSET = np.int64(2**22), np.int64(2**21)
EPOCH = np.datetime64("1970-01-01", "D")

# --- days ----------------------------------------------------------------------------------


def jan1(years: Any) -> Any:
    """Day number (since 1970-01-01) of 1 January of each year."""
    return (np.asarray(years, dtype=np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def month_start(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def random_days(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """A random day of each year."""
    start = jan1(years)
    return start + (rng.random(len(start)) * (jan1(years + 1) - start)).astype(np.int64)


# --- spells --------------------------------------------------------------------------------


@dataclass
class Spells:
    """Consecutive periods of each dwelling: a lease (LET) or a vacancy with its motif; `end` is inclusive."""

    dwelling: np.ndarray
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    first: np.ndarray  # first letting of a new dwelling (the vacancy before it and the lease)

    def take(self, index: np.ndarray) -> "Spells":
        return Spells(self.dwelling[index], self.start[index], self.end[index], self.kind[index], self.first[index])

    def ordered(self) -> "Spells":
        return self.take(np.lexsort((self.start, self.dwelling)))

    def at(self, dwellings: np.ndarray, days: np.ndarray | np.int64) -> np.ndarray:
        """Index of the spell covering `days` for each of `dwellings` (spells ordered), -1 if none."""
        dwellings = np.asarray(dwellings, dtype=np.int64)
        if not len(self.start):
            return np.full(len(dwellings), -1)
        keys = self.dwelling * _KEY + self.start + _OFFSET
        found = np.searchsorted(keys, dwellings * _KEY + days + _OFFSET, side="right") - 1
        index = np.maximum(found, 0)
        hit = (found >= 0) & (self.dwelling[index] == dwellings) & (self.end[index] >= days)
        return np.where(hit, index, -1)

    @staticmethod
    def concat(parts: list["Spells"]) -> "Spells":
        return Spells(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("dwelling", "start", "end", "kind", "first")
            )
        )


def simulate_spells(
    rng: np.random.Generator, start: np.ndarray, lease_start: np.ndarray, first_letting: np.ndarray, horizon: int
) -> Spells:
    """Leases and vacancies of every dwelling from `start` (NEVER: not simulated) to `horizon`.

    A dwelling starts let (lease signed on `lease_start`) or, when `first_letting`, vacant for its first
    letting. Leases last an exponential time (TURNOVER a year); a departure leads to a vacancy offered for
    rent, sometimes after works; the vacancy ends the day before the next lease.
    """
    index = np.flatnonzero(start <= horizon)
    now, first = start[index], first_letting[index]
    kind = np.where(first, OFFERED, LET).astype(np.int8)
    begin = np.where(first, now, lease_start[index])
    parts = []
    while index.size:
        n = index.size
        lease = np.ceil(rng.exponential(LEASE_MEAN_DAYS, n)).astype(np.int64)
        quick = rng.random(n)
        relet = np.where(
            quick < RELET_QUICK_SHARE,
            rng.integers(1, RELET_QUICK_DAYS + 1, n),
            RELET_QUICK_DAYS + 1 + np.ceil(np.minimum(rng.exponential(RELET_LONG_MEAN, n), LONGEST)).astype(np.int64),
        )
        first_let = np.where(
            quick < FIRST_LET_QUICK_SHARE,
            rng.integers(1, FIRST_LET_QUICK_DAYS + 1, n),
            FIRST_LET_QUICK_DAYS + 1 + np.ceil(rng.exponential(FIRST_LET_LONG_MEAN, n)).astype(np.int64),
        )
        works = rng.integers(30, 181, n)
        duration = np.select(
            [kind == LET, (kind == OFFERED) & first, kind == OFFERED], [lease, first_let, relet], works
        )
        end = now + np.maximum(duration, 1) - 1
        parts.append(Spells(index, begin, end, kind, first))
        after = rng.random(n)
        following = np.select(
            [kind == LET, kind == WORKS], [np.where(after < WORKS_AFTER_DEPARTURE, WORKS, OFFERED), OFFERED], LET
        ).astype(np.int8)
        following_first = first & (kind == OFFERED)
        now = end + 1
        alive = now <= horizon
        index, now, kind, first = index[alive], now[alive], following[alive], following_first[alive]
        begin = now
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Spells(empty, empty, empty, np.zeros(0, np.int8), np.zeros(0, bool))
    return Spells.concat(parts).ordered()


def cut_spells(spells: Spells, cut: np.ndarray, added: Spells) -> Spells:
    """Drop what happens to each dwelling from day `cut[dwelling]` on, then add the `added` spells."""
    limit = cut[spells.dwelling]
    keep = np.flatnonzero(spells.start < limit)
    kept = spells.take(keep)
    kept.end = np.minimum(kept.end, limit[keep] - 1)
    return Spells.concat([kept, added]).ordered()
