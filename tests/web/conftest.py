import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import usines

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts" / "navigateur"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def monde(db: None) -> usines.Monde:
    return usines.monde()


@pytest.fixture(scope="session")
def navigateur() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (`playwright install` cannot download here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} absent : scripts/systeme installe le paquet chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
