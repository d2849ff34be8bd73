"""Reading the dwellings of the rent simulation from the warehouse, and the households file of the SLS simulation."""

import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.loyers.lecture import HouseholdsError, LectureError, read_dwellings, read_households

COLONNES = (
    "ident_rep", "ident_int", "organisme_id", "ensemble_id", "complgeo", "depcom", "en_stock", "modesurf",
    "surfmode", "surfhab", "cus", "finan", "loyermaxapl", "loyermaxcus", "loyerprinc",
)  # fmt: skip
# Hand-checkable: L1, L2 in ensemble 1; L3, L7, L8 in ensemble 2; L4 in ensemble 3 (no class in the tests);
# L5 left the stock; L6 belongs to another landlord; L7 has no maximum rent; L8 is vacant.
LOGEMENTS = [
    ("L1", "i1", "OPH-A", 1, "Programme 1", "69123", True, "3", 50.0, 50.0, "13", "12", 300.0, 310.0, 280.0),
    ("L2", "i2", "OPH-A", 1, "Programme 1", "69123", True, "2", 100.0, 80.0, None, "12", 500.0, None, 510.0),
    ("L3", "i3", "OPH-A", 2, "Programme 2", "69266", True, "9", None, 80.0, "11", "11", 400.0, None, 390.0),
    ("L4", "i4", "OPH-A", 3, "Programme 3", "69266", True, "3", 60.0, 60.0, "13", "13", 300.0, None, 290.0),
    ("L5", "i5", "OPH-A", 1, "Programme 1", "69123", False, "3", 70.0, 70.0, "13", "13", 350.0, None, 300.0),
    ("L6", "i6", "SA-B", 1, "Autre", "31555", True, "3", 70.0, 70.0, "13", "13", 350.0, None, 300.0),
    ("L7", "i7", "OPH-A", 2, "Programme 2", "69266", True, "3", 40.0, 40.0, "13", "13", None, None, 250.0),
    ("L8", "i8", "OPH-A", 2, "Programme 2", "69266", True, "3", 30.0, 30.0, "14", "14", 180.0, None, None),
]
CLASSES = {"1": "A", "2": "B"}


def petit_entrepot(data_dir: Path) -> Path:
    """A warehouse whose current RPLS snapshot holds the eight dwellings above."""
    warehouse = Warehouse(data_dir)
    table = pa.Table.from_pylist([dict(zip(COLONNES, row, strict=True)) for row in LOGEMENTS])
    with warehouse.lock(), warehouse.new_snapshot("rpls", 2025, {"source": "essai"}) as path:
        pq.write_table(table, path / "logements.parquet")
    return data_dir


def test_dwellings_of_the_landlord_in_stock_with_the_class_of_their_ensemble(tmp_path: Path) -> None:
    lus = read_dwellings(petit_entrepot(tmp_path), "OPH-A", CLASSES)
    rows = {r["logement_id"]: r for r in lus.logements.to_pylist()}
    assert sorted(rows) == ["L1", "L2", "L3", "L8"]
    assert lus.total_en_stock == 6 and lus.millesime == 2025
    # SURFMODE when MODESURF is 1-3 (L2: corrected surface 100, not the 80 m² living area), SURFHAB otherwise
    assert [rows[k]["surface"] for k in ("L1", "L2", "L3", "L8")] == [50.0, 100.0, 80.0, 30.0]
    assert rows["L2"]["mode_surface"] == "corrigée" and rows["L3"]["mode_surface"] == "habitable"
    assert [rows[k]["loyer_max_m2"] for k in ("L1", "L2", "L3", "L8")] == [6.0, 5.0, 5.0, 6.0]
    # CUS field first (L1 13 → PLUS, L8 14 → PLS), FINAN when it is empty (L2 12 → PLUS)
    assert [rows[k]["financement"] for k in ("L1", "L2", "L3", "L8")] == ["PLUS", "PLUS", "PLAI", "PLS"]
    assert [rows[k]["classe"] for k in ("L1", "L2", "L3", "L8")] == ["A", "A", "B", "B"]
    assert rows["L8"]["loyer"] is None and rows["L1"]["loyer"] == 280.0
    assert lus.masse_actuelle == 1380.0
    assert lus.sans_classe == [{"ensemble_id": "3", "programme": "Programme 3", "depcom": "69266", "logements": 1}]
    assert lus.ecartes == {
        "surface absente ou nulle": 0,
        "loyer maximal de la convention APL (LOYERMAXAPL) absent ou nul": 1,
        "financement inconnu (champs CUS et FINAN)": 0,
    }


def test_the_cus_maximum_rent_can_be_the_base(tmp_path: Path) -> None:
    lus = read_dwellings(petit_entrepot(tmp_path), "OPH-A", CLASSES, base="cus")
    assert [r["logement_id"] for r in lus.logements.to_pylist()] == ["L1"]
    assert lus.logements.column("loyer_max_m2").to_pylist() == [6.2]
    assert lus.ecartes["loyer maximal de la CUS en vigueur (LOYERMAXCUS) absent ou nul"] == 5  # L2, L3, L4, L7, L8


def test_french_errors_without_snapshot_or_dwelling(tmp_path: Path) -> None:
    with pytest.raises(LectureError, match="Aucun instantané RPLS dans l'entrepôt"):
        read_dwellings(tmp_path / "vide", "OPH-A", CLASSES)
    with pytest.raises(LectureError, match="Aucun logement en stock de l'organisme INCONNU"):
        read_dwellings(petit_entrepot(tmp_path), "INCONNU", CLASSES)


def test_demo_warehouse_counts_match_an_independent_query() -> None:
    from web.usines import entrepot_demo

    demo = entrepot_demo()
    path = Warehouse(demo.dossier).current("rpls").table("logements")
    con = duckdb.connect()
    ensembles = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT ensemble_id FROM read_parquet(?) WHERE organisme_id = ? ORDER BY 1", [str(path), demo.code]
        ).fetchall()
    ]
    classes = {str(e): "A" if n % 2 else "B" for n, e in enumerate(ensembles[1:])}  # the first one unclassified
    lus = read_dwellings(demo.dossier, demo.code, classes)
    expected = con.execute(
        """SELECT count(*) FILTER (WHERE ensemble_id <> ? AND loyermaxapl > 0 AND surfmode > 0),
                  count(*) FILTER (WHERE ensemble_id = ?), round(sum(loyermaxapl) FILTER (WHERE ensemble_id <> ?), 2)
           FROM read_parquet(?) WHERE organisme_id = ? AND en_stock""",
        [ensembles[0], ensembles[0], ensembles[0], str(path), demo.code],
    ).fetchone()
    assert expected is not None
    assert lus.logements.num_rows == expected[0] > 1000
    assert lus.sans_classe[0]["ensemble_id"] == str(ensembles[0]) and lus.sans_classe[0]["logements"] == expected[1]
    assert lus.masse_actuelle == pytest.approx(expected[2], abs=0.01)


# --- households file ----------------------------------------------------------------------------------------

EN_TETE = "menage_id;surface;ressources;categorie;zone_plafonds;zone_sls;financement;loyer;qpv"


def test_households_csv_with_french_decimals_and_optional_columns() -> None:
    contenu = f"{EN_TETE}\nM1;50,5;32 764,20;1;autres;4;PLUS;300;non\nM2;60;20000;3;IDF;2;plai;;oui\n"
    table = read_households(contenu.encode(), "menages.csv")
    assert table.to_pylist() == [
        {
            "menage_id": "M1", "surface": 50.5, "ressources": 32764.2, "categorie": 1, "zone_plafonds": "autres",
            "zone_sls": 4, "financement": "PLUS", "loyer": 300.0, "qpv": False, "zrr": False,
            "exoneration_plh": False, "apl": False, "sans_reponse": False,
        },
        {
            "menage_id": "M2", "surface": 60.0, "ressources": 20000.0, "categorie": 3, "zone_plafonds": "idf",
            "zone_sls": 2, "financement": "PLAI", "loyer": None, "qpv": True, "zrr": False,
            "exoneration_plh": False, "apl": False, "sans_reponse": False,
        },
    ]  # fmt: skip


def test_households_without_resources_only_without_answer_or_apl() -> None:
    """Empty resources: accepted for a household without answer to the survey or receiving the APL, refused
    (row, column, French message) otherwise; an invalid value keeps its own error, not a second one."""
    head = "menage_id;surface;ressources;categorie;zone_plafonds;zone_sls;financement;loyer;apl;sans_reponse"
    ok = f"{head}\nM1;50;;1;autres;4;PLUS;300;non;oui\nM2;50;;1;autres;4;PLUS;300;oui;non\n"
    table = read_households(ok.encode(), "menages.csv")
    assert [(r["ressources"], r["apl"], r["sans_reponse"]) for r in table.to_pylist()] == [
        (None, False, True),
        (None, True, False),
    ]
    bad = f"{head}\nM1;50;;1;autres;4;PLUS;300;non;non\nM2;50;abc;1;autres;4;PLUS;300;non;non\n"
    with pytest.raises(HouseholdsError) as refused:
        read_households(bad.encode(), "menages.csv")
    assert refused.value.total == 2
    assert [(e.ligne, e.colonne, e.valeur) for e in refused.value.erreurs] == [
        (2, "ressources", ""),
        (3, "ressources", "abc"),
    ]
    assert "sans réponse" in refused.value.erreurs[0].message


def test_households_xlsx() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(EN_TETE.split(";"))
    sheet.append(["M1", 50, 32764.2, 1, "autres", 4, "PLUS", 300, None])
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_households(buffer.getvalue(), "menages.xlsx")
    assert table.column("ressources").to_pylist() == [32764.2] and table.column("qpv").to_pylist() == [False]


def test_households_errors_name_row_column_and_value() -> None:
    contenu = (
        f"{EN_TETE}\nM1;50;abc;1;autres;4;PLUS;300;non\nM2;0;2000;1;lyon;5;HLM;300;peut-être\n"
        "M1;50;2000;1;autres;4;PLUS;300;non\n"
    )
    with pytest.raises(HouseholdsError) as raised:
        read_households(contenu.encode(), "menages.csv")
    error = raised.value
    assert "7 erreur(s) ; aucun ménage n'a été simulé" in str(error) and error.total == 7
    assert [str(e) for e in error.erreurs] == [
        "ligne 2, colonne « ressources », valeur « abc » : nombre attendu",
        "ligne 3, colonne « surface », valeur « 0 » : surface strictement positive attendue",
        "ligne 3, colonne « zone_plafonds », valeur « lyon » : zone attendue parmi paris, idf, autres",
        "ligne 3, colonne « zone_sls », valeur « 5 » : entier de 1 à 4 attendu",
        "ligne 3, colonne « financement », valeur « HLM » : financement attendu parmi PLAI, PLUS, PLS, PLI",
        "ligne 3, colonne « qpv », valeur « peut-être » : oui ou non attendu",
        "ligne 4, colonne « menage_id », valeur « M1 » : identifiant déjà présent plus haut dans le fichier",
    ]


def test_households_missing_column_and_unreadable_files() -> None:
    with pytest.raises(HouseholdsError, match=r"colonne\(s\) absente\(s\) : ressources"):
        read_households(b"menage_id;surface;categorie;zone_plafonds;zone_sls;financement;loyer\n", "m.csv")
    with pytest.raises(HouseholdsError, match="classeur XLSX illisible"):
        read_households(b"PK\x03\x04abime", "m.xlsx")
    with pytest.raises(HouseholdsError, match="aucun ménage"):
        read_households(f"{EN_TETE}\n;;;;;;;;\n".encode(), "m.csv")
