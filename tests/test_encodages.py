"""Encodings landlords' files really come in: Windows-1252 (’ € œ) is read; undecodable bytes are refused."""

import duckdb
import pytest

from pilote_cus.imports.erreurs import ImportRejected
from pilote_cus.patrimoine.import_rpls import import_rpls

HEADER = "IDENT_REP;DEPCOM;LIBCOM;NOMVOIE;TYPECONST;NBPIECE;SURFHAB;MODE"


def _file(tmp_path, lines, encoding):
    path = tmp_path / "rpls_2024.csv"
    path.write_bytes(("\n".join([HEADER, *lines]) + "\n").encode(encoding))
    return path


def test_windows_1252_is_read_and_recorded(tmp_path, warehouse):
    path = _file(
        tmp_path,
        ["0000000001;94038;L’Haÿ-les-Roses;RUE DU CŒUR VOLANT;C;3;60;1", "0000000002;69123;Lyon;PLACE À 5 €;C;2;40;1"],
        "cp1252",
    )
    result = import_rpls(path, warehouse)
    assert result.snapshot.provenance["encodage"] == "windows-1252"
    rows = duckdb.sql(
        f"SELECT libcom, nomvoie FROM '{result.snapshot.table('logements')}' ORDER BY ident_rep"
    ).fetchall()
    assert rows == [("L’Haÿ-les-Roses", "RUE DU CŒUR VOLANT"), ("Lyon", "PLACE À 5 €")]
    assert not list(warehouse.root.glob(".conversion-*"))  # the UTF-8 copy is removed


def test_windows_1252_errors_keep_the_original_line_numbers(tmp_path, warehouse):
    path = _file(
        tmp_path,
        ["0000000001;94038;L’Haÿ-les-Roses;RUE;C;3;60;1", "0000000002;69123;Lyon;RUE;C;deux;40;1"],
        "cp1252",
    )
    with pytest.raises(ImportRejected) as rejected:
        import_rpls(path, warehouse)
    (anomaly,) = rejected.value.report.sorted_anomalies()
    assert (anomaly.code, anomaly.line, anomaly.column, anomaly.value) == ("ENTIER_INVALIDE", 3, "NBPIECE", "deux")


def test_bytes_undefined_everywhere_are_refused(tmp_path, warehouse):
    path = tmp_path / "rpls_2024.csv"
    path.write_bytes((HEADER + "\n").encode() + b"0000000001;69123;Ly\x81on;RUE;C;3;60;1\n")
    with pytest.raises(ImportRejected) as rejected:
        import_rpls(path, warehouse)
    assert set(rejected.value.report.counts) == {"ENCODAGE_NON_RECONNU"}
    assert warehouse.history() == []
