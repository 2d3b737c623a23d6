"""Places: where an actor, a listing or an event is, exact or blurred to a commune."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Place(Model):
    """A located place, minted anew (new id) whenever the address or coordinates change."""

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=500)
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    radius = fields.FloatField(null=True)
    street_address = fields.CharField(max_length=500, null=True)
    postal_code = fields.CharField(max_length=10, null=True)
    locality = fields.CharField(max_length=200, null=True)
    region = fields.CharField(max_length=200, null=True)
    country = fields.CharField(max_length=2, default="FR")
    commune_code = fields.CharField(max_length=5, null=True)
    departement_code = fields.CharField(max_length=3, null=True)
    region_code = fields.CharField(max_length=2, null=True)
    epci_code = fields.CharField(max_length=9, null=True)
    cog_year = fields.IntField(null=True)
    blurred = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "place"
