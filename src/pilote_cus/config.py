"""Where a workspace keeps its data (`--data-dir` or `CUS_DATA_DIR`)."""

import os
from pathlib import Path

DEFAULT_DATA_DIR = "donnees-cus"


def data_dir(explicit: str | None = None) -> Path:
    chosen = explicit or os.environ.get("CUS_DATA_DIR") or DEFAULT_DATA_DIR
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
