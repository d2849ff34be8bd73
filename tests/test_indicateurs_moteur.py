"""The indicator engine's rules: catalogue validation, cumulation, declination, consolidation, objectives.

Per-indicator figures are in test_indicateurs_calcul.py; here small files built in each test exercise
the mechanics shared by every indicator. Files go through the real importers.
"""

from pathlib import Path

import pytest

from pilote_cus.cli import main
from pilote_cus.declarations import DeclarationError
from pilote_cus.evenements.import_evenements import import_events
from pilote_cus.geographie.referentiel import load_cog
from pilote_cus.imports.erreurs import ImportRejected
from pilote_cus.indicateurs.catalogue import catalogue, parse_indicator
from pilote_cus.indicateurs.evaluation import evaluate
from pilote_cus.indicateurs.objectifs import (
    Objective,
    load_objectives,
    read_template,
    save_objectives,
    status,
    write_template,
)
from pilote_cus.indicateurs.service import compute
from pilote_cus.patrimoine.import_rpls import import_rpls

RPLS_HEADER = (
    "IDENT_REP;DEPCOM;QPV;TYPECONST;NBPIECE;SURFHAB;CONSTRUCT;SORTIEPATRIM;MODE;DPEENERGIE;PMR;SIRET;CODSEGPATRIM"
)
ATTRIBUTION_HEADER = (
    "id_attribution;organisme;date_bail;depcom;en_qpv;dalo;prioritaire;contingent;mutation_interne;quartile"
)
LANDLORD_A, LANDLORD_B = "11111111100011", "22222222200022"


def rpls(folder: Path, vintage: int, rows: list[str]) -> Path:
    path = folder / f"rpls_{vintage}.csv"
    path.write_text("\n".join([RPLS_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def dwelling(ident: str, commune: str, landlord: str = LANDLORD_A, *, qpv: str = "2", exit_code: str = "9") -> str:
    """One open-data RPLS line: a let 3-room flat, label E, not accessible, segment S1."""
    return f"{ident};{commune};{qpv};C;3;65;1975;{exit_code};1;E;2;{landlord};S1"


def attributions(folder: Path, rows: list[tuple[str, ...]], name: str = "attributions.csv") -> Path:
    path = folder / name
    lines = [ATTRIBUTION_HEADER] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def attribution(ident: str, date: str, commune: str, *, dalo: bool = False, qpv: bool = False, quartile: str = "2",
                landlord: str = LANDLORD_A) -> tuple[str, ...]:  # fmt: skip
    yes = {True: "oui", False: "non"}
    return (ident, landlord, date, commune, yes[qpv], yes[dalo], "non", "BAILLEUR", "non", quartile)


def by_key(rows: list[dict]) -> dict[tuple[str, str, str, str], dict]:
    return {(r["code"], r["maille"], r["code_territoire"], r["periode"]): r for r in rows}


@pytest.fixture
def two_years(warehouse, tmp_path):
    """Landlord A in Lyon (69) and Toulouse (31): 2022 and 2023 stocks, attributions both years.

    2022: 2 attributions in 69, 1 DALO → 50 %; 2023: 8 in 69, 1 DALO → 12.5 %.
    Cumulated 2022-2023: 2 / 10 = 20 % (the mean of the yearly ratios would be 31.25 %).
    """
    for vintage in (2022, 2023):
        stock = [dwelling(f"A{n:09d}", "69123") for n in range(4)] + [dwelling("A000000009", "31555")]
        import_rpls(rpls(tmp_path, vintage, stock), warehouse, vintage=vintage)
    rows = [attribution("a1", "15/03/2022", "69123", dalo=True), attribution("a2", "20/06/2022", "69266")]
    rows += [attribution(f"b{n}", "10/02/2023", "69123", dalo=n == 0) for n in range(8)]
    import_events(warehouse, "attributions", attributions(tmp_path, rows))
    return warehouse


def test_catalogue_has_every_regulatory_indicator():
    codes = {i.code for i in catalogue().indicators}
    suffixes = "A1 A2 B1 B2 C1 C2 C3 C4 D1 E1 E2 E3 E4 E5 F1 F2 F3 F4 G1 G2 G3 G4 H1"
    generation_1 = {f"G1-{x}" for x in suffixes.split()}
    generation_2 = {"PP-1", "PP-2", "PP-3", "PP-4", "PP-5", "PS-1", "PS-2", "PS-3", "SR-1", "G-1"}
    assert generation_1 | generation_2 <= codes
    to_confirm = {i.code for i in catalogue().indicators if i.to_confirm}
    assert {"PP-4", "PS-1", "PS-2", "SR-1"} <= to_confirm  # INDICATORS.md section B
    assert {"PP-1", "PP-2", "PP-3", "PS-3", "G-1"}.isdisjoint(to_confirm)
    splits = {i.code: set(i.ventilations) for i in catalogue().indicators}
    assert splits["G1-A1"] == splits["G1-A2"] == splits["PP-1"] == {"PLAI", "PLUS", "PLS"}
    assert splits["G1-C1"] == {"RU", "HORS_RU"}
    assert splits["G1-G3"] == {"QPV", "HORS_QPV"}
    assert {i.code: i.declinaison for i in catalogue().indicators}["PS-1"] == ("epci",)


GOOD = """
code = "T-1"
generation = 2
politique = "sociale"
engagement = "e"
libelle = "l"
definition = "d"
numerateur = "n"
denominateur = "d"
unite = "%"
periode = "annuelle"
declinaison = ["departement"]
sens = "hausse"
reference = "r"
certitude = "verifie"
sql = \"\"\"
SELECT annee, organisme, depcom, departement, segment, NULL AS ventilation,
       count(*) FILTER (WHERE dalo) AS numerateur, count(*) AS denominateur
FROM attributions GROUP BY annee, organisme, depcom, departement, segment
\"\"\"
"""


def test_a_good_declaration_loads():
    assert parse_indicator(GOOD, "T-1.toml").code == "T-1"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("WHERE dalo", "WHERE est_dalo"), "T-1.toml : indicateur T-1 : sql : colonne inconnue « est_dalo »"),
        (("FROM attributions", "FROM attribution"), "table inconnue « attribution »"),
        (("AS ventilation,", "AS vent,"), "colonnes renvoyées annee, organisme, depcom, departement, segment, vent"),
        (("SELECT annee", "SELEC annee"), "requête illisible"),
        (('unite = "%"', 'unite = "pourcent"'), "unite : Value error, unité inconnue « pourcent »"),
        (('unite = "%"', 'unite = "logements"'), "se compte sans dénominateur"),
        (('sens = "hausse"\n', ""), "sens : champ obligatoire absent"),
        (('certitude = "verifie"', 'certitude = "peut-être"'), "certitude"),
        (('code = "T-1"', 'code = "t 1"'), "code attendu en majuscules"),
        (('politique = "sociale"', 'politique = "sociale"\ncouleur = "bleu"'), "couleur : clé inconnue"),
        (("generation = 2", "generation = 2\ngeneration = 1"), "TOML illisible"),
    ],
)
def test_bad_declarations_are_refused_naming_file_and_field(change, expected):
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(DeclarationError) as error:
        parse_indicator(text, "T-1.toml")
    assert expected in str(error.value)
    assert str(error.value).startswith("T-1.toml")


def test_cumulated_ratio_is_sum_of_numerators_over_sum_of_denominators(two_years):
    yearly = by_key(compute(two_years, generation=2, mailles=["departement"], codes=["PS-3"]).rows)
    assert yearly[("PS-3", "departement", "69", "2022")]["valeur"] == pytest.approx(50.0)
    assert yearly[("PS-3", "departement", "69", "2023")]["valeur"] == pytest.approx(12.5)
    result = compute(two_years, generation=2, mailles=["departement"], codes=["PS-3"], cumul=2, debut=2022)
    row = by_key(result.rows)[("PS-3", "departement", "69", "2022-2023")]
    assert (row["numerateur"], row["denominateur"]) == (2, 10)
    assert row["valeur"] == pytest.approx(20.0)  # not (50 + 12.5) / 2


def test_first_year_denominator_rule_for_shares_of_the_initial_stock(two_years, tmp_path):
    """PP-4: 1 dwelling put on sale in 2022 and 2 in 2023 in 69; stock of 4 in 69 each year.

    Yearly 1/4 and 2/4; cumulated (premiere_annee) 3 / 4 = 75 %, not 3 / 8.
    """
    header = (
        "id_operation;organisme;type_evenement;date_evenement;depcom;produit;nb_logements;en_qpv;renouvellement_urbain"
    )
    lines = [
        header,
        f"v1;{LANDLORD_A};MISE_EN_VENTE;01/04/2022;69123;LOGEMENT;1;non;non",
        f"v2;{LANDLORD_A};MISE_EN_VENTE;01/09/2023;69123;LOGEMENT;2;non;non",
    ]
    path = tmp_path / "operations.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_events(two_years, "operations", path)
    rows = by_key(compute(two_years, generation=2, mailles=["departement"], codes=["PP-4"], cumul=2, debut=2022).rows)
    row = rows[("PP-4", "departement", "69", "2022-2023")]
    assert (row["numerateur"], row["denominateur"], row["valeur"]) == (3, 4, 75.0)
    yearly = by_key(compute(two_years, generation=2, mailles=["departement"], codes=["PP-4"]).rows)
    assert yearly[("PP-4", "departement", "69", "2023")]["valeur"] == pytest.approx(50.0)
    assert yearly[("PP-4", "departement", "31", "2022")]["valeur"] == 0.0  # stock without any sale: 0 %


def test_region_sums_landlords_and_each_landlord_stays_apart(warehouse, tmp_path, cog_dir):
    """A in Lyon (69) and B in Grenoble (38), both in région 84: 1/2 and 1/4 DALO → région 2/6."""
    load_cog(warehouse, cog_dir, 2026)
    stock = [dwelling("A000000001", "69123"), dwelling("B000000001", "38185", LANDLORD_B)]
    import_rpls(rpls(tmp_path, 2023, stock), warehouse, vintage=2023)
    rows = [attribution("a1", "01/03/2023", "69123", dalo=True), attribution("a2", "01/04/2023", "69123")]
    rows += [attribution(f"b{n}", "01/05/2023", "38185", dalo=n == 0, landlord=LANDLORD_B) for n in range(4)]
    import_events(warehouse, "attributions", attributions(tmp_path, rows))
    result = by_key(compute(warehouse, generation=2, mailles=["region", "bailleur", "france"], codes=["PS-3"]).rows)
    region = result[("PS-3", "region", "84", "2023")]
    assert (region["numerateur"], region["denominateur"]) == (2, 6)
    assert result[("PS-3", "bailleur", LANDLORD_A, "2023")]["valeur"] == pytest.approx(50.0)
    assert result[("PS-3", "bailleur", LANDLORD_B, "2023")]["valeur"] == pytest.approx(25.0)
    assert result[("PS-3", "france", "FR", "2023")]["denominateur"] == 6
    only_b = compute(warehouse, generation=2, mailles=["region"], codes=["PS-3"], organismes=[LANDLORD_B]).rows
    assert [(r["numerateur"], r["denominateur"]) for r in only_b] == [(1, 4)]


def test_ps1_by_epci_outside_qpv_only(two_years, tmp_path):
    """PS-1 in Lyon's EPCI (200046977), 2024: 3 attributions outside QPV, 1 of them Q1; 1 Q1 in QPV ignored."""
    rows = [
        attribution("c1", "01/02/2024", "69123", quartile="1"),
        attribution("c2", "01/02/2024", "69266", quartile="3"),
        attribution("c3", "01/02/2024", "69123", quartile="2"),
        attribution("c4", "01/02/2024", "69123", quartile="1", qpv=True),
    ]
    import_events(two_years, "attributions", attributions(tmp_path, rows, "a2024.csv"))
    import_rpls(rpls(tmp_path, 2024, [dwelling("A000000001", "69123")]), two_years, vintage=2024)
    result = by_key(compute(two_years, generation=2, mailles=["epci"], codes=["PS-1"], annee=2024).rows)
    row = result[("PS-1", "epci", "200046977", "2024")]
    assert (row["numerateur"], row["denominateur"]) == (1, 3)
    assert row["certitude"] == "à confirmer"


def test_a_later_import_of_one_year_replaces_that_year_only(two_years, tmp_path):
    rows = [attribution(f"n{n}", "10/02/2023", "69123", dalo=True) for n in range(3)]
    import_events(two_years, "attributions", attributions(tmp_path, rows, "a2023.csv"))
    result = by_key(compute(two_years, generation=2, mailles=["departement"], codes=["PS-3"]).rows)
    assert result[("PS-3", "departement", "69", "2023")]["denominateur"] == 3  # the new 2023 file
    assert result[("PS-3", "departement", "69", "2022")]["denominateur"] == 2  # 2022 kept from the first file


def test_missing_data_is_said_not_shown_as_zero(two_years):
    result = compute(two_years, generation=2, mailles=["departement"])
    codes = {r["code"] for r in result.rows}
    assert "PP-2" not in codes  # no operations imported: not 0 %
    assert ("PP-2", "2022") in result.gaps
    assert any("operations" in note and "PP-2" in note for note in result.notes)
    assert {"SR-1", "PS-3"} <= codes
    for row in result.rows:
        assert row["instantanes"].startswith(("rpls-", "attributions-"))


@pytest.mark.parametrize(
    ("sens", "value", "objective", "expected"),
    [
        ("hausse", 25.0, 25.0, "atteint"),
        ("hausse", 23.0, 25.0, "partiellement atteint"),  # within 10 % below
        ("hausse", 22.4, 25.0, "non atteint"),
        ("baisse", 1.4, 1.5, "atteint"),
        ("baisse", 1.6, 1.5, "partiellement atteint"),
        ("baisse", 1.7, 1.5, "non atteint"),
        ("hausse", None, 25.0, "non calculable"),
        ("hausse", 25.0, None, ""),
    ],
)
def test_status_rule(sens, value, objective, expected):
    indicator = next(i for i in catalogue().indicators if i.sens == sens and i.tolerance == 0.1)
    assert status(indicator, value, objective) == expected


def test_spreadsheet_round_trip_and_evaluation(two_years, tmp_path):
    objectives = [
        Objective("PS-3", "departement", "69", "2022", 5.0),
        Objective("PS-3", "departement", "69", "2023", 13.0),
        Objective("PS-3", "departement", "69", "2022-2024", 10.0),
        Objective("SR-1", "bailleur", LANDLORD_A, "2023", 30.0),
    ]
    first = tmp_path / "engagements.xlsx"
    rows = compute(two_years, generation=2, mailles=["departement"]).rows
    write_template(
        first, catalogue(), 2, [("departement", "69")], 2022, {_key(o): o.objectif for o in objectives}, rows
    )
    back = read_template(first, catalogue())
    assert sorted(back, key=_key) == sorted(objectives, key=_key)
    save_objectives(two_years, back, {"fichier": first.name})
    assert load_objectives(two_years)[("PS-3", "departement", "69", "2023")] == 13.0
    evaluation = evaluate(two_years, generation=2, horizon=3, debut=2022)
    statuses = {(r["code"], r["periode"]): r["statut"] for r in evaluation.rows}
    assert statuses[("PS-3", "2022")] == "atteint"  # 50 % ≥ 5 %
    assert statuses[("PS-3", "2023")] == "partiellement atteint"  # 12.5 % < 13 % but ≥ 13 % × 0.9
    assert statuses[("SR-1", "2023")] == "non atteint"  # 0 accessible dwellings of 5
    assert statuses[("PS-3", "2022-2024")] == "non calculable"  # 2024 has no data
    assert evaluation.dwellings == 5  # stock on 1 January 2023, the last vintage ≤ 2024
    assert evaluation.penalty_cap == 500.0


def _key(objective: Objective) -> tuple[str, str, str, str]:
    return (objective.code, objective.maille, objective.code_territoire, objective.periode)


def test_spreadsheet_errors_name_row_and_column(two_years, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "engagements.xlsx"
    write_template(path, catalogue(), 2, [("departement", "69")], 2022, {})
    book = load_workbook(path)
    sheet = book["Engagements"]
    sheet["I6"] = "beaucoup"  # Objectif 2022 of the first row
    sheet["A7"] = "PS-9"
    book.save(path)
    with pytest.raises(ImportRejected) as rejected:
        read_template(path, catalogue())
    found = {(a.line, a.column, a.code) for a in rejected.value.report.anomalies}
    assert (6, "Objectif 2022", "NOMBRE_INVALIDE") in found
    assert (7, "Code", "CODE_INCONNU") in found
    assert load_objectives(two_years) == {}


def test_cli_indicateurs_writes_the_contract_columns(two_years, tmp_path, capsys):
    data_dir = two_years.root.parent
    code = main(["indicateurs", "--generation", "2", "--maille", "departement", "--format", "csv",
                 "--data-dir", str(data_dir)])  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "code,libelle,maille,code_territoire,periode,numerateur,denominateur,valeur,unite,objectif,statut,"
        "certitude,instantanes"
    )
    assert any(line.startswith("PS-3,Attributions aux ménages DALO,departement,69,2022,1,2,50,%,") for line in lines)
    out = tmp_path / "i.xlsx"
    assert main(["indicateurs", "--generation", "1", "--cumul", "3", "--maille", "bailleur", "--format", "xlsx",
                 "--sortie", str(out), "--data-dir", str(data_dir)]) == 0  # fmt: skip
    assert out.stat().st_size > 0
    with pytest.raises(SystemExit) as usage:
        main(["indicateurs", "--generation", "3", "--maille", "departement", "--data-dir", str(data_dir)])
    assert usage.value.code == 2
    assert "choix invalide : 3" in capsys.readouterr().err


def test_shared_scans_give_the_same_rows_as_one_query_per_indicator(two_years, tmp_path):
    """Indicators of the same shape over one table are read in one scan (fusion.py): same rows as alone."""
    import duckdb

    from pilote_cus.indicateurs.fusion import fuse
    from pilote_cus.indicateurs.moteur import Period, collect_sources, make_plan, run_duckdb

    fused, _ = fuse(catalogue().indicators)
    assert {"PS-1", "PS-3", "G1-E1"} <= {i.code for f in fused for i, _ in f.members}
    rows = [attribution("z1", "01/02/2023", "69123", dalo=True, qpv=True)]  # only QPV: PS-1 has no row for it
    import_events(two_years, "attributions", attributions(tmp_path, rows, "z.csv"))
    results = []
    for shared in (True, False):
        con = duckdb.connect()
        sources = collect_sources(con, two_years, range(2022, 2024))
        periods = [Period("2022", 2022, 2022), Period("2023", 2023, 2023), Period("2022-2023", 2022, 2023)]
        plan = make_plan(sources, list(catalogue().indicators), periods, ["departement", "bailleur", "epci"],
                         shared_scans=shared)  # fmt: skip
        results.append(sorted(run_duckdb(con, plan), key=lambda r: tuple(str(v) for v in r.values())))
        con.close()
    assert results[0] == results[1]
    assert any(r["code"] == "PS-3" for r in results[0])
    assert not any(r["code"] == "PS-1" and r["periode"] == "2023" for r in results[0])  # no attribution outside QPV


def test_cli_objectives_workbook_and_evaluation(two_years, tmp_path, capsys):
    from openpyxl import load_workbook

    data_dir = str(two_years.root.parent)
    assert main(["evaluation", "--horizon", "3", "--data-dir", data_dir]) == 2  # no objective yet: said, not a crash
    assert "Aucun objectif de génération 2" in capsys.readouterr().err
    workbook = tmp_path / "engagements.xlsx"
    assert main(["objectifs", "modele", "--generation", "2", "--sortie", str(workbook), "--data-dir", data_dir]) == 0
    book = load_workbook(workbook)
    sheet = book["Engagements"]
    header = [c.value for c in sheet[5]]
    wanted = ("PS-3", "departement", "69")
    row = next(r for r in range(6, sheet.max_row + 1) if tuple(sheet.cell(r, c).value for c in (1, 6, 7)) == wanted)
    sheet.cell(row, header.index("Objectif 2022") + 1, 5)
    sheet.cell(row, header.index("Objectif 2023") + 1, "13,0")  # a decimal comma, as typed in a French spreadsheet
    book.save(workbook)
    assert main(["objectifs", "importer", str(workbook), "--data-dir", data_dir]) == 0
    assert "2 objectifs" in capsys.readouterr().err
    evaluation = tmp_path / "evaluation.xlsx"
    assert main(["evaluation", "--horizon", "3", "--sortie", str(evaluation), "--data-dir", data_dir]) == 0
    out = capsys.readouterr().err
    assert "1 atteint, 1 partiellement atteint, 0 non atteint" in out
    rows = list(load_workbook(evaluation)["Évaluation"].iter_rows(values_only=True))
    assert rows[0][:5] == ("code", "libelle", "maille", "code_territoire", "periode")
    assert {(r[0], r[4], r[11]) for r in rows[1:]} == {
        ("PS-3", "2022", "atteint"),
        ("PS-3", "2023", "partiellement atteint"),
    }
    sheet["A6"] = "PS-9"
    book.save(workbook)
    report = tmp_path / "rapport.csv"
    assert main(["objectifs", "importer", str(workbook), "--rapport", str(report), "--data-dir", data_dir]) == 1
    assert "CODE_INCONNU" in report.read_text(encoding="utf-8-sig")
    assert load_objectives(two_years)[("PS-3", "departement", "69", "2023")] == 13.0  # the refused file changed nothing
