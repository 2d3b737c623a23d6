"""Listings: offers and requests of objects and services, and workshops' repair offers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import Action, ListingKind, ListingState, Purpose
from schemas.api import Exchange

if TYPE_CHECKING:
    from fedicoop.models.actors import Actor
    from fedicoop.models.places import Place


class Listing(Model):
    """An offer or a request (a Note with FEP-0837 properties on the wire).

    ``exchange`` says how an object changes hands (gift, loan, sale, swap; None for services, repairs
    and listings stored before it existed). ``served_places`` (an itinerant workshop's repair offer) holds
    the communes served, blurred, as API places; the document's ``location`` is then their array.
    ``imported_slots`` holds the free slots of a repair offer copied read-only from its source
    (``[{"start": iso, "end": iso}]``, capacity unknown); None when the node computes them itself.
    """

    id = fields.UUIDField(primary_key=True)
    actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "fedicoop.Actor", related_name="listings", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(ListingKind, max_length=16)
    purpose = fields.CharEnumField(Purpose, max_length=16)
    action = fields.CharEnumField(Action, max_length=32)
    exchange = fields.CharEnumField(Exchange, max_length=16, null=True)
    state = fields.CharEnumField(ListingState, max_length=16, default=ListingState.PUBLISHED)
    title = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    conditions = fields.CharField(max_length=500, default="")
    category = fields.CharField(max_length=64)
    classified_as: fields.Field[list[str]] = fields.JSONField(default=list)
    quantity = fields.CharField(max_length=20, default="1")
    price = fields.CharField(max_length=20, null=True)
    unit_based = fields.BooleanField(default=False)
    deposit = fields.CharField(max_length=20, null=True)
    loan_duration = fields.CharField(max_length=100, null=True)
    wanted_from = fields.DatetimeField(null=True)
    wanted_until = fields.DatetimeField(null=True)
    external_url = fields.CharField(max_length=2048, null=True)
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    images: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    location: fields.ForeignKeyNullableRelation[Place] = fields.ForeignKeyField(
        "fedicoop.Place", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    served_places: fields.Field[list[dict[str, Any]] | None] = fields.JSONField(null=True)
    imported_slots: fields.Field[list[dict[str, str]] | None] = fields.JSONField(null=True)
    next_slot = fields.DatetimeField(null=True)
    next_slot_sent_at = fields.DatetimeField(null=True)
    published = fields.DatetimeField()
    updated = fields.DatetimeField()
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "listing"
        indexes = (("actor_id", "state"), ("published",))
