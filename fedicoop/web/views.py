"""API views: the rows of a node as the response models of ``schemas.api`` (shared by the API and CLI)."""

from __future__ import annotations

from datetime import datetime

from fedicoop.domain.slots import Slot
from fedicoop.models.actors import Actor, Availability
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.states import ListingKind
from fedicoop.services.places import place_input
from fedicoop.urls import Urls
from schemas.api import (
    ActorOut,
    AvailabilityOut,
    ClosureInput,
    EventOut,
    EventStatusInput,
    ImageInput,
    ListingOut,
    OpeningRangeInput,
    OrganizationKind,
    ProfileField,
    SlotOut,
)

NEXT_SLOTS_SHOWN = 10


def actor_view(actor: Actor, urls: Urls) -> ActorOut:
    """An Organization actor (location loaded)."""
    return ActorOut(
        id=urls.actor(actor.username),
        username=actor.username,
        kind=OrganizationKind(actor.kind.value),
        name=actor.name,
        summary=actor.summary,
        website=actor.website,
        icon_url=actor.icon_url,
        manually_approves_followers=actor.manually_approves_followers,
        discoverable=actor.discoverable,
        indexable=actor.indexable,
        fields=[ProfileField.model_validate(field) for field in actor.fields_json],
        location=place_input(actor.location) if actor.location is not None else None,
        handle=f"@{actor.username}@{urls.host}",
        published=actor.published,
        updated=actor.updated,
    )


def listing_view(listing: Listing, urls: Urls) -> ListingOut:
    """A listing (actor and location loaded)."""
    return ListingOut(
        id=urls.listing(listing.id),
        uuid=str(listing.id),
        actor=listing.actor.username,
        kind=listing.kind.value,
        purpose=listing.purpose.value,
        action=listing.action.value,
        state=listing.state.value,
        title=listing.title,
        description=listing.description,
        category=listing.category,
        price=listing.price,
        unit_based=listing.unit_based,
        deposit=listing.deposit,
        loan_duration=listing.loan_duration,
        quantity=listing.quantity,
        wanted_from=listing.wanted_from,
        wanted_until=listing.wanted_until,
        conditions=listing.conditions,
        external_url=listing.external_url,
        tags=list(listing.tags),
        images=[ImageInput.model_validate(image) for image in listing.images],
        location=place_input(listing.location) if listing.location is not None else None,
        slots=urls.slots(listing.id) if listing.kind == ListingKind.REPAIR else None,
        next_slot=listing.next_slot,
        published=listing.published,
        updated=listing.updated,
    )


def event_view(event: Event, urls: Urls) -> EventOut:
    """An event (actor and location loaded)."""
    return EventOut(
        id=urls.event(event.id),
        uuid=str(event.id),
        actor=event.actor.username,
        name=event.name,
        description=event.description,
        start_time=event.start_time,
        end_time=event.end_time,
        price_text=event.price_text,
        registration_url=event.registration_url,
        capacity=event.capacity,
        status=EventStatusInput(event.status.value),
        is_online=event.is_online,
        banner_url=event.banner_url,
        tags=list(event.tags),
        location=place_input(event.location) if event.location is not None else None,
        published=event.published,
        updated=event.updated,
    )


def availability_view(
    actor: Actor, availability: Availability, offer: Listing | None, slots: list[Slot], urls: Urls
) -> AvailabilityOut:
    """A workshop's availability with the first free slots of its repair offer."""
    collection = urls.slots(offer.id) if offer is not None else None
    return AvailabilityOut(
        actor=actor.username,
        hours=[OpeningRangeInput.model_validate(item) for item in availability.hours_json],
        closures=[ClosureInput.model_validate(item) for item in availability.closures_json],
        slot_minutes=availability.slot_minutes,
        capacity=availability.capacity,
        repair_offer=urls.listing(offer.id) if offer is not None else None,
        next_slots=[
            SlotOut(
                id=f"{collection}#{slot.fragment}" if collection else slot.fragment,
                start=slot.start,
                end=slot.end,
                available=slot.available,
            )
            for slot in slots[:NEXT_SLOTS_SHOWN]
        ],
    )


def stamp(moment: datetime | None) -> str:
    """A datetime as ISO text for tables, or an empty string."""
    return moment.isoformat() if moment is not None else ""
