"""Activities this node emitted: the record behind outbox pages and, later, deliveries."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Activity(Model):
    """One activity we published (Create, Update, Delete, Announce…) with its serialised document."""

    id = fields.UUIDField(primary_key=True)
    actor_iri = fields.CharField(max_length=2048)
    type = fields.CharField(max_length=32)
    object_iri = fields.CharField(max_length=2048, db_index=True)
    public = fields.BooleanField(default=True)
    document: fields.Field[dict[str, Any]] = fields.JSONField()
    published = fields.DatetimeField()

    class Meta:
        table = "activity"
