"""Repair availability: a workshop's hours, closures, slot length and capacity, and its free slots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from fedicoop.clock import edit_stamp
from fedicoop.domain.french import to_paris
from fedicoop.domain.slots import DEFAULT_HORIZON_DAYS, Slot, compute_slots
from fedicoop.errors import NotFoundError, ValidationError
from fedicoop.models.actors import Actor, Availability
from fedicoop.models.bookings import Booking
from fedicoop.models.listings import Listing
from fedicoop.models.states import ActorKind, BookingState, ListingKind
from fedicoop.services.actors import get_actor
from fedicoop.services.publishing import Publisher
from schemas.api import AvailabilityInput

HOLDING_STATES = (BookingState.PENDING, BookingState.ACCEPTED)


async def live_repair_offer(actor: Actor) -> Listing | None:
    """The workshop's live repair offer, if it has one."""
    return (
        await Listing.filter(actor=actor, kind=ListingKind.REPAIR, deleted_at=None)
        .prefetch_related("actor", "location")
        .first()
    )


async def get_availability(username: str) -> Availability:
    """The workshop's availability; NotFoundError when the actor is not a workshop or has none."""
    actor = await get_actor(username)
    availability = await Availability.get_or_none(actor=actor)
    if availability is None:
        raise NotFoundError(f"{username!r} has no repair availability yet")
    return availability


async def availability_snapshot(
    username: str, now: datetime
) -> tuple[Actor, Availability, Listing | None, list[Slot]]:
    """A workshop, its availability, its live repair offer and that offer's free slots from ``now``."""
    actor = await get_actor(username)
    availability = await get_availability(username)
    offer = await live_repair_offer(actor)
    slots = await free_slots(offer, now) if offer is not None else []
    return actor, availability, offer, slots


def imported_slots_json(slots: Sequence[tuple[datetime, datetime]] | None) -> list[dict[str, str]] | None:
    """The stored form of slots imported read-only: ``[{"start", "end"}]`` in UTC ISO 8601, by start."""
    if slots is None:
        return None
    for start, end in slots:
        if start.tzinfo is None or end.tzinfo is None or end <= start or start.second or start.microsecond:
            raise ValidationError(
                "an imported slot needs aware times, a start on a whole minute and an end after it, "
                f"got {start.isoformat()} – {end.isoformat()}",
                field="slots",
            )
    ordered = sorted((start.astimezone(UTC), end.astimezone(UTC)) for start, end in slots)
    return [{"start": start.isoformat(), "end": end.isoformat()} for start, end in ordered]


def known_capacity(listing: Listing) -> bool:
    """Whether the offer's slots carry their free places (``availableQuantity``): not when they are
    imported read-only, where a listed slot only says that at least one place is free."""
    return listing.imported_slots is None


def _imported(listing: Listing, now: datetime) -> list[Slot]:
    horizon = now + timedelta(days=DEFAULT_HORIZON_DAYS)
    slots = [
        Slot(
            to_paris(datetime.fromisoformat(item["start"])), to_paris(datetime.fromisoformat(item["end"])), 1
        )
        for item in listing.imported_slots or []
    ]
    return sorted((slot for slot in slots if now < slot.start <= horizon), key=lambda slot: slot.start)


async def free_slots(listing: Listing, now: datetime) -> list[Slot]:
    """The free slots of a repair offer from now to the horizon, capacity minus holding bookings.

    A repair offer whose slots are imported read-only returns the imported future ones, each with one
    place (at least one is free; :func:`known_capacity` is False and pages omit the number).
    """
    if listing.imported_slots is not None:
        return _imported(listing, now)
    availability = await Availability.get_or_none(actor_id=listing.actor_id)  # type: ignore[attr-defined]
    if availability is None:
        return []
    rows = await Booking.filter(listing=listing, state__in=HOLDING_STATES, slot_start__gte=now).only(
        "slot_start"
    )
    booked = Counter(row.slot_start.astimezone(UTC) for row in rows)
    return compute_slots(
        availability.weekly_hours(),
        availability.closure_list(),
        slot_minutes=availability.slot_minutes,
        capacity=availability.capacity,
        booked=booked,
        now=now,
    )


async def set_availability(
    username: str,
    data: AvailabilityInput,
    publisher: Publisher,
    now: datetime,
    *,
    booking_url: str | None = None,
) -> Availability:
    """Replace a workshop's availability, publish ``Update`` of its profile and refresh its offer.

    ``booking_url`` (imported workshops) makes the availability read-only: bookings are taken on that
    page, which the profile's ``Rendez-vous`` field links to.
    """
    actor = await get_actor(username)
    if actor.kind != ActorKind.WORKSHOP:
        raise ValidationError(
            f"only a workshop has repair availability; {username!r} is a {actor.kind.value}", field="actor"
        )
    hours = [
        {"day": item.day, "opens": item.opens.strftime("%H:%M"), "closes": item.closes.strftime("%H:%M")}
        for item in data.hours
    ]
    closures_json = [{"start": item.start.isoformat(), "end": item.end.isoformat()} for item in data.closures]
    async with in_transaction():
        availability, _ = await Availability.get_or_create(
            actor=actor, defaults={"updated": now, "hours_json": [], "closures_json": []}
        )
        availability.hours_json = hours
        availability.closures_json = closures_json
        availability.slot_minutes = data.slot_minutes
        availability.capacity = data.capacity
        availability.read_only = booking_url is not None
        availability.booking_url = booking_url
        availability.updated = now
        await availability.save()
        actor.updated = edit_stamp(now, actor.updated)
        await actor.save(update_fields=["updated"])
        await publisher.actor_updated(actor)
        await refresh_next_slot(actor, publisher, now, force=True)
    return availability


async def refresh_next_slot(
    actor: Actor, publisher: Publisher, now: datetime, *, force: bool = False
) -> None:
    """Recompute the repair offer's ``nextSlot`` and publish an ``Update`` when it is due.

    ``next_slot`` holds the value last published. An Update goes out at once when the workshop becomes
    fully booked or bookable again, or when ``force`` is set (the hours changed); otherwise at most once
    per ``next_slot_update_hours``, and a change not yet due waits for a later refresh.
    """
    offer = await live_repair_offer(actor)
    if offer is None:
        return
    slots = await free_slots(offer, now)
    upcoming = slots[0].start if slots else None
    if upcoming == offer.next_slot:
        return
    flipped = (upcoming is None) != (offer.next_slot is None)
    interval = publisher.next_slot_interval
    due = offer.next_slot_sent_at is None or now - offer.next_slot_sent_at >= interval
    if force or flipped or due:
        offer.next_slot = upcoming
        offer.next_slot_sent_at = now
        offer.updated = edit_stamp(now, offer.updated)
        await offer.save()
        await publisher.updated(offer)


async def replace_imported_slots(
    offer: Listing, slots: Sequence[tuple[datetime, datetime]] | None, publisher: Publisher, now: datetime
) -> None:
    """Replace the read-only slots of a repair offer (None: the node computes them again), store them in
    the node's own catalogue and refresh ``nextSlot`` (its Update is rate-limited, wire-format §6.1).
    Runs in the caller's transaction."""
    offer.imported_slots = imported_slots_json(slots)
    await offer.save(update_fields=["imported_slots"])
    await publisher.slots_changed(offer, now)
    await refresh_next_slot(offer.actor, publisher, now)
