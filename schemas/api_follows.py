"""API models of the social graph: follow requests we send and followers we accept (``/api/v1``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas import limits
from schemas.api import StrictModel

__all__ = ["FollowCreate", "FollowState", "FollowerDecision", "FollowerOut", "FollowingOut"]


class FollowState(StrEnum):
    """State of a follow relation, either direction."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class FollowCreate(StrictModel):
    """Make a local actor follow a remote one, by handle (``name@host``) or actor URL."""

    actor: str = Field(pattern=limits.LOCAL_USERNAME_PATTERN, description="Username of the local actor.")
    target: str = Field(min_length=3, max_length=limits.IRI_MAX, description="name@host or an actor URL.")


class FollowerDecision(StrictModel):
    """Approve or reject a pending follow request of a local actor."""

    follower: str = Field(min_length=8, max_length=limits.IRI_MAX, description="The follower's actor id.")


class FollowingOut(BaseModel):
    """A remote actor one of ours follows (or asked to)."""

    actor: str
    target: str
    state: FollowState
    follow_id: str
    created_at: datetime


class FollowerOut(BaseModel):
    """A remote actor following one of ours (or asking to)."""

    actor: str
    follower: str
    state: FollowState
    inbox: str
    created_at: datetime
