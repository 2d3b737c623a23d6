"""Feed actors announce what comes to match their search, to real followers on loopback peers.

The node runs in process; ``camille`` follows the feed from one loopback peer and ``partage``, whom the
node follows, publishes from another. What ``partage`` sends goes through the inbox and its job; the
catalogue's triggers queue the change; the feed job announces; the delivery job posts, signed by the
feed actor, and the follower's peer checks the signature. An Update that keeps the item matching sends
nothing; one that moves it away, or a Delete, sends the Undo of the Announce.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from federation.keys import load_private_key
from fedicoop.feeds.actors import create_feed
from fedicoop.feeds.announcing import FeedJob
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor, ActorKey
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.feeds import FeedAnnouncement, FeedChange
from fedicoop.models.social import Follower, Following
from fedicoop.models.states import FollowState
from fedicoop.node import Node
from fedicoop.services.processing import InboxJob
from fedicoop.services.remote_actors import resolve_actor
from fedicoop.territory import Territory
from fedicoop.worker import DeliveryJob
from tests.conftest import TEST_BASE_URL, Clock
from tests.federation.loopback import running_peer
from tests.fedicoop.remote import LOCAL_ACTOR, PUBLIC, Remote, actor_document, network_of, post_signed

pytestmark = pytest.mark.anyio

FEED_ID = f"{TEST_BASE_URL}/actors/velo-lille"
FIVES = {"type": "Place", "name": "Fives", "latitude": 50.6292, "longitude": 3.0886}
LILLE = {"name": "Lille", "latitude": 50.6309, "longitude": 3.0709, "locality": "Lille", "country": "FR"}


@pytest.fixture
async def author() -> AsyncIterator[Remote]:
    """``partage``, on a loopback peer of its own."""
    async with running_peer() as peer:
        yield Remote.on(peer, "partage")


class Scene:
    """The node, the feed's follower and the author, with the steps of the tests."""

    def __init__(
        self, http: httpx.AsyncClient, app: Starlette, clock: Clock, follower: Remote, author: Remote
    ):
        self.http, self.app, self.clock = http, app, clock
        self.follower, self.author = follower, author
        self.number = 100

    @property
    def node(self) -> Node:
        node: Node = self.app.state.node
        return node

    async def send(self, kind: str, obj: Any, remote: Remote | None = None) -> None:
        """``remote`` (the author by default) delivers an activity; the inbox job applies it."""
        remote = remote or self.author
        self.number += 1
        activity = remote.activity(kind, self.number, object=obj, to=[PUBLIC])
        response = await post_signed(self.http, self.clock, remote, activity)
        assert response.status_code == 202, response.text
        await InboxJob(network_of(self.app), "test")(self.clock())

    async def feeds(self) -> int:
        """Run the feed job until the queue is empty; return the rows handled."""
        job, handled = FeedJob(self.node, "test"), 0
        while count := await job(self.clock()):
            handled += count
        assert not await FeedChange.exists()
        return handled

    async def deliveries(self) -> list[dict[str, Any]]:
        """Run the delivery job; return the bodies the follower's inbox received, signed by the feed."""
        before = len(self.follower.peer.requests_to("/users/camille/inbox", "POST"))
        job = DeliveryJob(network_of(self.app), "test", concurrency=4, rng=random.Random(1))
        await job(self.clock())
        await job.drain()
        hits = self.follower.peer.requests_to("/users/camille/inbox", "POST")[before:]
        bodies = []
        for hit in hits:
            body = json.loads(hit.body)
            if body["actor"] == FEED_ID:
                assert (hit.signer, hit.signature_error) == (FEED_ID, None)
                bodies.append(body)
        return bodies


@pytest.fixture
async def scene(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote, author: Remote
) -> Scene:
    """The feed ``velo-lille`` (offers within 5 km of Lille's town hall) followed by camille; the node's
    workshop follows partage."""
    http, app = node_app
    scene = Scene(http, app, clock, remote, author)
    await create_feed(scene.node, "velo-lille", {"kind": "offer", "near": "59350", "radius": "5"})
    await Following.create(
        actor=await Actor.get(username="atelier-fives"),
        target_iri=author.actor_id,
        follow_activity_iri=f"{LOCAL_ACTOR}#follow",
        state=FollowState.ACCEPTED,
        created_at=clock(),
    )
    remote.peer.now = clock
    remote.peer.serve("/users/camille/inbox", b"", status=202, method="POST")
    key = await ActorKey.get(actor=await Actor.get(username="velo-lille"))
    remote.peer.trust(f"{FEED_ID}#main-key", FEED_ID, load_private_key(key.private_pem))
    await scene.send("Follow", FEED_ID, remote)
    assert (await Follower.get(follower_iri=remote.actor_id)).state == FollowState.ACCEPTED
    [accept] = await scene.deliveries()
    assert accept["type"] == "Accept" and accept["object"]["object"] == FEED_ID
    return scene


def _arras(territory: Territory) -> dict[str, Any]:
    commune = territory.commune("62041")
    assert commune is not None and commune.townhall is not None
    latitude, longitude = commune.townhall
    return {"type": "Place", "name": "Arras", "latitude": latitude, "longitude": longitude}


async def test_announce__new_match_then_update_then_move_away_and_back(
    scene: Scene, territory: Territory
) -> None:
    note = scene.author.note(1, location=FIVES)
    await scene.send("Create", note)
    assert await FeedChange.exists()  # queued by the catalogue's trigger
    await scene.feeds()
    [announce] = await scene.deliveries()
    assert announce == (await Activity.get(type="Announce", actor_iri=FEED_ID)).document
    assert announce["object"] == note["id"]
    assert announce["to"] == [f"{FEED_ID}/followers"] and announce["cc"] == [PUBLIC]
    assert announce["id"].startswith(f"{TEST_BASE_URL}/activities/")
    assert (await scene.http.get(announce["id"].removeprefix(TEST_BASE_URL))).json() == announce

    edited = {**note, "title": "Offre modifiée", "updated": "2025-10-12T09:00:00Z"}
    await scene.send("Update", edited)
    assert (await CatalogueItem.get(iri=note["id"])).name == "Offre modifiée"
    assert await scene.feeds() == 1
    assert await scene.deliveries() == []  # still matching: not announced twice

    moved = {**note, "location": _arras(territory), "updated": "2025-10-12T10:00:00Z"}
    await scene.send("Update", moved)
    await scene.feeds()
    [undo] = await scene.deliveries()
    assert undo["type"] == "Undo"
    assert undo["object"] == {
        "id": announce["id"],
        "type": "Announce",
        "actor": FEED_ID,
        "object": note["id"],
    }
    assert not await FeedAnnouncement.exists()

    back = {**note, "location": FIVES, "updated": "2025-10-12T11:00:00Z"}
    await scene.send("Update", back)
    await scene.feeds()
    [again] = await scene.deliveries()
    assert again["type"] == "Announce" and again["object"] == note["id"] and again["id"] != announce["id"]


async def test_announce__delete_sends_the_undo(scene: Scene) -> None:
    note = scene.author.note(2, location=FIVES)
    await scene.send("Create", note)
    await scene.feeds()
    [announce] = await scene.deliveries()
    tombstone = {
        "id": note["id"],
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": "2025-10-12T10:00:00Z",
    }
    await scene.send("Delete", tombstone)
    assert not await CatalogueItem.exists(iri=note["id"])
    await scene.feeds()
    [undo] = await scene.deliveries()
    assert undo["type"] == "Undo" and undo["object"]["id"] == announce["id"]


async def test_announce__only_what_matches(scene: Scene, territory: Territory) -> None:
    await scene.send("Create", scene.author.note(3, location=_arras(territory)))  # too far
    await scene.send("Create", scene.author.note(4, location=FIVES, purpose="request"))  # a request
    placeless = {key: value for key, value in scene.author.note(5).items() if key != "location"}
    await scene.send("Create", placeless)  # no place
    assert await CatalogueItem.all().count() == 3
    assert await scene.feeds() == 3
    assert await scene.deliveries() == []
    assert not await Activity.exists(type="Announce", actor_iri=FEED_ID)


async def test_announce__author_opting_out_of_discovery_is_undone(scene: Scene) -> None:
    await resolve_actor(network_of(scene.app), scene.author.actor_id)  # the node knows the author
    note = scene.author.note(6, location=FIVES)
    await scene.send("Create", note)
    await scene.feeds()
    assert len(await scene.deliveries()) == 1
    profile = {**actor_document(scene.author.actor_id, scene.author.key), "discoverable": False}
    scene.author.peer.serve("/users/partage", profile)
    await scene.send("Update", profile)  # the author's profile update: refetched, then its items unlisted
    assert not (await CatalogueItem.get(iri=note["id"])).discoverable
    await scene.feeds()
    [undo] = await scene.deliveries()
    assert undo["type"] == "Undo"


async def test_changes__not_queued_without_a_feed(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, author: Remote
) -> None:
    http, app = node_app
    scene = Scene(http, app, clock, author, author)
    await Following.create(
        actor=await Actor.get(username="atelier-fives"),
        target_iri=author.actor_id,
        follow_activity_iri=f"{LOCAL_ACTOR}#follow",
        state=FollowState.ACCEPTED,
        created_at=clock(),
    )
    await scene.send("Create", author.note(7, location=FIVES))
    assert await CatalogueItem.exists()
    assert not await FeedChange.exists()


async def test_announce__local_listing_through_the_mirror(scene: Scene) -> None:
    created = await scene.http.post(
        "/api/v1/actors",
        json={"username": "partage-lille", "kind": "cooperative", "name": "Partage Lille", "location": LILLE},
    )
    assert created.status_code == 201, created.text
    listing = await scene.http.post(
        "/api/v1/listings",
        json={
            "actor": "partage-lille",
            "kind": "object",
            "purpose": "offer",
            "title": "Prêt : perceuse",
            "description": "Sans fil.",
            "category": "travaux-outillage",
        },
    )
    assert listing.status_code == 201, listing.text
    listing_id = listing.json()["id"]
    assert await CatalogueItem.exists(iri=listing_id)  # the node's own catalogue holds it
    await scene.feeds()
    [announce] = await scene.deliveries()
    assert (announce["type"], announce["object"]) == ("Announce", listing_id)
