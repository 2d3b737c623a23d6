"""Fixtures of the node's federation tests: a remote actor on a loopback peer, and the node in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from fedicoop.settings import Settings
from tests.conftest import Clock, _settings
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
