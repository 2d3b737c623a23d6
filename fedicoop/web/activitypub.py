"""ActivityPub GET routes: actors, objects, collections and slot collections, negotiated with HTML."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fedicoop.documents.places import place_document as build_place
from fedicoop.errors import BadRequestError, GoneError, NotFoundError
from fedicoop.feeds.actors import feed_search_url
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor, Availability
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.places import Place
from fedicoop.models.social import Follower, Following
from fedicoop.models.states import ActorKind, FollowState, ListingKind
from fedicoop.node import Node
from fedicoop.services import actors as actor_service
from fedicoop.services.availability import free_slots, known_capacity
from fedicoop.web.pages import (
    home,
    render_actor_page,
    render_event_page,
    render_gone,
    render_listing_page,
    render_slots_page,
)
from fedicoop.web.responses import activity_response, dump_json, html_response, wants_json
from schemas.context import fedicoop_context
from schemas.limits import OUTBOX_PAGE_SIZE, SLOT_PAGE_SIZE

COLLECTION_PAGE_SIZE = 50


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def page_number(request: Request) -> int | None:
    """The ``?page=N`` of a collection request (None for the root); 400 on anything but 1…10000."""
    raw = request.query_params.get("page")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        # 400, not the 422 of ValidationError: a bad query string is a malformed request (wire-format §4.5)
        raise BadRequestError(f"page must be a whole number from 1 to 10000, got {raw!r}", field="page")
    return int(raw)


def _uuid(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFoundError(f"no {what} {raw!r} on this node") from None


async def _gone(request: Request, node: Node, obj: Listing | Event | Actor) -> Response:
    tombstone = {"@context": "https://www.w3.org/ns/activitystreams", **node.documents.tombstone_for(obj)}
    if wants_json(request):
        return activity_response(tombstone, status=410)
    return html_response(render_gone(request, tombstone), status=410)


async def actor_document(request: Request) -> Response:
    """``/actors/{username}``: the Organization as JSON, or its profile page."""
    node = _node(request)
    username = request.path_params["username"]
    actor = await Actor.get_or_none(username=username.lower())
    if actor is None or actor.kind == ActorKind.APPLICATION:
        raise NotFoundError(f"no actor named {username!r} on this node")
    if actor.deleted_at is not None:
        return await _gone(request, node, actor)
    if wants_json(request):
        return activity_response(await node.documents.actor_document(actor, today=node.clock()))
    if actor.kind == ActorKind.FEED:  # a feed's page is the page of its saved search
        return RedirectResponse(
            await feed_search_url(node, actor), status_code=303, headers={"Vary": "Accept"}
        )
    return html_response(await render_actor_page(request, actor))


async def profile_page(request: Request) -> Response:
    """``/@{username}``: the HTML profile (ActivityPub clients get the actor document)."""
    return await actor_document(request)


async def application_actor(request: Request) -> Response:
    """``/actor``: the node's Application actor, always fetchable unsigned (FEP-2677)."""
    node = _node(request)
    actor = await actor_service.get_application_actor()
    if wants_json(request):
        return activity_response(await node.documents.actor_document(actor))
    return await home(request)


async def _outbox_items(node: Node, actor: Actor) -> list[Activity]:
    actor_id = node.documents.actors.actor_id(actor)
    listings = await Listing.filter(actor=actor, deleted_at=None).only("id")
    events = await Event.filter(actor=actor, deleted_at=None).only("id")
    live = {node.urls.listing(row.id) for row in listings} | {node.urls.event(row.id) for row in events}
    creates = await Activity.filter(actor_iri=actor_id, type="Create", public=True).order_by(
        "-published", "-id"
    )
    return [row for row in creates if row.object_iri in live]


async def outbox(request: Request) -> Response:
    """An actor's outbox: the Creates of its live public objects, newest first, 20 per page."""
    node = _node(request)
    actor = await _collection_owner(request)
    collection_id = node.documents.actors.actor_id(actor) + "/outbox"
    items = await _outbox_items(node, actor) if actor.kind != ActorKind.APPLICATION else []
    page = page_number(request)
    if page is None:
        return activity_response(node.documents.collection_root(collection_id, len(items)))
    start = (page - 1) * OUTBOX_PAGE_SIZE
    chunk = [
        {key: value for key, value in row.document.items() if key != "@context"}
        for row in items[start : start + OUTBOX_PAGE_SIZE]
    ]
    document = node.documents.collection_page(
        collection_id, page, chunk, has_next=start + OUTBOX_PAGE_SIZE < len(items), context=fedicoop_context()
    )
    return activity_response(document)


async def _collection_owner(request: Request) -> Actor:
    username = request.path_params.get("username")
    if username is None:
        return await actor_service.get_application_actor()
    return await actor_service.get_actor(username, include_feeds=True)


async def followers(request: Request) -> Response:
    """An actor's followers: the count only, members' follow relations are not published (§4.5)."""
    node = _node(request)
    actor = await _collection_owner(request)
    total = await Follower.filter(actor=actor, state=FollowState.ACCEPTED).count()
    collection_id = node.documents.actors.actor_id(actor) + "/followers"
    return activity_response(node.documents.collection_root(collection_id, total, with_first=False))


async def following(request: Request) -> Response:
    """An actor's following: paged actor ids."""
    node = _node(request)
    actor = await _collection_owner(request)
    collection_id = node.documents.actors.actor_id(actor) + "/following"
    query = Following.filter(actor=actor, state=FollowState.ACCEPTED)
    page = page_number(request)
    if page is None:
        return activity_response(node.documents.collection_root(collection_id, await query.count()))
    start = (page - 1) * COLLECTION_PAGE_SIZE
    rows = (
        await query.order_by("id")
        .offset(start)
        .limit(COLLECTION_PAGE_SIZE + 1)
        .values_list("target_iri", flat=True)
    )
    has_next = len(rows) > COLLECTION_PAGE_SIZE
    return activity_response(
        node.documents.collection_page(
            collection_id, page, list(rows)[:COLLECTION_PAGE_SIZE], has_next=has_next
        )
    )


async def _load_listing(request: Request) -> Listing:
    listing_id = _uuid(request.path_params["listing_id"], "listing")
    listing = await Listing.get_or_none(id=listing_id).prefetch_related("actor", "location")
    if listing is None:
        raise NotFoundError(f"no listing {listing_id} on this node")
    return listing


async def listing_document(request: Request) -> Response:
    """``/listings/{id}``: the Note, or its page; 410 with a Tombstone once withdrawn."""
    node = _node(request)
    listing = await _load_listing(request)
    if listing.deleted_at is not None:
        return await _gone(request, node, listing)
    if wants_json(request):
        return activity_response(node.documents.listing(listing))
    return html_response(await render_listing_page(request, listing))


async def slots_document(request: Request) -> Response:
    """``/listings/{id}/slots``: the free slots of a repair offer, 100 a page, with an ETag."""
    node = _node(request)
    listing = await _load_listing(request)
    if listing.deleted_at is not None:
        raise GoneError(f"repair offer {listing.id} was withdrawn")
    if listing.kind != ListingKind.REPAIR:
        raise NotFoundError(f"listing {listing.id} is not a repair offer and has no slots")
    now = node.clock()
    slots = await free_slots(listing, now)
    page = page_number(request)
    if not wants_json(request):
        return html_response(await render_slots_page(request, listing, slots, page or 1))
    document: dict[str, Any]
    if page is None:
        availability = await Availability.get_or_none(actor_id=listing.actor.id)
        updated = max(listing.updated, availability.updated) if availability is not None else listing.updated
        document = node.documents.slot_collection(listing, len(slots), updated)
    else:
        if (page - 1) * SLOT_PAGE_SIZE >= max(len(slots), 1):
            raise NotFoundError(f"page {page} is past the last page of {listing.id}/slots")
        document = node.documents.slot_page(listing, slots, page, known_capacity=known_capacity(listing))
    body = dump_json(document)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "max-age=300"}
    if etag in [value.strip() for value in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={**headers, "Vary": "Accept"})
    return activity_response(document, headers=headers)


async def event_document(request: Request) -> Response:
    """``/events/{id}``: the Event, or its page; 410 with a Tombstone once deleted."""
    node = _node(request)
    event_id = _uuid(request.path_params["event_id"], "event")
    event = await Event.get_or_none(id=event_id).prefetch_related("actor", "location")
    if event is None:
        raise NotFoundError(f"no event {event_id} on this node")
    if event.deleted_at is not None:
        return await _gone(request, node, event)
    if wants_json(request):
        return activity_response(node.documents.event(event))
    return html_response(await render_event_page(request, event))


async def place_document(request: Request) -> Response:
    """``/places/{id}``: an exact Place (blurred places have no id and are never served)."""
    node = _node(request)
    place_id = _uuid(request.path_params["place_id"], "place")
    place = await Place.get_or_none(id=place_id, blurred=False)
    if place is None:
        raise NotFoundError(f"no place {place_id} on this node")
    document = build_place(place, node.urls)
    document.context = fedicoop_context()
    return activity_response(document.to_wire())


async def activity_document(request: Request) -> Response:
    """``/activities/{id}``: one public activity we published."""
    activity_id = _uuid(request.path_params["activity_id"], "activity")
    row = await Activity.get_or_none(id=activity_id, public=True)
    if row is None:
        raise NotFoundError(f"no activity {activity_id} on this node")
    return activity_response(row.document)


ROUTES = [
    Route("/actor", application_actor, methods=["GET", "HEAD"]),
    Route("/actor/outbox", outbox, methods=["GET", "HEAD"]),
    Route("/actor/followers", followers, methods=["GET", "HEAD"]),
    Route("/actor/following", following, methods=["GET", "HEAD"]),
    Route("/actors/{username}", actor_document, methods=["GET", "HEAD"]),
    Route("/@{username}", profile_page, methods=["GET", "HEAD"]),
    Route("/actors/{username}/outbox", outbox, methods=["GET", "HEAD"]),
    Route("/actors/{username}/followers", followers, methods=["GET", "HEAD"]),
    Route("/actors/{username}/following", following, methods=["GET", "HEAD"]),
    Route("/listings/{listing_id}", listing_document, methods=["GET", "HEAD"]),
    Route("/listings/{listing_id}/slots", slots_document, methods=["GET", "HEAD"]),
    Route("/events/{event_id}", event_document, methods=["GET", "HEAD"]),
    Route("/places/{place_id}", place_document, methods=["GET", "HEAD"]),
    Route("/activities/{activity_id}", activity_document, methods=["GET", "HEAD"]),
]
