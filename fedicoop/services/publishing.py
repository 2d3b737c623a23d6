"""Publishing: every change to a public object becomes an activity, recorded with the change.

The activity row is written in the caller's transaction, so a change and its activity land together or
not at all. Delivery (the federation issue) hooks in here: one place turns changes into activities.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fedicoop.documents import DocumentBuilder
from fedicoop.ids import uuid7
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing

PublishedObject = Listing | Event


class Publisher:
    """Turns created, updated and deleted objects into stored Create, Update and Delete activities."""

    def __init__(self, documents: DocumentBuilder, next_slot_interval: timedelta) -> None:
        self.documents = documents
        self.next_slot_interval = next_slot_interval

    def _object_document(self, obj: PublishedObject) -> dict[str, Any]:
        if isinstance(obj, Listing):
            return self.documents.listing(obj)
        return self.documents.event(obj)

    async def _record(
        self, activity_type: str, actor: Actor, obj_iri: str, document: dict[str, Any]
    ) -> Activity:
        activity_id = uuid7()
        activity = self.documents.activity(activity_type, activity_id, actor, document)
        return await Activity.create(
            id=activity_id,
            actor_iri=activity["actor"],
            type=activity_type,
            object_iri=obj_iri,
            public=True,
            document=activity,
            published=datetime.fromisoformat(activity["published"]),
        )

    async def created(self, obj: PublishedObject) -> Activity:
        """Record the ``Create`` of a new listing or event."""
        document = self._object_document(obj)
        return await self._record("Create", obj.actor, document["id"], document)

    async def updated(self, obj: PublishedObject) -> Activity:
        """Record the ``Update`` of a listing or event, with the full object."""
        document = self._object_document(obj)
        return await self._record("Update", obj.actor, document["id"], document)

    async def deleted(self, obj: PublishedObject) -> Activity:
        """Record the ``Delete`` of a listing or event, its object a Tombstone."""
        tombstone = self.documents.tombstone_for(obj)
        return await self._record("Delete", obj.actor, tombstone["id"], tombstone)

    async def actor_updated(self, actor: Actor) -> Activity:
        """Record the ``Update`` of an actor's profile (hours, fields, key…)."""
        document = await self.documents.actor_document(actor)
        return await self._record("Update", actor, document["id"], document)
