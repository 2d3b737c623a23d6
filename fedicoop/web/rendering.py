"""HTML pages of a node, rendered from the very ActivityStreams documents it serves, and its portal pages.

A browser asking for an actor, a listing, an event or a slot collection gets an HTML page at the same URL
(wire-format §4.4). :class:`PageRenderer` turns the JSON documents (plain dicts shaped like the examples of
wire-format.md) into those pages with jinja2: autoescaping everywhere, ``StrictUndefined`` so that a missing
required key is an error instead of an empty string, and the filters of :mod:`fedicoop.web.filters`, whose
``safe_html`` is the only way HTML written by someone else reaches a page. The portal pages
(:mod:`fedicoop.web.portal`) are rendered from the views of :mod:`fedicoop.web.portal_views`. Dates are
shown in Europe/Paris time, in French.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from fedicoop.web.filters import (
    ref,
    required,
    slots_by_day,
    slots_url,
    template_filters,
    template_globals,
    template_tests,
)
from fedicoop.web.portal_views import ActiveFilter, Card, FacetGroup, FormView

__all__ = ["PageRenderer"]

Document = Mapping[str, Any]
"""An ActivityStreams document as decoded from JSON."""


class PageRenderer:
    """Renders the HTML pages of a node from its ActivityStreams documents (plain dicts): built once by
    the application with the node's display name and public base URL, it owns its jinja2 ``Environment``
    (the ``fedicoop`` package templates, autoescape on, ``StrictUndefined``) and has one method per page,
    each returning a complete HTML5 document; a document missing a required key (an id, a title, a name,
    a start time…) raises ``jinja2.UndefinedError``, optional keys may be absent."""

    def __init__(self, site_name: str, base_url: str) -> None:
        if not site_name.strip():
            raise ValueError("PageRenderer: site_name must not be empty, got an empty string")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"PageRenderer: base_url must be an absolute http(s) URL, got {base_url!r}")
        self.site_name = site_name
        self.base_url = base_url.rstrip("/")
        self._environment = Environment(
            loader=PackageLoader("fedicoop", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._environment.filters.update(template_filters())
        self._environment.globals.update(template_globals())
        self._environment.globals.update(site_name=self.site_name, base_url=self.base_url)
        self._environment.tests.update(template_tests())

    def _render(self, template: str, **context: Any) -> str:
        return self._environment.get_template(template).render(**context)

    def home(
        self,
        node: Document,
        actors: Sequence[Document],
        listings: Sequence[Document],
        events: Sequence[Document],
    ) -> str:
        """Render the node's home page: ``node`` holds ``name`` (required), ``description`` (plain text),
        ``base_url`` and ``counts`` (``{"actors", "listings", "events"}`` → int), then the actors, listings
        and events, each listing and event shown with its author when that author is among ``actors``."""
        authors = {required(actor, "id"): actor for actor in actors}
        return self._render(
            "home.html",
            node=node,
            actors=actors,
            listings=[(note, authors.get(ref(note.get("attributedTo")))) for note in listings],
            events=[(event, authors.get(ref(event.get("attributedTo")))) for event in events],
        )

    def actor(self, actor: Document, listings: Sequence[Document], events: Sequence[Document]) -> str:
        """Render an actor profile (an ``Organization``) with its current listings and upcoming events."""
        return self._render("actor.html", actor=actor, listings=listings, events=events)

    def listing(self, note: Document, actor: Document) -> str:
        """Render an offer, a request or a repair offer (a listing ``Note``) and its author ``actor``."""
        return self._render("listing.html", note=note, actor=actor)

    def event(self, event: Document, actor: Document) -> str:
        """Render an ``Event`` with its organising ``actor``."""
        return self._render("event.html", event=event, actor=actor)

    def slots(
        self,
        offer: Document,
        actor: Document,
        slots: Sequence[Document],
        page: int,
        has_next: bool,
    ) -> str:
        """Render page ``page`` (from 1) of the free slots of a repair ``offer``: ``slots`` are the slot
        ``Intent``s of that page (the ``orderedItems`` of the collection page) in chronological order, and
        ``has_next`` tells whether a next page exists."""
        if page < 1:
            raise ValueError(f"PageRenderer.slots: page must be 1 or more, got {page}")
        days = slots_by_day(slots)
        context = {"offer": offer, "actor": actor, "page": page, "has_next": has_next}
        return self._render("slots.html", days=days, collection=slots_url(offer), **context)

    def gone(self, tombstone: Document) -> str:
        """Render the "supprimé" page of a deleted object from its ``Tombstone``."""
        return self._render("gone.html", tombstone=tombstone)

    def error(self, status: int, title: str, detail: str) -> str:
        """Render an error page: the HTTP ``status``, a short ``title`` and a ``detail`` sentence."""
        return self._render("error.html", status=status, title=title, detail=detail)

    # Portal pages -----------------------------------------------------------------------------------

    def portal(
        self,
        *,
        form: FormView,
        listings: Sequence[Card],
        events: Sequence[Card],
        nodes: Sequence[tuple[str, str, int]],
        more_listings: str,
        more_events: str,
        total: int,
    ) -> str:
        """Render the portal's home: the search ``form``, the latest ``listings``, the upcoming ``events``,
        the origin ``nodes`` as ``(host, page URL, items)``, links to more of each, and the ``total`` of
        listings and upcoming events."""
        return self._render(
            "portal.html",
            form=form,
            listings=listings,
            events=events,
            nodes=nodes,
            more_listings=more_listings,
            more_events=more_events,
            total=total,
        )

    def results(
        self,
        *,
        form: FormView,
        error: str | None,
        cards: Sequence[Card],
        facets: Sequence[FacetGroup],
        active: Sequence[ActiveFilter],
        total: int,
        next_page: str | None,
        first_page: str | None,
    ) -> str:
        """Render a page of search results: the ``form`` refilled, the ``error`` of a refused search, the
        ``cards`` of this page, the ``facets`` and ``active`` filters, the ``total`` of the search and the
        URLs of its next and first pages."""
        return self._render(
            "catalogue.html",
            form=form,
            error=error,
            cards=cards,
            facets=facets,
            active=active,
            total=total,
            next_page=next_page,
            first_page=first_page,
        )

    def catalogue_item(self, *, card: Card, document: Document, facts: Sequence[tuple[str, str]]) -> str:
        """Render the page of one catalogue item: its ``card``, the stored (sanitised) ``document`` for
        its images and hashtags, and its ``facts`` as ``(label, text)`` lines."""
        return self._render("catalogue_item.html", card=card, document=document, facts=facts)

    def catalogue_actor(
        self,
        *,
        iri: str,
        name: str,
        profile: Document,
        workshop: bool,
        repairs: Sequence[Card],
        cards: Sequence[Card],
        total: int,
        more: str | None,
        node_url: str,
        node_host: str,
    ) -> str:
        """Render the page of an actor ``iri`` named ``name``: its ``profile`` document (``{}`` when
        unknown), whether it is a ``workshop`` with its repair offers (``repairs``, their next free slots),
        its items (``cards``, ``total`` in all, ``more`` the search of the rest) and its node."""
        return self._render(
            "catalogue_actor.html",
            iri=iri,
            name=name,
            profile=profile,
            workshop=workshop,
            repairs=repairs,
            cards=cards,
            total=total,
            more=more,
            node_url=node_url,
            node_host=node_host,
        )

    def catalogue_node(
        self,
        *,
        host: str,
        origin: str,
        actors: Sequence[tuple[str, str]],
        cards: Sequence[Card],
        facets: Sequence[FacetGroup],
        total: int,
        search: str,
        next_page: str | None,
        first_page: str | None,
    ) -> str:
        """Render the page of the origin node ``host`` (its home ``origin``): its ``actors`` as ``(name,
        page URL)``, a page of its items, their ``facets`` and ``total``, the search of its items and the
        URLs of the next and first pages."""
        return self._render(
            "catalogue_node.html",
            host=host,
            origin=origin,
            actors=actors,
            cards=cards,
            facets=facets,
            total=total,
            search=search,
            next_page=next_page,
            first_page=first_page,
        )
