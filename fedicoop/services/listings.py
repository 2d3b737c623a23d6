"""Listings: publish, change, pause, resume and withdraw offers and requests, and repair offers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from fedicoop.clock import edit_stamp
from fedicoop.errors import ConflictError, GoneError, NotFoundError, ValidationError
from fedicoop.ids import parse_object_id, uuid7
from fedicoop.models.listings import Listing
from fedicoop.models.places import Place
from fedicoop.models.states import Action, ActorKind, ListingKind, ListingState, Purpose
from fedicoop.services.actors import get_actor
from fedicoop.services.availability import imported_slots_json, live_repair_offer, refresh_next_slot
from fedicoop.services.places import store_place
from fedicoop.services.publishing import Publisher
from schemas.api import Exchange, ListingCreate, ListingUpdate, PlaceInput

DEFAULT_CATEGORY = {
    ListingKind.OBJECT: "autres-objets",
    ListingKind.SERVICE: "autres-services",
    ListingKind.REPAIR: "reparation-velo",
}


def action_for(kind: ListingKind, exchange: Exchange | None) -> Action:
    """The ValueFlows action of a listing (wire-format §5): a loan is ``transferCustody``."""
    if kind != ListingKind.OBJECT:
        return Action.DELIVER_SERVICE
    if exchange == Exchange.LOAN:
        return Action.TRANSFER_CUSTODY
    return Action.TRANSFER


def parse_listing_id(value: str) -> uuid.UUID:
    """Parse a listing id given as a UUID or as its full URL; ValidationError otherwise."""
    return parse_object_id(value, "a listing")


async def get_listing(listing_id: uuid.UUID, *, include_deleted: bool = False) -> Listing:
    """The listing with this id; NotFoundError if unknown, GoneError if withdrawn (unless asked)."""
    listing = await Listing.get_or_none(id=listing_id).prefetch_related("actor", "location")
    if listing is None:
        raise NotFoundError(f"no listing {listing_id} on this node")
    if listing.deleted_at is not None and not include_deleted:
        raise GoneError(f"listing {listing_id} was withdrawn")
    return listing


def served_places_json(places: Sequence[PlaceInput]) -> list[dict[str, Any]] | None:
    """The stored form of an itinerant workshop's served communes (None when there are none);
    coordinates rounded to 4 decimals, the precision of the wire format."""
    if not places:
        return None
    return [
        place.model_dump(mode="json")
        | {"latitude": round(place.latitude, 4), "longitude": round(place.longitude, 4)}
        for place in places
    ]


async def create_listing(
    data: ListingCreate,
    publisher: Publisher,
    now: datetime,
    *,
    listing_id: uuid.UUID | None = None,
    paused: bool = False,
    served_places: Sequence[PlaceInput] = (),
    imported_slots: Sequence[tuple[datetime, datetime]] | None = None,
) -> Listing:
    """Store a new listing and publish its ``Create``; a workshop has at most one repair offer.

    A new repair offer gets its ``nextSlot`` (and the Update carrying it) at once. Connectors may give
    the ``listing_id`` (a UUID not yet used on the node), create the listing ``paused``, give an itinerant
    workshop's ``served_places`` (blurred communes; the first is also the listing's place) and the
    repair offer's ``imported_slots`` (read-only, capacity unknown).
    """
    actor = await get_actor(data.actor)
    kind = ListingKind(data.kind)
    if kind == ListingKind.REPAIR:
        if actor.kind != ActorKind.WORKSHOP:
            raise ValidationError(
                f"only a workshop can publish a repair offer; {actor.username!r} is a {actor.kind.value}",
                field="kind",
            )
        if await live_repair_offer(actor) is not None:
            raise ConflictError(f"workshop {actor.username!r} already has a repair offer; update that one")
    if listing_id is not None and await Listing.exists(id=listing_id):
        raise ConflictError(f"listing id {listing_id} is already taken on this node")
    location: Place | None
    if served_places:
        location = await store_place(served_places[0], now)
    elif data.location:
        location = await store_place(data.location, now)
    else:
        location = actor.location
    async with in_transaction():
        listing = await Listing.create(
            id=listing_id or uuid7(),
            actor=actor,
            kind=kind,
            purpose=Purpose(data.purpose),
            action=action_for(kind, data.exchange),
            exchange=data.exchange if kind == ListingKind.OBJECT else None,
            state=ListingState.PAUSED if paused else ListingState.PUBLISHED,
            title=data.title,
            description=data.description,
            conditions=data.conditions,
            category=data.category or DEFAULT_CATEGORY[kind],
            quantity=data.quantity,
            price=data.price,
            unit_based=data.unit_based,
            deposit=data.deposit,
            loan_duration=data.loan_duration,
            wanted_from=data.wanted_from,
            wanted_until=data.wanted_until,
            external_url=data.external_url,
            tags=list(dict.fromkeys(data.tags)),
            images=[image.model_dump() for image in data.images],
            location=location,
            served_places=served_places_json(served_places),
            imported_slots=imported_slots_json(imported_slots) if kind == ListingKind.REPAIR else None,
            published=now,
            updated=now,
        )
        listing.actor = actor
        await publisher.created(listing)
        if kind == ListingKind.REPAIR:
            await refresh_next_slot(actor, publisher, now, force=True)
    return listing


async def update_listing(
    listing_id: uuid.UUID,
    data: ListingUpdate,
    publisher: Publisher,
    now: datetime,
    *,
    unit_based: bool | None = None,
    served_places: Sequence[PlaceInput] | None = None,
) -> Listing:
    """Apply the fields present in ``data``, pause or resume, and publish an ``Update``.

    Connectors may also change ``unit_based`` and replace the ``served_places`` (an empty sequence
    removes them; the first one becomes the listing's place).
    """
    listing = await get_listing(listing_id)
    changes = data.model_dump(exclude_unset=True, exclude={"location", "images", "paused", "tags"})
    for key, value in changes.items():
        if value is None and key in ("title", "description", "conditions", "category", "quantity"):
            raise ValidationError(f"{key} cannot be removed, only changed", field=key)
        setattr(listing, key, value)
    if data.tags is not None:
        listing.tags = list(dict.fromkeys(data.tags))
    if data.images is not None:
        listing.images = [image.model_dump() for image in data.images]
    if unit_based is not None:
        listing.unit_based = unit_based
    if served_places is not None:
        listing.served_places = served_places_json(served_places)
    if served_places:
        listing.location = await store_place(served_places[0], now, current=listing.location)
    elif data.location is not None:
        listing.location = await store_place(data.location, now, current=listing.location)
    if data.paused is not None:
        listing.state = ListingState.PAUSED if data.paused else ListingState.PUBLISHED
    _check_update_coherence(listing)
    listing.updated = edit_stamp(now, listing.updated)
    async with in_transaction():
        await listing.save()
        await publisher.updated(listing)
    return listing


def _check_update_coherence(listing: Listing) -> None:
    is_loan = listing.action == Action.TRANSFER_CUSTODY
    if (listing.deposit is not None or listing.loan_duration is not None) and not is_loan:
        raise ValidationError("deposit and loan_duration apply to loans only", field="deposit")
    if listing.wanted_from and listing.wanted_until and listing.wanted_until <= listing.wanted_from:
        raise ValidationError("wanted_until must be after wanted_from", field="wanted_until")


async def withdraw_listing(listing_id: uuid.UUID, publisher: Publisher, now: datetime) -> Listing:
    """Withdraw the listing: its id answers 410 with a Tombstone, and a ``Delete`` is published."""
    listing = await get_listing(listing_id)
    listing.state = ListingState.WITHDRAWN
    listing.deleted_at = now
    listing.updated = edit_stamp(now, listing.updated)
    async with in_transaction():
        await listing.save()
        await publisher.deleted(listing)
    return listing


async def list_listings(
    *,
    actor: str | None = None,
    kind: ListingKind | None = None,
    purpose: Purpose | None = None,
    include_paused: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> list[Listing]:
    """Live listings, newest first, optionally of one actor, one kind or one purpose."""
    query = Listing.filter(deleted_at=None)
    if actor is not None:
        query = query.filter(actor=await get_actor(actor))
    if kind is not None:
        query = query.filter(kind=kind)
    if purpose is not None:
        query = query.filter(purpose=purpose)
    if not include_paused:
        query = query.filter(state=ListingState.PUBLISHED)
    return (
        await query.order_by("-published", "-id")
        .offset(offset)
        .limit(limit)
        .prefetch_related("actor", "location")
    )
