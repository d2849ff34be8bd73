from pathlib import Path

import pytest

from pilote_cus.entrepot.entrepot import Warehouse

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
COG_DIR = SHARED / "data" / "cog"


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "donnees")


@pytest.fixture
def cog_dir() -> Path:
    if not COG_DIR.is_dir():
        pytest.fail(f"données de référence absentes : {COG_DIR} (../shared doit être à côté du projet)")
    return COG_DIR
