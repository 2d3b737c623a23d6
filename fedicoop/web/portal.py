"""The portal pages: the catalogue this node holds (what it follows and what it publishes), searchable.

``/portal`` (and ``/`` on a node whose role is ``portal``): the search form, the latest listings, the
upcoming events and the nodes of the catalogue. ``/catalogue``: the results of a search with facets,
active filters and pages, with the parameters of ``GET /api/v1/catalogue``
(:func:`fedicoop.web.catalogue.parse_catalogue_query`); the form's ``commune`` and ``near`` fields also
take a commune's name ("Roubaix", "Villeneuve d'Ascq"), resolved here on the territory. A bad parameter
shows the form again with the message, in a 400 answer. ``/catalogue/items/{id}``: one item, all it
says. ``/catalogue/nodes/{host}``: what one node publishes. ``/catalogue/actors/{id}``: a cooperative or a
workshop (its id percent-encoded into the path), with a workshop's next free slots.

Unlisted items (their author opted out of discovery) never show, and their pages answer 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.functions import Count

from federation.errors import HostError
from federation.hosts import normalize_authority, split_authority
from fedicoop.domain.french import to_paris
from fedicoop.errors import BadRequestError, NotFoundError
from fedicoop.models.actors import Actor
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Following
from fedicoop.models.states import ActorKind, CatalogueKind, FollowState
from fedicoop.node import Node
from fedicoop.services.search import SearchPage, SearchQuery, SortOrder, search
from fedicoop.territory import Territory
from fedicoop.web.catalogue import catalogue_item_view, catalogue_page_view, parse_catalogue_query
from fedicoop.web.portal_form import flat, query_values, resolved
from fedicoop.web.portal_views import (
    Card,
    PortalLinks,
    active_filters,
    card,
    cards_of,
    facet_groups,
    form_view,
    item_facts,
)
from fedicoop.web.rendering import PageRenderer
from fedicoop.web.responses import html_response
from schemas.limits import IRI_MAX

__all__ = ["ROUTES", "home"]

HOME_ITEMS = 6
"""Listings, and events, on the home page."""

HOME_NODES = 30
"""Origin nodes listed on the home page."""

ACTOR_ITEMS = 50
"""Items on an actor's page (the rest through a search)."""

BIGINT_MAX = 2**63 - 1

ORGANIZATIONS = (ActorKind.COOPERATIVE, ActorKind.WORKSHOP, ActorKind.PLACE)
"""The local actors that have a page: organizations (not the application actor, nor a feed)."""


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _renderer(request: Request) -> PageRenderer:
    renderer: PageRenderer = request.app.state.renderer
    return renderer


async def author_names(node: Node, iris: Sequence[str]) -> dict[str, str]:
    """The display names of the actors ``iris``: remote ones as last fetched, local ones from our rows."""
    wanted = sorted(set(iris))
    names: dict[str, str] = {}
    for iri, name, username in await RemoteActor.filter(iri__in=wanted).values_list(
        "iri", "name", "username"
    ):
        if name or username:
            names[str(iri)] = str(name or username)
    usernames = {iri: node.urls.local_username(iri) for iri in wanted}
    local = {username: iri for iri, username in usernames.items() if username is not None}
    if local:
        for username, name in await Actor.filter(username__in=list(local)).values_list("username", "name"):
            names[local[str(username)]] = str(name or username)
    return names


async def _cards(node: Node, page: SearchPage, territory: Territory | None, now: datetime) -> list[Card]:
    view = catalogue_page_view(page, now)
    authors = await author_names(node, [item.actor for item in view.items])
    rows = [(row.id, item) for row, item in zip(page.items, view.items, strict=True)]
    return cards_of(rows, PortalLinks(node.settings.base_url), territory, authors)


def _page_links(
    links: PortalLinks, parameters: dict[str, str], page: SearchPage
) -> tuple[str | None, str | None]:
    next_page = links.search({**parameters, "cursor": page.next_cursor}) if page.next_cursor else None
    first_page = links.search({**parameters, "cursor": ""}) if parameters.get("cursor") else None
    return next_page, first_page


async def _nodes(links: PortalLinks) -> list[tuple[str, str, int]]:
    """The origin nodes of the listed items, most items first: ``(host, page URL, count)``."""
    rows = (
        await CatalogueItem.filter(discoverable=True)
        .annotate(count=Count("id"))
        .group_by("host")
        .order_by("-count", "host")
        .limit(HOME_NODES)
        .values_list("host", "count")
    )
    return [(str(host), links.node(str(host)), int(count)) for host, count in rows]


async def home(request: Request) -> Response:
    """``/portal``: the search form, the latest listings, the upcoming events and the nodes."""
    node = _node(request)
    now = node.clock()
    territory = await node.territory.get()
    links = PortalLinks(node.settings.base_url)
    listing_kinds = (CatalogueKind.OFFER, CatalogueKind.REQUEST, CatalogueKind.REPAIR)
    latest = await search(SearchQuery(kinds=listing_kinds, limit=HOME_ITEMS), now=now)
    events = await search(
        SearchQuery(kinds=(CatalogueKind.EVENT,), date_from=now, sort=SortOrder.START, limit=HOME_ITEMS),
        now=now,
    )
    today = to_paris(now).date().isoformat()
    return html_response(
        _renderer(request).portal(
            form=form_view({}, territory),
            listings=await _cards(node, latest, territory, now),
            events=await _cards(node, events, territory, now),
            nodes=await _nodes(links),
            more_listings=links.search({"kind": "offer,request,repair"}),
            more_events=links.search({"kind": "event", "from": today, "sort": "start"}),
            total=latest.total + events.total,
        )
    )


async def results(request: Request) -> Response:
    """``/catalogue``: one page of a search, its facets and filters; the form again on a bad parameter."""
    node = _node(request)
    renderer = _renderer(request)
    now = node.clock()
    territory = await node.territory.get()
    links = PortalLinks(node.settings.base_url)
    given = query_values(request)
    try:
        query = parse_catalogue_query(resolved(given, territory))
        page = await query.run(now=now, territory=territory)
    except BadRequestError as exc:
        page_html = renderer.results(
            form=form_view(flat(given), territory),
            error=str(exc),
            cards=[],
            facets=[],
            active=[],
            total=0,
            next_page=None,
            first_page=None,
        )
        return html_response(page_html, status=400)
    parameters = query.parameters()
    cards = await _cards(node, page, territory, now)
    actor = parameters.get("actor")
    authors = await author_names(node, [actor]) if actor else {}
    next_page, first_page = _page_links(links, parameters, page)
    view = catalogue_page_view(page, now)
    return html_response(
        renderer.results(
            form=form_view(parameters, territory),
            error=None,
            cards=cards,
            facets=facet_groups(view.facets, parameters, links, territory),
            active=active_filters(parameters, links, territory, authors),
            total=page.total,
            next_page=next_page,
            first_page=first_page,
        )
    )


async def item_page(request: Request) -> Response:
    """``/catalogue/items/{id}``: one listed item, all it says, with its place, dates, slots and origin."""
    node = _node(request)
    item_id: int = request.path_params["item_id"]
    row = await CatalogueItem.get_or_none(id=item_id, discoverable=True) if item_id <= BIGINT_MAX else None
    if row is None:
        raise NotFoundError(f"no catalogue item {item_id} on this node")
    now = node.clock()
    territory = await node.territory.get()
    view = catalogue_item_view(row, now)
    authors = await author_names(node, [row.actor_iri])
    shown = card(
        row.id, view, links=PortalLinks(node.settings.base_url), territory=territory, authors=authors
    )
    facts = item_facts(view, row.document, territory)
    return html_response(_renderer(request).catalogue_item(card=shown, document=row.document, facts=facts))


def _host_of(url: str) -> str | None:
    """The origin node of a URL as the catalogue names it: host, and port when not the default."""
    try:
        parts = urlsplit(url)
        return normalize_authority(parts.netloc, parts.scheme or "https")
    except (HostError, ValueError):
        return None


def _actor_iri(value: str) -> str:
    parts = urlsplit(value)
    if len(value) > IRI_MAX or parts.scheme not in ("http", "https") or _host_of(value) is None:
        raise BadRequestError(
            f"actor: expected the http(s) id of an actor, at most {IRI_MAX} characters, got {value[:80]!r}",
            field="actor",
        )
    return value


async def _profile(node: Node, iri: str) -> tuple[dict[str, Any] | None, bool]:
    """The actor document of ``iri`` (ours, or a remote one as last fetched) and whether it is listed."""
    username = node.urls.local_username(iri)
    if username is not None:
        actor = await Actor.get_or_none(username=username, deleted_at=None, kind__in=ORGANIZATIONS)
        if actor is None:
            return None, True
        await actor.fetch_related("location")
        document = await node.documents.actor_document(actor, today=node.clock())
        return document, bool(actor.discoverable and actor.indexable)
    remote = await RemoteActor.get_or_none(iri=iri, gone=False)
    if remote is None:
        return None, True
    listed = (
        remote.document.get("discoverable") is not False and remote.document.get("indexable") is not False
    )
    return remote.document, listed


async def actor_page(request: Request) -> Response:
    """``/catalogue/actors/{id}``: a cooperative or a workshop, its items and a workshop's free slots."""
    node = _node(request)
    iri = _actor_iri(request.path_params["actor_id"])
    now = node.clock()
    profile, listed = await _profile(node, iri)
    page = await search(SearchQuery(actor=iri, limit=ACTOR_ITEMS), now=now)
    followed = await Following.exists(target_iri=iri, state=FollowState.ACCEPTED)
    local = node.urls.local_username(iri) is not None
    if not listed or (page.total == 0 and not (profile is not None and (followed or local))):
        raise NotFoundError(f"no listed actor {iri} in this node's catalogue")
    territory = await node.territory.get()
    cards = await _cards(node, page, territory, now)
    repairs = [shown for shown in cards if shown.item["kind"] == "repair"]
    links = PortalLinks(node.settings.base_url)
    name = (await author_names(node, [iri])).get(iri) or iri.rstrip("/").rsplit("/", 1)[-1]
    host = _host_of(iri) or ""
    return html_response(
        _renderer(request).catalogue_actor(
            iri=iri,
            name=name,
            profile=profile or {},
            workshop=bool(repairs),
            repairs=repairs,
            cards=cards,
            total=page.total,
            more=links.search({"actor": iri}) if page.next_cursor else None,
            node_url=links.node(host),
            node_host=host,
        )
    )


async def node_page(request: Request) -> Response:
    """``/catalogue/nodes/{host}``: what one origin node publishes, by page, with its actors."""
    node = _node(request)
    cursor = request.query_params.get("cursor")
    query = parse_catalogue_query({"node": request.path_params["host"], "cursor": cursor})  # 400: node
    host = query.search.host or ""
    now = node.clock()
    page = await query.run(now=now)
    if page.total == 0 and not await RemoteActor.exists(host=split_authority(host)[0], gone=False):
        raise NotFoundError(f"no node {host} in this node's catalogue")
    territory = await node.territory.get()
    links = PortalLinks(node.settings.base_url)
    iris = (
        await CatalogueItem.filter(host=host, discoverable=True)
        .distinct()
        .values_list("actor_iri", flat=True)
    )
    names = await author_names(node, [str(iri) for iri in iris])
    actors = sorted(
        ((names.get(str(iri), str(iri)), links.actor(str(iri))) for iri in iris),
        key=lambda pair: pair[0].lower(),
    )
    first = page.items[0].iri if page.items else f"https://{host}/"
    origin = urlsplit(first)
    next_page = f"{links.node(host)}?{urlencode({'cursor': page.next_cursor})}" if page.next_cursor else None
    view = catalogue_page_view(page, now)
    return html_response(
        _renderer(request).catalogue_node(
            host=host,
            origin=f"{origin.scheme}://{origin.netloc}/",
            actors=actors,
            cards=await _cards(node, page, territory, now),
            facets=facet_groups(view.facets, {"node": host}, links, territory),
            total=page.total,
            search=links.search({"node": host}),
            next_page=next_page,
            first_page=links.node(host) if cursor else None,
        )
    )


ROUTES = [
    Route("/portal", home, methods=["GET", "HEAD"]),
    Route("/catalogue", results, methods=["GET", "HEAD"]),
    Route("/catalogue/items/{item_id:int}", item_page, methods=["GET", "HEAD"]),
    Route("/catalogue/nodes/{host}", node_page, methods=["GET", "HEAD"]),
    Route("/catalogue/actors/{actor_id:path}", actor_page, methods=["GET", "HEAD"]),
]
