"""Tests of ``fedicoop.territory.holder``: nothing loaded before use, one load for many callers, the
node's holder built from its settings."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest

from fedicoop.errors import SettingsError, ValidationError
from fedicoop.node import build_node
from fedicoop.settings import load_settings
from fedicoop.territory import Territory, TerritoryHolder
from tests.fedicoop.territory.conftest import TEST_REGIONS

pytestmark = pytest.mark.anyio


def _loads(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for record in caplog.records if record.getMessage().startswith("territory: "))


async def test_holder__node_loads_nothing_at_build(tmp_path: Path) -> None:
    settings = load_settings(toml_file=None, env_file=None, data_dir=tmp_path, region_codes=["94", "32"])
    node = build_node(settings)
    assert node.territory.loaded is None
    assert node.territory.region_codes == ("94", "32")
    assert node.territory.cache_dir == tmp_path / "cache"
    assert not (tmp_path / "cache").exists()


async def test_holder__many_callers_one_load(
    territory: Territory, territory_cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = TerritoryHolder(TEST_REGIONS, cache_dir=territory_cache_dir)
    with caplog.at_level(logging.INFO, logger="fedicoop.territory"):
        results = await asyncio.gather(*(holder.get() for _ in range(20)))
        assert all(result is results[0] for result in results)
        assert holder.loaded is results[0]
        assert await holder.get() is results[0]
        assert holder.get_sync() is results[0]
    assert _loads(caplog) == 1
    assert results[0].data == territory.data


@pytest.mark.parametrize("cancelled", [0, 1], ids=["loading-caller", "waiting-caller"])
async def test_holder__cancelled_caller_does_not_cancel_the_load(
    territory_cache_dir: Path, cancelled: int
) -> None:
    holder = TerritoryHolder(TEST_REGIONS, cache_dir=territory_cache_dir)
    callers = [asyncio.ensure_future(holder.get()) for _ in range(2)]
    await asyncio.sleep(0)
    assert holder.loaded is None
    callers[cancelled].cancel()
    territory = await callers[1 - cancelled]
    with pytest.raises(asyncio.CancelledError):
        await callers[cancelled]
    assert await holder.get() is territory


def test_holder__threads_share_one_load(territory_cache_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    holder = TerritoryHolder(TEST_REGIONS, cache_dir=territory_cache_dir)
    results: list[Territory] = []
    with caplog.at_level(logging.INFO, logger="fedicoop.territory"):
        threads = [threading.Thread(target=lambda: results.append(holder.get_sync())) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == 8 and all(result is results[0] for result in results)
    assert _loads(caplog) == 1


async def test_holder__failed_load_reaches_every_caller_and_is_retried() -> None:
    holder = TerritoryHolder(["32", "05"])
    outcomes = await asyncio.gather(holder.get(), holder.get(), return_exceptions=True)
    assert all(isinstance(outcome, ValidationError) for outcome in outcomes)
    with pytest.raises(ValidationError, match="unknown région codes"):
        await holder.get()
    assert holder.loaded is None


def test_settings__unknown_region_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="FEDICOOP_REGION_CODES: '05' is no région"):
        load_settings(toml_file=None, env_file=None, data_dir=tmp_path, region_codes=["32", "05"])
