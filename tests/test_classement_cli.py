"""`cus classement`: the landlord's ensembles file scored with real open data, exports, forced classes."""

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook

from pilote_cus import cli

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REFERENCES = [
    "--bpe", str(DATA / "insee" / "bpe_ens_2019.parquet"),
    "--arrets", str(DATA / "transport" / "stops.txt"),
    "--qpv", str(DATA / "qpv" / "qp.geojson"),
]  # fmt: skip
ENSEMBLES = """ensemble;depcom;lat;lon;ascenseur;etiquette_dpe;taux_vacance;etat_parties_communes
bellecour;69382;45.758;4.8325;oui;C;1;3
affoux;69001;45.845;4.413;non;F;6;1
"""


def _ensembles(tmp_path: Path) -> Path:
    path = tmp_path / "ensembles.csv"
    path.write_text(ENSEMBLES, encoding="utf-8")
    return path


def test_classement_json_et_forcage(tmp_path: Path, capsys) -> None:
    forced = tmp_path / "forcages.csv"
    forced.write_text("ensemble;classe;motif\naffoux;B;Réhabilitation livrée en 2025\n", encoding="utf-8")
    args = ["classement", "--ensembles", str(_ensembles(tmp_path)), *REFERENCES, "--format", "json"]
    assert cli.main(args) == 0
    rows = {r["ensemble"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["bellecour"]["classe_retenue"] == "A" and rows["affoux"]["classe_proposee"] == "C"
    assert rows["bellecour"]["score"] > rows["affoux"]["score"]
    assert cli.main([*args, "--forcages", str(forced)]) == 0
    rows = {r["ensemble"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["affoux"]["classe_retenue"] == "B" and rows["affoux"]["motif_du_forcage"].startswith("Réhabilitation")


def test_detail_csv_et_classeurs(tmp_path: Path, capsys) -> None:
    ensembles = _ensembles(tmp_path)
    assert cli.main(["classement", "--ensembles", str(ensembles), *REFERENCES, "--detail"]) == 0
    detail = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    transports = next(r for r in detail if r["ensemble"] == "bellecour" and r["critere"] == "transports")
    assert "arrêt" in transports["explication"]
    target = tmp_path / "classement.xlsx"
    args = ["classement", "--ensembles", str(ensembles), *REFERENCES, "--format", "xlsx", "--sortie", str(target)]
    assert cli.main(args) == 0
    sheet = load_workbook(target).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any(row[:1] == ["bellecour"] for row in values)
    assert (tmp_path / "classement-detail.xlsx").exists()


def test_erreurs_en_francais_sans_trace(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "forcages.csv"
    bad.write_text("ensemble;classe;motif\naffoux;B;\n", encoding="utf-8")
    args = ["classement", "--ensembles", str(_ensembles(tmp_path)), *REFERENCES, "--forcages", str(bad)]
    assert cli.main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "motif" in err and "Traceback" not in err
    assert cli.main(["classement", "--ensembles", str(tmp_path / "absent.csv")]) == 2
    assert "absent.csv" in " ".join(capsys.readouterr().err.split())
