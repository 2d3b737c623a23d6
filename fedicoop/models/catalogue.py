"""The catalogue: listings, repair offers and events of the remote actors this node follows."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import CatalogueKind, Purpose


class CatalogueItem(Model):
    """A remote object as last received from its origin, its HTML sanitised, searchable by kind and text.

    ``document`` keeps the object as received (sanitised); the other columns are what searches and pages
    read. ``slots`` holds the last fetched slot collection of a repair offer.
    """

    id = fields.BigIntField(primary_key=True)
    iri = fields.CharField(max_length=2048, unique=True)
    actor_iri = fields.CharField(max_length=2048, db_index=True)
    host = fields.CharField(max_length=255, db_index=True)
    kind = fields.CharEnumField(CatalogueKind, max_length=16, db_index=True)
    purpose = fields.CharEnumField(Purpose, max_length=16, null=True)
    category = fields.CharField(max_length=100, null=True)
    name = fields.CharField(max_length=500, default="")
    content = fields.TextField(default="")
    summary = fields.TextField(default="")
    text = fields.TextField(default="")
    url = fields.CharField(max_length=2048, null=True)
    document: fields.Field[dict[str, Any]] = fields.JSONField()
    slots: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    slots_fetched_at = fields.DatetimeField(null=True)
    available = fields.BooleanField(default=True)
    published = fields.DatetimeField(null=True)
    updated = fields.DatetimeField(null=True)
    starts_at = fields.DatetimeField(null=True)
    ends_at = fields.DatetimeField(null=True)
    location_name = fields.CharField(max_length=500, null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    received_at = fields.DatetimeField()

    class Meta:
        table = "catalogue_item"


class CatalogueTombstone(Model):
    """An object its author deleted: a late or replayed Create of it must not bring it back."""

    id = fields.BigIntField(primary_key=True)
    iri = fields.CharField(max_length=2048, unique=True)
    actor_iri = fields.CharField(max_length=2048)
    deleted_at = fields.DatetimeField()

    class Meta:
        table = "catalogue_tombstone"
