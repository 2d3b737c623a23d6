"""Feed announcements: each feed actor ``Announce`` s the catalogue items that come to match its search.

Triggers on the catalogue (migration ``0004_feeds``) queue a :class:`~fedicoop.models.feeds.FeedChange`
for every item stored, changed or removed, from any origin. :class:`FeedJob`, a worker job, claims those
rows under a lease and, for every feed, compares the changed items with its saved search
(:func:`~fedicoop.feeds.matching.matching_ids`) and with what it announced before:

- an item that matches and was not announced is announced: an ``Announce`` (fresh id, ``object`` = the
  item's id, to the feed's followers, cc Public) is recorded and queued to the feed's followers through
  the delivery queue, with its :class:`~fedicoop.models.feeds.FeedAnnouncement` row, in one transaction;
- an item announced that no longer matches, or is gone, gets an ``Undo`` of that ``Announce``;
- an item announced that still matches (an Update) is left alone: nothing is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fedicoop.errors import FedicoopError
from fedicoop.feeds.actors import saved_search
from fedicoop.feeds.matching import matching_ids
from fedicoop.ids import uuid7
from fedicoop.models.activities import Activity
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.feeds import Feed, FeedAnnouncement, FeedChange
from fedicoop.models.states import CatalogueKind
from fedicoop.node import Node
from fedicoop.services.deliveries import enqueue, follower_targets
from fedicoop.services.leases import claim
from schemas.activities import Announce, Undo
from schemas.context import AS_CONTEXT, PUBLIC

__all__ = ["FeedJob", "announce", "reconcile", "undo_announce"]

logger = logging.getLogger("fedicoop.feeds")


def _addressing(node: Node, actor_iri: str) -> dict[str, Any]:
    return {"to": [node.urls.actor_collection(actor_iri, "followers")], "cc": [PUBLIC]}


async def announce(node: Node, feed: Feed, item: CatalogueItem, now: datetime) -> Activity | None:
    """Record and queue the feed's ``Announce`` of ``item``; None when the feed announced it already."""
    urls = node.urls
    actor_iri = urls.actor(feed.actor.username)
    activity_id = uuid7()
    document = Announce.model_validate(
        {
            "@context": AS_CONTEXT,
            "id": urls.activity(activity_id),
            "actor": actor_iri,
            "object": item.iri,
            "published": now,
            **_addressing(node, actor_iri),
        }
    ).to_wire()
    object_type = "Event" if item.kind == CatalogueKind.EVENT else "Note"
    try:
        async with in_transaction(Activity._meta.default_connection):
            await FeedAnnouncement.create(
                feed=feed, item_iri=item.iri, activity_iri=document["id"], announced_at=now
            )
            activity = await Activity.create(
                id=activity_id,
                actor_iri=actor_iri,
                type="Announce",
                object_iri=item.iri,
                public=True,
                document=document,
                published=now,
            )
            targets = await follower_targets(feed.actor, object_type=object_type)
            await enqueue(activity, targets, now, local_base=urls.base, hosts=node.publisher.hosts)
    except IntegrityError:  # another worker announced it between our read and our write
        return None
    return activity


async def undo_announce(node: Node, feed: Feed, announcement: FeedAnnouncement, now: datetime) -> Activity:
    """Record and queue the ``Undo`` of the feed's ``Announce`` behind ``announcement``, and forget it."""
    urls = node.urls
    actor_iri = urls.actor(feed.actor.username)
    activity_id = uuid7()
    document = Undo.model_validate(
        {
            "@context": AS_CONTEXT,
            "id": urls.activity(activity_id),
            "actor": actor_iri,
            "object": {
                "id": announcement.activity_iri,
                "type": "Announce",
                "actor": actor_iri,
                "object": announcement.item_iri,
            },
            "published": now,
            **_addressing(node, actor_iri),
        }
    ).to_wire()
    async with in_transaction(Activity._meta.default_connection):
        activity = await Activity.create(
            id=activity_id,
            actor_iri=actor_iri,
            type="Undo",
            object_iri=announcement.activity_iri,
            public=True,
            document=document,
            published=now,
        )
        await announcement.delete()
        targets = await follower_targets(feed.actor, object_type=None)
        await enqueue(activity, targets, now, local_base=urls.base, hosts=node.publisher.hosts)
    return activity


async def _reconcile_feed(
    node: Node, feed: Feed, iris: Collection[str], items: dict[str, CatalogueItem], now: datetime
) -> tuple[int, int]:
    query = await saved_search(feed.params, node.territory)
    matched = await matching_ids(query, [item.id for item in items.values()])
    announced = {
        row.item_iri: row for row in await FeedAnnouncement.filter(feed=feed, item_iri__in=list(iris))
    }
    sent = undone = 0
    for iri in sorted(iris):
        item = items.get(iri)
        row = announced.get(iri)
        if item is not None and item.id in matched:
            if row is None and await announce(node, feed, item, now) is not None:
                sent += 1
        elif row is not None:
            await undo_announce(node, feed, row, now)
            undone += 1
    return sent, undone


async def reconcile(node: Node, iris: Collection[str], now: datetime) -> tuple[int, int]:
    """Bring every live feed up to date with the catalogue items ``iris`` (as stored now); return how
    many Announces and Undos were queued. A feed whose saved search cannot run (a territory that does not
    load) is logged and skipped; its changes are not replayed."""
    if not iris:
        return 0, 0
    feeds = await Feed.filter(actor__deleted_at=None).prefetch_related("actor").order_by("id")
    if not feeds:
        return 0, 0
    items = {item.iri: item for item in await CatalogueItem.filter(iri__in=list(iris))}
    sent = undone = 0
    for feed in feeds:
        try:
            counts = await _reconcile_feed(node, feed, iris, items, now)
        except FedicoopError as exc:
            logger.warning("feed %s skipped: %s", feed.actor.username, exc)
            continue
        sent, undone = sent + counts[0], undone + counts[1]
    return sent, undone


class FeedJob:
    """The worker job that claims queued catalogue changes, ``batch`` at a time, and reconciles the feeds."""

    def __init__(
        self, node: Node, worker_id: str, *, batch: int = 200, lease: timedelta = timedelta(minutes=5)
    ) -> None:
        self.node = node
        self.worker_id = worker_id
        self.batch = batch
        self.lease = lease

    async def __call__(self, now: datetime) -> int:
        """Handle the changes queued at ``now``; return how many rows were handled."""
        due = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
        rows = await claim(
            FeedChange, due, now=now, lease=self.lease, limit=self.batch, worker_id=self.worker_id
        )
        if not rows:
            return 0
        await reconcile(self.node, {row.item_iri for row in rows}, now)
        await FeedChange.filter(id__in=[row.id for row in rows], locked_by=rows[0].locked_by).delete()
        return len(rows)
