"""The Atom writer (fedicoop.feeds.atom), read back with ``feedparser`` and checked as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import feedparser
from hypothesis import given
from hypothesis import strategies as st

from fedicoop.feeds.atom import ATOM_NS, AtomEntry, AtomFeed, atom

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
HOSTILE = "Vélo ]]> <script>alert(1)</script> & \"quotes\" 'apos' \x00\x07\x1b\ufffe\uffff fin\r\nligne 2 🚲"
CLEAN = "Vélo ]]> <script>alert(1)</script> & \"quotes\" 'apos'  fin\r\nligne 2 🚲"
NS = {"a": ATOM_NS}


def _feed(**changes: object) -> AtomFeed:
    fields: dict[str, object] = {
        "id": "https://portal.example/catalogue.atom?kind=offer",
        "title": HOSTILE,
        "subtitle": HOSTILE,
        "updated": NOW,
        "self_url": 'https://portal.example/catalogue.atom?kind=offer&q="x"&near=50.6,3.1',
        "alternate_url": "https://portal.example/catalogue?kind=offer",
        "author_name": "Portail <des> coops",
        "author_uri": "https://portal.example/",
        "next_url": "https://portal.example/catalogue.atom?kind=offer&cursor=abc",
    }
    fields.update(changes)
    return AtomFeed(**fields)  # type: ignore[arg-type]


def _entry(text: str, **changes: object) -> AtomEntry:
    fields: dict[str, object] = {
        "id": "https://partage-lille.example/listings/a1",
        "title": text,
        "updated": NOW,
        "published": NOW - timedelta(days=1),
        "link": "https://partage-lille.example/listings/a1?a=1&b=2",
        "author_name": text,
        "author_uri": "https://partage-lille.example/actors/coop",
        "summary": text,
        "content_html": '<p>Bonjour <a href="https://x.example/?a=1&amp;b=2">lien</a> ]]&gt;</p>',
        "categories": (("velos-accessoires", "Vélos & accessoires"),),
    }
    fields.update(changes)
    return AtomEntry(**fields)  # type: ignore[arg-type]


def test_atom__hostile_text_parses_without_error() -> None:
    body = atom(_feed(), [_entry(HOSTILE)])
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == CLEAN.replace("\r\n", "\n")
    assert parsed.feed.id == "https://portal.example/catalogue.atom?kind=offer"
    links = {link["rel"]: link["href"] for link in parsed.feed.links}
    assert links == {
        "self": 'https://portal.example/catalogue.atom?kind=offer&q="x"&near=50.6,3.1',
        "alternate": "https://portal.example/catalogue?kind=offer",
        "next": "https://portal.example/catalogue.atom?kind=offer&cursor=abc",
    }
    assert parsed.feed.author_detail == {"name": "Portail <des> coops", "href": "https://portal.example/"}
    [entry] = parsed.entries
    assert entry.id == "https://partage-lille.example/listings/a1"
    assert entry.title == entry.summary == CLEAN.replace("\r\n", "\n")
    assert entry.link == "https://partage-lille.example/listings/a1?a=1&b=2"
    assert entry.updated_parsed[:6] == (2025, 10, 13, 6, 0, 0)
    assert entry.published_parsed[:3] == (2025, 10, 12)
    assert entry.author_detail.href == "https://partage-lille.example/actors/coop"
    assert entry.tags == [{"term": "velos-accessoires", "scheme": None, "label": "Vélos & accessoires"}]
    assert entry.content[0].type == "text/html"
    assert entry.content[0].value == '<p>Bonjour <a href="https://x.example/?a=1&amp;b=2">lien</a> ]]&gt;</p>'


def test_atom__is_well_formed_xml_with_text_kept_as_text() -> None:
    body = atom(_feed(), [_entry(HOSTILE)])
    root = ET.fromstring(body)  # noqa: S314 - our own output
    assert root.tag == f"{{{ATOM_NS}}}feed"
    assert root.find("a:entry/a:script", NS) is None and b"<script" not in body
    entry = root.find("a:entry", NS)
    assert entry is not None
    assert [child.tag.split("}")[1] for child in entry] == [
        "id",
        "title",
        "updated",
        "published",
        "author",
        "link",
        "category",
        "summary",
        "content",
    ]
    content = entry.find("a:content", NS)
    assert content is not None and content.get("type") == "html"
    assert content.text is not None and content.text.startswith("<p>Bonjour")


def test_atom__empty_feed_and_no_next() -> None:
    parsed = feedparser.parse(atom(_feed(next_url=None, subtitle=""), []))
    assert not parsed.bozo
    assert parsed.entries == []
    assert [link["rel"] for link in parsed.feed.links] == ["self", "alternate"]


def test_atom__entry_without_author_or_content() -> None:
    body = atom(
        _feed(), [_entry("Sans auteur", author_name=None, content_html="", summary="", categories=())]
    )
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    [entry] = parsed.entries
    assert "content" not in entry and "summary" not in entry
    assert "author" not in entry  # the feed's author stands for it (RFC 4287 §4.2.1)
    assert parsed.feed.author == "Portail <des> coops"


@given(st.text(alphabet=st.characters(), max_size=300))
def test_atom__any_text_parses(text: str) -> None:
    body = atom(_feed(title=text or "x"), [_entry(text or "x")])
    ET.fromstring(body)  # noqa: S314 - our own output; well-formed whatever the text
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == 1
