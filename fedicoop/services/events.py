"""Events: publish, change, cancel and delete repair cafés, workshops and meetings."""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.transactions import in_transaction

from fedicoop.clock import edit_stamp
from fedicoop.errors import GoneError, NotFoundError, ValidationError
from fedicoop.ids import parse_object_id, uuid7
from fedicoop.models.events import Event
from fedicoop.models.states import EventStatus
from fedicoop.services.actors import get_actor
from fedicoop.services.places import store_place
from fedicoop.services.publishing import Publisher
from schemas.api import EventCreate, EventUpdate


def parse_event_id(value: str) -> uuid.UUID:
    """Parse an event id given as a UUID or as its full URL; ValidationError otherwise."""
    return parse_object_id(value, "an event")


async def get_event(event_id: uuid.UUID, *, include_deleted: bool = False) -> Event:
    """The event with this id; NotFoundError if unknown, GoneError if deleted (unless asked)."""
    event = await Event.get_or_none(id=event_id).prefetch_related("actor", "location")
    if event is None:
        raise NotFoundError(f"no event {event_id} on this node")
    if event.deleted_at is not None and not include_deleted:
        raise GoneError(f"event {event_id} was deleted")
    return event


async def create_event(data: EventCreate, publisher: Publisher, now: datetime) -> Event:
    """Store a new event and publish its ``Create``; it needs a place unless it is online."""
    actor = await get_actor(data.actor)
    location = await store_place(data.location, now) if data.location else actor.location
    if location is None and not data.is_online:
        raise ValidationError(
            f"an event needs a location: give one, or give {actor.username!r} a location first",
            field="location",
        )
    async with in_transaction():
        event = await Event.create(
            id=uuid7(),
            actor=actor,
            name=data.name,
            description=data.description,
            price_text=data.price_text,
            start_time=data.start_time,
            end_time=data.end_time,
            registration_url=data.registration_url,
            capacity=data.capacity,
            status=EventStatus(data.status.value),
            is_online=data.is_online,
            banner_url=data.banner_url,
            banner_media_type="image/jpeg" if data.banner_url else None,
            tags=list(dict.fromkeys(data.tags)),
            location=location,
            published=now,
            updated=now,
        )
        event.actor = actor
        await publisher.created(event)
    return event


async def update_event(event_id: uuid.UUID, data: EventUpdate, publisher: Publisher, now: datetime) -> Event:
    """Apply the fields present in ``data`` and publish an ``Update`` (cancelling is an update)."""
    event = await get_event(event_id)
    changes = data.model_dump(exclude_unset=True, exclude={"location", "tags", "status"})
    for key, value in changes.items():
        if value is None and key in ("name", "start_time", "end_time", "description", "price_text"):
            raise ValidationError(f"{key} cannot be removed, only changed", field=key)
        setattr(event, key, value)
    if data.status is not None:
        event.status = EventStatus(data.status.value)
    if data.tags is not None:
        event.tags = list(dict.fromkeys(data.tags))
    if data.location is not None:
        event.location = await store_place(data.location, now, current=event.location)
    if "banner_url" in changes:
        event.banner_media_type = "image/jpeg" if event.banner_url else None
    if event.end_time <= event.start_time:
        raise ValidationError("end_time must be after start_time", field="end_time")
    event.updated = edit_stamp(now, event.updated)
    async with in_transaction():
        await event.save()
        await publisher.updated(event)
    return event


async def delete_event(event_id: uuid.UUID, publisher: Publisher, now: datetime) -> Event:
    """Delete an event published by mistake (to call an event off, cancel it with an update)."""
    event = await get_event(event_id)
    event.deleted_at = now
    event.updated = edit_stamp(now, event.updated)
    async with in_transaction():
        await event.save()
        await publisher.deleted(event)
    return event


async def list_events(
    *, actor: str | None = None, upcoming_after: datetime | None = None, limit: int = 100, offset: int = 0
) -> list[Event]:
    """Live events by start time, optionally of one actor and ending after a moment."""
    query = Event.filter(deleted_at=None)
    if actor is not None:
        query = query.filter(actor=await get_actor(actor))
    if upcoming_after is not None:
        query = query.filter(end_time__gt=upcoming_after)
    return (
        await query.order_by("start_time", "id")
        .offset(offset)
        .limit(limit)
        .prefetch_related("actor", "location")
    )
