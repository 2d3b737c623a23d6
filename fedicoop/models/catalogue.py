"""The catalogue: listings, repair offers and events of the remote actors this node follows.

Besides the items, two tables serve searches: :class:`CatalogueCommune`, every commune an item covers
(a blurred location covers every commune its circle overlaps), and :class:`CatalogueSlot`, the free slots
of a repair offer. Full-text search uses a table or column each database builds itself (migration
``0003_portal``): an FTS5 table ``catalogue_fts`` over ``text`` on SQLite, a generated ``tsvector`` column
``search_vector`` on PostgreSQL; neither is a tortoise field.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import CatalogueKind, Purpose


class CatalogueItem(Model):
    """A remote object as last received from its origin, its HTML sanitised, searchable by kind and text.

    ``document`` keeps the object as received (sanitised); the other columns are what searches and pages
    read. ``slots`` holds the last fetched slot collection of a repair offer. ``text`` is the folded search
    text (accents, case and plurals removed). The territory codes are those of the primary commune as this
    node computed them from the coordinates, never the sender's; ``territory_flags`` says where the sender
    disagreed. ``discoverable`` is False when the author opted out of discovery or indexing.
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
    radius = fields.FloatField(null=True)
    commune_code = fields.CharField(max_length=5, null=True)
    epci_code = fields.CharField(max_length=9, null=True)
    departement_code = fields.CharField(max_length=3, null=True)
    region_code = fields.CharField(max_length=2, null=True)
    territory_flags: fields.Field[list[str]] = fields.JSONField(default=list)
    discoverable = fields.BooleanField(default=True)
    departements = fields.CharField(max_length=60, null=True)
    received_at = fields.DatetimeField()

    class Meta:
        table = "catalogue_item"
        # Covering indexes for the searches and their facets (bench/README.md, search latency).
        indexes = (
            ("discoverable", "published", "departements"),
            ("latitude", "longitude", "discoverable", "kind", "category", "departements"),
            ("kind", "starts_at", "ends_at", "discoverable", "category"),
            ("discoverable", "kind", "category", "departements"),
            (
                "id",
                "discoverable",
                "kind",
                "category",
                "departements",
                "published",
                "starts_at",
                "ends_at",
                "latitude",
                "longitude",
            ),
            ("category",),
        )


class CatalogueCommune(Model):
    """One commune an item covers, with its EPCI, département and région: what territorial filters read."""

    id = fields.BigIntField(primary_key=True)
    item: fields.ForeignKeyRelation[CatalogueItem] = fields.ForeignKeyField(
        "fedicoop.CatalogueItem", related_name="communes", on_delete=fields.CASCADE
    )
    commune = fields.CharField(max_length=5, db_index=True)
    epci = fields.CharField(max_length=9, null=True, db_index=True)
    departement = fields.CharField(max_length=3, db_index=True)
    region = fields.CharField(max_length=2, db_index=True)

    class Meta:
        table = "catalogue_commune"
        unique_together = (("item", "commune"),)
        indexes = (("commune", "item_id"), ("epci", "item_id"), ("region", "item_id"))


class CatalogueSlot(Model):
    """One free slot of a repair offer, mirrored from its slot collection: what date searches read."""

    id = fields.BigIntField(primary_key=True)
    item: fields.ForeignKeyRelation[CatalogueItem] = fields.ForeignKeyField(
        "fedicoop.CatalogueItem", related_name="free_slots", on_delete=fields.CASCADE
    )
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()

    class Meta:
        table = "catalogue_slot"
        indexes = (("item_id", "starts_at"), ("starts_at", "item_id"))


class CatalogueTombstone(Model):
    """An object its author deleted: a late or replayed Create of it must not bring it back."""

    id = fields.BigIntField(primary_key=True)
    iri = fields.CharField(max_length=2048, unique=True)
    actor_iri = fields.CharField(max_length=2048)
    deleted_at = fields.DatetimeField()

    class Meta:
        table = "catalogue_tombstone"
