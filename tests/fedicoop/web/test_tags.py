"""Hashtag pages: the links in a listing's content lead to the listings carrying that tag."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.anyio
async def test_tag_page__lists_tagged_listings_only(client: httpx.AsyncClient) -> None:
    actor = {"username": "partage-lille", "kind": "cooperative", "name": "Partage Lille"}
    assert (await client.post("/api/v1/actors", json=actor)).status_code == 201
    tagged = {"actor": "partage-lille", "kind": "object", "title": "Perceuse à prêter", "tags": ["Outils"]}
    other = {"actor": "partage-lille", "kind": "object", "title": "Vélo à donner", "tags": ["Velo"]}
    assert (await client.post("/api/v1/listings", json=tagged)).status_code == 201
    assert (await client.post("/api/v1/listings", json=other)).status_code == 201
    page = await client.get("/tags/outils", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Perceuse à prêter" in page.text
    assert "Vélo à donner" not in page.text
    note = (await client.get("/api/v1/listings", params={"actor": "partage-lille"})).json()
    document = await client.get(note[-1]["id"], headers={"Accept": "application/activity+json"})
    assert 'href="https://velo-fives.example/tags/outils"' in document.json()["content"]
