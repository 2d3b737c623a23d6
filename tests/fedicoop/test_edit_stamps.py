"""Edits within one second still carry increasing ``updated`` stamps, so followers apply each of them."""

from __future__ import annotations

import httpx
import pytest

from fedicoop.models.activities import Activity

pytestmark = pytest.mark.anyio


async def test_two_edits_in_the_same_second__increasing_updated(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/actors", json={"username": "atelier-fives", "kind": "workshop", "name": "A"}
    )
    assert created.status_code == 201
    listing = {
        "actor": "atelier-fives",
        "kind": "object",
        "title": "Pompe",
        "exchange": "gift",
        "tags": ["velo"],
    }
    response = await client.post("/api/v1/listings", json=listing)
    listing_path = response.json()["api_url"].removeprefix("/api/v1")
    for title in ("Pompe à pied", "Pompe à vélo"):  # the test clock does not move
        assert (await client.patch(f"/api/v1{listing_path}", json={"title": title})).status_code == 200
    updates = await Activity.filter(type="Update", object_iri__contains="/listings/").order_by("published")
    stamps = [update.document["object"]["updated"] for update in updates]
    create = await Activity.get(type="Create", object_iri__contains="/listings/")
    assert len(stamps) == 2 and create.document["object"]["updated"] < stamps[0] < stamps[1]
    assert updates[1].document["object"]["title"] == "Pompe à vélo"
