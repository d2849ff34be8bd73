"""The warehouse: immutable dated snapshots of Parquet files, switched atomically.

Layout under `<data dir>/entrepot/`:
  instantanes/<id>/           one directory per snapshot, never modified once published
  instantanes/.en-cours-<id>/ a snapshot being written (removed if the writer dies)
  catalogue.json              the list of published snapshots and the current one per kind;
                              replaced with os.replace, so readers see the old or the new, never half
  verrou                      an exclusive lock held by whoever writes
"""

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CATALOGUE_VERSION = 1
_PENDING = ".en-cours-"


@dataclass(frozen=True)
class Snapshot:
    id: str
    kind: str  # "rpls", "cog"…
    vintage: int  # millésime: the 1 January described (or the year of a reference)
    created_at: str
    path: Path
    provenance: dict[str, Any]

    def table(self, name: str) -> Path:
        return self.path / f"{name}.parquet"


class NoSnapshot(Exception):
    pass


class Warehouse:
    def __init__(self, data_dir: Path):
        self.root = data_dir / "entrepot"
        self.snapshots_dir = self.root / "instantanes"
        self.catalogue_path = self.root / "catalogue.json"
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)

    # reading
    def _catalogue(self) -> dict[str, Any]:
        if not self.catalogue_path.exists():
            return {"version": CATALOGUE_VERSION, "instantanes": [], "courants": {}}
        return json.loads(self.catalogue_path.read_text(encoding="utf-8"))

    def _snapshot(self, entry: dict[str, Any]) -> Snapshot:
        path = self.snapshots_dir / entry["id"]
        return Snapshot(entry["id"], entry["type"], entry["millesime"], entry["cree_le"], path, entry["provenance"])

    def history(self, kind: str | None = None) -> list[Snapshot]:
        entries = self._catalogue()["instantanes"]
        return [self._snapshot(e) for e in entries if kind is None or e["type"] == kind]

    def current(self, kind: str, vintage: int | None = None) -> Snapshot:
        catalogue = self._catalogue()
        currents: dict[str, str] = catalogue["courants"]
        keys = [k for k in currents if k.split("/")[0] == kind]
        if vintage is not None:
            keys = [k for k in keys if k == f"{kind}/{vintage}"]
        if not keys:
            wanted = f"{kind} {vintage}" if vintage else kind
            raise NoSnapshot(f"Aucun instantané {wanted} dans l'entrepôt {self.root}.")
        key = max(keys, key=lambda k: int(k.split("/")[1]))
        by_id = {e["id"]: e for e in catalogue["instantanes"]}
        return self._snapshot(by_id[currents[key]])

    # writing
    @contextmanager
    def lock(self) -> Iterator[None]:
        with (self.root / "verrou").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_abandoned(self) -> list[str]:
        """Directories left by writers that died before publishing. Call with the lock held."""
        removed = []
        for path in self.snapshots_dir.glob(f"{_PENDING}*"):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        return removed

    @contextmanager
    def new_snapshot(self, kind: str, vintage: int, provenance: dict[str, Any]) -> Iterator[Path]:
        """Yield a private directory to write into; publish it atomically if the block succeeds.

        The caller must hold the lock. On any exception the directory is removed and the
        catalogue is untouched.
        """
        created = datetime.now(UTC)
        snapshot_id = f"{kind}-{vintage}-{created:%Y%m%dT%H%M%S%fZ}"
        pending = self.snapshots_dir / f"{_PENDING}{snapshot_id}"
        pending.mkdir()
        entry = {
            "id": snapshot_id,
            "type": kind,
            "millesime": vintage,
            "cree_le": created.isoformat(timespec="seconds"),
            "provenance": provenance,  # the caller may complete it inside the block
        }
        try:
            yield pending
            text = json.dumps(entry, ensure_ascii=False, indent=2)
            (pending / "provenance.json").write_text(text, encoding="utf-8")
            _fsync_tree(pending)
            os.rename(pending, self.snapshots_dir / snapshot_id)
            _fsync_dir(self.snapshots_dir)
        except BaseException:
            shutil.rmtree(pending, ignore_errors=True)
            raise
        catalogue = self._catalogue()
        catalogue["instantanes"].append(entry)
        catalogue["courants"][f"{kind}/{vintage}"] = snapshot_id
        self._write_catalogue(catalogue)

    def _write_catalogue(self, catalogue: dict[str, Any]) -> None:
        tmp = self.catalogue_path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(catalogue, handle, ensure_ascii=False, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.catalogue_path)
        _fsync_dir(self.root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for file in path.iterdir():
        if file.is_file():
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(path)
