"""StatisticsJob: SQLite gets planner statistics at the worker's start and every interval; PostgreSQL
is left to its autovacuum."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedicoop.db import open_database
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.services.statistics import StatisticsJob
from fedicoop.settings import Settings
from tests.conftest import FROZEN_NOW

pytestmark = pytest.mark.anyio


async def stat_rows(table: str) -> list[dict[str, object]]:
    client = CatalogueItem._meta.db
    exists = await client.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    )
    if not exists:
        return []
    return await client.execute_query_dict("SELECT tbl, idx, stat FROM sqlite_stat1 WHERE tbl = ?", [table])


async def test_statistics__sqlite_analysed_at_start_then_every_interval(settings: Settings) -> None:
    job = StatisticsJob(interval=timedelta(hours=6))
    async with open_database(settings):
        if CatalogueItem._meta.db.capabilities.dialect != "sqlite":
            assert await job(FROZEN_NOW) == 0  # PostgreSQL: nothing to do, no error
            assert job.last_run == FROZEN_NOW
            return
        for number in range(30):
            await CatalogueItem.create(
                iri=f"https://a.example/listings/{number}",
                actor_iri="https://a.example/actors/coop",
                host="a.example",
                kind="offer",
                document={},
                received_at=FROZEN_NOW,
            )
        assert await stat_rows("catalogue_item") == []
        assert await job(FROZEN_NOW) == 0
        analysed = await stat_rows("catalogue_item")
        assert analysed and all(str(row["stat"]).startswith("30") for row in analysed)
        await CatalogueItem.all().delete()
        assert await job(FROZEN_NOW + timedelta(hours=5)) == 0  # not due: the statistics stay
        assert await stat_rows("catalogue_item") == analysed
        await job(FROZEN_NOW + timedelta(hours=6))
        assert await stat_rows("catalogue_item") != analysed
