"""The `cus` command as a user runs it: exit codes, files written, French messages, no traceback."""

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pilote_cus import cli
from pilote_cus.patrimoine import etat_des_lieux

FIXTURE = Path(__file__).parent / "fixtures" / "rpls_opendata_2024_reel.csv"


@pytest.fixture
def data(tmp_path):
    return tmp_path / "donnees"


def run(*args: str) -> int:
    return cli.main(list(args))


def test_import_then_state_of_play_in_every_format(data, tmp_path, capsys):
    assert run("importer", "rpls", str(FIXTURE), "--data-dir", str(data)) == 0
    capsys.readouterr()

    assert run("--data-dir", str(data), "etat-des-lieux", "--maille", "departement", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {tuple(r) for r in rows} == {etat_des_lieux.COLUMNS}
    total = {r["code"]: r["nombre"] for r in rows if r["variable"] == "logements"}
    assert total == {"69": 5, "31": 4}

    out = tmp_path / "edl.csv"
    assert (
        run("etat-des-lieux", "--maille", "france", "--format", "csv", "--sortie", str(out), "--data-dir", str(data))
        == 0
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "maille,code,libelle,variable,modalite,nombre,part"
    assert "france,FR,France,logements,total,9,100" in lines  # integral values written without .0
    assert any(line.startswith("france,FR,France,loyer_m2,moyen,6.74,") for line in lines)

    book_path = tmp_path / "edl.xlsx"
    assert (
        run(
            "etat-des-lieux",
            "--maille",
            "toutes",
            "--format",
            "xlsx",
            "--sortie",
            str(book_path),
            "--data-dir",
            str(data),
        )
        == 0
    )
    book = load_workbook(book_path, read_only=True)
    sheet = book["État des lieux"]
    header = next(sheet.iter_rows(values_only=True))
    assert header == etat_des_lieux.COLUMNS
    mailles = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert mailles == set(etat_des_lieux.MAILLES)
    source = dict(book["Source"].iter_rows(values_only=True))
    assert source["fichier"] == FIXTURE.name and len(source["sha256"]) == 64


def test_rejected_file_writes_a_report_and_exits_1(data, tmp_path, capsys):
    bad = tmp_path / "rpls_2024.csv"
    bad.write_text("IDENT_REP;DEPCOM;TYPECONST;NBPIECE;SURFHAB;MODE\n0000000001;69123;C;trois;50;1\n", encoding="utf-8")
    report = tmp_path / "rapport.csv"
    assert run("importer", "rpls", str(bad), "--rapport", str(report), "--data-dir", str(data)) == 1
    err = capsys.readouterr().err
    assert "Fichier refusé" in err and "rien n'a été importé" in err and "Traceback" not in err
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert rows == [
        {
            "fichier": "rpls_2024.csv",
            "ligne": "2",
            "colonne": "NBPIECE",
            "valeur": "trois",
            "code": "ENTIER_INVALIDE",
            "message": "NBPIECE = « trois » : nombre entier invalide.",
        }
    ]


def test_missing_file_is_reported_not_raised(data, capsys):
    assert run("importer", "rpls", "/nulle/part/rpls_2024.csv", "--data-dir", str(data)) == 1
    err = capsys.readouterr().err
    assert "Fichier introuvable" in err and "Traceback" not in err
    assert list((data / "rapports").glob("erreurs-*.csv"))


def test_empty_warehouse_gives_a_french_message(data, capsys):
    assert run("etat-des-lieux", "--maille", "france", "--data-dir", str(data)) == cli.EXIT_USAGE
    assert "Aucun instantané rpls" in capsys.readouterr().err


def test_xlsx_needs_no_more_rows_than_excel_allows(data, capsys, monkeypatch):
    assert run("importer", "rpls", str(FIXTURE), "--data-dir", str(data)) == 0
    monkeypatch.setattr("pilote_cus.exports.XLSX_MAX_ROWS", 10)
    assert run("etat-des-lieux", "--maille", "france", "--format", "xlsx", "--data-dir", str(data)) == cli.EXIT_USAGE
    assert "limite d'un classeur XLSX" in capsys.readouterr().err


def test_unexpected_error_shows_no_traceback(data, capsys, monkeypatch):
    assert run("importer", "rpls", str(FIXTURE), "--data-dir", str(data)) == 0

    def broken(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(etat_des_lieux, "compute", broken)
    assert run("etat-des-lieux", "--maille", "france", "--data-dir", str(data)) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Erreur interne inattendue" in err and "panne simulée" in err and "Traceback" not in err


def test_bad_cog_folder(data, tmp_path, capsys):
    assert run("referentiel", "cog", "--from", str(tmp_path), "--data-dir", str(data)) == cli.EXIT_USAGE
    assert "aucun fichier communes_AAAA.csv" in capsys.readouterr().err


def test_history_lists_snapshots(data, capsys):
    assert run("importer", "rpls", str(FIXTURE), "--data-dir", str(data)) == 0
    assert run("entrepot", "--data-dir", str(data)) == 0
    assert "rpls-2024-" in capsys.readouterr().err


@pytest.mark.lent
def test_demo_without_server(data):
    """`cus demo` in its own process, as a user runs it (Django reads its settings once per process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUS_", "DJANGO_"))}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pilote_cus.cli",
            "demo",
            "--logements",
            "1000",
            "--sans-serveur",
            "--data-dir",
            str(data),
        ],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reports = sorted(p.name for p in (data / "rapports").iterdir())
    assert reports == [
        "bilan-2024.pdf",
        "convention-2019-2024.pdf",
        "engagements-generation-2.xlsx",
        "etat-des-lieux-2024.csv",
        "etat-des-lieux-2024.json",
        "etat-des-lieux-2024.xlsx",
        "evaluation-3-ans.pdf",
        "evaluation-3-ans.xlsx",
        "evaluation-6-ans.xlsx",
        "indicateurs-generation-1.csv",
        "indicateurs-generation-1.xlsx",
        "indicateurs-generation-2.csv",
        "indicateurs-generation-2.xlsx",
        "synthese-regionale.pdf",
    ]
    err = done.stderr
    assert "Office synthétique" in err
    assert "Indicateurs de génération 1" in err and "Indicateurs de génération 2" in err
    assert "Évaluation finale à 6 ans (2019-2024" in err
    assert "Traceback" not in err
    with (data / "rapports" / "indicateurs-generation-2.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    codes = {r["code"] for r in rows}
    assert {"PP-1", "PP-2", "PP-3", "PP-4", "PP-5", "PS-1", "PS-2", "PS-3", "SR-1", "G-1"} <= codes
    statuses = {r["statut"] for r in rows}
    assert {"atteint", "non atteint"} <= statuses  # synthetic objectives give statuses of both kinds
    # the application: one account per role printed, the conventions and the published results in its database
    for login in ("bailleur", "etat-ddt", "etat-dreal", "collectivite", "association", "admin"):
        assert login in err
    with sqlite3.connect(data / "application.sqlite3") as db:
        statuses_db = dict(db.execute("SELECT titre, statut FROM conventions_convention").fetchall())
        published = db.execute("SELECT count(*) FROM tableaux_resultat").fetchone()[0]
        objectives = db.execute("SELECT count(*) FROM conventions_objectif").fetchone()[0]
    assert sorted(statuses_db.values()) == ["elaboration", "suivi"]
    assert published > 1000 and objectives > 100
    # the finished documents: text PDFs naming the landlord (their content is tested in tests/test_rapports_*)
    for name in ("convention-2019-2024", "bilan-2024", "evaluation-3-ans", "synthese-regionale"):
        text = subprocess.run(
            ["pdftotext", str(data / "rapports" / f"{name}.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Office synthétique" in text or name == "synthese-regionale", name
        assert "Page 2 sur" in text, name


def test_synthetic_command_refuses_out_of_range_sizes(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        run("synthetique", "--logements", "10", "--sortie", str(tmp_path / "x.csv"))
    assert stop.value.code == 2
    assert "entre 1000 et 5400000 logements" in capsys.readouterr().err


def test_bench_runs_small_and_agrees_with_pandas(data, cog_dir):
    assert run("bench", "--suite", "rpls", "--logements", "3000", "--cog", str(cog_dir), "--data-dir", str(data)) == 0
    results = json.loads(next((data / "bench").glob("resultats-2*.json")).read_text(encoding="utf-8"))
    assert results["ecarts"] == 0 and results["logements"] == 3000
    assert set(results["rapports"]) == {
        "état des lieux : pandas en mémoire / Pilote CUS",
        "fichier → état des lieux : pandas / Pilote CUS",
        "import validé / lecture pandas seule",
    }
    assert not list((data / "bench").glob("*.csv"))  # the generated file is removed unless --garder


def test_indicator_bench_runs_small_and_agrees_with_pandas(data):
    command = ("bench", "--suite", "indicateurs", "--logements", "2000", "--evenements", "20000", "--sans-spark")
    command += ("--part-pandas", "0.5")  # pandas and DuckDB compared on one landlord in two
    assert run(*command, "--data-dir", str(data)) == 0
    results = json.loads(next((data / "bench").glob("resultats-indicateurs-*.json")).read_text(encoding="utf-8"))
    assert results["ecarts"] == {"pandas": 0}
    assert results["volumes"]["total_evenements"] >= 20_000
    assert results["volumes"]["résultats"] > 1_000
    compared = results["volumes"]["comparaison pandas"]
    assert compared.endswith("organismes (50%)")
    assert set(results["rapports"]) == {
        "DuckDB : tous les indicateurs",
        f"DuckDB : tous les indicateurs, {compared}",
        f"pandas : tous les indicateurs, {compared}",
    }
    assert not list((data / "bench").glob("entrepot-*"))  # the throw-away warehouse is removed


def test_usage_errors_are_in_french(capsys):
    with pytest.raises(SystemExit) as stop:
        run("etat-des-lieux", "--maille", "pays")
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "erreur : argument --maille : choix invalide : 'pays'" in err and "utilisation : cus" in err
