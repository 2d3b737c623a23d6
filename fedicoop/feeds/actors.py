"""Feed actors: create, list and delete the ``Service`` actors that announce a saved search.

A feed actor is a local :class:`~fedicoop.models.actors.Actor` of kind ``feed`` with its own key pair,
so that WebFinger, the actor document, its inbox, Follow and Accept, and signed deliveries work as for
any Organization; its :class:`~fedicoop.models.feeds.Feed` row holds the saved search as the query
parameters of ``/catalogue`` (:data:`FEED_PARAMETERS`), checked with the same parser as every page and
feed. Nothing is stored when a name or a parameter is refused.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from federation.keys import generate_rsa_keypair
from fedicoop.errors import BadRequestError, ConflictError, NotFoundError, ValidationError
from fedicoop.feeds.describing import describe, names_places
from fedicoop.ids import uuid7
from fedicoop.models.actors import Actor, ActorKey
from fedicoop.models.feeds import Feed, FeedAnnouncement
from fedicoop.models.social import Follower
from fedicoop.models.states import ActorKind, FollowState
from fedicoop.node import Node
from fedicoop.services.search import SearchQuery, query_words
from fedicoop.territory import Territory, TerritoryHolder
from fedicoop.web.catalogue import CatalogueQuery, parse_catalogue_query
from schemas.limits import LOCAL_USERNAME_PATTERN, NAME_MAX, RESERVED_USERNAMES

__all__ = [
    "FEED_PARAMETERS",
    "FeedView",
    "create_feed",
    "delete_feed",
    "feed_search_url",
    "get_feed",
    "list_feeds",
    "saved_search",
]

FEED_PARAMETERS = frozenset(
    {"kind", "category", "q", "commune", "epci", "departement", "region", "near", "radius", "from", "to"}
    | {"node", "purpose", "actor"}
)
"""The catalogue parameters a saved search may hold (no order, page size or cursor: a feed has none)."""


@dataclass(frozen=True, slots=True)
class FeedView:
    """A feed as listed: its actor, handle, saved search and counts."""

    username: str
    actor_id: str
    handle: str
    name: str
    params: dict[str, str]
    followers: int
    announced: int
    created_at: datetime


def _check_name(username: str) -> str:
    if not re.fullmatch(LOCAL_USERNAME_PATTERN, username):
        raise ValidationError(
            f"name: expected 1 to 64 lowercase letters, digits, - or _ (velo-roubaix), got {username[:80]!r}",
            field="name",
        )
    if username in RESERVED_USERNAMES:
        raise ValidationError(f"name: {username!r} is reserved", field="name")
    return username


def _saved_params(params: Mapping[str, str | Sequence[str] | None]) -> CatalogueQuery:
    """Check the parameters of a saved search; the parsed query, or BadRequestError naming the parameter."""
    for key, value in params.items():
        if key not in FEED_PARAMETERS and value not in (None, "", []):
            allowed = ", ".join(sorted(FEED_PARAMETERS))
            raise BadRequestError(f"{key}: not a filter a feed can save (filters: {allowed})", field=key)
    query = parse_catalogue_query(params)
    if query.search.text is not None and not query_words(query.search.text):
        raise BadRequestError(
            f"q: {query.search.text[:80]!r} has no word to look for (only French stop words)", field="q"
        )
    return query


def _check_territory(query: CatalogueQuery, territory: Territory) -> None:
    """Refuse codes the territory does not know, and resolve ``near`` (BadRequestError otherwise)."""
    search = query.search
    regions = ", ".join(sorted(territory.region_codes))
    if search.commune is not None and territory.commune(search.commune) is None:
        raise BadRequestError(
            f"commune: no commune {search.commune} in the régions served ({regions})", field="commune"
        )
    checks = (
        ("epci", search.epci, territory.epci_name),
        ("departement", search.departement, territory.departement_name),
        ("region", search.region, territory.region_name),
    )
    for name, code, lookup in checks:
        if code is not None and lookup(code) is None:
            raise BadRequestError(f"{name}: no {name} with code {code} in France", field=name)
    query.resolved(territory)


async def saved_search(params: Mapping[str, str], holder: TerritoryHolder) -> SearchQuery:
    """The search a feed's saved ``params`` stand for, commune codes resolved with the territory."""
    query = parse_catalogue_query(params)
    territory = await holder.get() if query.needs_territory else None
    return query.resolved(territory)


def _summary(node: Node, description: str) -> str:
    return (
        f"Flux automatique de {node.settings.display_name} : ce compte partage chaque nouvel élément du "
        f"catalogue qui correspond à la recherche « {description} ». Abonnez-vous pour le recevoir dans "
        "votre fil ; ce compte ne lit pas les messages."
    )


async def create_feed(
    node: Node,
    username: str,
    params: Mapping[str, str | Sequence[str] | None],
    *,
    title: str | None = None,
) -> Feed:
    """Create the feed actor ``username`` announcing what the search ``params`` finds.

    Raises ValidationError for a bad name or title, BadRequestError naming the parameter for a bad or
    unknown filter (codes the territory does not know included), ConflictError when the name is taken.
    """
    _check_name(username)
    if title is not None and not 1 <= len(title.strip()) <= NAME_MAX:
        raise ValidationError(
            f"title: expected 1 to {NAME_MAX} characters, got {len(title.strip())}", field="title"
        )
    if title is not None and any(ord(char) < 0x20 for char in title):
        raise ValidationError("title: control characters (newlines…) are not allowed", field="title")
    query = _saved_params(params)
    territory = await node.territory.get() if names_places(query) else None
    if territory is not None:
        _check_territory(query, territory)
    description = describe(query, territory)
    if await Actor.exists(username=username):
        raise ConflictError(f"name {username!r} is already taken on this node")
    now = node.clock()
    pair = await asyncio.to_thread(generate_rsa_keypair)  # ~0.1 s of CPU: off the event loop
    name = title.strip() if title is not None else description[:NAME_MAX]
    actor = Actor(
        id=uuid7(),
        username=username,
        kind=ActorKind.FEED,
        name=name,
        summary=_summary(node, description),
        discoverable=True,
        indexable=False,
        published=now,
        updated=now,
    )
    try:
        async with in_transaction():
            await actor.save()
            await ActorKey.create(
                actor=actor, private_pem=pair.private_pem, public_pem=pair.public_pem, created_at=now
            )
            return await Feed.create(actor=actor, params=dict(query.given), created_at=now)
    except IntegrityError:
        raise ConflictError(f"name {username!r} is already taken on this node") from None


async def feed_search_url(node: Node, actor: Actor) -> str:
    """The HTML page of the saved search of feed actor ``actor`` (``/catalogue?…``)."""
    feed = await Feed.get_or_none(actor=actor)
    query = urlencode(feed.params if feed is not None else {})
    return node.urls.absolute("/catalogue" + (f"?{query}" if query else ""))


async def get_feed(username: str) -> Feed:
    """The live feed named ``username`` (its actor loaded); NotFoundError otherwise."""
    feed = await Feed.get_or_none(actor__username=username, actor__deleted_at=None).prefetch_related("actor")
    if feed is None:
        raise NotFoundError(f"no feed named {username[:80]!r} on this node")
    return feed


async def list_feeds(node: Node) -> list[FeedView]:
    """Every live feed, by name, with its follower and announcement counts."""
    views = []
    feeds = await Feed.filter(actor__deleted_at=None).prefetch_related("actor").order_by("actor__username")
    for feed in feeds:
        actor = feed.actor
        views.append(
            FeedView(
                username=actor.username,
                actor_id=node.urls.actor(actor.username),
                handle=f"@{actor.username}@{node.urls.host}",
                name=actor.name,
                params=dict(feed.params),
                followers=await Follower.filter(actor=actor, state=FollowState.ACCEPTED).count(),
                announced=await FeedAnnouncement.filter(feed=feed).count(),
                created_at=feed.created_at,
            )
        )
    return views


async def delete_feed(node: Node, username: str) -> Actor:
    """Delete the feed ``username``: its followers are sent the actor's ``Delete``; its id answers 410.

    The name stays taken (a deleted actor's id is never reused).
    """
    feed = await get_feed(username)
    actor = feed.actor
    now = node.clock()
    async with in_transaction():
        actor.deleted_at = now
        actor.updated = now
        await actor.save(update_fields=["deleted_at", "updated"])
        await node.publisher.actor_deleted(actor)
        await feed.delete()
    return actor
