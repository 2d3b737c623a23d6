"""Comparing a spec with what the node publishes, and turning specs into the services' update bodies.

The engine (:mod:`fedicoop.connectors.sync`) decides with these whether an actor's profile or hours
changed, whether a listing must be published anew (its author or nature changed), and builds the
``ActorUpdate``, ``ListingUpdate`` and ``EventUpdate`` that carry a whole spec.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fedicoop.connectors.specs import ActorSpec, EventSpec, ImportedSlot, ListingSpec
from fedicoop.models.actors import Actor, Availability
from fedicoop.models.listings import Listing
from fedicoop.models.states import ListingKind
from fedicoop.services.listings import DEFAULT_CATEGORY
from fedicoop.services.places import place_input
from schemas.api import ActorUpdate, AvailabilityInput, EventUpdate, ListingCreate, ListingUpdate, PlaceInput

__all__ = [
    "USERNAME_MAX",
    "actor_update",
    "availability_differs",
    "event_update",
    "free_username",
    "listing_update",
    "profile_differs",
    "replaced",
    "slot_pairs",
    "slots_fingerprint",
]

USERNAME_MAX = 64


def slots_fingerprint(slots: Sequence[ImportedSlot] | None) -> str | None:
    """A digest of a repair offer's imported slots (None when it has none), whatever their order."""
    if slots is None:
        return None
    moments = sorted((slot.start.timestamp(), slot.end.timestamp()) for slot in slots)
    return hashlib.sha256(json.dumps(moments).encode("ascii")).hexdigest()


def _rounded_place(place: PlaceInput | None) -> dict[str, Any] | None:
    if place is None:
        return None
    values = place.model_dump(mode="json")
    values["latitude"], values["longitude"] = round(place.latitude, 4), round(place.longitude, 4)
    return values


def profile_differs(actor: Actor, spec: ActorSpec) -> bool:
    """Whether the actor's stored profile differs from the spec's (the username and kind aside)."""
    wanted = spec.profile.model_dump(mode="json", exclude={"username", "kind", "location"})
    current = {
        "name": actor.name,
        "summary": actor.summary,
        "website": actor.website,
        "icon_url": actor.icon_url,
        "manually_approves_followers": actor.manually_approves_followers,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "fields": list(actor.fields_json),
    }
    if wanted != current:
        return True
    if spec.profile.location is None:
        return False  # a place cannot be removed, only changed
    stored = _rounded_place(place_input(actor.location)) if actor.location is not None else None
    return stored != _rounded_place(spec.profile.location)


def availability_differs(availability: Availability | None, spec: ActorSpec) -> bool:
    """Whether the stored hours, closures, slot length, capacity or booking page differ from the spec's."""
    if spec.availability is None:
        return False
    if availability is None:
        return True
    stored = AvailabilityInput.model_validate(
        {
            "hours": availability.hours_json,
            "closures": availability.closures_json,
            "slot_minutes": availability.slot_minutes,
            "capacity": availability.capacity,
        }
    )
    booking = availability.booking_url if availability.read_only else None
    return stored.model_dump(mode="json") != spec.availability.model_dump(mode="json") or booking != (
        spec.booking_url
    )


def actor_update(spec: ActorSpec) -> ActorUpdate:
    profile = spec.profile
    return ActorUpdate.model_validate(
        {
            "name": profile.name,
            "summary": profile.summary,
            "website": profile.website,
            "icon_url": profile.icon_url,
            "manually_approves_followers": profile.manually_approves_followers,
            "discoverable": profile.discoverable,
            "indexable": profile.indexable,
            "fields": [field.model_dump() for field in profile.fields],
            "location": profile.location.model_dump() if profile.location is not None else None,
        }
    )


def _default_place(data_location: PlaceInput | None, owner: Actor) -> dict[str, Any] | None:
    if data_location is not None:
        return data_location.model_dump()
    return place_input(owner.location).model_dump() if owner.location is not None else None


def listing_update(spec: ListingSpec, owner: Actor) -> ListingUpdate:
    data = spec.data
    return ListingUpdate.model_validate(
        {
            "title": data.title,
            "description": data.description,
            "category": data.category or DEFAULT_CATEGORY[ListingKind(data.kind)],
            "price": data.price,
            "deposit": data.deposit,
            "loan_duration": data.loan_duration,
            "quantity": data.quantity,
            "wanted_from": data.wanted_from,
            "wanted_until": data.wanted_until,
            "conditions": data.conditions,
            "external_url": data.external_url,
            "tags": list(data.tags),
            "images": [image.model_dump() for image in data.images],
            "location": _default_place(data.location, owner),
            "paused": spec.paused,
        }
    )


def event_update(spec: EventSpec, owner: Actor) -> EventUpdate:
    data = spec.data
    return EventUpdate.model_validate(
        {
            "name": data.name,
            "description": data.description,
            "start_time": data.start_time,
            "end_time": data.end_time,
            "price_text": data.price_text,
            "registration_url": data.registration_url,
            "capacity": data.capacity,
            "status": data.status,
            "is_online": data.is_online,
            "banner_url": data.banner_url,
            "tags": list(data.tags),
            "location": _default_place(data.location, owner),
        }
    )


def replaced(listing: Listing, owner: Actor, data: ListingCreate) -> bool:
    """Whether the listing must be withdrawn and published anew: its author or its nature changed."""
    exchange = data.exchange if data.kind == ListingKind.OBJECT.value else None
    return (
        listing.actor.id != owner.id
        or listing.kind.value != data.kind
        or listing.purpose.value != data.purpose
        or listing.exchange != exchange
    )


def slot_pairs(slots: Sequence[ImportedSlot] | None) -> list[tuple[datetime, datetime]] | None:
    return None if slots is None else [(slot.start, slot.end) for slot in slots]


async def free_username(wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… (cut to 64 characters): the first not taken."""
    if not await Actor.exists(username=wanted):
        return wanted
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = wanted[: USERNAME_MAX - len(suffix)] + suffix
        if not await Actor.exists(username=candidate):
            return candidate
        number += 1
