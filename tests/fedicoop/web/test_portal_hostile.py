"""Hostile remote text never reaches a portal page as active content (SQLite and PostgreSQL).

A remote node sends a listing and an event whose every text field carries markup: scripts, styles,
iframes, event handlers, ``javascript:`` links and images, quotes that try to leave an attribute. Its
actor document, stored as fetched, does the same. Every page that shows remote text (home, results,
item, node, actor) must render it inert: sanitised HTML where HTML is allowed, escaped text elsewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from fedicoop.db import open_database
from fedicoop.settings import Settings
from fedicoop.territory import Territory
from tests.conftest import TEST_BASE_URL
from tests.fedicoop.test_search import FIVES_POINT, actor_of, event, exact, note, put
from tests.fedicoop.web.test_portal_html import assert_inert
from tests.fedicoop.web.test_portal_pages import actor_document, page, remember, territory

pytestmark = pytest.mark.anyio

__all__ = ["territory"]  # the session fixture, imported for these tests

EVIL = "evil-coop.example"
SCRIPTS = (
    '<p>Bonjour <script>alert("content")</script><style>body{display:none}</style>'
    '<iframe src="https://evil.example/"></iframe><img src="x" onerror="alert(1)">'
    '<a href="javascript:alert(2)" onclick="alert(3)">piège</a> <a href="https://ok.example/doc">notice</a>'
    '<svg onload="alert(4)"><circle r="1"></circle></svg><object data="x.swf"></object></p>'
)
ESCAPE = '"><script>alert("name")</script><img src=x onerror=alert(5)>'


def hostile_note() -> dict[str, Any]:
    document = note("piege", f"Perceuse {ESCAPE}", host=EVIL, text="texte", published="2025-10-05T10:00:00Z")
    document["content"] = SCRIPTS
    document["location"] = {**exact(FIVES_POINT, f"Lieu {ESCAPE}"), "address": f"rue {ESCAPE}"}
    document["attachment"] = [
        {"type": "Image", "mediaType": "image/png", "url": "https://evil.example/a.png", "name": ESCAPE},
    ]
    document["tag"] = [{"type": "Hashtag", "name": f"#piege{ESCAPE}", "href": "https://evil.example/tags/x"}]
    return document


def hostile_event() -> dict[str, Any]:
    document = event(
        "fete",
        f"Fête {ESCAPE}",
        starts="2025-10-18T10:00:00+02:00",
        ends="2025-10-18T13:00:00+02:00",
        place=exact(FIVES_POINT, ESCAPE),
        host=EVIL,
    )
    document["summary"] = SCRIPTS
    document["content"] = SCRIPTS
    return document


async def seed_hostile(settings: Settings, territory: Territory) -> tuple[int, int]:
    async with open_database(settings):
        await remember(
            actor_document(
                EVIL,
                f"Coop {ESCAPE}",
                SCRIPTS,
                url="javascript:alert(8)",
                icon={"type": "Image", "url": "javascript:alert(9)"},
                location={"type": "Place", "name": ESCAPE, "address": ESCAPE},
                openingHoursSpecification=[{"type": "OpeningHoursSpecification", "opens": ESCAPE}],
            )
        )
        listing = await put(hostile_note(), territory)
        happening = await put(hostile_event(), territory)
    return listing.id, happening.id


async def test_hostile__every_page_showing_remote_text_is_inert(
    client: httpx.AsyncClient, settings: Settings, territory: Territory
) -> None:
    listing, happening = await seed_hostile(settings, territory)
    pages = [
        "/portal",
        "/catalogue",
        "/catalogue?q=perceuse",
        "/catalogue?near=50.6292,3.0886",
        f"/catalogue/items/{listing}",
        f"/catalogue/items/{happening}",
        f"/catalogue/nodes/{EVIL}",
        f"/catalogue/actors/{quote(actor_of(EVIL), safe='')}",
    ]
    for path in pages:
        shown = await page(client, path)
        assert_inert(shown.source)
        assert "Perceuse" in shown.text or "Fête" in shown.text, path
    item = await page(client, f"/catalogue/items/{listing}")
    assert f"Perceuse {ESCAPE}" in item.text  # shown, as text
    assert '<a href="https://ok.example/doc" rel="nofollow noopener noreferrer ugc">notice</a>' in item.source
    assert "https://evil.example/a.png" in [attrs.get("src") for attrs in item.all("img")]
    actor = await page(client, f"/catalogue/actors/{quote(actor_of(EVIL), safe='')}")
    assert f"Coop {ESCAPE}" in actor.text and actor_of(EVIL) in actor.hrefs()


async def test_hostile__query_text_comes_back_escaped(client: httpx.AsyncClient) -> None:
    for params in ({"q": ESCAPE}, {"commune": ESCAPE}, {"kind": ESCAPE}, {"node": ESCAPE}):
        response = await client.get("/catalogue", params=params, headers={"Accept": "text/html"})
        assert response.status_code in (200, 400), response.text
        assert_inert(response.text)
    response = await client.get(f"{TEST_BASE_URL}/catalogue/nodes/{quote('x<img src=x onerror=alert(5)>')}")
    assert response.status_code == 400
    assert_inert(response.text)
