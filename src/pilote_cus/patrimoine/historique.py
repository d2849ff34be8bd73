"""Six years of a synthetic landlord: RPLS files and event files that agree with each other.

`generate_history` writes what a landlord would hand over: one open-data RPLS file per millésime
(`rpls_<AAAA>.csv`, imported by `import_rpls`) and one CSV per event schema (`operations.csv`,
`attributions.csv`…: `;`, UTF-8, dates JJ/MM/AAAA, booleans oui/non, decimal comma). Everything comes
from one seed, and the files agree, because indicators computed from them are compared year to year:

- stock of millésime N+1 = stock of N + dwellings put into service in N (operations MISE_EN_SERVICE, by
  financing) − dwellings sold or demolished in N (VENTE, DEMOLITION), which appear once more in N+1 with
  their SORTIEPATRIM and are gone from N+2;
- a renovated dwelling's DPE label is the operation's etiquette_avant in N and its etiquette_apres in N+1;
- MODE on 1 January is 2 exactly when a LOCATION vacancy covers that day (3 for TRAVAUX, VENTE,
  DEMOLITION); every attribution is a lease on a real dwelling, signed the day after a vacancy ends.

Each dwelling lives a sequence of spells (a lease, or a vacancy with its motif, see `historique_vie`); the
RPLS columns and the events are read off the same spells. `write_national_history` (in
`historique_national`) writes a national history straight into the warehouse, in SQL.

Rates (CHIFFRES = shared/domain/CHIFFRES.md; hypothèse = chosen to look plausible, not a published figure):

| what | value | source |
|---|---|---|
| put into service | 1.5 % of the stock a year | CHIFFRES (80 400 in 2018, 72 400 in 2024) |
| … financing, VEFA | PLAI 30 / PLUS 45 / PLS 25 %; 50 % VEFA; ≤ 120 dwellings | hypothèse |
| … filed, approved | approval 1–3 years before delivery, filing 1–5 months before | hypothèse (brief) |
| … in QPV | 12 %, of which 70 % urban renewal (5 % outside QPV) | hypothèse |
| hébergement places | 0.15 % of the stock a year, 15–80 places, PLAI | hypothèse |
| sold | ≈ 0.2 % a year: offers on 0.5 % (mostly houses), tenants buy | CHIFFRES (10 800–11 700 a year) |
| demolished | 0.3 % a year, old collective buildings, urban renewal first | CHIFFRES (7 800–15 700 a year) |
| rehabilitated | 2 % a year, 60 % eligible to a CDC loan | hypothèse (Opac du Rhône) |
| energy renovation | 10 % of F/G and 3 % of E dwellings a year (≈ 40 % of F/G in 6 years) | hypothèse (Opac du Rhône) |
| accessible (PMR) | built since 2007, all new ones, 25 % of rehabilitated ones | hypothèse (CUS: 23.6 → 37.7 %) |
| rent | +2.9 % a year, ≈ 6.5 €/m² in the last millésime | CHIFFRES (5.99 in 2021, 6.52 in 2024) |
| vacancy | 2.9 % of dwellings offered for rent, 1.4 % over 3 months | CHIFFRES (2019) |
| turnover | 9.3 % of let dwellings a year | CHIFFRES (mobility 2018) |
| attributions | DALO 6.5 %, priority 33 %, préfet ≈ 28 % (CONTRESLOG) | hypothèse (brief's ranges) |
| … | mutations 12 %, social tenants 30 %, from hébergement 4 % | hypothèse (brief's ranges) |
| … | under PLAI ceiling 70 %, first quartile 23 % outside QPV | hypothèse (brief's ranges) |
| arrears, 31 December | 11 % of leases, 4 % over 3 months: 40 % supported, 50 % plan | hypothèse |
| complaints | 0.4 a dwelling a year, 60 % written, 80 % closed in 30 days | hypothèse |
| lifts, boilers | 1 lift per ≈ 25 collective dwellings; 30 % of ensembles heated collectively | hypothèse |
| breakdowns | 5 a lift, 1.5 a boiler room a year | hypothèse (objective < 8) |
| caretakers | 1 ETP per 85–105 dwellings | CHIFFRES (at most 1 per 100) |
| costs a dwelling | management 1 000 €, levies 95 €, entretien 560 €, gros entretien 620 € | hypothèse |
| … | TFPB 480 € (−30 % in QPV), components 750 €, +2 % a year | hypothèse |
| surveys | 12 % answer; clean common areas: 72 % satisfied, 62 % in QPV | CHIFFRES (7.8/10); split hypothèse |

The figures are synthetic, never real ones.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .historique_evenements import write_events
from .historique_national import NationalHistorySummary, write_national_history
from .historique_parc import build_history, write_rpls_vintages
from .synthetique import MIN_DWELLINGS, Landlord, Place, _landlords, places_from_gazetteer

MAX_HISTORY_DWELLINGS = 1_000_000  # a landlord or a region; the national history is written in SQL

__all__ = ["HistorySummary", "NationalHistorySummary", "generate_history", "write_national_history"]


@dataclass(frozen=True)
class HistorySummary:
    folder: Path
    first_year: int
    years: int
    landlords: tuple[Landlord, ...]
    rpls_files: dict[int, Path]
    event_files: dict[str, Path]
    dwellings: dict[int, int]  # in stock on 1 January, by millésime
    event_rows: dict[str, int]


def generate_history(
    folder: Path,
    dwellings: int,
    seed: int,
    *,
    first_year: int = 2019,
    years: int = 6,
    landlords: int = 1,
    places: tuple[Place, ...] | None = None,
    progress: Callable[[float], None] | None = None,
) -> HistorySummary:
    """Write rpls_<AAAA>.csv for each millésime and one CSV per event schema into `folder`.

    `dwellings` is the size of the first millésime; `progress` receives increments summing to 100.
    """
    if not MIN_DWELLINGS <= dwellings <= MAX_HISTORY_DWELLINGS:
        raise ValueError(f"nombre de logements hors de {MIN_DWELLINGS:_} – {MAX_HISTORY_DWELLINGS:_}".replace("_", " "))
    if years < 2:
        raise ValueError("un historique couvre au moins deux millésimes")
    if landlords < 1:
        raise ValueError("au moins un organisme")
    folder.mkdir(parents=True, exist_ok=True)
    advance = progress or (lambda amount: None)
    rng = np.random.default_rng(seed)
    history = build_history(rng, dwellings, first_year, years, _landlords(landlords), places or places_from_gazetteer())
    advance(30)
    rpls_files, counts = write_rpls_vintages(history, folder, lambda: advance(40 / years))
    event_files, rows = write_events(history, rng, folder, lambda: advance(3))
    return HistorySummary(folder, first_year, years, history.people, rpls_files, event_files, counts, rows)
