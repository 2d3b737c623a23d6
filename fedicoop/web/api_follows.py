"""The social graph in the JSON API: ``/api/v1/follows`` (whom we follow) and ``/api/v1/followers``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.params import Depends

from fedicoop.models.social import Follower, Following
from fedicoop.models.states import FollowState as StoredState
from fedicoop.network import NetworkHolder
from fedicoop.node import Node
from fedicoop.services import actors as actor_service
from fedicoop.services import follows as follow_service
from schemas.api_follows import FollowCreate, FollowerDecision, FollowerOut, FollowingOut, FollowState

__all__ = ["follows_router"]


def _following_out(row: Following, node: Node) -> FollowingOut:
    return FollowingOut(
        actor=node.documents.actors.actor_id(row.actor),
        target=row.target_iri,
        state=FollowState(row.state.value),
        follow_id=row.follow_activity_iri,
        created_at=row.created_at,
    )


def _follower_out(row: Follower, node: Node) -> FollowerOut:
    return FollowerOut(
        actor=node.documents.actors.actor_id(row.actor),
        follower=row.follower_iri,
        state=FollowState(row.state.value),
        inbox=row.shared_inbox or row.inbox,
        created_at=row.created_at,
    )


def follows_router(
    node: Node, holder: NetworkHolder, auth: Sequence[Depends], errors: dict[int | str, dict[str, Any]]
) -> APIRouter:
    """The routes of the social graph, behind the API's bearer token ``auth``."""
    router = APIRouter(dependencies=list(auth), responses=errors, tags=["follows"])

    @router.get("/follows", response_model=list[FollowingOut])
    async def list_follows(
        actor: Annotated[str | None, Query(max_length=64)] = None,
        state: Annotated[FollowState | None, Query()] = None,
    ) -> list[FollowingOut]:
        query = Following.all().prefetch_related("actor").order_by("-created_at", "-id")
        if actor is not None:
            query = query.filter(actor=await actor_service.get_actor(actor, include_application=True))
        if state is not None:
            query = query.filter(state=StoredState(state.value))
        return [_following_out(row, node) for row in await query.limit(500)]

    @router.post("/follows", status_code=202, response_model=FollowingOut)
    async def create_follow(body: FollowCreate) -> FollowingOut:
        following = await follow_service.follow(holder.get(), body.actor, body.target)
        await following.fetch_related("actor")
        return _following_out(following, node)

    @router.delete("/follows", status_code=204)
    async def delete_follow(
        actor: Annotated[str, Query(max_length=64)],
        target: Annotated[str, Query(min_length=3, max_length=2048)],
    ) -> None:
        await follow_service.unfollow(holder.get(), actor, target)

    @router.get("/followers", response_model=list[FollowerOut])
    async def list_followers(
        actor: Annotated[str | None, Query(max_length=64)] = None,
        state: Annotated[FollowState | None, Query()] = None,
    ) -> list[FollowerOut]:
        query = Follower.all().prefetch_related("actor").order_by("-created_at", "-id")
        if actor is not None:
            query = query.filter(actor=await actor_service.get_actor(actor, include_application=True))
        if state is not None:
            query = query.filter(state=StoredState(state.value))
        return [_follower_out(row, node) for row in await query.limit(500)]

    @router.post("/actors/{username}/followers/approve", response_model=FollowerOut)
    async def approve_follower(username: str, body: FollowerDecision) -> FollowerOut:
        follower = await follow_service.approve(holder.get(), username, body.follower)
        await follower.fetch_related("actor")
        return _follower_out(follower, node)

    @router.post("/actors/{username}/followers/reject", response_model=FollowerOut)
    async def reject_follower(username: str, body: FollowerDecision) -> FollowerOut:
        follower = await follow_service.reject(holder.get(), username, body.follower)
        await follower.fetch_related("actor")
        return _follower_out(follower, node)

    return router
