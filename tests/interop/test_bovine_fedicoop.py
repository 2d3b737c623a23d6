"""Our node against bovine-herd 0.5.19, both directions: a real ``fedicoop serve`` and a real bovine server.

Our node is a :class:`~tests.e2e.nodes.NodeProcess` on SQLite (real clock, insecure peers for loopback,
the worker inside ``serve``), started before bovine ever talks to it: bovine caches failed key lookups
and never retries a delivery. Nothing is faked on either side; the tests drive bovine through its
outbox and our node through its API, and read what each one stored.

- bovine's actor follows our cooperative, our Accept reaches it, and our signed Create of an offer
  lands in its inbox with the offer's id, content and fedicoop terms intact; its Undo unfollows;
- our cooperative follows bovine's actor by handle (WebFinger), bovine accepts, and bovine's signed
  Create of a note is accepted by our inbox as authentic (then ignored: not a listing); our Undo
  removes us from bovine's followers.

What our node received is read from its SQLite file (``inbox_item``): the API has no inbox view.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from schemas.context import PUBLIC
from tests.e2e.nodes import NodeProcess
from tests.interop.bovine_peer import BovinePeer

pytestmark = pytest.mark.anyio

T = TypeVar("T")

WAIT_SECONDS = 20.0
USERNAME = "coop-lille"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    """Our node, a real ``fedicoop serve`` on SQLite, with one cooperative; requested before bovine."""
    with NodeProcess("coop", tmp_path / "node") as process:
        process.api(
            "POST",
            "/actors",
            {
                "username": USERNAME,
                "kind": "cooperative",
                "name": "Coopérative de Lille",
                "summary": "Coopérative d'échange de biens et de services.",
                "location": {"name": "Lille", "latitude": 50.6309, "longitude": 3.0709, "locality": "Lille"},
            },
            expect=201,
        )
        yield process


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, node: NodeProcess, peer: BovinePeer
) -> T:
    """The first truthy result of ``probe``, polled for :data:`WAIT_SECONDS`; else fail with both logs."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: not after {WAIT_SECONDS:.0f} s\n{node.logs()}\n--- bovine ---\n{peer.log()}"
            )
        await asyncio.sleep(0.1)


def threaded(function: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[], Awaitable[T]]:
    """A probe calling the blocking ``function`` in a thread (our node's API, its SQLite file)."""
    return lambda: asyncio.to_thread(function, *args, **kwargs)


def api_list(node: NodeProcess, path: str) -> list[dict[str, Any]]:
    """GET ``/api/v1{path}`` on our node, a JSON list."""
    rows: list[dict[str, Any]] = node.api("GET", path, expect=200).json()
    return rows


def inbox_items(node: NodeProcess, **where: str) -> list[dict[str, Any]]:
    """Rows of our node's ``inbox_item`` table matching ``where`` (read-only, straight from SQLite)."""
    database = node.directory / "node.sqlite3"
    clauses = " AND ".join(f"{column} = ?" for column in where) or "1 = 1"
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5.0)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute(
            f"SELECT * FROM inbox_item WHERE {clauses} ORDER BY id",  # noqa: S608 - column names are ours
            tuple(where.values()),
        ).fetchall()
    finally:
        connection.close()
    return [dict(row) for row in rows]


def deliveries(node: NodeProcess, activity_type: str, inbox: str) -> list[dict[str, Any]]:
    """Our node's delivery queue rows of ``activity_type`` to ``inbox``."""
    rows = api_list(node, "/deliveries?limit=500")
    return [row for row in rows if row["activity_type"] == activity_type and row["inbox"] == inbox]


def delivered(node: NodeProcess, activity_type: str, inbox: str) -> dict[str, Any] | None:
    """The one delivery of ``activity_type`` to ``inbox`` once delivered (fails at once on another end)."""
    rows = deliveries(node, activity_type, inbox)
    assert len(rows) <= 1, rows
    if not rows or rows[0]["state"] == "pending":
        return None
    assert rows[0]["state"] == "delivered", rows[0]
    return rows[0]


async def test_bovine_follows_our_cooperative_and_receives_our_signed_offer(
    node: NodeProcess, bovine_peer: BovinePeer
) -> None:
    coop = node.url(f"/actors/{USERNAME}")
    bovine_inbox = bovine_peer.actor["inbox"]

    follow_id = await bovine_peer.follow(coop)

    follower = await eventually(
        threaded(api_list, node, f"/followers?actor={USERNAME}"),
        "bovine's Follow recorded by our node",
        node,
        bovine_peer,
    )
    assert [(row["follower"], row["state"]) for row in follower] == [(bovine_peer.actor_id, "accepted")]
    [received_follow] = inbox_items(node, activity_iri=follow_id)
    assert (received_follow["type"], received_follow["actor_iri"]) == ("Follow", bovine_peer.actor_id)
    assert (received_follow["signer_iri"], received_follow["authentic"]) == (bovine_peer.actor_id, 1)
    accept = await eventually(
        threaded(delivered, node, "Accept", bovine_inbox), "our Accept delivered", node, bovine_peer
    )
    assert accept["last_status"] in (200, 202), accept
    await bovine_peer.wait_for_collection(bovine_peer.actor["following"], coop)
    stored_accept = await bovine_peer.wait_for_inbox(lambda item: item.get("id") == accept["activity"])
    assert (stored_accept["type"], stored_accept["actor"]) == ("Accept", coop)

    offer = node.api(
        "POST",
        "/listings",
        {
            "actor": USERNAME,
            "kind": "object",
            "title": "Prêt : perceuse à percussion",
            "description": "Perceuse 18 V avec deux batteries, prêtée une semaine.",
            "category": "travaux-outillage",
            "exchange": "loan",
            "deposit": "30.00",
            "loan_duration": "P7D",
        },
        expect=201,
    ).json()
    published = node.get_json(offer["id"])

    create = await eventually(
        threaded(delivered, node, "Create", bovine_inbox), "our Create delivered", node, bovine_peer
    )
    assert create["last_status"] in (200, 202), create
    assert create["recipient"] == bovine_peer.actor_id
    stored_create = await bovine_peer.wait_for_inbox(lambda item: item.get("id") == create["activity"])
    assert (stored_create["type"], stored_create["actor"], stored_create["object"]) == (
        "Create",
        coop,
        offer["id"],
    )
    stored_offer = await bovine_peer.stored(offer["id"])
    assert stored_offer is not None, bovine_peer.log()
    assert (stored_offer["type"], stored_offer["attributedTo"]) == ("Note", coop)
    assert stored_offer["content"] == published["content"]
    assert "perceuse à percussion" in stored_offer["content"]
    fc, vf = "https://w3id.org/fedicoop/ns#", "https://w3id.org/valueflows/ont/vf#"
    assert (stored_offer[fc + "title"], stored_offer[fc + "kind"], stored_offer[vf + "purpose"]) == (
        published["title"],
        "object",
        "offer",
    )
    assert stored_offer[fc + "title"] == "Prêt : perceuse à percussion"
    assert stored_offer[fc + "deposit"]["http://schema.org#value"] == published["deposit"]["value"] == "30.00"
    assert stored_offer[vf + "publishes"] == {"id": published["publishes"]["id"]}
    assert bovine_peer.context_misses() == []

    undo_id = await bovine_peer.post_outbox(
        {"type": "Undo", "actor": bovine_peer.actor_id, "object": follow_id, "to": [coop]}
    )

    await eventually(
        threaded(inbox_items, node, activity_iri=undo_id, state="processed"),
        "bovine's Undo of its Follow applied",
        node,
        bovine_peer,
    )
    assert node.api("GET", "/followers", expect=200).json() == []
    assert coop not in await bovine_peer.collection(bovine_peer.actor["following"])


async def test_our_cooperative_follows_bovine_and_accepts_its_signed_note(
    node: NodeProcess, bovine_peer: BovinePeer
) -> None:
    coop = node.url(f"/actors/{USERNAME}")
    handle = f"{bovine_peer.handle}@127.0.0.1:{bovine_peer.port}"

    pending = node.api("POST", "/follows", {"actor": USERNAME, "target": handle}, expect=202).json()

    assert (pending["target"], pending["state"]) == (bovine_peer.actor_id, "pending")
    follow = await bovine_peer.wait_for_inbox(lambda item: item.get("id") == pending["follow_id"])
    assert (follow["type"], follow["actor"], follow["object"]) == ("Follow", coop, bovine_peer.actor_id)

    accept_id = await bovine_peer.accept(follow)

    following = await eventually(
        threaded(api_list, node, f"/follows?actor={USERNAME}&state=accepted"),
        "our Following accepted",
        node,
        bovine_peer,
    )
    assert [(row["target"], row["follow_id"]) for row in following] == [
        (bovine_peer.actor_id, pending["follow_id"])
    ]
    [received_accept] = inbox_items(node, activity_iri=accept_id)
    assert (received_accept["type"], received_accept["actor_iri"], received_accept["authentic"]) == (
        "Accept",
        bovine_peer.actor_id,
        1,
    )
    assert received_accept["state"] == "processed"
    await bovine_peer.wait_for_collection(bovine_peer.actor["followers"], coop)

    create_id = await bovine_peer.send_create_note(
        "<p>Moo from bovine</p>", to=[PUBLIC], cc=[bovine_peer.actor["followers"]]
    )

    [received] = await eventually(
        threaded(inbox_items, node, activity_iri=create_id, state="ignored"),
        "bovine's Create received and processed",
        node,
        bovine_peer,
    )
    assert (received["type"], received["actor_iri"]) == ("Create", bovine_peer.actor_id)
    assert (received["signer_iri"], received["authentic"], received["last_error"]) == (
        bovine_peer.actor_id,
        1,
        "",
    )
    note = json.loads(received["document"])["object"]
    assert (note["type"], note["attributedTo"], note["content"]) == (
        "Note",
        bovine_peer.actor_id,
        "<p>Moo from bovine</p>",
    )
    assert node.api("GET", "/catalogue", expect=200).json()["items"] == []

    node.api("DELETE", f"/follows?actor={USERNAME}&target={bovine_peer.actor_id}", expect=204)

    async def unfollowed() -> bool:
        return coop not in await bovine_peer.collection(bovine_peer.actor["followers"])

    await eventually(unfollowed, "our Undo of the Follow applied by bovine", node, bovine_peer)
    assert node.api("GET", "/follows", expect=200).json() == []
    undo = delivered(node, "Undo", bovine_peer.actor["inbox"])
    assert undo is not None and undo["last_status"] in (200, 202), undo
