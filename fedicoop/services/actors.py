"""Local actors: the node's Application actor and its Organizations, with their key pairs."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from federation.keys import generate_rsa_keypair
from fedicoop.clock import edit_stamp
from fedicoop.errors import ConflictError, NotFoundError
from fedicoop.ids import uuid7
from fedicoop.models.actors import Actor, ActorKey
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.states import ActorKind, ListingState
from fedicoop.services.places import store_place
from fedicoop.services.publishing import Publisher
from schemas.api import ActorCreate, ActorUpdate
from schemas.limits import LOCAL_USERNAME_PATTERN

APPLICATION_USERNAME = "relay"


async def _create_with_key(actor: Actor) -> Actor:
    pair = await asyncio.to_thread(generate_rsa_keypair)  # ~0.1 s of CPU: keep it off the event loop
    private_pem, public_pem = pair.private_pem, pair.public_pem
    async with in_transaction():
        await actor.save()
        await ActorKey.create(
            actor=actor, private_pem=private_pem, public_pem=public_pem, created_at=actor.published
        )
    return actor


async def ensure_application_actor(node_name: str, now: datetime) -> Actor:
    """Return the node's Application actor, creating it (with its key pair) on first start."""
    existing = await Actor.get_or_none(kind=ActorKind.APPLICATION)
    if existing is not None:
        return existing
    actor = Actor(
        id=uuid7(),
        username=APPLICATION_USERNAME,
        kind=ActorKind.APPLICATION,
        name=f"{node_name} · fedicoop",
        summary=(
            f"Acteur technique du nœud fedicoop {node_name} : il relaie les annonces et les "
            "événements publics du nœud."
        ),
        discoverable=False,
        indexable=False,
        published=now,
        updated=now,
    )
    try:
        return await _create_with_key(actor)
    except IntegrityError:
        # Another process created it between our read and our write.
        return await Actor.get(kind=ActorKind.APPLICATION)


async def create_actor(data: ActorCreate, now: datetime) -> Actor:
    """Create an Organization actor with a fresh RSA-2048 key pair; 409 when the username is taken."""
    if await Actor.filter(username=data.username).exists():
        raise ConflictError(f"username {data.username!r} is already taken on this node")
    location = await store_place(data.location, now) if data.location else None
    actor = Actor(
        id=uuid7(),
        username=data.username,
        kind=ActorKind(data.kind.value),
        name=data.name,
        summary=data.summary,
        website=data.website,
        icon_url=data.icon_url,
        icon_media_type=_guess_image_type(data.icon_url),
        manually_approves_followers=data.manually_approves_followers,
        discoverable=data.discoverable,
        indexable=data.indexable,
        fields_json=[field.model_dump() for field in data.fields],
        location=location,
        published=now,
        updated=now,
    )
    try:
        return await _create_with_key(actor)
    except IntegrityError:
        raise ConflictError(f"username {data.username!r} is already taken on this node") from None


def _guess_image_type(url: str | None) -> str | None:
    if url is None:
        return None
    lowered = url.lower().split("?", 1)[0]
    for suffix, media_type in ((".png", "image/png"), (".webp", "image/webp"), (".gif", "image/gif")):
        if lowered.endswith(suffix):
            return media_type
    return "image/jpeg"


async def get_actor(
    username: str, *, include_application: bool = False, include_feeds: bool = False
) -> Actor:
    """The live local actor named ``username``; NotFoundError otherwise (and for the application actor and
    feed actors, unless asked for: they are no Organizations)."""
    if not re.fullmatch(LOCAL_USERNAME_PATTERN, username.lower()):  # no such name, and no NUL for PostgreSQL
        raise NotFoundError(f"no actor named {username!r} on this node")
    actor = await Actor.get_or_none(username=username.lower(), deleted_at=None).prefetch_related("location")
    if (
        actor is None
        or (actor.kind == ActorKind.APPLICATION and not include_application)
        or (actor.kind == ActorKind.FEED and not include_feeds)
    ):
        raise NotFoundError(f"no actor named {username!r} on this node")
    return actor


async def get_application_actor() -> Actor:
    """The node's Application actor (it exists once the node has started)."""
    actor = await Actor.get_or_none(kind=ActorKind.APPLICATION)
    if actor is None:
        raise NotFoundError(
            "the application actor does not exist yet: run `fedicoop migrate` and start the node"
        )
    return actor


async def list_actors() -> list[Actor]:
    """Every live Organization actor, by username."""
    return (
        await Actor.filter(deleted_at=None)
        .exclude(kind__in=[ActorKind.APPLICATION, ActorKind.FEED])
        .order_by("username")
        .prefetch_related("location")
    )


async def update_actor(username: str, data: ActorUpdate, publisher: Publisher, now: datetime) -> Actor:
    """Apply the fields present in ``data``, bump ``updated`` and publish the ``Update`` of the actor."""
    actor = await get_actor(username)
    changes = data.model_dump(exclude_unset=True, exclude={"location", "fields"})
    for key, value in changes.items():
        setattr(actor, key, value)
    if "icon_url" in changes:
        actor.icon_media_type = _guess_image_type(actor.icon_url)
    if data.fields is not None:
        actor.fields_json = [field.model_dump() for field in data.fields]
    if data.location is not None:
        actor.location = await store_place(data.location, now, current=actor.location)
    actor.updated = edit_stamp(now, actor.updated)
    async with in_transaction():
        await actor.save()
        await publisher.actor_updated(actor)
    return actor


async def delete_actor(username: str, publisher: Publisher, now: datetime) -> Actor:
    """Mark the actor deleted (its id answers 410 from now on), with its listings and events, and send
    ``Delete`` of the actor to its followers; its objects leave the node's own catalogue."""
    actor = await get_actor(username)
    async with in_transaction():
        actor.deleted_at = now
        actor.updated = now
        await actor.save()
        await Listing.filter(actor=actor, deleted_at=None).update(
            deleted_at=now, updated=now, state=ListingState.WITHDRAWN
        )
        await Event.filter(actor=actor, deleted_at=None).update(deleted_at=now, updated=now)
        await publisher.actor_deleted(actor)
    return actor
