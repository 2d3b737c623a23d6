"""The social graph in both directions: Follow, Accept, Reject and Undo (wire-format §3.2, §9.2).

Outgoing: a local actor follows a remote actor by handle or URL (:func:`follow`) and stops
(:func:`unfollow`); the remote Accept or Reject settles the request (:func:`settle_following`).
Incoming: a remote Follow of a local actor (or of the application actor, or of Public for relays) is
accepted at once, or kept pending for actors that approve followers manually (:func:`approve`,
:func:`reject`); an Undo removes it. Every activity sent goes through the publisher's durable queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from federation.addressing import actor_id_of
from federation.hosts import same_origin
from federation.webfinger import resolve_handle
from fedicoop.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from fedicoop.ids import uuid7
from fedicoop.models.actors import Actor
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Follower, Following
from fedicoop.models.states import ActorKind, FollowState
from fedicoop.network import Network
from fedicoop.services import catalogue
from fedicoop.services.actors import get_actor, get_application_actor
from fedicoop.services.deliveries import Target
from fedicoop.services.remote_actors import detect_software, resolve_actor
from schemas.context import AS_CONTEXT, PUBLIC, PUBLIC_ALIASES

__all__ = [
    "approve",
    "follow",
    "follows_author",
    "local_actor_for_follow",
    "receive_follow",
    "receive_undo_follow",
    "reject",
    "resolve_target",
    "settle_following",
    "unfollow",
]


def _target(remote: RemoteActor) -> Target:
    return Target(inbox=remote.delivery_inbox, recipient_iri=remote.iri)


def _follow_document(follow_id: str, actor_iri: str, object_iri: str) -> dict[str, Any]:
    return {"id": follow_id, "type": "Follow", "actor": actor_iri, "object": object_iri}


async def resolve_target(network: Network, target: str) -> RemoteActor:
    """Resolve ``name@host`` (WebFinger, round trip checked) or an actor URL to a fetched remote actor."""
    target = target.strip()
    if urlsplit(target).scheme in ("http", "https"):
        actor_iri = target
    elif "@" in target:
        actor_iri = await resolve_handle(
            network.client,
            network.policy,
            target,
            network.fetcher.fetch,
            host_allowed=network.hosts.allows,
        )
    else:
        raise ValidationError(f"{target!r} is neither a handle (name@host) nor an actor URL", field="target")
    if actor_iri.startswith(network.node.settings.base_url + "/"):
        raise ValidationError(f"{actor_iri} is an actor of this node", field="target")
    return await resolve_actor(network, actor_iri)


async def follow(network: Network, username: str, target: str) -> Following:
    """Make local actor ``username`` follow ``target`` (handle or URL): store the request, send the Follow.

    Following an actor already followed or pending raises ConflictError.
    """
    actor = await get_actor(username, include_application=True)
    remote = await resolve_target(network, target)
    actor_iri = network.node.documents.actors.actor_id(actor)
    if await Following.exists(
        actor=actor, target_iri=remote.iri, state__in=[FollowState.PENDING, FollowState.ACCEPTED]
    ):
        raise ConflictError(f"{username} already follows {remote.iri} (or is waiting for an answer)")
    activity_id = uuid7()
    follow_id = network.node.urls.activity(activity_id)
    document = {
        "@context": AS_CONTEXT,
        **_follow_document(follow_id, actor_iri, remote.iri),
        "to": [remote.iri],
    }
    now = network.node.clock()
    async with in_transaction():
        await Following.filter(actor=actor, target_iri=remote.iri).delete()
        following = await Following.create(
            actor=actor,
            target_iri=remote.iri,
            follow_activity_iri=follow_id,
            state=FollowState.PENDING,
            created_at=now,
        )
        await network.node.publisher.send(
            "Follow", actor, document, [_target(remote)], activity_id=activity_id
        )
    return following


async def unfollow(network: Network, username: str, target: str) -> None:
    """Stop following ``target`` (handle, URL or a followed actor id): send Undo(Follow), drop the row."""
    actor = await get_actor(username, include_application=True)
    following = await Following.get_or_none(actor=actor, target_iri=target.strip())
    if following is None:
        resolved = await resolve_target(network, target)
        following = await Following.get_or_none(actor=actor, target_iri=resolved.iri)
    if following is None:
        raise NotFoundError(f"{username} does not follow {target}")
    target_actor = await RemoteActor.get_or_none(iri=following.target_iri)
    actor_iri = network.node.documents.actors.actor_id(actor)
    activity_id = uuid7()
    document = {
        "@context": AS_CONTEXT,
        "id": network.node.urls.activity(activity_id),
        "type": "Undo",
        "actor": actor_iri,
        "object": _follow_document(following.follow_activity_iri, actor_iri, following.target_iri),
        "to": [following.target_iri],
    }
    async with in_transaction():
        await following.delete()
        await _forget_unfollowed(target_actor, following.target_iri)
        if target_actor is not None and not target_actor.gone:
            await network.node.publisher.send(
                "Undo", actor, document, [_target(target_actor)], activity_id=activity_id
            )


async def follows_author(author_iri: str) -> bool:
    """Tell whether a local actor follows ``author_iri``, or the application actor of its node."""
    rows = await Following.filter(state=FollowState.ACCEPTED).values_list("target_iri", flat=True)
    followed = [str(iri) for iri in rows]
    if author_iri in followed:
        return True
    same_node = [iri for iri in followed if same_origin(iri, author_iri)]
    return bool(same_node) and await RemoteActor.exists(iri__in=same_node, type="Application")


async def _forget_unfollowed(target: RemoteActor | None, target_iri: str) -> None:
    """Drop the catalogue items this node no longer follows after an unfollow."""
    if await Following.exists(target_iri=target_iri):
        return
    authors = {target_iri}
    if target is not None and target.type == "Application":
        stored = await CatalogueItem.filter(host=target.host).distinct().values_list("actor_iri", flat=True)
        authors.update(str(author) for author in stored if same_origin(str(author), target_iri))
    for author in authors:
        if not await follows_author(author):
            await catalogue.remove_actor_items(author)


async def settle_following(activity: Mapping[str, Any], accepted: bool) -> bool:
    """Apply a remote Accept or Reject of a Follow we sent; return whether one of ours matched.

    The answer must come from the followed actor; the Follow may be embedded or given by id (mitra).
    """
    answerer = actor_id_of(activity.get("actor"))
    inner = activity.get("object")
    follow_id = actor_id_of(inner)
    query = Following.filter(target_iri=answerer)
    if follow_id is not None:
        following = await query.filter(follow_activity_iri=follow_id).first()
    else:
        following = None
    if following is None and isinstance(inner, Mapping):
        follower = actor_id_of(inner.get("actor"))
        candidates = await query.prefetch_related("actor")
        following = next(
            (row for row in candidates if follower and follower.endswith(f"/{row.actor.username}")), None
        )
    if following is None:
        return False
    following.state = FollowState.ACCEPTED if accepted else FollowState.REJECTED
    await following.save(update_fields=["state"])
    return True


async def local_actor_for_follow(network: Network, activity: Mapping[str, Any]) -> Actor | None:
    """The local actor a Follow asks for: an Organization, or the application actor (by id or Public)."""
    target = actor_id_of(activity.get("object"))
    urls = network.node.urls
    if target is None:
        return None
    if target == urls.application_actor or target in PUBLIC_ALIASES or target == PUBLIC:
        return await get_application_actor()
    username = urls.local_username(target)
    if username is None:
        return None
    actor = await Actor.get_or_none(username=username, deleted_at=None)
    if actor is None or actor.kind == ActorKind.APPLICATION:
        return None
    return actor


async def _answer(network: Network, actor: Actor, follower: Follower, remote: RemoteActor, kind: str) -> None:
    actor_iri = network.node.documents.actors.actor_id(actor)
    activity_id = uuid7()
    follow = _follow_document(follower.follow_activity_iri, follower.follower_iri, actor_iri)
    document = {
        "@context": AS_CONTEXT,
        "id": network.node.urls.activity(activity_id),
        "type": kind,
        "actor": actor_iri,
        "object": follow,
        "to": [follower.follower_iri],
    }
    await network.node.publisher.send(kind, actor, document, [_target(remote)], activity_id=activity_id)


async def receive_follow(network: Network, activity: Mapping[str, Any], now: datetime) -> FollowState | None:
    """Apply a remote Follow of one of our actors; return the follower's state, ``None`` when not ours.

    A blocked follower gets a Reject; an actor that approves followers manually keeps it pending; else
    it is accepted and answered with an Accept. A repeated Follow re-sends the Accept.
    """
    actor = await local_actor_for_follow(network, activity)
    if actor is None:
        return None
    follower_iri = actor_id_of(activity.get("actor")) or ""
    remote = await resolve_actor(network, follower_iri)
    if actor.kind == ActorKind.APPLICATION:
        await detect_software(network, remote)
    state = FollowState.PENDING if actor.manually_approves_followers else FollowState.ACCEPTED
    if not network.hosts.allows(remote.host):
        state = FollowState.REJECTED
    async with in_transaction():
        follower, created = await Follower.get_or_create(
            actor=actor,
            follower_iri=remote.iri,
            defaults={
                "inbox": remote.inbox,
                "shared_inbox": remote.shared_inbox,
                "follow_activity_iri": str(activity["id"]),
                "state": state,
                "created_at": now,
            },
        )
        if not created:
            if follower.state == FollowState.ACCEPTED:
                state = FollowState.ACCEPTED
            follower.follow_activity_iri = str(activity["id"])
            follower.state = state
            follower.inbox, follower.shared_inbox = remote.inbox, remote.shared_inbox
            await follower.save()
        if state == FollowState.ACCEPTED:
            await _answer(network, actor, follower, remote, "Accept")
        elif state == FollowState.REJECTED:
            await _answer(network, actor, follower, remote, "Reject")
    return state


async def receive_undo_follow(activity: Mapping[str, Any]) -> bool:
    """Apply a remote Undo of a Follow: the follower, and only it, stops following; True when one matched."""
    follower_iri = actor_id_of(activity.get("actor"))
    inner = activity.get("object")
    follow_id = actor_id_of(inner)
    query = Follower.filter(follower_iri=follower_iri)
    removed = await query.filter(follow_activity_iri=follow_id).delete() if follow_id else 0
    if not removed and isinstance(inner, Mapping):
        target = actor_id_of(inner.get("object"))
        for follower in await query.prefetch_related("actor"):
            if target and (
                target.endswith(f"/actors/{follower.actor.username}")
                or follower.actor.kind == ActorKind.APPLICATION
            ):
                await follower.delete()
                removed += 1
    return bool(removed)


async def _pending(username: str, follower_iri: str) -> tuple[Actor, Follower]:
    actor = await get_actor(username, include_application=True)
    follower = await Follower.get_or_none(actor=actor, follower_iri=follower_iri)
    if follower is None:
        raise NotFoundError(f"{follower_iri} has not asked to follow {username}")
    if follower.state != FollowState.PENDING:
        raise ConflictError(f"the follow request of {follower_iri} is already {follower.state.value}")
    return actor, follower


async def approve(network: Network, username: str, follower_iri: str) -> Follower:
    """Accept a pending follow request of a local actor that approves followers manually."""
    actor, follower = await _pending(username, follower_iri)
    remote = await RemoteActor.get_or_none(iri=follower_iri)
    if remote is None or remote.gone:
        raise ForbiddenError(f"{follower_iri} is gone: its request cannot be accepted")
    async with in_transaction():
        follower.state = FollowState.ACCEPTED
        await follower.save(update_fields=["state"])
        await _answer(network, actor, follower, remote, "Accept")
    return follower


async def reject(network: Network, username: str, follower_iri: str) -> Follower:
    """Refuse a pending follow request: the follower is told with a Reject."""
    actor, follower = await _pending(username, follower_iri)
    remote = await RemoteActor.get_or_none(iri=follower_iri)
    async with in_transaction():
        follower.state = FollowState.REJECTED
        await follower.save(update_fields=["state"])
        if remote is not None and not remote.gone:
            await _answer(network, actor, follower, remote, "Reject")
    return follower
