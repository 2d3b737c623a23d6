"""Publishing: every change to a public object becomes an activity, recorded and queued with the change.

The activity row and its delivery rows are written in the caller's transaction, so a change, its
activity and its deliveries land together or not at all (wire-format §11). Public activities go to the
author's followers and to the application actor's followers, which also get an ``Announce`` of the
object by the application actor (§3.2, §9.4); :meth:`Publisher.send` queues the non-public ones
(Follow, Accept, Reject, Undo) to the targets it is given.

Local mirror: the node's own public listings, repair offers and events also go into its catalogue
(:func:`fedicoop.services.catalogue.store_object`, placed on the territory like a remote object, with
the free slots of a repair offer), and leave it when withdrawn or deleted, so that the portal pages and
the catalogue API show what the node publishes beside what it follows. An actor that opted out of
discovery or indexing has its mirrored items kept but unlisted.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from fedicoop.clock import Clock
from fedicoop.documents import DocumentBuilder
from fedicoop.ids import parse_object_id, uuid7
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.social import Follower
from fedicoop.models.states import ActorKind, FollowState, ListingKind
from fedicoop.services.catalogue import remove_actor_items, remove_object, store_object, store_slots
from fedicoop.services.deliveries import Target, UrlFilter, enqueue, follower_targets
from fedicoop.territory import TerritoryHolder
from schemas.activities import Announce, Delete
from schemas.context import AS_CONTEXT, PUBLIC
from schemas.limits import SLOT_PAGE_SIZE

PublishedObject = Listing | Event


def _listed(actor: Actor) -> bool:
    """Whether a local actor's items may be listed and searched (``discoverable`` and ``indexable``)."""
    return bool(actor.discoverable and actor.indexable)


class Publisher:
    """Turns created, updated and deleted objects into stored activities and their queued deliveries.

    ``clock`` dates the deliveries; ``hosts``, when given, keeps blocked hosts out of the queue (the
    delivery worker refuses them in any case); ``territory`` places the objects mirrored into the
    node's own catalogue (without it they get no territory codes).
    """

    def __init__(
        self,
        documents: DocumentBuilder,
        next_slot_interval: timedelta,
        clock: Clock,
        *,
        hosts: UrlFilter | None = None,
        territory: TerritoryHolder | None = None,
    ) -> None:
        self.documents = documents
        self.next_slot_interval = next_slot_interval
        self.clock = clock
        self.hosts = hosts
        self.territory = territory

    def _object_document(self, obj: PublishedObject) -> dict[str, Any]:
        if isinstance(obj, Listing):
            return self.documents.listing(obj)
        return self.documents.event(obj)

    async def _enqueue(self, activity: Activity, targets: list[Target], now: datetime) -> int:
        return await enqueue(activity, targets, now, local_base=self.documents.urls.base, hosts=self.hosts)

    async def _record(
        self,
        activity_type: str,
        actor: Actor,
        obj_iri: str,
        document: dict[str, Any],
        *,
        object_type: str,
        announce: bool,
    ) -> Activity:
        activity_id = uuid7()
        wire = self.documents.activity(activity_type, activity_id, actor, document)
        activity = await Activity.create(
            id=activity_id,
            actor_iri=wire["actor"],
            type=activity_type,
            object_iri=obj_iri,
            public=True,
            document=wire,
            published=datetime.fromisoformat(wire["published"]),
        )
        await self._fan_out(activity, actor, object_type=object_type, announce=announce)
        return activity

    async def _fan_out(
        self, activity: Activity, author: Actor, *, object_type: str | None, announce: bool
    ) -> None:
        """Queue a public activity to the author's and the relay's followers; Announce it to the latter."""
        now = self.clock()
        targets = await follower_targets(author, object_type=object_type)
        relay = await Actor.get_or_none(kind=ActorKind.APPLICATION)
        relay_targets: list[Target] = []
        if relay is not None and relay.id != author.id:
            relay_targets = await follower_targets(relay, object_type=object_type)
        await self._enqueue(activity, [*targets, *relay_targets], now)
        if not announce or relay is None or relay.id == author.id:
            return
        if relay_targets or await Follower.exists(actor=relay, state=FollowState.ACCEPTED):
            announcement = await self._announce(activity.object_iri, now)
            await self._enqueue(announcement, relay_targets, now)

    async def _announce(self, object_iri: str, now: datetime) -> Activity:
        """Record an Announce of ``object_iri`` by the application actor, with a fresh id (§9.4)."""
        urls = self.documents.urls
        activity_id = uuid7()
        document = Announce.model_validate(
            {
                "@context": AS_CONTEXT,
                "id": urls.activity(activity_id),
                "actor": urls.application_actor,
                "object": object_iri,
                "published": now,
                "to": [urls.actor_collection(urls.application_actor, "followers")],
                "cc": [PUBLIC],
            }
        ).to_wire()
        return await Activity.create(
            id=activity_id,
            actor_iri=urls.application_actor,
            type="Announce",
            object_iri=object_iri,
            public=True,
            document=document,
            published=now,
        )

    @staticmethod
    def _object_type(obj: PublishedObject) -> str:
        return "Event" if isinstance(obj, Event) else "Note"

    async def created(self, obj: PublishedObject) -> Activity:
        """Record and queue the ``Create`` of a new listing or event; mirror it into the catalogue."""
        document = self._object_document(obj)
        await self.mirror(obj, document)
        return await self._record(
            "Create", obj.actor, document["id"], document, object_type=self._object_type(obj), announce=True
        )

    async def updated(self, obj: PublishedObject) -> Activity:
        """Record and queue the ``Update`` of a listing or event, with the full object; mirror it."""
        document = self._object_document(obj)
        await self.mirror(obj, document)
        return await self._record(
            "Update", obj.actor, document["id"], document, object_type=self._object_type(obj), announce=True
        )

    async def deleted(self, obj: PublishedObject) -> Activity:
        """Record and queue the ``Delete`` of a listing or event, its object a Tombstone; unmirror it."""
        tombstone = self.documents.tombstone_for(obj)
        actor_iri = self.documents.actors.actor_id(obj.actor)
        await remove_object(tombstone["id"], actor_iri=actor_iri, now=self.clock())
        return await self._record(
            "Delete", obj.actor, tombstone["id"], tombstone, object_type=self._object_type(obj), announce=True
        )

    async def actor_updated(self, actor: Actor) -> Activity:
        """Record and queue the ``Update`` of an actor's profile (hours, fields, key…); no Announce.

        The actor's mirrored items follow its ``discoverable`` and ``indexable`` switches."""
        document = await self.documents.actor_document(actor)
        await CatalogueItem.filter(actor_iri=document["id"]).update(discoverable=_listed(actor))
        return await self._record(
            "Update", actor, document["id"], document, object_type=document["type"], announce=False
        )

    async def actor_deleted(self, actor: Actor) -> Activity:
        """Record and queue the ``Delete`` of a deleted actor, its object the actor's id, signed by that
        actor (its key row stays), to its followers and the relay's followers (wire-format §9.3); its
        objects leave the node's own catalogue. Runs in the caller's transaction."""
        urls = self.documents.urls
        actor_iri = self.documents.actors.actor_id(actor)
        await remove_actor_items(actor_iri)
        activity_id = uuid7()
        deleted = actor.deleted_at or self.clock()
        document = Delete.model_validate(
            {
                "@context": AS_CONTEXT,
                "id": urls.activity(activity_id),
                "actor": actor_iri,
                "object": actor_iri,
                "published": deleted,
                "to": [PUBLIC],
                "cc": [urls.actor_collection(actor_iri, "followers")],
            }
        ).to_wire()
        activity = await Activity.create(
            id=activity_id,
            actor_iri=actor_iri,
            type="Delete",
            object_iri=actor_iri,
            public=True,
            document=document,
            published=deleted,
        )
        await self._fan_out(activity, actor, object_type=None, announce=False)
        return activity

    async def mirror(self, obj: PublishedObject, document: dict[str, Any]) -> CatalogueItem | None:
        """Store the listing or event ``obj`` (its ``document``) in the node's own catalogue, placed on the
        territory, listed as its author wishes; a repair offer gets its free slots. Returns the row."""
        now = self.clock()
        territory = await self.territory.get() if self.territory is not None else None
        actor_iri = self.documents.actors.actor_id(obj.actor)
        item = await store_object(document, actor_iri=actor_iri, now=now, territory=territory)
        if item is None:
            return None
        listed = _listed(obj.actor)
        if item.discoverable != listed:
            item.discoverable = listed
            await item.save(update_fields=["discoverable"])
        if isinstance(obj, Listing) and obj.kind == ListingKind.REPAIR:
            await store_slots(item, await self._slot_collection(obj, now), now)
        return item

    def is_mirrored(self, item: CatalogueItem) -> bool:
        """Whether a catalogue row is one of this node's own objects (mirrored, never fetched)."""
        return item.actor_iri.startswith(self.documents.urls.base + "/")

    async def refresh_mirrored_slots(self, item: CatalogueItem, now: datetime) -> None:
        """Store again the free slots of one of this node's own repair offers, from the local data."""
        listing_id = item.iri.rstrip("/").rsplit("/", 1)[-1]
        offer = await Listing.get_or_none(id=listing_id, kind=ListingKind.REPAIR).prefetch_related("actor")
        if offer is not None:
            await store_slots(item, await self._slot_collection(offer, now), now)

    async def slots_changed(self, offer: Listing, now: datetime) -> None:
        """Store again the free slots of one of this node's own repair offers in its catalogue (when it
        is mirrored there), after they changed without an activity (imported slots)."""
        item = await CatalogueItem.get_or_none(iri=self.documents.object_id(offer))
        if item is not None:
            await store_slots(item, await self._slot_collection(offer, now), now)

    async def _slot_collection(self, offer: Listing, now: datetime) -> dict[str, Any]:
        """The whole slot collection of a local repair offer: its root with every free slot inline."""
        # Imported here: the availability service publishes through this module.
        from fedicoop.services.availability import free_slots, known_capacity

        slots = await free_slots(offer, now)
        root = self.documents.slot_collection(offer, len(slots), now)
        pages = range(1, math.ceil(len(slots) / SLOT_PAGE_SIZE) + 1)
        known = known_capacity(offer)
        entries = [
            entry
            for page in pages
            for entry in self.documents.slot_page(offer, slots, page, known_capacity=known)["orderedItems"]
        ]
        return {**root, "orderedItems": entries}

    async def send(
        self,
        activity_type: str,
        actor: Actor,
        document: dict[str, Any],
        targets: list[Target],
        *,
        activity_id: uuid.UUID | None = None,
    ) -> Activity:
        """Record a non-public activity (Follow, Accept, Reject, Undo…) built by the caller and queue it.

        ``document`` is the full activity, its ``id`` minted with ``urls.activity(activity_id)``; the
        UUID is read back from that id when ``activity_id`` is not given. Runs in the caller's
        transaction.
        """
        now = self.clock()
        if activity_id is None:
            activity_id = parse_object_id(str(document["id"]), "an activity")
        inner = document.get("object")
        object_iri = inner if isinstance(inner, str) else inner.get("id") if isinstance(inner, dict) else None
        activity = await Activity.create(
            id=activity_id,
            actor_iri=str(document["actor"]),
            type=activity_type,
            object_iri=str(object_iri or ""),
            public=False,
            document=document,
            published=now,
        )
        await self._enqueue(activity, targets, now)
        return activity
