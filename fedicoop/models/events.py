"""Events: repair cafés, workshops and meetings (Mobilizon-compatible Event on the wire)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import EventStatus

if TYPE_CHECKING:
    from fedicoop.models.actors import Actor
    from fedicoop.models.places import Place


class Event(Model):
    """A dated event organised by a local actor."""

    id = fields.UUIDField(primary_key=True)
    actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "fedicoop.Actor", related_name="events", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=500)
    description = fields.TextField(default="")
    price_text = fields.CharField(max_length=200, default="")
    start_time = fields.DatetimeField()
    end_time = fields.DatetimeField()
    category = fields.CharField(max_length=64, default="WORKSHOPS_SKILL_SHARING")
    registration_url = fields.CharField(max_length=2048, null=True)
    capacity = fields.IntField(null=True)
    status = fields.CharEnumField(EventStatus, max_length=16, default=EventStatus.CONFIRMED)
    is_online = fields.BooleanField(default=False)
    banner_url = fields.CharField(max_length=2048, null=True)
    banner_media_type = fields.CharField(max_length=100, null=True)
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    location: fields.ForeignKeyNullableRelation[Place] = fields.ForeignKeyField(
        "fedicoop.Place", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    published = fields.DatetimeField()
    updated = fields.DatetimeField()
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "event"
        indexes = (("actor_id", "start_time"),)
