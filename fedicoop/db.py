"""Database wiring: the tortoise configuration built from settings, opening a context, migrating.

One :class:`tortoise.context.TortoiseContext` per node: the web app enters it for each request (pure
ASGI middleware) and the CLI for each command, so two nodes can live in one process (tests do).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as tortoise_migrate

from fedicoop.errors import SettingsError
from fedicoop.models import MODEL_MODULES
from fedicoop.settings import Settings

APP_LABEL = "fedicoop"
MIGRATIONS_MODULE = "fedicoop.migrations"


def normalise_database_url(url: str) -> str:
    """Return the URL in the form tortoise expects (``postgres://`` for every PostgreSQL spelling)."""
    for prefix in ("postgresql://", "asyncpg://"):
        if url.startswith(prefix):
            return "postgres://" + url.removeprefix(prefix)
    return url


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return normalise_database_url(url).startswith("postgres://")


def connection_name(database_url: str) -> str:
    """The tortoise connection name for a URL: one per SQL dialect.

    tortoise caches compiled statements per connection name (``EXECUTOR_CACHE``), so a SQLite node and a
    PostgreSQL node in one process (the test suite runs both) must not share a name.
    """
    return "postgres" if is_postgres(database_url) else "sqlite"


SQLITE_ENGINE = "fedicoop.sqlite_engine"
"""tortoise's SQLite engine with transactions that begin with ``BEGIN IMMEDIATE`` (see that module)."""

SQLITE_PRAGMAS = {"synchronous": "NORMAL"}
"""SQLite pragmas the node sets unless the URL's query string sets them (tortoise passes each as a PRAGMA).

tortoise already opens SQLite in WAL mode; ``synchronous=NORMAL`` is the usual server setting with WAL: a
commit no longer waits for an fsync (the WAL is synced at checkpoints), so the database stays consistent
and a committed transaction survives a crash of the process, though the last ones before a power loss
may be rolled back. The inbox benchmark measured the fsync per commit at most of the node's time.
"""


def with_sqlite_pragmas(database_url: str) -> str:
    """``database_url`` with :data:`SQLITE_PRAGMAS` added to the query of a SQLite URL it does not set."""
    if not database_url.startswith("sqlite://"):
        return database_url
    given = parse_qs(urlsplit(database_url).query)
    missing = [f"{name}={value}" for name, value in SQLITE_PRAGMAS.items() if name not in given]
    if not missing:
        return database_url
    return database_url + ("&" if "?" in database_url else "?") + "&".join(missing)


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The tortoise configuration dictionary for one database URL."""
    name = connection_name(database_url)
    url = with_sqlite_pragmas(normalise_database_url(database_url))
    connection: str | dict[str, Any] = url
    if url.startswith("sqlite://"):
        connection = {**expand_db_url(url), "engine": SQLITE_ENGINE}
    return {
        "connections": {name: connection},
        "apps": {
            APP_LABEL: {
                "models": list(MODEL_MODULES),
                "default_connection": name,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _prepare_sqlite_directory(database_url: str) -> None:
    if not database_url.startswith("sqlite://"):
        return
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if path in ("", ":memory:"):
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"FEDICOOP_DATABASE_URL / FEDICOOP_DATA_DIR: cannot create the directory of {path}: {exc}"
        ) from None


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[TortoiseContext]:
    """Open the node's database in its own tortoise context, active for the ``async with`` body."""
    url = settings.effective_database_url
    _prepare_sqlite_directory(url)
    context = TortoiseContext()
    with context:
        await context.init(config=tortoise_config(url))
        try:
            yield context
        finally:
            await context.close_connections()


async def migrate_database(settings: Settings) -> list[str]:
    """Apply every pending migration and return the names applied, in order."""
    url = settings.effective_database_url
    _prepare_sqlite_directory(url)
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    context = TortoiseContext()
    with context:
        try:
            await tortoise_migrate(config=tortoise_config(url), progress=progress)
        finally:
            await context.close_connections()
    return applied


def describe_database(url: str) -> str:
    """A log-safe description of a database URL (no password)."""
    parts = urlsplit(normalise_database_url(url))
    if parts.scheme == "sqlite":
        return f"SQLite {url.removeprefix('sqlite://')}"
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}{parts.path}"
