"""The catalogue of import error types and the report a rejected file produces."""

import csv
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

MAX_REPORTED_ROWS = 100_000


@dataclass(frozen=True)
class ErrorType:
    code: str
    titre: str
    explication: str


@cache
def catalogue() -> dict[str, ErrorType]:
    text = resources.files(__package__).joinpath("catalogue_erreurs.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    types = {}
    for code, entry in raw.items():
        unknown = set(entry) - {"titre", "explication"}
        if unknown or not {"titre", "explication"} <= set(entry):
            raise ValueError(f"catalogue_erreurs.toml : entrée {code} invalide ({sorted(unknown) or 'champ manquant'})")
        types[code] = ErrorType(code, entry["titre"], entry["explication"])
    return types


@dataclass(frozen=True)
class Anomaly:
    """One problem found in an input file; `line` is the line number in the file (1 = first line)."""

    code: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        if self.code not in catalogue():
            raise KeyError(f"code d'erreur absent du catalogue : {self.code}")


@dataclass
class ErrorReport:
    """Anomalies of one file: exact counts per code, and the first MAX_REPORTED_ROWS rows in detail."""

    file_name: str
    anomalies: list[Anomaly] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, anomaly: Anomaly) -> None:
        self.counts[anomaly.code] += 1
        if len(self.anomalies) < MAX_REPORTED_ROWS:
            self.anomalies.append(anomaly)

    def add_counted(self, anomalies: list[Anomaly], code: str, total: int) -> None:
        """Add detailed rows of one code whose exact total was counted elsewhere."""
        self.counts[code] += total
        room = MAX_REPORTED_ROWS - len(self.anomalies)
        self.anomalies.extend(anomalies[: max(room, 0)])

    def __bool__(self) -> bool:
        return bool(self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def sorted_anomalies(self) -> list[Anomaly]:
        return sorted(self.anomalies, key=lambda a: (a.line or 0, a.column or "", a.code))

    def write_csv(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(["fichier", "ligne", "colonne", "valeur", "code", "message"])
            for a in self.sorted_anomalies():
                writer.writerow([self.file_name, a.line or "", a.column or "", a.value or "", a.code, a.message])
        return path


class ImportRejected(Exception):
    """The file was refused: nothing was imported. Carries the full report."""

    def __init__(self, report: ErrorReport):
        super().__init__(f"{report.file_name} : {report.total} erreur(s), rien n'a été importé")
        self.report = report
