"""Progress bars on the console (stderr), including for long DuckDB queries."""

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True, width=None if sys.stderr.isatty() else 132)


class Steps:
    """A console progress display; `quiet` hides it (tests, machine output)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet or not sys.stderr.isatty()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=self.quiet,
        )

    def __enter__(self) -> "Steps":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    @contextmanager
    def step(self, description: str, total: float | None = 100) -> Iterator[Any]:
        task = self._progress.add_task(description, total=total)

        def advance(amount: float) -> None:
            self._progress.advance(task, amount)

        yield advance
        self._progress.update(task, completed=total)

    def query(self, con: duckdb.DuckDBPyConnection, description: str, sql: str) -> duckdb.DuckDBPyConnection:
        """Run `sql`, showing DuckDB's own progress estimate."""
        if self.quiet:
            return con.execute(sql)
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
        task = self._progress.add_task(description, total=100)
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.2):
                value = con.query_progress()
                if value >= 0:
                    self._progress.update(task, completed=value)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            return con.execute(sql)
        finally:
            done.set()
            watcher.join()
            self._progress.update(task, completed=100)


def number(value: float, decimals: int = 0) -> str:
    """French number formatting: 5 372 863 ; 6,52."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")
