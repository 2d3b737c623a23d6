"""Bookings of repair slots, each pending or accepted booking holds one place of a slot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import BookingState

if TYPE_CHECKING:
    from fedicoop.models.listings import Listing


class Booking(Model):
    """A requester's booking of one slot of a repair offer (the Offer{Agreement} of wire-format §6.3)."""

    id = fields.UUIDField(primary_key=True)
    listing: fields.ForeignKeyRelation[Listing] = fields.ForeignKeyField(
        "fedicoop.Listing", related_name="bookings", on_delete=fields.CASCADE
    )
    slot_start = fields.DatetimeField()
    state = fields.CharEnumField(BookingState, max_length=16, default=BookingState.PENDING)
    requester_iri = fields.CharField(max_length=2048)
    offer_activity_iri = fields.CharField(max_length=2048, unique=True)
    content = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "booking"
        indexes = (("listing_id", "slot_start", "state"),)
