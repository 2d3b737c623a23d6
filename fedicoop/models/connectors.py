"""Connector links: which record of which source became which of our actors, listings and events."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import LinkTarget


class SourceLink(Model):
    """One source record (``source``, ``kind``, ``source_id``) and the object it was published as.

    ``fingerprint`` is the digest of what was last published for it (the spec's ``fingerprint()``);
    ``slots_fingerprint`` that of the imported slots of a repair offer, compared apart (they change
    daily and are served from the slot collection, never pushed).
    """

    id = fields.BigIntField(primary_key=True)
    source = fields.CharField(max_length=300)
    kind = fields.CharField(max_length=32)
    source_id = fields.CharField(max_length=200)
    target = fields.CharEnumField(LinkTarget, max_length=16)
    target_id = fields.UUIDField()
    fingerprint = fields.CharField(max_length=64)
    slots_fingerprint = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "source_link"
        unique_together = (("source", "kind", "source_id"),)
