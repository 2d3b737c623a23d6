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

from pydantic import BaseModel

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


def _fields_of(model: BaseModel, target: type[BaseModel]) -> dict[str, Any]:
    """The values of ``model`` that the update model ``target`` has a field for."""
    return model.model_dump(include=set(target.model_fields))


def actor_update(spec: ActorSpec) -> ActorUpdate:
    return ActorUpdate.model_validate(_fields_of(spec.profile, ActorUpdate))


def _default_place(data_location: PlaceInput | None, owner: Actor) -> dict[str, Any] | None:
    if data_location is not None:
        return data_location.model_dump()
    return place_input(owner.location).model_dump() if owner.location is not None else None


def listing_update(spec: ListingSpec, owner: Actor) -> ListingUpdate:
    data = spec.data
    return ListingUpdate.model_validate(
        {
            **_fields_of(data, ListingUpdate),
            "category": data.category or DEFAULT_CATEGORY[ListingKind(data.kind)],
            "location": _default_place(data.location, owner),
            "paused": spec.paused,
        }
    )


def event_update(spec: EventSpec, owner: Actor) -> EventUpdate:
    data = spec.data
    return EventUpdate.model_validate(
        {**_fields_of(data, EventUpdate), "location": _default_place(data.location, owner)}
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
