"""Answering a remote ``Join`` of one of our events with ``Ignore`` (wire-format §7, §9.1, FEP-8a8e).

Participation happens outside ActivityPub (``joinMode: "external"``), so a Join is never stored as an
RSVP: the event's organiser answers the joining actor with an ``Ignore`` whose ``object`` is the Join id,
queued like every activity we send.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from federation.addressing import actor_id_of
from fedicoop.ids import uuid7
from fedicoop.models.events import Event
from fedicoop.network import Network
from fedicoop.services.deliveries import Target
from fedicoop.services.remote_actors import resolve_actor
from schemas.context import AS_CONTEXT

__all__ = ["ignore_join"]


async def _joined_event(network: Network, object_iri: str | None) -> Event | None:
    prefix = network.node.urls.absolute("/events/")
    if object_iri is None or not object_iri.startswith(prefix):
        return None
    try:
        event_id = uuid.UUID(object_iri.removeprefix(prefix))
    except ValueError:
        return None
    return await Event.get_or_none(id=event_id, deleted_at=None).prefetch_related("actor")


async def ignore_join(network: Network, activity: Mapping[str, Any]) -> bool:
    """Answer a Join of one of our live events with the organiser's Ignore; False when not ours to answer.

    The joining actor is fetched (or taken from the store) for its inbox; a Join of something else, of
    a deleted event, or from a host that does not federate with the node gets no answer.
    """
    event = await _joined_event(network, actor_id_of(activity.get("object")))
    joiner = actor_id_of(activity.get("actor"))
    if event is None or joiner is None or not network.hosts.allows_url(joiner):
        return False
    remote = await resolve_actor(network, joiner)
    if remote.gone:
        return False
    organiser = event.actor
    activity_id = uuid7()
    document = {
        "@context": AS_CONTEXT,
        "id": network.node.urls.activity(activity_id),
        "type": "Ignore",
        "actor": network.node.documents.actors.actor_id(organiser),
        "object": str(activity["id"]),
        "to": [remote.iri],
    }
    target = Target(inbox=remote.delivery_inbox, recipient_iri=remote.iri)
    await network.node.publisher.send("Ignore", organiser, document, [target], activity_id=activity_id)
    return True
