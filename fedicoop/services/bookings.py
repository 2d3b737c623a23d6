"""Answering booking offers (wire-format §6.3): for now, only the refusal by a read-only workshop.

A workshop whose slots are imported read-only (Rustine Libre) takes no appointment here: every
``Offer{Agreement}`` addressed to it alone is answered once, by the workshop, with a ``Reject`` whose
``content`` gives its booking page. Other booking offers are not processed yet. Nothing of the Offer is
kept but its id, the Reject's ``object``: its ``content`` may describe the requester's repair.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic
from tortoise.transactions import in_transaction

from federation.addressing import actor_id_of, is_public, recipients
from fedicoop.ids import uuid7
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor, Availability
from fedicoop.models.states import ActorKind
from fedicoop.network import Network
from fedicoop.services.deliveries import Target
from fedicoop.services.remote_actors import resolve_actor
from schemas.activities import Offer, Reject
from schemas.bookings import Agreement
from schemas.context import AS_CONTEXT

__all__ = ["answer_offer", "refusal_text"]


def refusal_text(booking_url: str) -> str:
    """The plain-text reason of a read-only workshop's Reject: where its appointments are made.

    >>> refusal_text("https://rustine.example/reparateur/1/creneaux")
    'Les réservations de cet atelier se font sur sa page : https://rustine.example/reparateur/1/creneaux'
    """
    return f"Les réservations de cet atelier se font sur sa page : {booking_url}"


def _is_booking(activity: Mapping[str, Any]) -> bool:
    """Whether the activity reads as an ``Offer`` whose object is an embedded ``Agreement``."""
    try:
        offer = Offer.model_validate(activity)
    except pydantic.ValidationError:
        return False
    return isinstance(offer.object, Agreement)


async def _read_only_workshop(network: Network, activity: Mapping[str, Any]) -> tuple[Actor, str] | None:
    """The local workshop the Offer is addressed to, alone and not publicly, with its booking page;
    ``None`` unless that workshop's availability is read-only."""
    addressed = recipients(activity)
    if is_public(activity) or len(addressed) != 1:
        return None
    username = network.node.urls.local_username(addressed[0])
    if username is None:
        return None
    actor = await Actor.get_or_none(username=username, kind=ActorKind.WORKSHOP, deleted_at=None)
    if actor is None:
        return None
    availability = await Availability.get_or_none(actor=actor)
    if availability is None or not availability.read_only or not availability.booking_url:
        return None
    return actor, availability.booking_url


async def answer_offer(network: Network, activity: Mapping[str, Any]) -> bool:
    """Answer an authentic booking Offer; True when it is refused (now or before), False when not ours.

    Only a workshop whose slots are read-only answers, with a ``Reject`` naming its booking page, sent
    once per Offer id to the requester alone. Any other Offer, or one from a host that does not
    federate with the node or whose actor is gone, gets no answer.
    """
    offer_id = actor_id_of(activity)
    requester = actor_id_of(activity.get("actor"))
    if offer_id is None or requester is None or not _is_booking(activity):
        return False
    found = await _read_only_workshop(network, activity)
    if found is None or not network.hosts.allows_url(requester):
        return False
    workshop, booking_url = found
    workshop_iri = network.node.documents.actors.actor_id(workshop)
    if await Activity.exists(type="Reject", actor_iri=workshop_iri, object_iri=offer_id):
        return True
    remote = await resolve_actor(network, requester)
    if remote.gone:
        return False
    activity_id = uuid7()
    document = Reject.model_validate(
        {
            "@context": AS_CONTEXT,
            "id": network.node.urls.activity(activity_id),
            "actor": workshop_iri,
            "object": offer_id,
            "to": [remote.iri],
            "content": refusal_text(booking_url),
        }
    ).to_wire()
    target = Target(inbox=remote.delivery_inbox, recipient_iri=remote.iri)
    async with in_transaction():  # the Reject and its delivery land together
        await network.node.publisher.send("Reject", workshop, document, [target], activity_id=activity_id)
    return True
