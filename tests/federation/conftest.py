"""Fixtures of the federation tests: the vectors under tests/fixtures/vectors, a loopback peer, a client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from federation.http import AsyncClient, client_factory
from tests.federation.loopback import LOOSE, Peer, running_peer

VECTORS = Path(__file__).resolve().parent.parent / "fixtures" / "vectors"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def mastodon_vectors() -> dict[str, Any]:
    """Mastodon's signature verification cases (2048-bit actor key, frozen clock, 12 requests)."""
    data: dict[str, Any] = _load("mastodon-signature-verification.json")
    return data


@pytest.fixture(scope="session")
def cavage_vectors() -> dict[str, Any]:
    """draft-cavage-12 Appendix C (1024-bit key; Default, Basic and All-Headers examples)."""
    data: dict[str, Any] = _load("cavage-12.json")
    return data


@pytest.fixture(scope="session")
def rfc9421_vectors() -> dict[str, Any]:
    """RFC 9421 keys and the B.2 / proxy_sig test cases."""
    data: dict[str, Any] = _load("rfc9421-vectors.json")
    return data


@pytest.fixture(scope="session")
def rfc9421_extra() -> dict[str, Any]:
    """RFC 9421 §2.5, B.3 (ttrp) and B.4 (transformations) examples."""
    data: dict[str, Any] = _load("rfc9421-extra.json")
    return data


@pytest.fixture(scope="session")
def wire_format_10_2() -> dict[str, Any]:
    """The signed Accept of wire-format §10.2."""
    data: dict[str, Any] = _load("wire-format-10.2.json")
    return data


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    """A fresh loopback peer (tests that need trusted keys or signatures override it)."""
    async with running_peer() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[AsyncClient]:
    """Our outbound client, allowed to reach loopback peers."""
    async with client_factory(LOOSE) as client:
        yield client
