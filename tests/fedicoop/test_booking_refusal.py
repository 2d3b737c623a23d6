"""A workshop whose slots are imported read-only answers every booking Offer with Reject (wire-format §6.3).

The Offer is delivered signed to the node in process and the inbox job runs; the Reject is then really
delivered by the delivery job to the requester's loopback peer, which checks its signature with the
workshop's key. Offers the node does not answer yet are stored as ignored, with nothing sent.
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
from fedicoop.services.availability import set_availability
from fedicoop.services.processing import InboxJob
from schemas.api import AvailabilityInput
from tests.conftest import TEST_BASE_URL, Clock
from tests.fedicoop.remote import LOCAL_ACTOR, PUBLIC, Remote, deliver_to, network_of, post_signed

pytestmark = pytest.mark.anyio

BOOKING_PAGE = "https://rustine.example/reparateur/1/creneaux"
COOPERATIVE = f"{TEST_BASE_URL}/actors/partage-lille"
SLOT = f"{TEST_BASE_URL}/listings/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812/slots#2025-10-14T12:00Z"


def agreement() -> dict[str, Any]:
    """The proposed Agreement of §6.3: one place of one slot."""
    return {
        "type": "Agreement",
        "stipulates": {
            "type": "Commitment",
            "satisfies": SLOT,
            "resourceQuantity": {"hasUnit": "one", "hasNumericalValue": "1"},
            "hasBeginning": "2025-10-14T14:00:00+02:00",
            "hasEnd": "2025-10-14T15:00:00+02:00",
        },
    }


def offer(remote: Remote, number: int = 1, **fields: Any) -> dict[str, Any]:
    """A booking Offer of ``remote`` to the workshop, as §6.3 writes it."""
    values: dict[str, Any] = {
        "to": [LOCAL_ACTOR],
        "published": "2025-10-13T05:00:00Z",
        "content": "Vélo de ville, les freins frottent.",
        "object": agreement(),
        **fields,
    }
    return remote.activity("Offer", number, **values)


async def make_workshop(app: Starlette, clock: Clock, *, booking_url: str | None) -> None:
    """Give the workshop its availability, read-only when ``booking_url`` is set."""
    publisher = network_of(app).node.publisher
    await set_availability("atelier-fives", AvailabilityInput(), publisher, clock(), booking_url=booking_url)


async def deliver(
    app: Starlette, node: httpx.AsyncClient, clock: Clock, remote: Remote, document: dict[str, Any]
) -> InboxItem:
    """POST the activity signed by ``remote``, run the inbox job once, return the stored item."""
    response = await post_signed(node, clock, remote, document)
    assert response.status_code == 202, response.text
    await InboxJob(network_of(app), "test")(clock())
    return await InboxItem.get(activity_iri=document["id"])


async def rejects() -> list[Activity]:
    return await Activity.filter(type="Reject").order_by("published")


async def test_offer_to_a_read_only_workshop__one_reject_naming_its_booking_page(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await make_workshop(app, clock, booking_url=BOOKING_PAGE)
    booking = offer(remote)
    item = await deliver(app, node, clock, remote, booking)
    assert item.state == InboxState.PROCESSED, item.last_error
    [reject] = await rejects()
    assert reject.public is False and reject.object_iri == booking["id"]
    assert reject.document == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{TEST_BASE_URL}/activities/{reject.id}",
        "type": "Reject",
        "actor": LOCAL_ACTOR,
        "object": booking["id"],
        "to": [remote.actor_id],
        "content": f"Les réservations de cet atelier se font sur sa page : {BOOKING_PAGE}",
    }
    assert "freins" not in json.dumps(reject.document)  # nothing of the requester's text is kept
    [delivery] = await Delivery.filter(activity_id=reject.id)
    assert (delivery.inbox, delivery.state) == (f"{remote.actor_id}/inbox", DeliveryState.PENDING)

    [hit] = await deliver_to(remote, app, clock)
    assert (hit.signer, hit.signature_error) == (LOCAL_ACTOR, None)
    received = json.loads(hit.body)
    assert received == reject.document and BOOKING_PAGE in received["content"]
    assert "cc" not in received and PUBLIC not in received["to"]
    assert (await Delivery.get(id=delivery.id)).state == DeliveryState.DELIVERED


async def test_same_offer_delivered_or_processed_twice__one_reject(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await make_workshop(app, clock, booking_url=BOOKING_PAGE)
    booking = offer(remote)
    await deliver(app, node, clock, remote, booking)
    item = await deliver(app, node, clock, remote, booking)  # the inbox acknowledges the duplicate
    assert await InboxItem.all().count() == 1
    item.state, item.next_attempt_at = InboxState.RECEIVED, clock()  # as if a lease had run out
    await item.save(update_fields=["state", "next_attempt_at"])
    await InboxJob(network_of(app), "test")(clock())
    assert (await InboxItem.get(id=item.id)).state == InboxState.PROCESSED
    [reject] = await rejects()
    assert await Delivery.filter(activity_id=reject.id).count() == 1


async def test_offer_to_a_workshop_taking_its_own_bookings__not_answered_yet(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await make_workshop(app, clock, booking_url=None)
    item = await deliver(app, node, clock, remote, offer(remote))
    assert item.state == InboxState.IGNORED
    assert await rejects() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"object": "https://rustine.example/agreements/1"},  # an id, not an Agreement
        {"object": {"type": "Note", "content": "Bonjour"}},  # not an Agreement
        {"to": [PUBLIC, LOCAL_ACTOR]},  # a booking is never public
        {"to": [LOCAL_ACTOR], "cc": [COOPERATIVE]},  # not to the workshop alone
        {"to": [f"{TEST_BASE_URL}/actors/inconnu"]},  # no such actor
        {"to": [COOPERATIVE]},  # not a workshop
        {"to": [f"{TEST_BASE_URL}/actor"]},  # the application actor
    ],
)
async def test_offer_that_is_not_a_booking_of_the_read_only_workshop__ignored(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote, fields: dict[str, Any]
) -> None:
    node, app = node_app
    await make_workshop(app, clock, booking_url=BOOKING_PAGE)
    cooperative = {"username": "partage-lille", "kind": "cooperative", "name": "Partage"}
    assert (await node.post("/api/v1/actors", json=cooperative)).status_code == 201
    item = await deliver(app, node, clock, remote, offer(remote, **fields))
    assert item.state == InboxState.IGNORED
    assert await rejects() == []


async def test_relayed_offer__not_answered(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    """An Offer signed by someone else than its actor must not make the workshop write to that actor."""
    node, app = node_app
    await make_workshop(app, clock, booking_url=BOOKING_PAGE)
    other = Remote.on(remote.peer, "dominique")
    item = await deliver(app, node, clock, remote, offer(other))
    assert (item.authentic, item.state) == (False, InboxState.IGNORED)
    assert await rejects() == []
    assert remote.peer.requests_to("/users/dominique") == []


async def test_offer_badly_signed__refused_at_the_inbox(
    node_app: tuple[httpx.AsyncClient, Starlette], clock: Clock, remote: Remote
) -> None:
    node, app = node_app
    await make_workshop(app, clock, booking_url=BOOKING_PAGE)
    forger = Remote.on(remote.peer, "mallory")
    response = await post_signed(node, clock, remote, offer(remote), key=forger.key)
    assert response.status_code == 401, response.text
    assert not await InboxItem.exists()
    assert await rejects() == []
