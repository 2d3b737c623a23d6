"""Documents: every ActivityStreams document a node serves or sends, built from ``schemas`` models.

:class:`DocumentBuilder` is the one entry point; the modules of this package each build one family
(actors, listings, events, places, collections). Builders are pure: they read loaded rows and return
JSON-ready dicts; the async loaders here fetch what a document needs first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fedicoop.documents.actors import ActorDocuments
from fedicoop.documents.events import EventDocuments
from fedicoop.documents.listings import ListingDocuments
from fedicoop.domain.french import to_paris
from fedicoop.domain.slots import Slot
from fedicoop.models.actors import Actor, ActorKey, Availability
from fedicoop.models.events import Event
from fedicoop.models.feeds import Feed
from fedicoop.models.listings import Listing
from fedicoop.models.states import ActorKind, ListingKind
from fedicoop.urls import Urls
from schemas.activities import Create, Delete, Tombstone, Update
from schemas.collections import OrderedCollection, OrderedCollectionPage
from schemas.context import AS_CONTEXT, PUBLIC, category_iri, fedicoop_context
from schemas.limits import SLOT_PAGE_SIZE
from schemas.listings import Quantity
from schemas.slots import SlotCollection, SlotIntent, SlotPage

__all__ = ["DocumentBuilder"]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class DocumentBuilder:
    """Builds the documents of one node from its rows: actors, objects, activities, collections."""

    def __init__(self, urls: Urls, node_name: str) -> None:
        self.urls = urls
        self.actors = ActorDocuments(urls, node_name)
        self.listings = ListingDocuments(urls)
        self.events = EventDocuments(urls)

    # Objects ------------------------------------------------------------------------------------

    def listing(self, listing: Listing, *, embedded: bool = False) -> dict[str, Any]:
        """The Note of a listing, as JSON."""
        return self.listings.note(listing, embedded=embedded).to_wire()

    def event(self, event: Event, *, embedded: bool = False) -> dict[str, Any]:
        """The Event of an event, as JSON."""
        return self.events.event(event, embedded=embedded).to_wire()

    def object_id(self, obj: Listing | Event) -> str:
        """The id of a listing or an event."""
        return self.urls.listing(obj.id) if isinstance(obj, Listing) else self.urls.event(obj.id)

    def tombstone_for(self, obj: Listing | Event | Actor) -> dict[str, Any]:
        """The Tombstone of a deleted listing, event or actor (``deleted_at`` must be set)."""
        if isinstance(obj, Actor):
            object_id, former = self.actors.actor_id(obj), "Organization"
        else:
            object_id, former = self.object_id(obj), "Note" if isinstance(obj, Listing) else "Event"
        deleted = obj.deleted_at or obj.updated
        return Tombstone(id=object_id, former_type=former, deleted=_utc(deleted)).to_wire()

    async def actor_document(self, actor: Actor, *, today: datetime | None = None) -> dict[str, Any]:
        """Load what an actor's document needs (key, hours, repair offer) and build it."""
        key = await ActorKey.get(actor=actor)
        if actor.kind == ActorKind.APPLICATION:
            return self.actors.application(actor, key.public_pem).to_wire()
        if actor.kind == ActorKind.FEED:
            feed = await Feed.get_or_none(actor=actor)
            return self.actors.feed(actor, key.public_pem, feed.params if feed else {}).to_wire()
        await actor.fetch_related("location")
        availability = await Availability.get_or_none(actor=actor)
        repair_offer = await Listing.filter(actor=actor, kind=ListingKind.REPAIR, deleted_at=None).first()
        day = to_paris(today or actor.updated).date()
        document = self.actors.organization(
            actor,
            key.public_pem,
            hours=availability.weekly_hours() if availability is not None else None,
            closures=availability.closure_list() if availability is not None else None,
            repair_offer=repair_offer,
            booking_url=availability.booking_url
            if availability is not None and availability.read_only
            else None,
            today=day,
        )
        return document.to_wire()

    # Activities ---------------------------------------------------------------------------------

    def activity(
        self, activity_type: str, activity_id: uuid.UUID, actor: Actor, document: dict[str, Any]
    ) -> dict[str, Any]:
        """Wrap a document in a Create, Update or Delete by ``actor``, as wire-format §9.1 says."""
        actor_id = self.actors.actor_id(actor)
        embedded = {key: value for key, value in document.items() if key != "@context"}
        followers = self.urls.actor_collection(actor_id, "followers")
        common: dict[str, Any] = {
            "id": self.urls.activity(activity_id),
            "actor": actor_id,
            "to": embedded.get("to", [PUBLIC]),
            "cc": embedded.get("cc", [followers]),
        }
        common["object"] = embedded
        if activity_type == "Create":
            stamp = document.get("published") or document.get("updated")
            return Create.model_validate(
                {"@context": fedicoop_context(), "published": stamp, **common}
            ).to_wire()
        if activity_type == "Update":
            stamp = document.get("updated") or document.get("published")
            return Update.model_validate(
                {"@context": fedicoop_context(), "published": stamp, **common}
            ).to_wire()
        if activity_type == "Delete":
            common["to"], common["cc"] = [PUBLIC], [followers]
            return Delete.model_validate(
                {"@context": AS_CONTEXT, "published": document["deleted"], **common}
            ).to_wire()
        raise ValueError(f"unsupported activity type {activity_type!r}")

    # Collections --------------------------------------------------------------------------------

    def collection_root(self, collection_id: str, total: int, *, with_first: bool = True) -> dict[str, Any]:
        """An OrderedCollection root: id, totalItems and (unless counting only) the first page."""
        return OrderedCollection(
            context=AS_CONTEXT,
            id=collection_id,
            total_items=total,
            first=f"{collection_id}?page=1" if with_first else None,
        ).to_wire()

    def collection_page(
        self,
        collection_id: str,
        page: int,
        items: Sequence[Any],
        *,
        has_next: bool,
        context: Any = AS_CONTEXT,
    ) -> dict[str, Any]:
        """One OrderedCollectionPage ``?page=N`` of a collection, with next/prev links."""
        return OrderedCollectionPage[Any](
            context=context,
            id=f"{collection_id}?page={page}",
            part_of=collection_id,
            next=f"{collection_id}?page={page + 1}" if has_next else None,
            prev=f"{collection_id}?page={page - 1}" if page > 1 else None,
            ordered_items=list(items),
        ).to_wire()

    def slot_collection(self, offer: Listing, total: int, updated: datetime) -> dict[str, Any]:
        """The root of a repair offer's slot collection (wire-format §6.2)."""
        collection_id = self.urls.slots(offer.id)
        return SlotCollection(
            context=fedicoop_context(),
            id=collection_id,
            attributed_to=self.urls.actor(offer.actor.username),
            updated=_utc(updated),
            total_items=total,
            first=f"{collection_id}?page=1",
        ).to_wire()

    def slot_page(
        self, offer: Listing, slots: Sequence[Slot], page: int, *, known_capacity: bool
    ) -> dict[str, Any]:
        """Page ``page`` of a slot collection: up to 100 slot Intents in chronological order."""
        collection_id = self.urls.slots(offer.id)
        start = (page - 1) * SLOT_PAGE_SIZE
        chunk = slots[start : start + SLOT_PAGE_SIZE]
        items = [
            SlotIntent(
                id=f"{collection_id}#{slot.fragment}",
                action="deliverService",
                resource_conforms_to=category_iri(offer.category),
                has_beginning=to_paris(slot.start),
                has_end=to_paris(slot.end),
                resource_quantity=Quantity(has_unit="one", has_numerical_value="1"),
                available_quantity=(
                    Quantity(has_unit="one", has_numerical_value=str(slot.available))
                    if known_capacity
                    else None
                ),
            )
            for slot in chunk
        ]
        return SlotPage(
            context=fedicoop_context(),
            id=f"{collection_id}?page={page}",
            part_of=collection_id,
            next=f"{collection_id}?page={page + 1}" if start + SLOT_PAGE_SIZE < len(slots) else None,
            prev=f"{collection_id}?page={page - 1}" if page > 1 else None,
            ordered_items=items,
        ).to_wire()
