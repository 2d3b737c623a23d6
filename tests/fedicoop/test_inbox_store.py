"""Storing accepted activities: batched inserts, duplicates, a faulty row alone, and the health cache."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fedicoop.db import open_database, tortoise_config, with_sqlite_pragmas
from fedicoop.models.deliveries import DomainHealth
from fedicoop.models.inbox import InboxItem
from fedicoop.models.states import InboxState
from fedicoop.services.inbox import HealthyHosts, heard_from
from fedicoop.services.inbox_store import InboxRow, InboxWriter
from fedicoop.settings import Settings
from tests.conftest import FROZEN_NOW, _settings

pytestmark = pytest.mark.anyio

ACTOR = "https://remote.example/users/ana"


def row(index: int, *, document: dict[str, Any] | None = None, recipient: str | None = None) -> InboxRow:
    iri = f"{ACTOR}/activities/{index}"
    return InboxRow(
        activity_iri=iri,
        type="Create",
        actor_iri=ACTOR,
        signer_iri=ACTOR,
        authentic=index % 2 == 0,
        recipient=recipient,
        document=document or {"id": iri, "type": "Create", "actor": ACTOR, "n": index, "é": "à"},
        received_at=FROZEN_NOW + timedelta(seconds=index),
    )


async def test_concurrent_stores__one_row_each_as_create_would_write_it(settings: Settings) -> None:
    writer = InboxWriter(batch_max=7)
    rows = [row(index, recipient="atelier" if index == 3 else None) for index in range(40)]
    async with open_database(settings):
        assert await asyncio.gather(*(writer.store(item) for item in rows)) == [True] * 40
        stored = {item.activity_iri: item for item in await InboxItem.all()}
    assert set(stored) == {item.activity_iri for item in rows}
    for item in rows:
        got = stored[item.activity_iri]
        assert (got.type, got.actor_iri, got.signer_iri, got.authentic, got.recipient) == (
            item.type,
            item.actor_iri,
            item.signer_iri,
            item.authentic,
            item.recipient,
        )
        assert got.document == item.document
        assert (got.state, got.attempts, got.last_error, got.processed_at) == (
            InboxState.RECEIVED,
            0,
            "",
            None,
        )
        assert got.next_attempt_at == got.received_at == item.received_at


async def test_duplicates__in_one_batch_and_already_stored(settings: Settings) -> None:
    writer = InboxWriter()
    async with open_database(settings):
        assert await writer.store(row(1)) is True
        results = await asyncio.gather(writer.store(row(1)), writer.store(row(2)), writer.store(row(2)))
        assert sorted(results[1:]) == [False, True]  # the same activity twice: stored once
        assert results[0] is False  # already stored before
        assert await InboxItem.all().count() == 2


async def test_faulty_row__fails_alone_and_the_others_are_stored(settings: Settings) -> None:
    writer = InboxWriter()
    unserialisable = {"id": "x", "bad": {1, 2}}  # a set is no JSON: the row cannot be written
    async with open_database(settings):
        results = await asyncio.gather(
            writer.store(row(1)),
            writer.store(row(2, document=unserialisable)),
            writer.store(row(3)),
            return_exceptions=True,
        )
        assert results[0] is True and results[2] is True
        assert isinstance(results[1], TypeError)
        iris = set(await InboxItem.all().values_list("activity_iri", flat=True))
    assert iris == {row(1).activity_iri, row(3).activity_iri}


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_healthy_hosts__known_clear_for_the_ttl_only() -> None:
    ticks = Ticks()
    healthy = HealthyHosts(ttl=30.0, clock=ticks)
    assert not healthy.known_clear("a.example")
    healthy.clear("a.example")
    ticks.now += 29.9
    assert healthy.known_clear("a.example")
    assert not healthy.known_clear("b.example")
    ticks.now += 0.2
    assert not healthy.known_clear("a.example")


def test_healthy_hosts__bounded() -> None:
    ticks = Ticks()
    healthy = HealthyHosts(ttl=30.0, max_entries=3, clock=ticks)
    for name in ("a", "b", "c"):
        healthy.clear(f"{name}.example")
    ticks.now += 31  # all three stale: dropped when a fourth host comes
    healthy.clear("d.example")
    assert healthy.known_clear("d.example")
    assert len(healthy._until) == 1
    for name in ("e", "f", "g"):
        healthy.clear(f"{name}.example")  # full of live entries: emptied, then the new one kept
    assert len(healthy._until) <= 3
    assert healthy.known_clear("g.example")


async def test_heard_from__with_the_cache_reads_a_clear_host_once_per_ttl(settings: Settings) -> None:
    ticks = Ticks()
    healthy = HealthyHosts(ttl=30.0, clock=ticks)
    async with open_database(settings):
        health = await DomainHealth.create(host="remote.example", failure_days=["2025-10-10"])
        await heard_from(ACTOR, FROZEN_NOW, healthy)
        await health.refresh_from_db()
        assert (health.failure_days, health.last_success_at) == ([], FROZEN_NOW)
        await DomainHealth.filter(id=health.id).update(failure_days=["2025-10-12"])
        await heard_from(ACTOR, FROZEN_NOW, healthy)  # known clear: not read again within the TTL
        await health.refresh_from_db()
        assert health.failure_days == ["2025-10-12"]
        ticks.now += 31
        await heard_from(ACTOR, FROZEN_NOW, healthy)
        await health.refresh_from_db()
        assert health.failure_days == []


def test_sqlite_pragmas__added_unless_the_url_sets_them() -> None:
    assert with_sqlite_pragmas("sqlite:///d/node.sqlite3") == "sqlite:///d/node.sqlite3?synchronous=NORMAL"
    assert (
        with_sqlite_pragmas("sqlite:///d/n.db?foreign_keys=ON")
        == "sqlite:///d/n.db?foreign_keys=ON&synchronous=NORMAL"
    )
    assert with_sqlite_pragmas("sqlite:///d/n.db?synchronous=FULL") == "sqlite:///d/n.db?synchronous=FULL"
    assert with_sqlite_pragmas("postgres://u@h/db") == "postgres://u@h/db"
    assert tortoise_config("postgres://u@h/db")["connections"] == {"postgres": "postgres://u@h/db"}


async def test_sqlite_pragmas__in_force_on_the_connection(tmp_path: Path) -> None:
    async with open_database(_settings(f"sqlite://{tmp_path / 'node.sqlite3'}", tmp_path)):
        db = InboxItem._meta.db
        synchronous = await db.execute_query_dict("PRAGMA synchronous")
        journal = await db.execute_query_dict("PRAGMA journal_mode")
    assert list(synchronous[0].values()) == [1]  # NORMAL
    assert list(journal[0].values()) == ["wal"]
