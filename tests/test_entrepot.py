import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pilote_cus.entrepot.entrepot import NoSnapshot, Warehouse
from pilote_cus.patrimoine.import_rpls import import_rpls
from pilote_cus.patrimoine.synthetique import generate_rpls


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_publish_is_atomic_and_history_is_kept(warehouse):
    with warehouse.lock(), warehouse.new_snapshot("essai", 2024, {"n": 1}) as target:
        (target / "t.parquet").write_bytes(b"un")
    first = warehouse.current("essai", 2024)
    with warehouse.lock(), warehouse.new_snapshot("essai", 2024, {"n": 2}) as target:
        (target / "t.parquet").write_bytes(b"deux")
    second = warehouse.current("essai", 2024)
    assert first.id != second.id
    assert [s.provenance["n"] for s in warehouse.history("essai")] == [1, 2]
    assert first.table("t").read_bytes() == b"un"  # previous snapshot kept, unchanged
    assert json.loads((second.path / "provenance.json").read_text())["provenance"]["n"] == 2


def test_failed_writer_leaves_nothing(warehouse):
    with warehouse.lock(), warehouse.new_snapshot("essai", 2024, {}) as target:
        (target / "t.parquet").write_bytes(b"un")
    before = warehouse.catalogue_path.read_bytes()
    with pytest.raises(RuntimeError), warehouse.lock(), warehouse.new_snapshot("essai", 2024, {}) as target:
        (target / "t.parquet").write_bytes(b"moitie")
        raise RuntimeError("panne au milieu de l'écriture")
    assert warehouse.catalogue_path.read_bytes() == before
    assert not list(warehouse.snapshots_dir.glob(".en-cours-*"))


def test_no_snapshot_message_is_french(warehouse):
    with pytest.raises(NoSnapshot, match="Aucun instantané rpls"):
        warehouse.current("rpls")


def test_latest_vintage_is_current_by_default(warehouse):
    for vintage in (2023, 2024):
        with warehouse.lock(), warehouse.new_snapshot("rpls", vintage, {}):
            pass
    assert warehouse.current("rpls").vintage == 2024
    assert warehouse.current("rpls", 2023).vintage == 2023


@pytest.mark.lent
def test_killed_import_leaves_previous_state_intact(tmp_path):
    data = tmp_path / "donnees"
    warehouse = Warehouse(data)
    small = tmp_path / "petit_2024.csv"
    generate_rpls(small, 2_000, 1)
    previous = import_rpls(small, warehouse).snapshot
    catalogue = warehouse.catalogue_path.read_bytes()
    parquet = _digest(previous.table("logements"))

    big = tmp_path / "gros_2024.csv"
    generate_rpls(big, 1_200_000, 2)
    env = {**os.environ, "CUS_DATA_DIR": str(data)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pilote_cus.cli", "importer", "rpls", str(big)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if list(warehouse.snapshots_dir.glob(".en-cours-*")):  # killed while writing the new snapshot
            break
        time.sleep(0.005)
    assert process.poll() is None, "l'import s'est terminé avant d'être interrompu : fichier trop petit"
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert warehouse.catalogue_path.read_bytes() == catalogue
    assert warehouse.current("rpls", 2024).id == previous.id
    assert _digest(previous.table("logements")) == parquet

    result = import_rpls(big, warehouse)  # the next writer cleans up and publishes
    assert result.dwellings > 1_000_000
    assert not list(warehouse.snapshots_dir.glob(".en-cours-*"))
