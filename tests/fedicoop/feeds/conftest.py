"""Fixtures of the feed tests: the Hauts-de-France territory, loaded once from the suite's shared cache."""

from __future__ import annotations

import pytest

from fedicoop.territory import Territory
from tests.conftest import SHARED_CACHE


@pytest.fixture(scope="session")
def territory() -> Territory:
    """Hauts-de-France, as the test nodes load it (the suite's shared cache folder)."""
    return Territory.load(["32"], cache_dir=SHARED_CACHE)
