"""Incoming activities: persisted once by activity id when verified, then processed by a worker."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import InboxState


class InboxItem(Model):
    """One verified incoming activity, unique by its id, with the outcome of its processing.

    ``signer_iri`` is the owner of the key that signed the request and ``authentic`` says whether it is
    the activity's actor (otherwise the content is relayed and refetched from its origin).
    """

    id = fields.BigIntField(primary_key=True)
    activity_iri = fields.CharField(max_length=2048, unique=True)
    type = fields.CharField(max_length=64)
    actor_iri = fields.CharField(max_length=2048)
    signer_iri = fields.CharField(max_length=2048)
    authentic = fields.BooleanField()
    recipient = fields.CharField(max_length=64, null=True)
    document: fields.Field[dict[str, Any]] = fields.JSONField()
    state = fields.CharEnumField(InboxState, max_length=16, default=InboxState.RECEIVED, db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    locked_until = fields.DatetimeField(null=True)
    locked_by = fields.CharField(max_length=64, null=True)
    last_error = fields.TextField(default="")
    received_at = fields.DatetimeField()
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_item"
