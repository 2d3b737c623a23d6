"""Outgoing deliveries: one durable row per (activity, target inbox), and the health of each peer host."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import DeliveryState

if TYPE_CHECKING:
    from fedicoop.models.activities import Activity


class Delivery(Model):
    """The delivery of one activity to one inbox, retried with backoff until delivered, final or dead.

    ``locked_until`` and ``locked_by`` are the lease of the worker that claimed the row: a worker that
    dies leaves a lease that expires, and the row is claimed again.
    """

    id = fields.BigIntField(primary_key=True)
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "fedicoop.Activity", related_name="deliveries", on_delete=fields.CASCADE
    )
    inbox = fields.CharField(max_length=2048)
    host = fields.CharField(max_length=255, db_index=True)
    recipient_iri = fields.CharField(max_length=2048, null=True)
    state = fields.CharEnumField(DeliveryState, max_length=16, default=DeliveryState.PENDING, db_index=True)
    attempts = fields.IntField(default=0)
    first_attempt_at = fields.DatetimeField(null=True)
    next_attempt_at = fields.DatetimeField(db_index=True)
    locked_until = fields.DatetimeField(null=True)
    locked_by = fields.CharField(max_length=64, null=True)
    last_status = fields.IntField(null=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delivery"
        unique_together = (("activity", "inbox"),)


class DomainHealth(Model):
    """How a peer host has answered our deliveries: failing days, last success, unavailability."""

    id = fields.IntField(primary_key=True)
    host = fields.CharField(max_length=255, unique=True)
    failure_days: fields.Field[list[str]] = fields.JSONField(default=list)
    last_success_at = fields.DatetimeField(null=True)
    unavailable = fields.BooleanField(default=False)
    last_probe_at = fields.DatetimeField(null=True)

    class Meta:
        table = "domain_health"

    def failing_dates(self) -> set[date]:
        """The distinct days on which a delivery to this host failed since its last success."""
        return {date.fromisoformat(day) for day in self.failure_days}
