"""The inbox's asynchronous half: what a received activity changes, and what it must not.

Activities are delivered signed to the node in process, then the worker's inbox job runs once. Remote
actors and their objects are served by a real loopback peer, which also serves the refetches of
relayed content.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from fedicoop.models.actors import Actor
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.deliveries import Delivery
from fedicoop.models.inbox import InboxItem
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Follower, Following
from fedicoop.models.states import FollowState, InboxState
from fedicoop.services.processing import InboxJob
from fedicoop.services.remote_actors import resolve_actor
from tests.conftest import Clock
from tests.fedicoop.remote import LOCAL_ACTOR, PUBLIC, Remote, network_of, post_signed

pytestmark = pytest.mark.anyio


async def deliver(
    app: Starlette, node: httpx.AsyncClient, clock: Clock, remote: Remote, document: dict[str, Any]
) -> InboxItem:
    """POST the activity signed by ``remote``, run the inbox job once, return the processed item."""
    response = await post_signed(node, clock, remote, document)
    assert response.status_code == 202, response.text
    assert await InboxJob(network_of(app), "test")(clock()) >= 0
    return await InboxItem.get(activity_iri=document["id"])


async def follow_remote(remote: Remote, clock: Clock) -> None:
    actor = await Actor.get(username="atelier-fives")
    await Following.create(
        actor=actor,
        target_iri=remote.actor_id,
        follow_activity_iri=f"{LOCAL_ACTOR}#f",
        state=FollowState.ACCEPTED,
        created_at=clock(),
    )


async def test_follow__accepted_and_answered(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    item = await deliver(app, node, clock, remote, remote.activity("Follow", 1, object=LOCAL_ACTOR))
    assert item.state == InboxState.PROCESSED
    follower = await Follower.get(follower_iri=remote.actor_id)
    assert follower.state == FollowState.ACCEPTED and follower.inbox == f"{remote.actor_id}/inbox"
    [delivery] = await Delivery.all().prefetch_related("activity")
    assert delivery.activity.type == "Accept" and delivery.inbox == f"{remote.actor_id}/inbox"
    assert delivery.activity.document["object"]["id"] == item.activity_iri


async def test_follow_of_a_manual_actor__pending_until_approved(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await node.patch("/api/v1/actors/atelier-fives", json={"manually_approves_followers": True})
    await deliver(app, node, clock, remote, remote.activity("Follow", 1, object=LOCAL_ACTOR))
    assert (await Follower.get(follower_iri=remote.actor_id)).state == FollowState.PENDING
    assert not await Delivery.filter(activity__type="Accept").exists()
    pending = (await node.get("/api/v1/followers", params={"state": "pending"})).json()
    assert [row["follower"] for row in pending] == [remote.actor_id]
    approved = await node.post(
        "/api/v1/actors/atelier-fives/followers/approve", json={"follower": remote.actor_id}
    )
    assert approved.status_code == 200 and approved.json()["state"] == "accepted"
    assert await Delivery.filter(activity__type="Accept").count() == 1
    again = await node.post(
        "/api/v1/actors/atelier-fives/followers/approve", json={"follower": remote.actor_id}
    )
    assert again.status_code == 409


async def test_undo_follow__only_by_the_follower(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    follow = remote.activity("Follow", 1, object=LOCAL_ACTOR)
    await deliver(app, node, clock, remote, follow)
    intruder = Remote.on(remote.peer, "mallory")
    forged = intruder.activity("Undo", 2, object={**follow, "actor": intruder.actor_id})
    assert (await deliver(app, node, clock, intruder, forged)).state == InboxState.IGNORED
    assert await Follower.exists(follower_iri=remote.actor_id)
    undo = remote.activity("Undo", 3, object={k: v for k, v in follow.items() if k != "@context"})
    assert (await deliver(app, node, clock, remote, undo)).state == InboxState.PROCESSED
    assert not await Follower.exists(follower_iri=remote.actor_id)


async def test_create_update_delete_of_a_followed_author(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await follow_remote(remote, clock)
    note = remote.note(1, content='<p>Vélo <script>alert(1)</script><a href="javascript:x">lien</a></p>')
    await deliver(app, node, clock, remote, remote.activity("Create", 1, object=note, to=[PUBLIC]))
    item = await CatalogueItem.get(iri=note["id"])
    assert "<script" not in item.content and "javascript:" not in item.content
    newer = {**note, "title": "Offre modifiée", "updated": "2025-10-12T09:00:00Z"}
    await deliver(app, node, clock, remote, remote.activity("Update", 2, object=newer, to=[PUBLIC]))
    assert (await CatalogueItem.get(iri=note["id"])).name == "Offre modifiée"
    older = {**note, "title": "Trop vieux", "updated": "2025-10-12T07:00:00Z"}
    await deliver(app, node, clock, remote, remote.activity("Update", 3, object=older, to=[PUBLIC]))
    assert (await CatalogueItem.get(iri=note["id"])).name == "Offre modifiée"
    tombstone = {
        "id": note["id"],
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": "2025-10-12T10:00:00Z",
    }
    await deliver(app, node, clock, remote, remote.activity("Delete", 4, object=tombstone, to=[PUBLIC]))
    assert not await CatalogueItem.exists(iri=note["id"])


async def test_content_of_an_author_not_followed__ignored(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    item = await deliver(
        app, node, clock, remote, remote.activity("Create", 1, object=remote.note(1), to=[PUBLIC])
    )
    assert item.state == InboxState.IGNORED
    assert await CatalogueItem.all().count() == 0


async def test_update_or_delete_of_someone_elses_object__ignored(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await follow_remote(remote, clock)
    note = remote.note(1)
    await deliver(app, node, clock, remote, remote.activity("Create", 1, object=note, to=[PUBLIC]))
    mallory = Remote.on(remote.peer, "mallory")
    hijack = {**note, "title": "Piraté", "updated": "2025-10-13T00:00:00Z"}
    update = mallory.activity("Update", 2, object=hijack, to=[PUBLIC])
    assert (await deliver(app, node, clock, mallory, update)).state == InboxState.IGNORED
    delete = mallory.activity("Delete", 3, object=note["id"], to=[PUBLIC])
    assert (await deliver(app, node, clock, mallory, delete)).state == InboxState.IGNORED
    stored = await CatalogueItem.get(iri=note["id"])
    assert stored.name == "Offre 1" and stored.actor_iri == remote.actor_id


async def test_relayed_create__believed_only_as_the_origin_serves_it(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    author = Remote.on(remote.peer, "dominique")
    await follow_remote(author, clock)
    genuine = author.note(5)
    remote.peer.serve(
        "/users/dominique/notes/5", {"@context": "https://www.w3.org/ns/activitystreams", **genuine}
    )
    forged = {**genuine, "title": "Contenu falsifié"}
    relayed = author.activity("Create", 5, object=forged, to=[PUBLIC])
    item = await deliver(app, node, clock, remote, relayed)  # signed by camille, actor dominique
    assert item.authentic is False and item.state == InboxState.PROCESSED
    assert (await CatalogueItem.get(iri=genuine["id"])).name == "Offre 5"


async def test_relayed_create_of_an_object_the_origin_does_not_serve__dropped(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    author = Remote.on(remote.peer, "dominique")
    await follow_remote(author, clock)
    relayed = author.activity("Create", 6, object=author.note(6), to=[PUBLIC])
    item = await deliver(app, node, clock, remote, relayed)
    assert item.state in (InboxState.IGNORED, InboxState.FAILED)
    assert await CatalogueItem.all().count() == 0


async def test_duplicate_delivery__processed_once(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    follow = remote.activity("Follow", 1, object=LOCAL_ACTOR)
    await deliver(app, node, clock, remote, follow)
    await deliver(app, node, clock, remote, follow)
    assert await InboxItem.all().count() == 1
    assert await Delivery.filter(activity__type="Accept").count() == 1


async def test_unknown_activity_types__stored_as_ignored(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    like = remote.activity("Like", 1, object=f"{LOCAL_ACTOR}/x")
    assert (await deliver(app, node, clock, remote, like)).state == InboxState.IGNORED


async def test_accept_of_our_follow__only_from_the_followed_actor(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    actor = await Actor.get(username="atelier-fives")
    follow_id = f"{LOCAL_ACTOR}/follows/1"
    await Following.create(
        actor=actor, target_iri=remote.actor_id, follow_activity_iri=follow_id, created_at=clock()
    )
    mallory = Remote.on(remote.peer, "mallory")
    assert (
        await deliver(app, node, clock, mallory, mallory.activity("Accept", 1, object=follow_id))
    ).state == InboxState.IGNORED
    assert (await Following.get(target_iri=remote.actor_id)).state == FollowState.PENDING
    accept = remote.activity("Accept", 2, object=follow_id)  # mitra: the Follow by id
    assert (await deliver(app, node, clock, remote, accept)).state == InboxState.PROCESSED
    assert (await Following.get(target_iri=remote.actor_id)).state == FollowState.ACCEPTED


async def test_unfollow__undo_queued_and_the_authors_items_dropped(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await resolve_actor(network_of(app), remote.actor_id)
    await follow_remote(remote, clock)
    await deliver(app, node, clock, remote, remote.activity("Create", 1, object=remote.note(1), to=[PUBLIC]))
    assert await CatalogueItem.exists(actor_iri=remote.actor_id)
    response = await node.delete(
        "/api/v1/follows", params={"actor": "atelier-fives", "target": remote.actor_id}
    )
    assert response.status_code == 204, response.text
    assert not await Following.exists(target_iri=remote.actor_id)
    assert not await CatalogueItem.exists(actor_iri=remote.actor_id)
    [undo] = await Delivery.filter(activity__type="Undo").prefetch_related("activity")
    assert undo.inbox == f"{remote.actor_id}/inbox"
    assert undo.activity.document["object"]["id"] == f"{LOCAL_ACTOR}#f"


async def test_relay_follow_from_mobilizon__only_events_forwarded(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    remote.peer.serve(
        "/.well-known/nodeinfo",
        {
            "links": [
                {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": remote.peer.url("/ni")}
            ]
        },
        content_type="application/json",
    )
    remote.peer.serve(
        "/ni",
        {
            "version": "2.1",
            "software": {"name": "mobilizon", "version": "5.1"},
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": False,
            "usage": {"users": {}},
            "metadata": {},
        },
        content_type="application/json",
    )
    follow = remote.activity("Follow", 1, object=PUBLIC)  # a Mastodon-style relay subscription
    assert (await deliver(app, node, clock, remote, follow)).state == InboxState.PROCESSED
    assert (await RemoteActor.get(iri=remote.actor_id)).software == "mobilizon"
    assert (await Follower.get(follower_iri=remote.actor_id)).state == FollowState.ACCEPTED
    listing = {
        "actor": "atelier-fives",
        "kind": "object",
        "title": "Pompe",
        "category": "velos-accessoires",
        "exchange": "gift",
        "tags": ["velo"],
    }
    assert (await node.post("/api/v1/listings", json=listing)).status_code == 201, "listing"
    event = {
        "actor": "atelier-fives",
        "name": "Atelier d'autoréparation",
        "start_time": "2025-10-20T14:00:00+02:00",
        "end_time": "2025-10-20T18:00:00+02:00",
        "location": {"name": "Lille", "latitude": 50.63, "longitude": 3.06},
    }
    created = await node.post("/api/v1/events", json=event)
    assert created.status_code == 201, created.text
    sent = await Delivery.filter(inbox=f"{remote.actor_id}/inbox").prefetch_related("activity")
    kinds = sorted(
        (
            row.activity.type,
            row.activity.document["object"]
            if row.activity.type == "Announce"
            else row.activity.document["object"]["type"],
        )
        for row in sent
    )
    assert [kind for kind, _ in kinds] == ["Accept", "Announce", "Create"]
    assert all("/events/" in str(obj) or obj == "Event" for kind, obj in kinds if kind != "Accept")


async def test_delete_before_its_create__the_late_create_does_not_revive_it(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await follow_remote(remote, clock)
    note = remote.note(9)
    tombstone = {
        "id": note["id"],
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": "2025-10-12T10:00:00Z",
    }
    await deliver(app, node, clock, remote, remote.activity("Delete", 2, object=tombstone, to=[PUBLIC]))
    late = await deliver(app, node, clock, remote, remote.activity("Create", 1, object=note, to=[PUBLIC]))
    assert late.state == InboxState.IGNORED
    assert not await CatalogueItem.exists(iri=note["id"])
