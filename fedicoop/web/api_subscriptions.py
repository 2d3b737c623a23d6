"""Subscriptions in the JSON API: ``/api/v1/subscriptions`` (nodes this node's application actor follows).

``POST`` takes one ``target`` (answering the subscription, or the error that stopped it) or a list of
``targets`` (answering one result per target, in order). Every target is checked before anything is
sent: an empty body, an empty or oversized list, a target that is not a host, handle or actor URL → 400
naming it, nothing stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.params import Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from fedicoop.errors import BadRequestError
from fedicoop.models.states import FollowState as StoredState
from fedicoop.network import NetworkHolder
from fedicoop.services import subscriptions as service
from fedicoop.services.subscriptions import Entry, FailureReason, Outcome, Subscription, SubscriptionResult
from schemas.api import StrictModel
from schemas.api_follows import FollowState

__all__ = [
    "BATCH_MAX",
    "SubscriptionBatchOut",
    "SubscriptionCreate",
    "SubscriptionOut",
    "SubscriptionResultOut",
    "batch_view",
    "result_view",
    "subscription_view",
    "subscriptions_router",
]

BATCH_MAX = 100
"""Targets in one POST."""

FAILURE_STATUS = {
    FailureReason.MALFORMED: 400,
    FailureReason.ADDRESS_REFUSED: 403,
    FailureReason.BLOCKED: 403,
    FailureReason.GONE: 410,
    FailureReason.OWN_NODE: 422,
    FailureReason.NOT_ACTIVITYPUB: 502,
    FailureReason.UNREACHABLE: 502,
}
"""The status of a single-target POST that failed, by reason."""


class SubscriptionCreate(StrictModel):
    """Subscribe to one node (``target``) or to several (``targets``, at most 100): hosts, handles or URLs."""

    target: str | None = Field(default=None, description="velo-fives.example, relay@host or an actor URL.")
    targets: list[str] | None = Field(default=None, description="Several targets; one result each.")


class SubscriptionOut(BaseModel):
    """A node (or actor) this node follows or asked to follow."""

    id: int
    actor: str
    host: str
    name: str
    type: str
    state: FollowState
    follow_id: str
    created_at: datetime


class SubscriptionResultOut(BaseModel):
    """What became of one target: subscribed, already_subscribed, pending, duplicate or failed."""

    label: str
    target: str
    outcome: Outcome
    reason: FailureReason | None
    detail: str
    subscription: SubscriptionOut | None


class SubscriptionBatchOut(BaseModel):
    """One result per target, in the order given, and how many ended in each outcome."""

    results: list[SubscriptionResultOut]
    counts: dict[str, int]


def subscription_view(row: Subscription) -> SubscriptionOut:
    """A subscription as the API shows it."""
    return SubscriptionOut(
        id=row.id,
        actor=row.actor,
        host=row.host,
        name=row.name,
        type=row.type,
        state=FollowState(row.state.value),
        follow_id=row.follow_id,
        created_at=row.created_at,
    )


def result_view(result: SubscriptionResult) -> SubscriptionResultOut:
    """One target's result as the API (and ``fedicoop subscribe --json``) shows it."""
    return SubscriptionResultOut(
        label=result.label,
        target=result.target,
        outcome=result.outcome,
        reason=result.reason,
        detail=result.detail,
        subscription=subscription_view(result.subscription) if result.subscription else None,
    )


def batch_view(results: Sequence[SubscriptionResult]) -> SubscriptionBatchOut:
    """The results of a list, with a count per outcome (every outcome present, zeros included)."""
    counts = {outcome.value: 0 for outcome in Outcome}
    for result in results:
        counts[result.outcome.value] += 1
    return SubscriptionBatchOut(results=[result_view(result) for result in results], counts=counts)


def _entries(body: SubscriptionCreate) -> list[Entry]:
    """The body's targets, each checked; BadRequestError names the first bad one."""
    if (body.target is None) == (body.targets is None):
        raise BadRequestError("give either target (one) or targets (a list), not both nor neither")
    if body.target is not None:
        service.parse_target(body.target)
        return [Entry(label="target", text=body.target)]
    targets = body.targets or []
    if not targets:
        raise BadRequestError("targets: the list is empty", field="targets")
    if len(targets) > BATCH_MAX:
        raise BadRequestError(f"targets: at most {BATCH_MAX} targets, got {len(targets)}", field="targets")
    entries = []
    for index, text in enumerate(targets):
        try:
            service.parse_target(text)
        except BadRequestError as exc:
            raise BadRequestError(f"targets[{index}]: {exc}", field=f"targets.{index}") from None
        entries.append(Entry(label=f"targets[{index}]", text=text))
    return entries


def subscriptions_router(
    holder: NetworkHolder, auth: Sequence[Depends], errors: dict[int | str, dict[str, Any]]
) -> APIRouter:
    """The subscription routes, behind the API's bearer token ``auth``."""
    router = APIRouter(dependencies=list(auth), responses=errors, tags=["subscriptions"])

    @router.get("/subscriptions", response_model=list[SubscriptionOut])
    async def list_subscriptions(
        state: Annotated[FollowState | None, Query()] = None,
    ) -> list[SubscriptionOut]:
        """The nodes this node follows or asked to follow, newest first."""
        stored = StoredState(state.value) if state is not None else None
        return [subscription_view(row) for row in await service.list_subscriptions(stored)]

    @router.post(
        "/subscriptions",
        status_code=202,
        response_model=SubscriptionOut | SubscriptionBatchOut,
        responses={200: {"model": SubscriptionOut | SubscriptionBatchOut}},
    )
    async def create_subscriptions(body: SubscriptionCreate) -> Any:
        """Subscribe: one target → 202 (Follow sent) or 200 (already there) or the error; a list → 200."""
        entries = _entries(body)
        results = await service.subscribe_all(holder.get(), entries)
        if body.targets is not None:
            return JSONResponse(batch_view(results).model_dump(mode="json"), status_code=200)
        result = results[0]
        if result.subscription is not None:
            status = 202 if result.outcome is Outcome.SUBSCRIBED else 200
            return JSONResponse(subscription_view(result.subscription).model_dump(mode="json"), status)
        reason = result.reason or FailureReason.NOT_ACTIVITYPUB
        return JSONResponse(
            {"error": reason.value, "detail": result.detail, "field": "target"},
            status_code=FAILURE_STATUS[reason],
        )

    @router.delete("/subscriptions/{subscription_id}", status_code=204)
    async def delete_subscription(subscription_id: str) -> None:
        """Unsubscribe (an Undo of the Follow is sent); 404 for an unknown id."""
        if not (subscription_id.isascii() and subscription_id.isdigit() and len(subscription_id) <= 18):
            raise BadRequestError(
                f"id: expected a subscription id (a whole number), got {subscription_id[:40]!r}", field="id"
            )
        await service.unsubscribe(holder.get(), subscription_id)

    return router
