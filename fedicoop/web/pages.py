"""HTML pages: the home page and the page of each actor, listing, event and slot collection; the portal
pages (:mod:`fedicoop.web.portal`) are routed with them.

Pages are rendered from the same ActivityStreams documents the node serves as JSON, so the two views of
one URL cannot disagree.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedicoop.documents.listings import listing_tags
from fedicoop.documents.text import hashtag_name
from fedicoop.domain.slots import Slot
from fedicoop.models.actors import Actor
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.node import Node
from fedicoop.services import actors as actor_service
from fedicoop.services.availability import known_capacity
from fedicoop.services.events import list_events
from fedicoop.services.listings import list_listings
from fedicoop.settings import NodeRole
from fedicoop.web import portal
from fedicoop.web.rendering import PageRenderer
from fedicoop.web.responses import html_response
from schemas.limits import SLOT_PAGE_SIZE

HOME_LIMIT = 30


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _renderer(request: Request) -> PageRenderer:
    renderer: PageRenderer = request.app.state.renderer
    return renderer


async def _actor_doc(node: Node, actor: Actor) -> dict[str, Any]:
    return await node.documents.actor_document(actor, today=node.clock())


async def home(request: Request) -> Response:
    """The node's home page: its actors, current listings and upcoming events; a portal's is the portal's
    search page (``/portal`` on every node)."""
    node = _node(request)
    if node.settings.role == NodeRole.PORTAL:
        return await portal.home(request)
    now = node.clock()
    actors = [await _actor_doc(node, actor) for actor in await actor_service.list_actors()]
    listings = [node.documents.listing(row) for row in await list_listings(limit=HOME_LIMIT)]
    events = [node.documents.event(row) for row in await list_events(upcoming_after=now, limit=HOME_LIMIT)]
    info = {
        "name": node.settings.display_name,
        "base_url": node.settings.base_url,
        "description": (
            "Nœud fedicoop : offres, demandes, réparation de vélos et événements de ses coopératives."
        ),
        "counts": {"actors": len(actors), "listings": len(listings), "events": len(events)},
    }
    return html_response(_renderer(request).home(info, actors, listings, events))


async def render_actor_page(request: Request, actor: Actor) -> str:
    """The profile page of an Organization actor, with its listings and upcoming events."""
    node = _node(request)
    listings = [node.documents.listing(row) for row in await list_listings(actor=actor.username)]
    events = [
        node.documents.event(row)
        for row in await list_events(actor=actor.username, upcoming_after=node.clock())
    ]
    return _renderer(request).actor(await _actor_doc(node, actor), listings, events)


async def render_listing_page(request: Request, listing: Listing) -> str:
    """The page of one listing."""
    node = _node(request)
    return _renderer(request).listing(node.documents.listing(listing), await _actor_doc(node, listing.actor))


async def render_event_page(request: Request, event: Event) -> str:
    """The page of one event."""
    node = _node(request)
    return _renderer(request).event(node.documents.event(event), await _actor_doc(node, event.actor))


async def render_slots_page(request: Request, listing: Listing, slots: list[Slot], page: int) -> str:
    """The page of a workshop's free slots, 100 a page."""
    node = _node(request)
    document = (
        node.documents.slot_page(listing, slots, page, known_capacity=known_capacity(listing))
        if slots
        else {"orderedItems": []}
    )
    has_next = page * SLOT_PAGE_SIZE < len(slots)
    return _renderer(request).slots(
        node.documents.listing(listing),
        await _actor_doc(node, listing.actor),
        list(document.get("orderedItems", [])),
        page,
        has_next,
    )


def render_gone(request: Request, tombstone: dict[str, Any]) -> str:
    """The "supprimé" page of a deleted object."""
    return _renderer(request).gone(tombstone)


TAG_SCAN_LIMIT = 500


async def tag_page(request: Request) -> Response:
    """``/tags/{tag}``: the live listings and upcoming events carrying a hashtag (the links in content)."""
    node = _node(request)
    wanted = request.path_params["tag"].lower()
    listings = [
        node.documents.listing(row)
        for row in await list_listings(limit=TAG_SCAN_LIMIT)
        if wanted in {tag.lower() for tag in listing_tags(row)}
    ]
    events = [
        node.documents.event(row)
        for row in await list_events(upcoming_after=node.clock(), limit=TAG_SCAN_LIMIT)
        if wanted in {hashtag_name(tag).lower() for tag in row.tags}
    ]
    info = {
        "name": f"#{wanted}",
        "base_url": node.settings.base_url,
        "description": f"Annonces et événements de {node.settings.display_name} avec le mot-clé #{wanted}.",
        "counts": {"actors": 0, "listings": len(listings), "events": len(events)},
    }
    return html_response(_renderer(request).home(info, [], listings, events))


ROUTES = [
    Route("/", home, methods=["GET", "HEAD"]),
    Route("/tags/{tag}", tag_page, methods=["GET", "HEAD"]),
    *portal.ROUTES,
]
