"""The ``/catalogue`` HTML page (SQLite and PostgreSQL): filters as a GET form, sanitised remote HTML."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from fedicoop.db import open_database
from fedicoop.services.catalogue import store_object
from fedicoop.settings import Settings
from schemas.examples import load_example

pytestmark = pytest.mark.anyio

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
PARTAGE = "https://partage-lille.example/actors/partage-lille"
FIVES = "https://velo-fives.example/actors/atelier-fives"
BROWSER = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "Authorization": ""}
HOSTILE = (
    '<p>Perceuse <img src="x" onerror="alert(1)"> <a href="javascript:alert(2)">piège</a> '
    '<a href="https://ok.example/doc">notice</a></p><script>alert(3)</script>'
    '<style>body{display:none}</style><iframe src="https://evil.example/"></iframe>'
)


class Tags(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


async def fill(settings: Settings) -> None:
    offer = copy.deepcopy(load_example("offer-loan"))
    offer["content"] = HOSTILE
    offer["title"] = "<b>Perceuse</b> & co"
    async with open_database(settings):
        await store_object(offer, actor_iri=PARTAGE, now=NOW)
        await store_object(load_example("request"), actor_iri=PARTAGE, now=NOW)
        await store_object(load_example("repair-offer"), actor_iri=FIVES, now=NOW)
        await store_object(load_example("event"), actor_iri=FIVES, now=NOW)


async def page(client: httpx.AsyncClient, **params: Any) -> str:
    response = await client.get("/catalogue", params=params, headers=BROWSER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_page__remote_html_shown_sanitised(client: httpx.AsyncClient, settings: Settings) -> None:
    await fill(settings)
    html = await page(client)
    for bad in ("<script", "onerror", "javascript:", "<iframe", "<style", "<img", "alert(", "<b>Perceuse"):
        assert bad not in html, bad
    assert "&lt;b&gt;Perceuse&lt;/b&gt; &amp; co" in html
    links = [attrs.get("href") or "" for tag, attrs in tags_of(html) if tag == "a"]
    assert f"https://velo-fives.example/catalogue/actors/{quote(PARTAGE, safe='')}" in links
    details = [link for link in links if "/catalogue/items/" in link]
    assert len(details) == 4
    pages = [(await client.get(link, headers=BROWSER)).text for link in details]
    offer = load_example("offer-loan")
    origins = {attrs.get("href") for each in pages for tag, attrs in tags_of(each) if tag == "a"}
    assert {offer["url"], load_example("request")["url"], load_example("event")["url"]} <= origins
    (offer_page,) = [each for each in pages if "&lt;b&gt;Perceuse" in each]
    assert '<a href="https://ok.example/doc" rel="nofollow noopener noreferrer ugc">notice</a>' in offer_page
    for each in pages:  # the offer's own image (attachment) shows; the one hidden in its content does not
        for bad in ("<script", "onerror", "javascript:", "<iframe", "<style", 'src="x"', "alert(", "<b>Perc"):
            assert bad not in each, bad
    assert "Samedi 18 octobre 2025" in html and "Atelier vélo de Fives" in html


async def test_page__form_is_labelled_and_filters(client: httpx.AsyncClient, settings: Settings) -> None:
    await fill(settings)
    html = await page(client, kind="repair", q="VELO")
    tags = tags_of(html)
    fields = [attrs for tag, attrs in tags if tag in ("input", "select")]
    labelled = {attrs.get("for") for tag, attrs in tags if tag == "label"}
    names = {"q", "kind", "category", "commune", "departement", "near", "radius", "from", "to", "sort"}
    assert {field.get("name") for field in fields} == names
    assert all(field.get("id") in labelled for field in fields)
    assert (
        "form",
        {
            "class": "search",
            "method": "get",
            "action": "https://velo-fives.example/catalogue",
            "role": "search",
            "aria-label": "Rechercher dans le catalogue",
        },
    ) in tags
    assert not any(tag == "script" for tag, _ in tags)
    assert '<option value="repair" selected>' in html and 'value="VELO"' in html
    assert "Réparation de vélo sur rendez-vous" in html
    assert "remorque" not in html and "Atelier d&#39;autoréparation" not in html


async def test_page__pagination_links(client: httpx.AsyncClient, settings: Settings) -> None:
    await fill(settings)
    first = await page(client, limit="1", purpose="offer")
    (next_href,) = [
        attrs["href"] for tag, attrs in tags_of(first) if tag == "a" and attrs.get("rel") == "next"
    ]
    assert next_href is not None and "purpose=offer" in next_href and "limit=1" in next_href
    assert "Perceuse" in first and "Réparation de vélo sur rendez-vous" not in first
    second = (await client.get(next_href, headers=BROWSER)).text
    assert "Réparation de vélo sur rendez-vous" in second and "Perceuse" not in second
    assert "Première page" in second and 'rel="next"' not in second


async def test_page__bad_parameter_is_a_400_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/catalogue", params={"kind": "<script>"}, headers=BROWSER)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "kind: expected one of offer, request, repair, event" in response.text
    assert "<script>" not in response.text and re.search(r"&lt;script&gt;|&#39;&lt;script", response.text)
