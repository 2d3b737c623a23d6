"""``GET /api/v1/catalogue`` on a running node (SQLite and PostgreSQL), filled with the golden examples."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fedicoop.db import open_database
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.services.catalogue import store_object, store_slots
from fedicoop.settings import Settings
from schemas.examples import load_example

pytestmark = pytest.mark.anyio

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
PARTAGE = "https://partage-lille.example/actors/partage-lille"
FIVES = "https://velo-fives.example/actors/atelier-fives"
URL = "/api/v1/catalogue"
HOSTILE = (
    '<p>Bien <img src=x onerror="alert(1)"><a href="javascript:alert(2)">x</a></p><script>alert(3)</script>'
)


async def fill(settings: Settings) -> None:
    """Store the four golden objects (a hostile content on the loan) and the repair offer's slots."""
    offer = copy.deepcopy(load_example("offer-loan"))
    offer["content"] = HOSTILE
    async with open_database(settings):
        await store_object(offer, actor_iri=PARTAGE, now=NOW)
        await store_object(load_example("request"), actor_iri=PARTAGE, now=NOW)
        repair = await store_object(load_example("repair-offer"), actor_iri=FIVES, now=NOW)
        await store_object(load_example("event"), actor_iri=FIVES, now=NOW)
        assert repair is not None
        page = load_example("slot-page")
        await store_slots(
            repair, {**load_example("slot-collection"), "orderedItems": page["orderedItems"]}, NOW
        )


async def names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(URL, params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_catalogue__items_newest_first_with_their_columns(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await fill(settings)
    response = await client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [(item["kind"], item["published"]) for item in body["items"]] == [
        ("request", "2025-10-10T16:00:00Z"),
        ("offer", "2025-10-02T07:15:00Z"),
        ("event", "2025-10-01T10:00:00Z"),
        ("repair", "2025-09-01T08:00:00Z"),
    ]
    offer = body["items"][1]
    assert offer["id"] == load_example("offer-loan")["id"] and offer["actor"] == PARTAGE
    assert offer["content"] == '<p>Bien <a rel="nofollow noopener noreferrer ugc">x</a></p>'
    assert (offer["purpose"], offer["category"], offer["host"]) == (
        "offer",
        "travaux-outillage",
        "partage-lille.example",
    )
    event = body["items"][2]
    assert (event["starts_at"], event["ends_at"]) == ("2025-10-18T08:00:00Z", "2025-10-18T11:00:00Z")
    repair = body["items"][3]
    assert repair["slots_url"] == load_example("repair-offer")["slots"]
    assert [(slot["start"], slot["available"]) for slot in repair["next_slots"]] == [
        ("2025-10-14T14:00:00+02:00", 2),
        ("2025-10-14T15:00:00+02:00", 1),
    ]
    assert repair["slots_fetched_at"] == "2025-10-13T06:00:00Z"


async def test_catalogue__filters(client: httpx.AsyncClient, settings: Settings) -> None:
    await fill(settings)
    assert await names(client, kind="event") == ["Atelier d'autoréparation vélo"]
    assert await names(client, purpose="request") == ["Recherche : remorque vélo pour enfant"]
    assert await names(client, actor=FIVES) == [
        "Atelier d'autoréparation vélo",
        "Réparation de vélo sur rendez-vous",
    ]
    assert await names(client, q="VÉLO", kind="repair") == ["Réparation de vélo sur rendez-vous"]
    assert await names(client, q="perceuse") == ["Prêt : perceuse-visseuse 18 V"]
    assert await names(client, q="alert") == []
    assert len(await names(client, kind="", purpose="", q=" ", actor="")) == 4


async def test_catalogue__cursor_pages(client: httpx.AsyncClient, settings: Settings) -> None:
    await fill(settings)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        body = (await client.get(URL, params=params)).json()
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert len(seen) == len(set(seen)) == await _count(settings)


async def _count(settings: Settings) -> int:
    async with open_database(settings):
        return await CatalogueItem.all().count()


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"kind": "listing"}, "kind", "offer, request, repair, event"),
        ({"purpose": "gift"}, "purpose", "offer, request"),
        ({"actor": "ftp://partage-lille.example/a"}, "actor", "http(s) URL"),
        ({"limit": "0"}, "limit", "from 1 to 100"),
        ({"limit": "101"}, "limit", "from 1 to 100"),
        ({"limit": "ten"}, "limit", "'ten'"),
        ({"cursor": "garbage"}, "cursor", "not a cursor"),
        ({"q": "x" * 201}, "q", "at most 200"),
    ],
)
async def test_catalogue__bad_parameters_are_400(
    client: httpx.AsyncClient, params: dict[str, str], field: str, words: str
) -> None:
    response = await client.get(URL, params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["field"]) == ("bad_request", field)
    assert body["detail"].startswith(f"{field}: ") and words in body["detail"]


async def test_catalogue__needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get(URL, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    schema = (await client.get("/api/v1/openapi.json")).json()
    parameters = {
        item["name"] for item in schema["paths"]["/catalogue"]["get"]["parameters"] if item["in"] == "query"
    }
    assert parameters == {
        *("kind", "category", "q", "commune", "epci", "departement", "region", "near", "radius"),
        *("from", "to", "node", "sort", "purpose", "actor", "limit", "cursor"),
    }
