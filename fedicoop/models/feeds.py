"""Feed actors: saved searches of the catalogue that people follow, and what each has announced.

A :class:`Feed` is the saved search of one local actor of kind ``feed`` (a ``Service``). Its
:class:`FeedAnnouncement` rows say which catalogue items it has announced, so that an item is announced
once, and undone when it stops matching or goes away. :class:`FeedChange` is the queue of catalogue
items that changed: triggers on ``catalogue_item`` (migration ``0004_feeds``) add a row for every insert,
delete and update of a column searches read, whatever wrote it (inbox, local mirror, slot refresh,
unfollow), as long as a feed exists; the feed job (``fedicoop.feeds.announcing``) claims the rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedicoop.models.actors import Actor


class Feed(Model):
    """The saved search of a feed actor: the catalogue query parameters, as ``/catalogue`` reads them."""

    id = fields.IntField(primary_key=True)
    actor: fields.OneToOneRelation[Actor] = fields.OneToOneField(
        "fedicoop.Actor", related_name="feed", on_delete=fields.CASCADE
    )
    params: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "feed"


class FeedAnnouncement(Model):
    """A catalogue item a feed announced, with the ``Announce`` activity to undo when it stops matching."""

    id = fields.BigIntField(primary_key=True)
    feed: fields.ForeignKeyRelation[Feed] = fields.ForeignKeyField(
        "fedicoop.Feed", related_name="announcements", on_delete=fields.CASCADE
    )
    item_iri = fields.CharField(max_length=2048)
    activity_iri = fields.CharField(max_length=2048)
    announced_at = fields.DatetimeField()

    class Meta:
        table = "feed_announcement"
        unique_together = (("feed", "item_iri"),)


class FeedChange(Model):
    """A catalogue item that was stored, changed or removed since the feeds last looked (a queue row).

    Rows are written by database triggers only; ``item_id`` is kept without a foreign key, since the row
    outlives a deleted item. ``locked_until`` and ``locked_by`` are the lease of the job that claimed it.
    """

    id = fields.BigIntField(primary_key=True)
    item_id = fields.BigIntField(db_index=True)
    item_iri = fields.CharField(max_length=2048)
    locked_until = fields.DatetimeField(null=True)
    locked_by = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "feed_change"
