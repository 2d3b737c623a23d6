"""The database layer: migrations apply on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedicoop.db import describe_database, migrate_database, normalise_database_url, open_database
from fedicoop.dev.makemigrations import pending_changes
from fedicoop.models.actors import Actor
from fedicoop.settings import Settings


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
    ]
    assert target.exists()


def test_normalise_database_url__postgres_spellings() -> None:
    assert normalise_database_url("postgresql://u@h/db") == "postgres://u@h/db"
    assert normalise_database_url("asyncpg://u@h/db") == "postgres://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_describe_database__hides_password() -> None:
    assert describe_database("postgres://user:secret@db.example:5433/fc") == "PostgreSQL db.example:5433/fc"
