"""A remote Join of one of our events is answered with Ignore by the organiser (wire-format §7, FEP-8a8e).

The Join is delivered signed to the node in process and the inbox job runs once; the Ignore is then
really delivered by the delivery job to the joining actor's loopback peer, which checks its signature
with the organiser's key.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from fedicoop.models.activities import Activity
from fedicoop.models.deliveries import Delivery
from fedicoop.models.inbox import InboxItem
from fedicoop.models.states import DeliveryState, InboxState
from fedicoop.services.processing import InboxJob
from tests.conftest import TEST_BASE_URL, Clock
from tests.fedicoop.remote import LOCAL_ACTOR, Remote, deliver_to, network_of, post_signed

pytestmark = pytest.mark.anyio


async def publish_event(node: httpx.AsyncClient) -> str:
    response = await node.post(
        "/api/v1/events",
        json={
            "actor": "atelier-fives",
            "name": "Atelier d'autoréparation du samedi",
            "start_time": "2025-10-18T10:00:00+02:00",
            "end_time": "2025-10-18T13:00:00+02:00",
            "location": {"name": "Lille", "latitude": 50.6309, "longitude": 3.0709, "locality": "Lille"},
        },
    )
    assert response.status_code == 201, response.text
    event_id: str = response.json()["id"]
    return event_id


async def deliver(
    app: Starlette, node: httpx.AsyncClient, clock: Clock, remote: Remote, document: dict[str, Any]
) -> InboxItem:
    response = await post_signed(node, clock, remote, document)
    assert response.status_code == 202, response.text
    assert await InboxJob(network_of(app), "test")(clock()) == 1
    return await InboxItem.get(activity_iri=document["id"])


async def test_join_of_our_event__answered_with_ignore_by_the_organiser(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    event = await publish_event(node)
    join = remote.activity("Join", 1, object=event)
    item = await deliver(app, node, clock, remote, join)
    assert item.state == InboxState.PROCESSED, item.last_error
    ignore = await Activity.get(type="Ignore")
    assert ignore.public is False
    assert ignore.document == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{TEST_BASE_URL}/activities/{ignore.id}",
        "type": "Ignore",
        "actor": LOCAL_ACTOR,
        "object": join["id"],
        "to": [remote.actor_id],
    }
    [delivery] = await Delivery.filter(activity_id=ignore.id)
    assert (delivery.inbox, delivery.state) == (f"{remote.actor_id}/inbox", DeliveryState.PENDING)

    [hit] = await deliver_to(remote, app, clock)
    assert (hit.signer, hit.signature_error) == (LOCAL_ACTOR, None)
    assert json.loads(hit.body) == ignore.document
    assert (await Delivery.get(id=delivery.id)).state == DeliveryState.DELIVERED


@pytest.mark.parametrize(
    "target",
    [
        f"{TEST_BASE_URL}/events/0199a8c4-1f2e-7a3b-8c4d-5e6f7a8b9c0d",  # no such event
        f"{TEST_BASE_URL}/events/not-a-uuid",
        f"{TEST_BASE_URL}/actors/atelier-fives",  # not an event
        "http://127.0.0.2:9/events/0199a8c4-1f2e-7a3b-8c4d-5e6f7a8b9c0d",  # someone else's event
    ],
)
async def test_join_of_something_not_our_event__ignored_without_answer(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote, target: str
) -> None:
    node, app = node_app
    item = await deliver(app, node, clock, remote, remote.activity("Join", 1, object=target))
    assert item.state == InboxState.IGNORED
    assert not await Activity.exists(type="Ignore")


async def test_join_of_a_deleted_event__ignored_without_answer(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    event = await publish_event(node)
    assert (await node.delete("/api/v1/events/" + event.rsplit("/", 1)[1])).status_code in (200, 204)
    item = await deliver(app, node, clock, remote, remote.activity("Join", 1, object=event))
    assert item.state == InboxState.IGNORED
    assert not await Activity.exists(type="Ignore")


async def test_relayed_join__not_answered(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    """A Join signed by someone else than its actor must not make us write to that actor."""
    node, app = node_app
    event = await publish_event(node)
    other = Remote.on(remote.peer, "dominique")
    forged = {**other.activity("Join", 1, object=event)}
    item = await deliver(app, node, clock, remote, forged)
    assert (item.authentic, item.state) == (False, InboxState.IGNORED)
    assert not await Activity.exists(type="Ignore")
    assert remote.peer.requests_to("/users/dominique") == []
