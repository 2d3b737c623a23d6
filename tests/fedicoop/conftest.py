"""Fixtures of the node's federation tests: a remote actor on a loopback peer, and the node in process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from fedicoop.settings import Settings
from tests.conftest import Clock, _pg_admin, _pg_dsn, _settings
from tests.federation.loopback import running_peer
from tests.fedicoop.remote import Remote, running_node


@pytest.fixture
def node_settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of the node under test, allowed to talk to loopback peers."""
    return _settings(database_url, tmp_path, insecure_peers=True)


@pytest.fixture
async def remote() -> AsyncIterator[Remote]:
    """Remote actor ``camille`` on a fresh loopback peer."""
    async with running_peer() as peer:
        yield Remote.on(peer, "camille")


@pytest.fixture
async def node_app(
    node_settings: Settings, clock: Clock
) -> AsyncIterator[tuple[httpx.AsyncClient, Starlette]]:
    """The node under test, started, with its client."""
    async with running_node(node_settings, clock) as pair:
        yield pair


@pytest.fixture
def node(node_app: tuple[httpx.AsyncClient, Starlette]) -> httpx.AsyncClient:
    """A client of the node under test (API token set)."""
    return node_app[0]


@pytest.fixture
async def unmigrated(settings: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings on an empty database of the test's kind (created here, dropped after): for migrations."""
    if settings.effective_database_url.startswith("sqlite"):
        yield _settings(f"sqlite://{tmp_path / 'empty.sqlite3'}", tmp_path)
        return
    name = f"fc_empty_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _settings(_pg_dsn(name), tmp_path)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
