"""Publishing: every change to a public object becomes an activity, recorded and queued with the change.

The activity row and its delivery rows are written in the caller's transaction, so a change, its
activity and its deliveries land together or not at all (wire-format §11). Public activities go to the
author's followers and to the application actor's followers, which also get an ``Announce`` of the
object by the application actor (§3.2, §9.4); :meth:`Publisher.send` queues the non-public ones
(Follow, Accept, Reject, Undo) to the targets it is given.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fedicoop.clock import Clock
from fedicoop.documents import DocumentBuilder
from fedicoop.ids import parse_object_id, uuid7
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.social import Follower
from fedicoop.models.states import ActorKind, FollowState
from fedicoop.services.deliveries import Target, UrlFilter, enqueue, follower_targets
from schemas.activities import Announce
from schemas.context import AS_CONTEXT, PUBLIC

PublishedObject = Listing | Event


class Publisher:
    """Turns created, updated and deleted objects into stored activities and their queued deliveries.

    ``clock`` dates the deliveries; ``hosts``, when given, keeps blocked hosts out of the queue (the
    delivery worker refuses them in any case).
    """

    def __init__(
        self,
        documents: DocumentBuilder,
        next_slot_interval: timedelta,
        clock: Clock,
        *,
        hosts: UrlFilter | None = None,
    ) -> None:
        self.documents = documents
        self.next_slot_interval = next_slot_interval
        self.clock = clock
        self.hosts = hosts

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

    async def _fan_out(self, activity: Activity, author: Actor, *, object_type: str, announce: bool) -> None:
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
        """Record and queue the ``Create`` of a new listing or event."""
        document = self._object_document(obj)
        return await self._record(
            "Create", obj.actor, document["id"], document, object_type=self._object_type(obj), announce=True
        )

    async def updated(self, obj: PublishedObject) -> Activity:
        """Record and queue the ``Update`` of a listing or event, with the full object."""
        document = self._object_document(obj)
        return await self._record(
            "Update", obj.actor, document["id"], document, object_type=self._object_type(obj), announce=True
        )

    async def deleted(self, obj: PublishedObject) -> Activity:
        """Record and queue the ``Delete`` of a listing or event, its object a Tombstone."""
        tombstone = self.documents.tombstone_for(obj)
        return await self._record(
            "Delete", obj.actor, tombstone["id"], tombstone, object_type=self._object_type(obj), announce=True
        )

    async def actor_updated(self, actor: Actor) -> Activity:
        """Record and queue the ``Update`` of an actor's profile (hours, fields, key…); no Announce."""
        document = await self.documents.actor_document(actor)
        return await self._record(
            "Update", actor, document["id"], document, object_type=document["type"], announce=False
        )

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
