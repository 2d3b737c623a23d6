"""Local actors (the Application actor and Organizations), their key pairs and workshop availability."""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from fedicoop.domain.hours import Closure, OpeningRange, Weekday, WeeklyHours
from fedicoop.models.states import ActorKind

if TYPE_CHECKING:
    from fedicoop.models.places import Place


class Actor(Model):
    """A local actor: a cooperative, a workshop, a place, or the node's Application actor."""

    id = fields.UUIDField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(ActorKind, max_length=16)
    name = fields.CharField(max_length=500)
    summary = fields.TextField(default="")
    icon_url = fields.CharField(max_length=2048, null=True)
    icon_media_type = fields.CharField(max_length=100, null=True)
    image_url = fields.CharField(max_length=2048, null=True)
    image_media_type = fields.CharField(max_length=100, null=True)
    website = fields.CharField(max_length=2048, null=True)
    manually_approves_followers = fields.BooleanField(default=False)
    discoverable = fields.BooleanField(default=True)
    indexable = fields.BooleanField(default=True)
    fields_json: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    location: fields.ForeignKeyNullableRelation[Place] = fields.ForeignKeyField(
        "fedicoop.Place", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    published = fields.DatetimeField()
    updated = fields.DatetimeField()
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "actor"


class ActorKey(Model):
    """An actor's RSA key pair, whose private half never leaves this table."""

    id = fields.IntField(primary_key=True)
    actor: fields.OneToOneRelation[Actor] = fields.OneToOneField(
        "fedicoop.Actor", related_name="key", on_delete=fields.CASCADE
    )
    private_pem = fields.TextField()
    public_pem = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "actor_key"


class Availability(Model):
    """A workshop's weekly opening hours, exceptional closures, slot length and capacity per slot."""

    id = fields.IntField(primary_key=True)
    actor: fields.OneToOneRelation[Actor] = fields.OneToOneField(
        "fedicoop.Actor", related_name="availability", on_delete=fields.CASCADE
    )
    hours_json: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    closures_json: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    slot_minutes = fields.IntField(default=60)
    capacity = fields.IntField(default=1)
    read_only = fields.BooleanField(default=False)
    booking_url = fields.CharField(max_length=2048, null=True)
    updated = fields.DatetimeField()

    class Meta:
        table = "availability"

    def weekly_hours(self) -> WeeklyHours:
        """The stored opening ranges as a domain value."""
        return WeeklyHours(
            OpeningRange(
                Weekday(item["day"]), time.fromisoformat(item["opens"]), time.fromisoformat(item["closes"])
            )
            for item in self.hours_json
        )

    def closure_list(self) -> list[Closure]:
        """The stored exceptional closures as domain values."""
        return [
            Closure(date.fromisoformat(item["start"]), date.fromisoformat(item["end"]))
            for item in self.closures_json
        ]
