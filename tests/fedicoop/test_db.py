"""The database layer: migrations apply on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from fedicoop.db import describe_database, migrate_database, normalise_database_url, open_database
from fedicoop.dev.makemigrations import pending_changes
from fedicoop.models.actors import Actor
from fedicoop.services.actors import ensure_application_actor
from fedicoop.settings import Settings
from tests.conftest import FROZEN_NOW, _settings


@pytest.mark.anyio
async def test_migrations__match_the_models(tmp_path: Path) -> None:
    assert await pending_changes(f"sqlite://{tmp_path / 'detect.sqlite3'}") == []


@pytest.mark.anyio
async def test_migrate__second_run_applies_nothing(settings: Settings) -> None:
    # The fixture database is already migrated from the template.
    assert await migrate_database(settings) == []
    async with open_database(settings):
        assert await Actor.all().count() == 0


@pytest.mark.anyio
async def test_migrate__fresh_sqlite_file_in_a_new_directory(tmp_path: Path, settings: Settings) -> None:
    target = tmp_path / "deep" / "er" / "node.sqlite3"
    fresh = Settings.model_construct(**{**settings.__dict__, "database_url": f"sqlite://{target}"})
    assert await migrate_database(fresh) == [
        "fedicoop.0001_initial",
        "fedicoop.0002_federation",
        "fedicoop.0003_portal",
        "fedicoop.0004_feeds",
        "fedicoop.0005_search_indexes",
        "fedicoop.0006_connectors",
    ]
    assert target.exists()


def test_normalise_database_url__postgres_spellings() -> None:
    assert normalise_database_url("postgresql://u@h/db") == "postgres://u@h/db"
    assert normalise_database_url("asyncpg://u@h/db") == "postgres://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_describe_database__hides_password() -> None:
    assert describe_database("postgres://user:secret@db.example:5433/fc") == "PostgreSQL db.example:5433/fc"


@pytest.mark.anyio
async def test_sqlite_transaction__another_process_waits_for_it(
    tmp_path: Path,
) -> None:
    """A transaction that reads, then writes after another process wrote: with tortoise's plain
    ``BEGIN`` the write failed at once with "database is locked"; ours holds the write lock from the
    start, so the other process waits its turn and both writes land."""
    target = tmp_path / "node.sqlite3"
    node = Settings.model_construct(**{**_settings(f"sqlite://{target}", tmp_path).__dict__})
    await migrate_database(node)

    def other_process() -> None:
        connection = sqlite3.connect(target, timeout=10)
        try:
            connection.execute("UPDATE actor SET summary = 'written by the other process'")
            connection.commit()
        finally:
            connection.close()

    async with open_database(node):
        await ensure_application_actor("node", FROZEN_NOW)
        async with in_transaction():
            assert await Actor.all().count() == 1
            other = asyncio.ensure_future(asyncio.to_thread(other_process))
            await asyncio.sleep(0.3)
            assert not other.done()  # it waits for our transaction
            await Actor.all().update(name="written by the node")
        await other
        actor = await Actor.get()
    assert (actor.name, actor.summary) == ("written by the node", "written by the other process")
