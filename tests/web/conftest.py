import pytest

from . import usines


@pytest.fixture
def monde(db: None) -> usines.Monde:
    return usines.monde()
