"""An Atom writer (RFC 4287): a ``feed`` of ``entry`` s, as UTF-8 bytes ready to serve.

The feed has its ``id``, ``title``, ``updated``, an ``author``, ``link`` s ``self``, ``alternate`` (the
HTML page of the same search) and ``next`` (RFC 5005) when there is a next page. Each entry has ``id``,
``title``, ``updated``, ``published``, its ``author`` when known, a ``link rel="alternate"``, its
``category`` s, a plain-text ``summary`` and the item's sanitised HTML as ``content type="html"``. Every
text is escaped here and rid of the characters XML 1.0 cannot hold (controls, lone surrogates, U+FFFE,
U+FFFF), so hostile text (``]]>``, ``<script>``, control characters) stays text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["ATOM_NS", "AtomEntry", "AtomFeed", "atom", "rfc3339", "xml_escape"]

ATOM_NS = "http://www.w3.org/2005/Atom"

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters outside XML 1.0's ``Char`` production."""


@dataclass(frozen=True, slots=True)
class AtomEntry:
    """One entry; ``summary`` is plain text, ``content_html`` sanitised HTML, ``categories`` (term, label)."""

    id: str
    title: str
    updated: datetime
    link: str
    published: datetime | None = None
    author_name: str | None = None
    author_uri: str | None = None
    summary: str = ""
    content_html: str = ""
    categories: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AtomFeed:
    """The feed's own metadata; ``author_*`` is who publishes the feed (the node)."""

    id: str
    title: str
    updated: datetime
    self_url: str
    alternate_url: str
    author_name: str
    author_uri: str
    subtitle: str = ""
    next_url: str | None = None


def xml_escape(value: str, *, attribute: bool = False) -> str:
    """Return ``value`` as XML character data (or an attribute value): ``&``, ``<``, ``>`` (and ``"``)
    escaped, characters XML cannot hold dropped.

    >>> xml_escape('a]]>b<script>&\\x07"')
    'a]]&gt;b&lt;script&gt;&amp;"'
    >>> xml_escape('say "hi"', attribute=True)
    'say &quot;hi&quot;'
    """
    text = _NOT_XML.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text


def rfc3339(moment: datetime) -> str:
    """Return an aware ``moment`` as an RFC 3339 UTC timestamp.

    >>> from datetime import timezone, timedelta
    >>> rfc3339(datetime(2025, 10, 14, 14, 30, 5, 900, tzinfo=timezone(timedelta(hours=2))))
    '2025-10-14T12:30:05Z'
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _element(name: str, text: str, **attributes: str) -> str:
    attrs = "".join(f' {key}="{xml_escape(value, attribute=True)}"' for key, value in attributes.items())
    return f"<{name}{attrs}>{xml_escape(text)}</{name}>"


def _link(rel: str, href: str, media_type: str | None = None) -> str:
    kind = f' type="{xml_escape(media_type, attribute=True)}"' if media_type else ""
    return f'<link rel="{rel}"{kind} href="{xml_escape(href, attribute=True)}"/>'


def _author(name: str, uri: str | None) -> str:
    inner = _element("name", name) + (_element("uri", uri) if uri else "")
    return f"<author>{inner}</author>"


def _entry(entry: AtomEntry) -> str:
    parts = [
        _element("id", entry.id),
        _element("title", entry.title, type="text"),
        _element("updated", rfc3339(entry.updated)),
    ]
    if entry.published is not None:
        parts.append(_element("published", rfc3339(entry.published)))
    if entry.author_name:
        parts.append(_author(entry.author_name, entry.author_uri))
    parts.append(_link("alternate", entry.link, "text/html"))
    for term, label in entry.categories:
        attrs = f' term="{xml_escape(term, attribute=True)}" label="{xml_escape(label, attribute=True)}"'
        parts.append(f"<category{attrs}/>")
    if entry.summary:
        parts.append(_element("summary", entry.summary, type="text"))
    if entry.content_html:
        parts.append(_element("content", entry.content_html, type="html"))
    return "<entry>" + "".join(parts) + "</entry>"


def atom(feed: AtomFeed, entries: Iterable[AtomEntry]) -> bytes:
    """Return the Atom document of ``feed`` and its ``entries`` as UTF-8 bytes."""
    head = [
        _element("id", feed.id),
        _element("title", feed.title, type="text"),
    ]
    if feed.subtitle:
        head.append(_element("subtitle", feed.subtitle, type="text"))
    head += [
        _element("updated", rfc3339(feed.updated)),
        _author(feed.author_name, feed.author_uri),
        _link("self", feed.self_url, "application/atom+xml"),
        _link("alternate", feed.alternate_url, "text/html"),
    ]
    if feed.next_url is not None:
        head.append(_link("next", feed.next_url, "application/atom+xml"))
    head.append('<generator uri="https://w3id.org/fedicoop">fedicoop</generator>')
    body = "".join(_entry(entry) for entry in entries)
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="{ATOM_NS}" xml:lang="fr">{"".join(head)}{body}</feed>\n'
    )
    return document.encode("utf-8")
