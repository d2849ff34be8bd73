"""Every CUS indicator on a small hand-written landlord, against figures computed by hand.

Fixture tests/fixtures/indicateurs/: two RPLS vintages (open-data layout) and one file per event table, imported
through the real importers, without COG (built-in gazetteer: 69 Rhône → region 84, 31 Haute-Garonne → region 76;
EPCI 200046977 = Lyon 69123 + Villeurbanne 69266, 200040590 = Villefranche 69264, 243100518 = Toulouse 31555).
Two landlords: O1 (Rhône and Toulouse, costs per département) and O2 (Toulouse only, costs for the whole landlord).

Stock on 1 January (QPV q, MODE m, DPE label, PMR p; building = COMPLGEO + IMMEU):

| dwelling | org | commune | building   | q | 2022          | 2023          |
|----------|-----|---------|------------|---|---------------|---------------|
| L01      | O1  | 69123   | Lyon A     | 1 | m1 E p1       | m1 E p1 (SORTIEPATRIM 9: still in stock) |
| L02      | O1  | 69123   | Lyon A     | 1 | m2 F          | m2 F          |
| L03      | O1  | 69123   | Lyon A     | 1 | m1 G no DPE   | m1 G no DPE   |
| L04      | O1  | 69123   | Lyon B     | 2 | m1 C p1       | m1 C p1       |
| L05      | O1  | 69123   | Lyon B     | 1 | m3 D          | m3 D          |
| L14      | O1  | 69123   | Lyon B     | 2 | m3 E          | demolished (SORTIEPATRIM 4) |
| L06      | O1  | 69266   | Villeurb.  | 2 | m2 F          | m2 C (renovated 2022) |
| L07      | O1  | 69266   | Villeurb.  | 2 | m2 G p1       | m1 G p1       |
| L08      | O1  | 69266   | Villeurb.  | 2 | m1 F p1 no DPE| sold (SORTIEPATRIM 1): m1 F p1 no DPE |
| L12      | O1  | 69264   | Villefr.   | 2 | —             | m1 B          |
| L09–L11  | O1  | 31555   | Tilleuls   | 2 | m1 B p1, m2 F, m1 G | same     |
| M01–M03  | O2  | 31555   | Reynerie   | 1 | m1 G p1, m1 D, m1 F | m1 G p1, m2 D, m1 F |
| M04      | O2  | 31555   | Reynerie   | 1 | demolished in 2021 (SORTIEPATRIM 4), G p1 | — |

In stock: 2022: 69 → 9 (O1: 4 in QPV, 5 outside), 31 → 6 (O1 3, O2 3); 2023: 69 → 8 (4 + 4), 31 → 6.
Attributions: A08 A12 A13 (69) and A14 (31, O2) in 2022; A01–A07 (69) and A09 A10 A11 (31, A10 A11 O2) in 2023.
"""

from pathlib import Path

import pytest

from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.evenements.import_evenements import import_events
from pilote_cus.evenements.schema import event_schemas
from pilote_cus.indicateurs.catalogue import catalogue
from pilote_cus.indicateurs.service import compute
from pilote_cus.patrimoine.import_rpls import import_rpls

FIXTURES = Path(__file__).parent / "fixtures" / "indicateurs"
O1, O2 = "11111111100011", "22222222200022"
DEP = "departement"
Y22, Y23, CUM = "2022", "2023", "2022-2023"
MAILLES = ["france", "region", "departement", "epci", "bailleur"]

# (code, maille, territory, period, numerator, denominator, value); denominator None for a count.
EXPECTED = [
    # --- G1-A1: dwellings whose complete financing file was filed
    # OP1 filed 2022-03-01: 4 PLAI + 6 PLUS (OP0, filed 2021-12-31, is outside 2022)
    ("G1-A1", DEP, "69", Y22, 10, None, 10),
    ("G1-A1-PLAI", DEP, "69", Y22, 4, None, 4),
    ("G1-A1-PLUS", DEP, "69", Y22, 6, None, 6),
    # OP3 Villeurbanne: 8 PLUS
    ("G1-A1-PLUS", DEP, "69", Y23, 8, None, 8),
    # OP2 Toulouse: 5 PLS; its 3 PLI are in no split and not in the total
    ("G1-A1", DEP, "31", Y23, 5, None, 5),
    ("G1-A1-PLS", DEP, "31", Y23, 5, None, 5),
    # 10 in 2022 + 8 in 2023
    ("G1-A1", DEP, "69", CUM, 18, None, 18),
    ("G1-A1-PLAI", DEP, "69", CUM, 4, None, 4),
    ("G1-A1-PLUS", DEP, "69", CUM, 14, None, 14),
    ("G1-A1-PLS", DEP, "31", CUM, 5, None, 5),
    # Occitanie = 31
    ("G1-A1", "region", "76", Y23, 5, None, 5),
    # O1: 18 in 69 + 5 in 31
    ("G1-A1", "bailleur", O1, CUM, 23, None, 23),
    # --- G1-A2: dwellings put into service
    # OP6 Villefranche: 1 PLUS (L12)
    ("G1-A2", DEP, "69", Y22, 1, None, 1),
    ("G1-A2-PLUS", DEP, "69", Y22, 1, None, 1),
    # OP7 Toulouse: 2 PLAI + 1 PLS
    ("G1-A2", DEP, "31", Y23, 3, None, 3),
    ("G1-A2-PLAI", DEP, "31", Y23, 2, None, 2),
    ("G1-A2-PLS", DEP, "31", Y23, 1, None, 1),
    ("G1-A2", DEP, "31", CUM, 3, None, 3),
    ("G1-A2-PLUS", DEP, "69", CUM, 1, None, 1),
    ("G1-A2-PLAI", DEP, "31", CUM, 2, None, 2),
    ("G1-A2-PLS", DEP, "31", CUM, 1, None, 1),
    # 1 in 69 + 3 in 31
    ("G1-A2", "france", "FR", CUM, 4, None, 4),
    # --- G1-B1: places of hébergement with financing filed
    # OP4 Lyon: 25 places
    ("G1-B1", DEP, "69", Y22, 25, None, 25),
    # OP5 Toulouse, filed 2023-12-31: 12 places
    ("G1-B1", DEP, "31", Y23, 12, None, 12),
    ("G1-B1", DEP, "69", CUM, 25, None, 25),
    ("G1-B1", "france", "FR", CUM, 37, None, 37),
    # --- G1-B2: places of hébergement delivered
    # OP9 Villeurbanne, 2022-01-01: 15 places
    ("G1-B2", DEP, "69", Y22, 15, None, 15),
    # OP8 Toulouse: 20 places
    ("G1-B2", DEP, "31", Y23, 20, None, 20),
    ("G1-B2", DEP, "31", CUM, 20, None, 20),
    ("G1-B2", "region", "84", Y22, 15, None, 15),
    # --- G1-C1: investment (rehabilitation + components) per dwelling, RU = dwellings in QPV
    # O1 in 69, 2022: (20000 RU + 10000 + 5000) / 9 dwellings (L14 still in stock)
    ("G1-C1", DEP, "69", Y22, 35000, 9, 3888.89),
    # 20000 / L01 L02 L03 L05
    ("G1-C1-RU", DEP, "69", Y22, 20000, 4, 5000),
    # 15000 / L04 L06 L07 L08 L14
    ("G1-C1-HORS_RU", DEP, "69", Y22, 15000, 5, 3000),
    # 2023: (16000 RU + 8000) / 8 (L08 sold, L14 demolished, L12 new)
    ("G1-C1", DEP, "69", Y23, 24000, 8, 3000),
    ("G1-C1-RU", DEP, "69", Y23, 16000, 4, 4000),
    # 8000 / L04 L06 L07 L12
    ("G1-C1-HORS_RU", DEP, "69", Y23, 8000, 4, 2000),
    # O1 only: O2 gives its costs for the whole landlord, so neither its costs nor its dwellings are in 31
    ("G1-C1", DEP, "31", Y23, 4500, 3, 1500),
    ("G1-C1-HORS_RU", DEP, "31", Y23, 4500, 3, 1500),
    # Σ over the years: 59000 / (9 + 8)
    ("G1-C1", DEP, "69", CUM, 59000, 17, 3470.59),
    ("G1-C1-RU", DEP, "69", CUM, 36000, 8, 4500),
    ("G1-C1-HORS_RU", DEP, "69", CUM, 23000, 9, 2555.56),
    # O2: 6000 RU over its 3 QPV dwellings
    ("G1-C1-RU", "bailleur", O2, Y23, 6000, 3, 2000),
    # O1: (24000 + 4500) / 11
    ("G1-C1", "bailleur", O1, Y23, 28500, 11, 2590.91),
    # (8000 + 4500) / (4 in 69 + 3 in 31)
    ("G1-C1-HORS_RU", "bailleur", O1, Y23, 12500, 7, 1785.71),
    # --- G1-C2: maintenance (entretien courant + gros entretien) per dwelling
    # 3600 + 2000 (RU) + 1800 over 9
    ("G1-C2", DEP, "69", Y22, 7400, 9, 822.22),
    ("G1-C2-RU", DEP, "69", Y22, 2000, 4, 500),
    ("G1-C2-HORS_RU", DEP, "69", Y22, 5400, 5, 1080),
    # 3200 + 2400 (RU) + 1600 over 8
    ("G1-C2", DEP, "69", Y23, 7200, 8, 900),
    ("G1-C2-RU", DEP, "69", Y23, 2400, 4, 600),
    ("G1-C2-HORS_RU", DEP, "69", Y23, 4800, 4, 1200),
    ("G1-C2", DEP, "31", Y23, 1800, 3, 600),
    ("G1-C2-HORS_RU", DEP, "31", Y23, 1800, 3, 600),
    ("G1-C2", DEP, "69", CUM, 14600, 17, 858.82),
    ("G1-C2-RU", DEP, "69", CUM, 4400, 8, 550),
    ("G1-C2-HORS_RU", DEP, "69", CUM, 10200, 9, 1133.33),
    # O2: (900 + 600) RU over M01–M03 (M04 demolished in 2021)
    ("G1-C2-RU", "bailleur", O2, Y22, 1500, 3, 500),
    # --- G1-C3: renovated from > 230 to < 150 kWh (by labels E-G → A-C when consumptions are blank)
    # R1 (L06, 320 → 120 kWh) of the 9 dwellings in stock
    ("G1-C3", DEP, "69", Y22, 1, 9, 11.11),
    # R2 E → C without consumptions: counted by its labels
    ("G1-C3", DEP, "69", Y23, 1, 8, 12.5),
    ("G1-C3", DEP, "31", Y22, 0, 6, 0),
    # R4 260 → 140 kWh; R3 (G → C but 400 → 200 kWh) is not: consumptions come before labels
    ("G1-C3", DEP, "31", Y23, 1, 6, 16.67),
    # premiere_annee: (1 + 1) over the 2022 stock (9), not over 9 + 8
    ("G1-C3", DEP, "69", CUM, 2, 9, 22.22),
    ("G1-C3", DEP, "31", CUM, 1, 6, 16.67),
    ("G1-C3", "region", "84", CUM, 2, 9, 22.22),
    # R4 over M01–M03
    ("G1-C3", "bailleur", O2, Y23, 1, 3, 33.33),
    # --- G1-C4: buildings whose dwellings all have a DPE (a building is in QPV if one of its dwellings is)
    # 2022: Lyon A (L03 no DPE), Lyon B (all done), Villeurbanne (L08 no DPE) → Lyon B only
    ("G1-C4", DEP, "69", Y22, 1, 3, 33.33),
    # Lyon A and Lyon B (QPV through L05 only)
    ("G1-C4-QPV", DEP, "69", Y22, 1, 2, 50),
    ("G1-C4-HORS_QPV", DEP, "69", Y22, 0, 1, 0),
    # 2023: + Villefranche; Villeurbanne complete once L08 (no DPE) is sold
    ("G1-C4", DEP, "69", Y23, 3, 4, 75),
    ("G1-C4-QPV", DEP, "69", Y23, 1, 2, 50),
    ("G1-C4-HORS_QPV", DEP, "69", Y23, 2, 2, 100),
    # Tilleuls (O1), Reynerie (O2, QPV; demolished M04 ignored in 2022)
    ("G1-C4", DEP, "31", Y23, 2, 2, 100),
    ("G1-C4-QPV", DEP, "31", Y23, 1, 1, 100),
    ("G1-C4-HORS_QPV", DEP, "31", Y23, 1, 1, 100),
    ("G1-C4", DEP, "69", CUM, 4, 7, 57.14),
    ("G1-C4-QPV", DEP, "69", CUM, 2, 4, 50),
    ("G1-C4-HORS_QPV", DEP, "69", CUM, 2, 3, 66.67),
    # O1 2023: 3 of 4 in 69 + Tilleuls
    ("G1-C4", "bailleur", O1, Y23, 4, 5, 80),
    # --- G1-D1: dwellings put on sale
    # OP16: 2
    ("G1-D1", DEP, "69", Y22, 2, None, 2),
    # OP17: 1 (the deed of sale of an OP16 dwelling, VENTE, is not a new offer)
    ("G1-D1", DEP, "69", Y23, 1, None, 1),
    ("G1-D1", DEP, "31", Y23, 1, None, 1),
    ("G1-D1", DEP, "69", CUM, 3, None, 3),
    ("G1-D1", "region", "76", Y23, 1, None, 1),
    # --- G1-E1: DALO attributions
    # A01 A02 of the 7 attributions A01–A07
    ("G1-E1", DEP, "69", Y23, 2, 7, 28.57),
    # A08 (lease signed 2022-12-31) of A08 A12 A13
    ("G1-E1", DEP, "69", Y22, 1, 3, 33.33),
    # A09 of A09 A10 A11
    ("G1-E1", DEP, "31", Y23, 1, 3, 33.33),
    ("G1-E1", DEP, "69", CUM, 3, 10, 30),
    ("G1-E1", "region", "84", Y23, 2, 7, 28.57),
    # A01 A02 A09 of A01–A07 + A09
    ("G1-E1", "bailleur", O1, Y23, 3, 8, 37.5),
    ("G1-E1", "bailleur", O2, Y23, 0, 2, 0),
    # --- G1-E1-QPV: share in QPV of the DALO attributions
    # A01 in QPV, A02 not
    ("G1-E1-QPV", DEP, "69", Y23, 1, 2, 50),
    ("G1-E1-QPV", DEP, "31", Y23, 0, 1, 0),
    ("G1-E1-QPV", DEP, "69", CUM, 1, 3, 33.33),
    # A08 outside, A14 in QPV
    ("G1-E1-QPV", "france", "FR", Y22, 1, 2, 50),
    # --- G1-E2: priority households or collective agreements
    # priority A01 A04 A07, agreement A02 A06 (A03's blank agreement = no)
    ("G1-E2", DEP, "69", Y23, 5, 7, 71.43),
    # A12
    ("G1-E2", DEP, "69", Y22, 1, 3, 33.33),
    ("G1-E2", DEP, "69", CUM, 6, 10, 60),
    ("G1-E2", "bailleur", O2, Y23, 0, 2, 0),
    # --- G1-E3: préfet's contingent
    # A01 A02 A06
    ("G1-E3", DEP, "69", Y23, 3, 7, 42.86),
    ("G1-E3", DEP, "31", Y23, 1, 3, 33.33),
    ("G1-E3", DEP, "69", CUM, 4, 10, 40),
    # A14
    ("G1-E3", "region", "76", Y22, 1, 1, 100),
    # --- G1-E4: in tight zones, households under the PLAI ceiling, QPV / outside
    # under the ceiling: A01 A03 A05 (A07's blank = no) of A01–A07
    ("G1-E4", DEP, "69", Y23, 3, 7, 42.86),
    # A01 yes, A07 no
    ("G1-E4-QPV", DEP, "69", Y23, 1, 2, 50),
    # A03 A05 of A02–A06
    ("G1-E4-HORS_QPV", DEP, "69", Y23, 2, 5, 40),
    # A08 A12 (A13's tight zone is blank: left out)
    ("G1-E4", DEP, "69", Y22, 2, 2, 100),
    ("G1-E4-QPV", DEP, "31", Y23, 1, 1, 100),
    # A09 yes, A11 no
    ("G1-E4-HORS_QPV", DEP, "31", Y23, 1, 2, 50),
    ("G1-E4", DEP, "69", CUM, 5, 9, 55.56),
    ("G1-E4-QPV", DEP, "69", CUM, 2, 3, 66.67),
    ("G1-E4-HORS_QPV", DEP, "69", CUM, 3, 6, 50),
    # O2: A10 (QPV) yes, A11 no
    ("G1-E4", "bailleur", O2, Y23, 1, 2, 50),
    ("G1-E4-HORS_QPV", "bailleur", O2, Y23, 0, 1, 0),
    # --- G1-E4-FIN: same, split by financing
    ("G1-E4-FIN", DEP, "69", Y23, 3, 7, 42.86),
    # A01 yes, A06 no
    ("G1-E4-FIN-PLAI", DEP, "69", Y23, 1, 2, 50),
    # A03 A05 of A02 A03 A05 A07
    ("G1-E4-FIN-PLUS", DEP, "69", Y23, 2, 4, 50),
    # A04
    ("G1-E4-FIN-PLS", DEP, "69", Y23, 0, 1, 0),
    # A09 PLUS, A10 PLAI; A11 (PLI) in no split and not in the total
    ("G1-E4-FIN", DEP, "31", Y23, 2, 2, 100),
    ("G1-E4-FIN-PLAI", DEP, "31", Y23, 1, 1, 100),
    ("G1-E4-FIN-PLUS", DEP, "31", Y23, 1, 1, 100),
    ("G1-E4-FIN", DEP, "69", CUM, 5, 9, 55.56),
    # A12 + (A01, A06)
    ("G1-E4-FIN-PLAI", DEP, "69", CUM, 2, 3, 66.67),
    # A08 + 2 of 4
    ("G1-E4-FIN-PLUS", DEP, "69", CUM, 3, 5, 60),
    # A04 only (A13 PLS has a blank tight zone)
    ("G1-E4-FIN-PLS", DEP, "69", CUM, 0, 1, 0),
    ("G1-E4-FIN", "region", "84", Y23, 3, 7, 42.86),
    # A01 A10 yes, A06 no
    ("G1-E4-FIN-PLAI", "france", "FR", Y23, 2, 3, 66.67),
    # --- G1-E5: households leaving hébergement (count)
    # A03 A07 (A05's blank = no)
    ("G1-E5", DEP, "69", Y23, 2, None, 2),
    ("G1-E5", DEP, "69", Y22, 0, None, 0),
    # A11
    ("G1-E5", DEP, "31", Y23, 1, None, 1),
    ("G1-E5", DEP, "69", CUM, 2, None, 2),
    # A03 A07 A11 A14
    ("G1-E5", "france", "FR", CUM, 4, None, 4),
    # --- G1-F1: internal mutations
    # A02 A06
    ("G1-F1", DEP, "69", Y23, 2, 7, 28.57),
    # A12
    ("G1-F1", DEP, "69", Y22, 1, 3, 33.33),
    ("G1-F1", DEP, "69", CUM, 3, 10, 30),
    # A10 of A10 A11
    ("G1-F1", "bailleur", O2, Y23, 1, 2, 50),
    # --- G1-F2: vacant for more than 3 months on 1 January, among dwellings offered (MODE 1 or 2)
    # L02 vacant since 1 Oct 2022 (counted), L06 since 2 Oct (not); offered: L01–L04 L06 L07 L12 (L05 MODE 3, L08 sold)
    ("G1-F2", DEP, "69", Y23, 1, 7, 14.29),
    # L02 since 1 Sep 2021, L07 from 1 Oct 2021 to 1 Jan 2022; L06 since 1 Dec 2021 is not
    ("G1-F2", DEP, "69", Y22, 2, 7, 28.57),
    # M02 since Mar 2022; L11's vacancy ended 31 Dec 2022; L10 is empty for works (motif TRAVAUX)
    ("G1-F2", DEP, "31", Y23, 1, 6, 16.67),
    ("G1-F2", DEP, "31", Y22, 0, 6, 0),
    ("G1-F2", DEP, "69", CUM, 3, 14, 21.43),
    # L02 of 7 in 69 + 3 in 31
    ("G1-F2", "bailleur", O1, Y23, 1, 10, 10),
    # M02 of M01–M03
    ("G1-F2", "bailleur", O2, Y23, 1, 3, 33.33),
    # --- G1-F3: arrears of more than 3 months with social support
    # B1 (5 months) and B3 (4) supported; B2 (exactly 3 months) excluded
    ("G1-F3", DEP, "69", Y22, 2, 2, 100),
    # B1 (17 months) yes, B6 no; B5 (exactly 3 months) excluded
    ("G1-F3", DEP, "69", Y23, 1, 2, 50),
    # B7
    ("G1-F3", DEP, "31", Y23, 0, 1, 0),
    ("G1-F3", DEP, "69", CUM, 3, 4, 75),
    # B1 B3 B4
    ("G1-F3", "bailleur", O1, Y22, 3, 3, 100),
    # --- G1-F4: arrears of more than 3 months under a repayment plan
    # B3 of B1 B3 (B2, 3 months, excluded although under a plan)
    ("G1-F4", DEP, "69", Y22, 1, 2, 50),
    # B1 of B1 B6 (B5 excluded)
    ("G1-F4", DEP, "69", Y23, 1, 2, 50),
    ("G1-F4", DEP, "31", Y23, 1, 1, 100),
    ("G1-F4", DEP, "69", CUM, 2, 4, 50),
    # B4
    ("G1-F4", "region", "76", Y22, 1, 1, 100),
    # --- G1-G1: written complaints answered and closed within 30 days
    # R22-1 closed on day 30 (yes), R22-2 on day 31 (no); R22-3 is oral
    ("G1-G1", DEP, "69", Y22, 1, 2, 50),
    # R22-4 never answered, R22-5 never closed
    ("G1-G1", DEP, "31", Y22, 0, 2, 0),
    # R23-1 day 30, R23-2 received 30 Dec 2023 and closed 10 Jan 2024; R23-3 day 42
    ("G1-G1", DEP, "69", Y23, 2, 3, 66.67),
    ("G1-G1", DEP, "31", Y23, 1, 1, 100),
    ("G1-G1", DEP, "69", CUM, 3, 5, 60),
    ("G1-G1", "bailleur", O1, Y22, 1, 4, 25),
    # --- G1-G2: breakdowns per device in service (no total across lifts and boilers)
    # P1 P2 P3 over ASC-1 and ASC-3 (withdrawn in 2022, still in service that year)
    ("G1-G2-ASCENSEUR", DEP, "69", Y22, 3, 2, 1.5),
    # P6 P7 P8 P12 over ASC-1 ASC-2; ASC-3 was withdrawn the year before
    ("G1-G2-ASCENSEUR", DEP, "69", Y23, 4, 2, 2),
    # ASC-4, no breakdown
    ("G1-G2-ASCENSEUR", DEP, "31", Y23, 0, 1, 0),
    # P9 on CH-1
    ("G1-G2-CHAUFFERIE", DEP, "69", Y23, 1, 1, 1),
    # CH-2, no breakdown in 2022
    ("G1-G2-CHAUFFERIE", DEP, "31", Y22, 0, 1, 0),
    # P10 P11 on CH-2
    ("G1-G2-CHAUFFERIE", DEP, "31", Y23, 2, 1, 2),
    ("G1-G2-ASCENSEUR", DEP, "69", CUM, 7, 4, 1.75),
    ("G1-G2-CHAUFFERIE", DEP, "69", CUM, 2, 2, 1),
    ("G1-G2-CHAUFFERIE", "bailleur", O2, Y23, 2, 1, 2),
    # --- G1-G3: satisfied with the cleanliness of common areas (other questions ignored)
    # Cèdres 30/40 (QPV) + Parc 16/20; the global-satisfaction line is ignored
    ("G1-G3", DEP, "69", Y22, 46, 60, 76.67),
    ("G1-G3-QPV", DEP, "69", Y22, 30, 40, 75),
    ("G1-G3-HORS_QPV", DEP, "69", Y22, 16, 20, 80),
    ("G1-G3", DEP, "69", Y23, 57, 75, 76),
    ("G1-G3-QPV", DEP, "69", Y23, 28, 40, 70),
    # Parc 20/25 + Vignes 9/10
    ("G1-G3-HORS_QPV", DEP, "69", Y23, 29, 35, 82.86),
    # Reynerie 7/10 + Tilleuls 24/30 (the EQUIPEMENTS line is ignored)
    ("G1-G3", DEP, "31", Y23, 31, 40, 77.5),
    ("G1-G3-QPV", DEP, "31", Y23, 7, 10, 70),
    ("G1-G3-HORS_QPV", DEP, "31", Y23, 24, 30, 80),
    ("G1-G3", DEP, "69", CUM, 103, 135, 76.30),
    ("G1-G3-QPV", DEP, "69", CUM, 58, 80, 72.5),
    ("G1-G3-HORS_QPV", DEP, "69", CUM, 45, 55, 81.82),
    ("G1-G3", "region", "76", Y22, 6, 10, 60),
    # --- G1-G4: dwellings per caretaker (FTE)
    # 9 dwellings over 0.5 + 0.5 FTE
    ("G1-G4", DEP, "69", Y22, 9, 1.0, 9),
    # 8 over 0.5 + 0.3
    ("G1-G4", DEP, "69", Y23, 8, 0.8, 10),
    # 6 over 0.25 (O1) + 0.5 (O2)
    ("G1-G4", DEP, "31", Y22, 6, 0.75, 8),
    ("G1-G4", DEP, "31", Y23, 6, 1.0, 6),
    ("G1-G4", DEP, "69", CUM, 17, 1.8, 9.44),
    # 11 over 0.5 + 0.3 + 0.5
    ("G1-G4", "bailleur", O1, Y23, 11, 1.3, 8.46),
    ("G1-G4", "bailleur", O2, Y23, 3, 0.5, 6),
    # --- G1-H1: operating cost (management, levies, maintenance, TFPB) per dwelling
    # 21800 in 69 (9000 + 900 + 3600 + 2000 + 1800 + 4500) + 5700 in 31, over 12 dwellings
    ("G1-H1", "bailleur", O1, Y22, 27500, 12, 2291.67),
    # 2400 + 300 + 900 + 600 + 900 (investment excluded)
    ("G1-H1", "bailleur", O2, Y22, 5100, 3, 1700),
    # 21200 in 69 + 6600 in 31, over 11
    ("G1-H1", "bailleur", O1, Y23, 27800, 11, 2527.27),
    ("G1-H1", "bailleur", O1, CUM, 55300, 23, 2404.35),
    # O1 27800 + O2 5100 over 14
    ("G1-H1", "france", "FR", Y23, 32900, 14, 2350),
    # 8800 + 800 + 3200 + 2400 + 1600 + 4400 over 8
    ("G1-H1", DEP, "69", Y23, 21200, 8, 2650),
    ("G1-H1", DEP, "69", CUM, 43000, 17, 2529.41),
    # --- G-1: management cost per dwelling (GESTION only)
    # 9000 + 3000 over 12
    ("G-1", "bailleur", O1, Y22, 12000, 12, 1000),
    # 8800 + 3600 over 11
    ("G-1", "bailleur", O1, Y23, 12400, 11, 1127.27),
    ("G-1", "bailleur", O2, Y23, 2700, 3, 900),
    ("G-1", "bailleur", O1, CUM, 24400, 23, 1060.87),
    # O1 only (O2 has no département detail)
    ("G-1", DEP, "31", Y23, 3600, 3, 1200),
    # 9000 + 8800 over 9 + 8
    ("G-1", DEP, "69", CUM, 17800, 17, 1047.06),
    ("G-1", "france", "FR", Y23, 15100, 14, 1078.57),
    # --- PP-1: dwellings approved (agréés)
    # OP1: 4 PLAI + 6 PLUS
    ("PP-1", DEP, "69", Y22, 10, None, 10),
    ("PP-1-PLAI", DEP, "69", Y22, 4, None, 4),
    # OP3 8 + OP11 2
    ("PP-1-PLUS", DEP, "69", Y23, 10, None, 10),
    ("PP-1", DEP, "69", CUM, 20, None, 20),
    ("PP-1-PLAI", DEP, "69", CUM, 4, None, 4),
    ("PP-1-PLUS", DEP, "69", CUM, 16, None, 16),
    # OP2 5 PLS (its 3 PLI not counted)
    ("PP-1-PLS", DEP, "31", Y23, 5, None, 5),
    # + OP10 2 PLAI (O2)
    ("PP-1", DEP, "31", CUM, 7, None, 7),
    ("PP-1-PLS", DEP, "31", CUM, 5, None, 5),
    ("PP-1-PLAI", DEP, "31", CUM, 2, None, 2),
    ("PP-1", "bailleur", O2, CUM, 2, None, 2),
    # --- PP-1-HQPV: share of approved dwellings outside QPV
    # OP1 in QPV
    ("PP-1-HQPV", DEP, "69", Y22, 0, 10, 0),
    # OP3 (8) of 20; OP1 and OP11 in QPV
    ("PP-1-HQPV", DEP, "69", CUM, 8, 20, 40),
    # OP2 PLS (5) of 7; OP10 in QPV; the PLI is in neither
    ("PP-1-HQPV", DEP, "31", CUM, 5, 7, 71.43),
    ("PP-1-HQPV", "bailleur", O2, CUM, 0, 2, 0),
    # --- PP-1-HANRU: share of approved dwellings outside urban renewal
    # OP3 8 + OP11 2 (in QPV but outside ANRU) of 20
    ("PP-1-HANRU", DEP, "69", CUM, 10, 20, 50),
    ("PP-1-HANRU", DEP, "69", Y23, 10, 10, 100),
    ("PP-1-HANRU", DEP, "31", CUM, 7, 7, 100),
    ("PP-1-HANRU", "region", "84", CUM, 10, 20, 50),
    # --- PP-2: F or G dwellings reaching A to E after renovation
    # R1 F → C over L02 L03 L06 L07 L08
    ("PP-2", DEP, "69", Y22, 1, 5, 20),
    # R2 E → C is not from F/G; L02 L03 L07 (L06 now C, L08 sold)
    ("PP-2", DEP, "69", Y23, 0, 3, 0),
    # R3 (2, G → C: counted here, not in G1-C3) + R4 (1, F → B) over L10 L11 M01 M03
    ("PP-2", DEP, "31", Y23, 3, 4, 75),
    ("PP-2", DEP, "69", CUM, 1, 8, 12.5),
    ("PP-2", DEP, "31", CUM, 3, 8, 37.5),
    # R4 over M01 M03
    ("PP-2", "bailleur", O2, Y23, 1, 2, 50),
    # --- PP-3: rehabilitated with a Caisse des dépôts loan
    # OP12 (3, eligible) of 9
    ("PP-3", DEP, "69", Y22, 3, 9, 33.33),
    # OP14's blank eligibility = no
    ("PP-3", DEP, "69", Y23, 0, 8, 0),
    # OP15 (O2, 3); OP13 not eligible
    ("PP-3", DEP, "31", Y23, 3, 6, 50),
    ("PP-3", DEP, "69", CUM, 3, 17, 17.65),
    ("PP-3", "bailleur", O2, Y23, 3, 3, 100),
    # --- PP-4: put on sale among the stock (cumulated over the first year's stock)
    # OP16 2 of 9
    ("PP-4", DEP, "69", Y22, 2, 9, 22.22),
    # OP17 1 of 8
    ("PP-4", DEP, "69", Y23, 1, 8, 12.5),
    ("PP-4", DEP, "31", Y23, 1, 6, 16.67),
    # premiere_annee: 3 over the 2022 stock (9), not over 9 + 8
    ("PP-4", DEP, "69", CUM, 3, 9, 33.33),
    ("PP-4", DEP, "31", CUM, 1, 6, 16.67),
    # 3 + 1 over O1's 12 dwellings of 2022
    ("PP-4", "bailleur", O1, CUM, 4, 12, 33.33),
    # --- PP-5: already social tenants (blank → internal mutation flag)
    # A02 (blank, internal mutation), A03, A06
    ("PP-5", DEP, "69", Y23, 3, 7, 42.86),
    # A12
    ("PP-5", DEP, "69", Y22, 1, 3, 33.33),
    ("PP-5", DEP, "31", Y23, 1, 3, 33.33),
    ("PP-5", DEP, "69", CUM, 4, 10, 40),
    ("PP-5", "region", "84", Y23, 3, 7, 42.86),
    # --- PS-1: outside QPV, first quartile or rehoused by urban renewal (per EPCI)
    # outside QPV A02 A03 A04: A03 Q1, A04 rehoused; A07 (Q1 but in QPV) excluded
    ("PS-1", "epci", "200046977", Y23, 2, 3, 66.67),
    # Villefranche: A05 Q1, A06 Q4
    ("PS-1", "epci", "200040590", Y23, 1, 2, 50),
    # A09 Q1, A11 Q2; A10 in QPV
    ("PS-1", "epci", "243100518", Y23, 1, 2, 50),
    # A08 Q1, A13 Q3; A12 in QPV
    ("PS-1", "epci", "200046977", Y22, 1, 2, 50),
    ("PS-1", "epci", "200046977", CUM, 3, 5, 60),
    ("PS-1", DEP, "69", Y23, 3, 5, 60),
    ("PS-1", DEP, "69", CUM, 4, 7, 57.14),
    # --- PS-2: DALO or priority households
    # A01 A02 (DALO), A04 A07 (priority)
    ("PS-2", DEP, "69", Y23, 4, 7, 57.14),
    # A08 A12
    ("PS-2", DEP, "69", Y22, 2, 3, 66.67),
    ("PS-2", DEP, "31", Y23, 1, 3, 33.33),
    ("PS-2", DEP, "69", CUM, 6, 10, 60),
    # A14 of A10 A11 A14
    ("PS-2", "bailleur", O2, CUM, 1, 3, 33.33),
    # --- PS-2-HQPV: share outside QPV of the DALO or priority attributions
    # A02 A04 of A01 A02 A04 A07
    ("PS-2-HQPV", DEP, "69", Y23, 2, 4, 50),
    # A08 (A12 in QPV)
    ("PS-2-HQPV", DEP, "69", Y22, 1, 2, 50),
    ("PS-2-HQPV", DEP, "31", Y23, 1, 1, 100),
    ("PS-2-HQPV", DEP, "69", CUM, 3, 6, 50),
    # O1: A02 A04 A09 of A01 A02 A04 A07 A09
    ("PS-2-HQPV", "bailleur", O1, Y23, 3, 5, 60),
    # --- PS-3: DALO
    ("PS-3", DEP, "69", Y23, 2, 7, 28.57),
    # A14
    ("PS-3", DEP, "31", Y22, 1, 1, 100),
    ("PS-3", DEP, "69", CUM, 3, 10, 30),
    # A01 A02 A09 of 10
    ("PS-3", "france", "FR", Y23, 3, 10, 30),
    # --- PS-3-HQPV: share outside QPV of the DALO attributions
    # A02 (A01 in QPV)
    ("PS-3-HQPV", DEP, "69", Y23, 1, 2, 50),
    # A08
    ("PS-3-HQPV", DEP, "69", Y22, 1, 1, 100),
    ("PS-3-HQPV", DEP, "69", CUM, 2, 3, 66.67),
    # A09 outside, A14 in QPV
    ("PS-3-HQPV", DEP, "31", CUM, 1, 2, 50),
    # O1: A02 A09 of A01 A02 A09
    ("PS-3-HQPV", "bailleur", O1, Y23, 2, 3, 66.67),
    # --- SR-1: accessible to people with reduced mobility (PMR = 1)
    # L01 L04 L07 of 8 (the sold L08 is PMR but out of the stock)
    ("SR-1", DEP, "69", Y23, 3, 8, 37.5),
    # + L08
    ("SR-1", DEP, "69", Y22, 4, 9, 44.44),
    # L09 M01 of 6
    ("SR-1", DEP, "31", Y23, 2, 6, 33.33),
    # M04 (PMR, demolished in 2021) is out of the 2022 stock
    ("SR-1", DEP, "31", Y22, 2, 6, 33.33),
    ("SR-1", DEP, "69", CUM, 7, 17, 41.18),
    # L01 L04 L07 L09 of 11
    ("SR-1", "bailleur", O1, Y23, 4, 11, 36.36),
    ("SR-1", "region", "76", Y23, 2, 6, 33.33),
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The fixture imported as a landlord would (module scope: about twenty imports, done once)."""
    warehouse = Warehouse(tmp_path_factory.mktemp("indicateurs") / "donnees")
    for vintage in (2022, 2023):
        import_rpls(FIXTURES / f"rpls_{vintage}.csv", warehouse, vintage=vintage)
    for name in sorted(event_schemas()):
        import_events(warehouse, name, FIXTURES / f"{name}.csv")
    return warehouse


@pytest.fixture(scope="module")
def results(loaded: Warehouse) -> dict[tuple[str, str, str, str], dict]:
    rows = {}
    for period in ({}, {"annee": 2023, "cumul": 2}):  # every year of the stock, then 2022-2023
        result = compute(loaded, generation=None, mailles=MAILLES, **period)
        assert not result.gaps
        for row in result.rows:
            rows[(row["code"], row["maille"], row["code_territoire"], row["periode"])] = row
    return rows


def _case_id(case: tuple) -> str:
    code, maille, territory, period = case[:4]
    return f"{code}:{maille}:{territory}:{period}"


@pytest.mark.parametrize(
    ("code", "maille", "territory", "period", "numerator", "denominator", "value"),
    EXPECTED,
    ids=[_case_id(c) for c in EXPECTED],
)
def test_indicator_matches_hand_computation(results, code, maille, territory, period, numerator, denominator, value):
    row = results[(code, maille, territory, period)]
    assert row["numerateur"] == pytest.approx(numerator)
    if denominator is None:
        assert row["denominateur"] is None
    else:
        assert row["denominateur"] == pytest.approx(denominator)
    assert row["valeur"] == pytest.approx(value, abs=0.005)


def _published_codes() -> set[str]:
    """Every code the engine publishes: each indicator, its ventilations, and their total when published."""
    codes = set()
    for indicator in catalogue().indicators:
        if not indicator.ventilations or indicator.total:
            codes.add(indicator.code)
        codes |= {f"{indicator.code}-{v}" for v in indicator.ventilations}
    return codes


def test_every_published_code_has_hand_computed_cases():
    assert {case[0] for case in EXPECTED} == _published_codes()
    for code in _published_codes():
        covered = {(maille, period == CUM) for c, maille, _, period, *_ in EXPECTED if c == code}
        assert (DEP, False) in covered, f"{code}: no yearly case at département level"
        assert (DEP, True) in covered, f"{code}: no cumulated case at département level"
    for indicator in catalogue().indicators:
        own = {indicator.code} | {f"{indicator.code}-{v}" for v in indicator.ventilations}
        assert any(c in own and maille != DEP for c, maille, *_ in EXPECTED), f"{indicator.code}: only départements"


def test_every_event_table_has_a_fixture_file():
    assert {p.stem for p in FIXTURES.glob("*.csv") if not p.stem.startswith("rpls_")} == set(event_schemas())


def test_no_total_across_lifts_and_boilers(results):
    assert not [key for key in results if key[0] == "G1-G2"]
    assert ("G1-G2-ASCENSEUR", DEP, "69", Y23) in results


def test_rows_without_data_are_absent(results):
    # no PLS filed in 69 in 2022, no hébergement filed in 31 in 2022, no O2 costs at département level
    assert ("G1-A1-PLS", DEP, "69", Y22) not in results
    assert ("G1-B1", DEP, "31", Y22) not in results
    assert ("G1-C1-HORS_RU", "bailleur", O2, Y23) not in results
    # PS-1 reads only attributions outside QPV: none in 31 in 2022 (A14 is in QPV)
    assert ("PS-1", "epci", "243100518", Y22) not in results


def test_period_with_a_year_without_data_is_not_computed(loaded):
    # 2021-2023: operations cover 2021 (OP0), attributions and the RPLS do not
    result = compute(loaded, generation=None, mailles=[DEP], annee=2023, cumul=3, codes=["G1-A1", "G1-E1", "PP-4"])
    rows = {(r["code"], r["code_territoire"]): r for r in result.rows}
    # OP0 3 PLAI filed 2021-12-31 + 10 in 2022 + 8 in 2023
    assert rows[("G1-A1", "69")]["numerateur"] == 21
    assert {code for code, _ in rows} == {"G1-A1", "G1-A1-PLAI", "G1-A1-PLUS", "G1-A1-PLS"}
    assert result.gaps == {("G1-E1", "2021-2023"), ("PP-4", "2021-2023")}


# --- cases where the SQL once disagreed with the definition text (found by hand computation, now fixed)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_g1_g1_answer_after_day_30_is_not_handled_within_30_days(warehouse, tmp_path):
    path = _write(
        tmp_path / "reclamations.csv",
        [
            "id_reclamation;organisme;depcom;categorie;ecrite;date_reception;date_reponse;date_cloture",
            f"X1;{O1};69123;TECHNIQUE;1;2023-03-01;2023-03-06;2023-03-11",
            f"X2;{O1};69123;TECHNIQUE;1;2023-03-01;2023-04-01;2023-03-21",
        ],
    )
    import_events(warehouse, "reclamations", path)
    result = compute(warehouse, generation=1, mailles=[DEP], annee=2023, codes=["G1-G1"])
    (row,) = result.rows
    # X1 answered day 5, closed day 10: handled; X2 closed day 20 but answered on day 31: not handled in 30 days
    assert (row["numerateur"], row["denominateur"]) == (1, 2)


def test_pp_5_counts_internal_mutations(warehouse, tmp_path):
    header = (
        "id_attribution;organisme;date_bail;depcom;en_qpv;dalo;prioritaire;contingent;mutation_interne;deja_parc_social"
    )
    path = _write(
        tmp_path / "attributions.csv",
        [header, f"X1;{O1};2023-05-01;69123;0;0;0;BAILLEUR;1;0", f"X2;{O1};2023-06-01;69123;0;0;0;BAILLEUR;0;0"],
    )
    import_events(warehouse, "attributions", path)
    result = compute(warehouse, generation=2, mailles=[DEP], annee=2023, codes=["PP-5"])
    (row,) = result.rows
    # X1 is an internal mutation, hence already a tenant of the social stock: 1 of 2
    assert (row["numerateur"], row["denominateur"]) == (1, 2)


def test_g1_f3_counts_each_lease_once_at_its_last_situation_of_the_year(warehouse, tmp_path):
    header = "id_bail;organisme;depcom;date_situation;mois_impayes;montant;accompagnement_social;plan_apurement"
    path = _write(
        tmp_path / "impayes.csv",
        [
            header,
            f"B1;{O1};69123;2023-06-30;4;900;0;0",
            f"B1;{O1};69123;2023-12-31;6;1400;1;1",
            f"B2;{O1};69123;2023-12-31;5;1100;0;1",
        ],
    )
    import_events(warehouse, "impayes", path)
    result = compute(warehouse, generation=1, mailles=[DEP], annee=2023, codes=["G1-F3", "G1-F4"])
    rows = {r["code"]: r for r in result.rows}
    # B1 counted once, at 31/12 (supported, plan); B2 (plan only): F3 1 of 2, F4 2 of 2
    assert (rows["G1-F3"]["numerateur"], rows["G1-F3"]["denominateur"]) == (1, 2)
    assert (rows["G1-F4"]["numerateur"], rows["G1-F4"]["denominateur"]) == (2, 2)
