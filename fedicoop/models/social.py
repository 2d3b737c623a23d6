"""The social graph: who follows our actors, and whom our actors follow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from fedicoop.models.states import FollowState

if TYPE_CHECKING:
    from fedicoop.models.actors import Actor


class Follower(Model):
    """A remote actor following one of ours (pending until accepted when approval is manual)."""

    id = fields.IntField(primary_key=True)
    actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "fedicoop.Actor", related_name="followers", on_delete=fields.CASCADE
    )
    follower_iri = fields.CharField(max_length=2048)
    inbox = fields.CharField(max_length=2048)
    shared_inbox = fields.CharField(max_length=2048, null=True)
    follow_activity_iri = fields.CharField(max_length=2048)
    state = fields.CharEnumField(FollowState, max_length=16, default=FollowState.PENDING)
    created_at = fields.DatetimeField()

    class Meta:
        table = "follower"
        unique_together = (("actor", "follower_iri"),)


class Following(Model):
    """A remote actor one of ours follows."""

    id = fields.IntField(primary_key=True)
    actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "fedicoop.Actor", related_name="following", on_delete=fields.CASCADE
    )
    target_iri = fields.CharField(max_length=2048)
    follow_activity_iri = fields.CharField(max_length=2048)
    state = fields.CharEnumField(FollowState, max_length=16, default=FollowState.PENDING)
    created_at = fields.DatetimeField()

    class Meta:
        table = "following"
        unique_together = (("actor", "target_iri"),)
