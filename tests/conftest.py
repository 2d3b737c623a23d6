"""Fixtures shared by the whole suite: real SQLite and PostgreSQL databases, and a running node app.

PostgreSQL is the server at 127.0.0.1:5432 (user postgres, database ``test``). Each test gets a fresh
database copied from a template migrated once per worker. A test that needs PostgreSQL fails when the
server is unreachable, unless ``FEDICOOP_TEST_POSTGRES=0`` is set explicitly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from fedicoop.app import create_app
from fedicoop.db import migrate_database
from fedicoop.settings import Settings, load_settings

PG_ADMIN_DSN = os.environ.get("FEDICOOP_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
TEST_BASE_URL = "https://velo-fives.example"
TEST_TOKEN = "test-admin-token"
FROZEN_NOW = datetime(2025, 10, 13, 6, 0, 0, tzinfo=UTC)


def postgres_enabled() -> bool:
    """Whether the PostgreSQL half of the suite runs (it does unless explicitly turned off)."""
    return os.environ.get("FEDICOOP_TEST_POSTGRES", "1") != "0"


DATABASE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
if not postgres_enabled():
    DATABASE_KINDS = ["sqlite"]


@pytest.fixture
def anyio_backend() -> str:
    """asyncpg and tortoise are asyncio-only: every anyio test runs on asyncio."""
    return "asyncio"


def _pg_dsn(database: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


SHARED_CACHE = Path(tempfile.gettempdir()) / "fedicoop-test-cache"
"""The territory index cache shared by every test node (written atomically, checked when read)."""


def _settings(database_url: str, tmp_path: Path, **extra: Any) -> Settings:
    extra.setdefault("worker_in_serve", False)  # tests run the worker's jobs themselves
    extra.setdefault("cache_dir", str(SHARED_CACHE))
    return load_settings(
        toml_file=None,
        env_file=None,
        base_url=TEST_BASE_URL,
        database_url=database_url,
        data_dir=str(tmp_path),
        demo=False,
        admin_token=TEST_TOKEN,
        **extra,
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per worker, copied for every test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(migrate_database(_settings(f"sqlite://{path}", path.parent)))
    return path


@pytest.fixture(scope="session")
def postgres_template(worker_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database migrated once per worker, used as the template of every test database."""
    name = f"fc_template_{worker_id}_{os.getpid()}"

    async def build() -> None:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        await _pg_admin(f'CREATE DATABASE "{name}"')
        await migrate_database(_settings(_pg_dsn(name), tmp_path_factory.mktemp("pg")))

    try:
        asyncio.run(build())
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is unreachable at {PG_ADMIN_DSN} ({exc}); start it, or set FEDICOOP_TEST_POSTGRES=0 "
            "to run the SQLite half only"
        )
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"'))


def _fresh_database(kind: str, request: pytest.FixtureRequest, path: Path) -> Iterator[str]:
    """A fresh migrated database of ``kind`` (a copy of the worker's template), dropped afterwards."""
    if kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, path)
        yield f"sqlite://{path}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"fc_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    yield _pg_dsn(name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test: SQLite, then PostgreSQL."""
    yield from _fresh_database(request.param, request, tmp_path / "node.sqlite3")


@pytest.fixture
def second_database_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another fresh database of the same kind, for a second node in the test's process.

    tortoise binds its models to one database kind per process, so both nodes use the same kind.
    """
    kind = "sqlite" if database_url.startswith("sqlite") else "postgres"
    yield from _fresh_database(kind, request, tmp_path / "second.sqlite3")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of a test node at https://velo-fives.example on the test's database."""
    return _settings(database_url, tmp_path)


class Clock:
    """A settable clock for tests: starts at ``FROZEN_NOW``."""

    def __init__(self, now: datetime = FROZEN_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """The node's clock, frozen at 2025-10-13 06:00 UTC (the date of the wire-format examples)."""
    return Clock()


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired to a running node app (lifespan entered), authenticated for the API."""
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=TEST_BASE_URL, headers={"Authorization": f"Bearer {TEST_TOKEN}"}
        ) as http:
            yield http
