"""What the federation tests do to real nodes: create actors, follow, publish, wait, read the queues.

Everything goes through a node's API, its CLI or, to count what a node stored, a read-only look at its
database (:func:`db_rows`). Waits are bounded polls (:func:`wait_until`), never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import asyncpg

from tests.e2e.nodes import NodeProcess

T = TypeVar("T")

WAIT_TIMEOUT = 30.0
WAIT_STEP = 0.2
LILLE = {"name": "Lille", "latitude": 50.6309, "longitude": 3.0709, "locality": "Lille"}
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def wait_until(
    check: Callable[[], T],
    what: str,
    *,
    timeout: float = WAIT_TIMEOUT,
    step: float = WAIT_STEP,
    nodes: Sequence[NodeProcess] = (),
) -> T:
    """Call ``check`` every ``step`` seconds until it returns a true value, and return that value.

    After ``timeout`` seconds, fail with ``what``, the last value seen and the log tails of ``nodes``.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            logs = "\n".join(node.logs() for node in nodes)
            raise AssertionError(f"not within {timeout:.0f} s: {what}\nlast value: {value!r}\n{logs}")
        time.sleep(step)


def create_actor(node: NodeProcess, username: str, kind: str = "cooperative") -> str:
    """Create a local actor in Lille through the API; return its id."""
    body = {"username": username, "kind": kind, "name": f"{kind.title()} {username}", "location": LILLE}
    return str(node.api("POST", "/actors", body, expect=201).json()["id"])


def open_workshop(node: NodeProcess, username: str) -> None:
    """Give a workshop opening hours every day, 9:00 to 18:00, two places per one-hour slot."""
    hours = [{"day": day, "opens": "09:00", "closes": "18:00"} for day in WEEK]
    body = {"hours": hours, "slot_minutes": 60, "capacity": 2}
    node.api("PUT", f"/availability/{username}", body, expect=200)


def follows(node: NodeProcess, state: str | None = None) -> list[dict[str, Any]]:
    """The node's follows of remote actors (``GET /api/v1/follows``)."""
    query = "" if state is None else f"?{urlencode({'state': state})}"
    rows: list[dict[str, Any]] = node.api("GET", f"/follows{query}", expect=200).json()
    return rows


def followers(node: NodeProcess, actor: str | None = None) -> list[dict[str, Any]]:
    """The remote followers of the node's actors, or of ``actor`` (a username)."""
    query = "" if actor is None else f"?{urlencode({'actor': actor})}"
    rows: list[dict[str, Any]] = node.api("GET", f"/followers{query}", expect=200).json()
    return rows


def wait_accepted(node: NodeProcess, pairs: Sequence[tuple[str, str]], others: Sequence[NodeProcess]) -> None:
    """Wait until every (local actor id, target id) follow of ``node`` is accepted."""
    wanted = set(pairs)

    def accepted() -> bool:
        done = {(row["actor"], row["target"]) for row in follows(node, "accepted")}
        return wanted <= done

    wait_until(accepted, f"{node.name}: follows {sorted(wanted)} accepted", nodes=[node, *others])


def publish_listing(node: NodeProcess, actor: str, title: str, **fields: Any) -> tuple[str, str]:
    """Publish a listing of ``actor`` (an object offer unless ``fields`` say otherwise); return id, uuid."""
    body = {"actor": actor, "kind": "object", "title": title, "category": "travaux-outillage", **fields}
    created = node.api("POST", "/listings", body, expect=201).json()
    return str(created["id"]), str(created["api_url"]).rsplit("/", 1)[-1]


def catalogue(node: NodeProcess, **filters: str) -> list[dict[str, Any]]:
    """The node's catalogue (first 100 items), filtered by kind, purpose, actor or q."""
    response = node.api("GET", f"/catalogue?{urlencode({'limit': '100', **filters})}", expect=200)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def catalogue_ids(node: NodeProcess, **filters: str) -> list[str]:
    """The ids of the node's catalogue items."""
    return [item["id"] for item in catalogue(node, **filters)]


def deliveries(node: NodeProcess, state: str | None = None) -> list[dict[str, Any]]:
    """The node's newest 500 delivery rows (``GET /api/v1/deliveries``)."""
    params = {"limit": "500"} if state is None else {"limit": "500", "state": state}
    rows: list[dict[str, Any]] = node.api("GET", f"/deliveries?{urlencode(params)}", expect=200).json()
    return rows


def inbox_of(node: NodeProcess) -> str:
    """The node's shared inbox, where fedicoop nodes deliver to each other."""
    return node.url("/inbox")


def db_rows(node: NodeProcess, sql: str) -> list[tuple[Any, ...]]:
    """Run a read-only ``sql`` query (no parameters) on the node's own database, even while it serves."""
    url = node.database_url
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
            return [tuple(row) for row in connection.execute(sql).fetchall()]

    async def fetch() -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(url, timeout=10)
        try:
            return [tuple(record) for record in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def inbox_items(node: NodeProcess) -> dict[str, list[str]]:
    """The states of the node's stored inbox activities, by activity id (one entry per stored row)."""
    stored: dict[str, list[str]] = {}
    for activity, state in db_rows(node, "SELECT activity_iri, state FROM inbox_item"):
        stored.setdefault(str(activity), []).append(str(state))
    return stored
