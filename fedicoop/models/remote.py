"""Remote actors we know: their inboxes and public document, fetched from their origin."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class RemoteActor(Model):
    """A remote actor as last fetched: where to deliver to it, and whether it is gone."""

    id = fields.IntField(primary_key=True)
    iri = fields.CharField(max_length=2048, unique=True)
    host = fields.CharField(max_length=255, db_index=True)
    type = fields.CharField(max_length=64)
    username = fields.CharField(max_length=255, null=True)
    name = fields.CharField(max_length=500, default="")
    inbox = fields.CharField(max_length=2048)
    shared_inbox = fields.CharField(max_length=2048, null=True)
    manually_approves_followers = fields.BooleanField(default=False)
    discoverable = fields.BooleanField(default=False)
    software = fields.CharField(max_length=64, null=True)
    document: fields.Field[dict[str, Any]] = fields.JSONField()
    gone = fields.BooleanField(default=False)
    fetched_at = fields.DatetimeField()

    class Meta:
        table = "remote_actor"

    @property
    def delivery_inbox(self) -> str:
        """The inbox deliveries go to: the shared inbox when there is one."""
        return self.shared_inbox or self.inbox
