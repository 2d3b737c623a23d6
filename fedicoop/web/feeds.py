"""``/catalogue.ics`` and ``/catalogue.atom``: any catalogue search as an iCalendar or an Atom feed.

Both take the parameters of ``/catalogue`` and ``/api/v1/catalogue`` (:mod:`fedicoop.web.catalogue`),
so a town hall can embed ``/catalogue.ics?kind=event&epci=200093201``. An unknown parameter or a bad
value answers 400 naming it, never an empty feed. The iCalendar holds the dated items found (events
unless ``kind`` says otherwise), soonest first, from today on unless ``from`` or ``to`` is given; the
Atom feed holds any kind, newest first, with a ``next`` link (the search's cursor). Both are public and
cacheable for five minutes; at most :data:`FEED_LIMIT` items unless ``limit`` says fewer (100 at most).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from federation.sanitize import html_to_text, sanitize_html
from fedicoop.domain.french import to_paris
from fedicoop.errors import BadRequestError
from fedicoop.feeds.atom import AtomEntry, AtomFeed, atom
from fedicoop.feeds.describing import describe, names_places
from fedicoop.feeds.ical import CalendarEvent, calendar
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.remote import RemoteActor
from fedicoop.models.states import CatalogueKind
from fedicoop.node import Node
from fedicoop.web.catalogue import CatalogueQuery, parse_catalogue_query
from schemas.context import CATEGORIES

__all__ = ["FEED_LIMIT", "PARAMETERS", "ROUTES", "atom_feed", "ical_feed"]

FEED_LIMIT = 50
"""Items in a feed when ``limit`` is not given."""

PARAMETERS = frozenset(
    {"kind", "category", "q", "commune", "epci", "departement", "region", "near", "radius", "from", "to"}
    | {"node", "sort", "purpose", "actor", "limit", "cursor"}
)
"""The query parameters the feeds read: those of the catalogue API."""

REPEATABLE = ("kind", "category")

HEADERS = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _params(request: Request, defaults: dict[str, str]) -> dict[str, str | Sequence[str]]:
    """The request's parameters, checked against :data:`PARAMETERS`, over ``defaults`` (blank = absent)."""
    unknown = sorted(set(request.query_params.keys()) - PARAMETERS)
    if unknown:
        name = unknown[0][:40]
        raise BadRequestError(
            f"{name}: not a parameter of this feed (parameters: {', '.join(sorted(PARAMETERS))})", field=name
        )
    given: dict[str, str | Sequence[str]] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        given[key] = values if key in REPEATABLE else values[-1]
    for key, value in defaults.items():
        if not given.get(key):
            given[key] = value
    return given


async def _run(
    node: Node, query: CatalogueQuery, titled: CatalogueQuery | None = None
) -> tuple[list[CatalogueItem], str | None, str]:
    """The items of one page of ``query``, its next cursor, and the French title of ``titled`` (the query
    as asked, before defaults; ``query`` itself by default). The territory names the places."""
    territory = await node.territory.get() if names_places(query) else None
    page = await query.run(now=node.clock(), territory=territory)
    return page.items, page.next_cursor, describe(titled or query, territory)


def _self_url(node: Node, path: str, parameters: dict[str, str] | list[tuple[str, str]]) -> str:
    query = urlencode(parameters)
    return node.urls.absolute(path + (f"?{query}" if query else ""))


def _as_given(request: Request) -> list[tuple[str, str]]:
    """The request's own non-blank parameters, cursor aside (what a subscriber's calendar re-asks)."""
    return [
        (key, value) for key, value in request.query_params.multi_items() if value.strip() and key != "cursor"
    ]


def _category_label(slug: str | None) -> str | None:
    found = CATEGORIES.get(slug) if slug is not None else None
    return found.label if found is not None else slug


def _text(html: str) -> str:
    return html_to_text(html) if html else ""


def _calendar_event(item: CatalogueItem) -> CalendarEvent | None:
    if item.starts_at is None:
        return None
    label = _category_label(item.category)
    description = "\n\n".join(part for part in (_text(item.summary), _text(item.content)) if part)
    return CalendarEvent(
        uid=item.iri,
        summary=item.name or item.iri,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        description=description,
        location=item.location_name,
        geo=(item.latitude, item.longitude)
        if item.latitude is not None and item.longitude is not None
        else None,
        url=item.url or item.iri,
        categories=(label,) if label else (),
        cancelled=not item.available,
        created=item.published,
        last_modified=item.updated or item.published,
    )


async def ical_feed(request: Request) -> Response:
    """``/catalogue.ics``: the dated items of a search as an iCalendar (events by default)."""
    node = _node(request)
    defaults = {"kind": CatalogueKind.EVENT.value, "sort": "start", "limit": str(FEED_LIMIT)}
    given = _params(request, defaults)
    titled = parse_catalogue_query(given)
    if not given.get("from") and not given.get("to"):
        given["from"] = to_paris(node.clock()).date().isoformat()  # today on, Paris time
    query = parse_catalogue_query(given)
    items, _, title = await _run(node, query, titled)
    events = [event for event in (_calendar_event(item) for item in items) if event is not None]
    body = calendar(
        events,
        name=f"{title} — {node.settings.display_name}",
        product=f"-//fedicoop//{node.settings.display_name}//FR",
        stamp=node.clock(),
        url=_self_url(node, "/catalogue.ics", _as_given(request)),
    )
    return Response(body, media_type="text/calendar; charset=utf-8", headers=HEADERS)


async def _authors(items: list[CatalogueItem]) -> dict[str, str]:
    iris = {item.actor_iri for item in items}
    rows = await RemoteActor.filter(iri__in=list(iris)).only("iri", "name", "username")
    return {row.iri: row.name or row.username or row.iri for row in rows}


def _entry(item: CatalogueItem, authors: dict[str, str], fallback: datetime) -> AtomEntry:
    label = _category_label(item.category)
    updated = item.updated or item.published or item.received_at or fallback
    return AtomEntry(
        id=item.iri,
        title=item.name or item.iri,
        updated=updated,
        link=item.url or item.iri,
        published=item.published,
        author_name=authors.get(item.actor_iri, item.host),
        author_uri=item.actor_iri,
        summary=_text(item.summary),
        content_html=sanitize_html(item.content) if item.content else "",
        categories=((item.category, label or item.category),) if item.category else (),
    )


async def atom_feed(request: Request) -> Response:
    """``/catalogue.atom``: a search as an Atom feed, newest first, with a ``next`` link."""
    node = _node(request)
    query = parse_catalogue_query(_params(request, {"limit": str(FEED_LIMIT)}))
    items, next_cursor, title = await _run(node, query)
    now = node.clock()
    authors = await _authors(items)
    entries = [_entry(item, authors, now) for item in items]
    first = query.parameters(cursor=None)
    alternate = {key: value for key, value in first.items() if key != "limit"}
    feed = AtomFeed(
        id=_self_url(node, "/catalogue.atom", first),
        title=f"{title} — {node.settings.display_name}",
        subtitle=f"Le catalogue de {node.settings.display_name} : {title}",
        updated=max((entry.updated for entry in entries), default=now),
        self_url=_self_url(node, "/catalogue.atom", query.parameters()),
        alternate_url=_self_url(node, "/catalogue", alternate),
        author_name=node.settings.display_name,
        author_uri=node.urls.absolute("/"),
        next_url=_self_url(node, "/catalogue.atom", query.parameters(cursor=next_cursor))
        if next_cursor
        else None,
    )
    return Response(atom(feed, entries), media_type="application/atom+xml; charset=utf-8", headers=HEADERS)


ROUTES = [
    Route("/catalogue.ics", ical_feed, methods=["GET", "HEAD"]),
    Route("/catalogue.atom", atom_feed, methods=["GET", "HEAD"]),
]
