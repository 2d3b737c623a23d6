"""Helpers of the delivery-queue tests: an open node database, actors, followers and activities."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from federation.keys import load_private_key
from fedicoop.clock import Clock
from fedicoop.db import open_database
from fedicoop.ids import uuid7
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor, ActorKey
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Follower
from fedicoop.models.states import FollowState
from fedicoop.node import Node, build_node
from fedicoop.services.actors import create_actor, ensure_application_actor, get_application_actor
from fedicoop.settings import Settings
from schemas.api import ActorCreate
from tests.federation.loopback import Peer


@asynccontextmanager
async def open_node(settings: Settings, clock: Clock) -> AsyncIterator[Node]:
    """The node of ``settings`` with its database open and its application actor created."""
    node = build_node(settings, clock)
    async with open_database(settings):
        await ensure_application_actor(settings.display_name, clock())
        yield node


async def organization(username: str, now: datetime) -> Actor:
    """A cooperative actor (with its key pair)."""
    return await create_actor(ActorCreate(username=username, kind="cooperative", name=username.title()), now)


async def follower(
    actor: Actor,
    iri: str,
    inbox: str,
    now: datetime,
    *,
    shared_inbox: str | None = None,
    state: FollowState = FollowState.ACCEPTED,
    software: str | None = None,
    gone: bool = False,
) -> Follower:
    """A remote follower of ``actor``, with its RemoteActor row."""
    host = iri.split("/")[2]
    await RemoteActor.get_or_create(
        iri=iri,
        defaults={
            "host": host,
            "type": "Person",
            "inbox": inbox,
            "shared_inbox": shared_inbox,
            "software": software,
            "gone": gone,
            "document": {"id": iri},
            "fetched_at": now,
        },
    )
    return await Follower.create(
        actor=actor,
        follower_iri=iri,
        inbox=inbox,
        shared_inbox=shared_inbox,
        follow_activity_iri=f"{iri}#follow-{uuid.uuid4().hex[:6]}",
        state=state,
        created_at=now,
    )


async def relay_follower(node: Node, iri: str, inbox: str, now: datetime, **options: Any) -> Follower:
    """A remote follower of the node's application actor."""
    return await follower(await get_application_actor(), iri, inbox, now, **options)


async def activity(
    node: Node, actor: Actor, now: datetime, *, document: dict[str, Any] | None = None
) -> Activity:
    """A stored public Create by ``actor`` (its document as given, or a small Note)."""
    activity_id = uuid7()
    actor_iri = node.documents.actors.actor_id(actor)
    body = document or {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": node.urls.activity(activity_id),
        "type": "Create",
        "actor": actor_iri,
        "object": {"id": f"{actor_iri}/notes/{activity_id}", "type": "Note", "content": "Vélo à donner"},
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    return await Activity.create(
        id=activity_id,
        actor_iri=actor_iri,
        type=body["type"],
        object_iri=f"{actor_iri}/notes/{activity_id}",
        document=body,
        published=now,
    )


async def trust(peer: Peer, node: Node, actor: Actor) -> None:
    """Let loopback ``peer`` verify the signatures of local ``actor``."""
    key = await ActorKey.get(actor=actor)
    actor_iri = node.documents.actors.actor_id(actor)
    peer.trust(node.urls.key_id(actor_iri), actor_iri, load_private_key(key.private_pem))  # type: ignore[arg-type]
