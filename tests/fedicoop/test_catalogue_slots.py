"""Slot collections of catalogue repair offers (fedicoop.services.catalogue), over real loopback HTTP.

A real node (``create_app`` under uvicorn on 127.0.0.1, seeded through its API) serves its repair offer
and slot collection; the catalogue fetches them with the federation ``Fetcher`` and stores every slot.
A small loopback starlette app serves crafted collections for the bounds: ten pages at most, loops,
foreign pages, oversized pages, a collection claimed by someone else.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from federation.fetch import Fetcher
from federation.http import HttpPolicy, client_factory
from fedicoop.app import create_app
from fedicoop.db import open_database
from fedicoop.errors import ForbiddenError, ValidationError
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.services.catalogue import refresh_slots, store_object, store_slots
from fedicoop.services.slot_refresh import SlotRefreshJob
from fedicoop.settings import Settings, load_settings
from schemas.examples import load_example, load_example_text
from tests.federation.loopback import serving
from tests.fedicoop.web.seed import seed_node

pytestmark = pytest.mark.anyio

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
TOKEN = "remote-admin-token"
FIVES = "https://velo-fives.example/actors/atelier-fives"
GOLDEN_BASE = "https://velo-fives.example"
OFFER_PATH = "/listings/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812"
AS_JSON = "application/activity+json"


@asynccontextmanager
async def fetcher() -> AsyncIterator[Fetcher]:
    """The node's signed fetcher, unsigned here, allowed to reach loopback peers."""
    policy = HttpPolicy(user_agent="fedicoop-test", insecure_peers=True)
    async with client_factory(policy) as client:
        yield Fetcher(client, policy, signer=None, now=lambda: NOW)


def documents_app(documents: dict[str, dict[str, Any]]) -> Starlette:
    """A peer serving fixed ActivityStreams documents by path and query (``/x?page=2``)."""

    async def serve(request: Request) -> Response:
        key = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if key not in documents:
            return Response(status_code=404)
        return Response(json.dumps(documents[key]), media_type=AS_JSON)

    return Starlette(routes=[Route("/{path:path}", serve)])


def golden(name: str, base: str) -> dict[str, Any]:
    """A golden example moved to ``base`` (ids, attributedTo and links point at the loopback peer)."""
    document: dict[str, Any] = json.loads(load_example_text(name + ".json").replace(GOLDEN_BASE, base))
    return document


@pytest.fixture
async def remote_node(
    tmp_path: Path, second_database_url: str, clock: Callable[[], datetime]
) -> AsyncIterator[tuple[str, str]]:
    """A real node on loopback with the seed data: yields (its base URL, its repair offer id)."""

    def make(base: str) -> ASGIApp:
        settings = load_settings(
            toml_file=None,
            env_file=None,
            base_url=base,
            database_url=second_database_url,
            data_dir=str(tmp_path),
            demo=False,
            admin_token=TOKEN,
        )
        return create_app(settings, clock=clock)

    async with serving(make, lifespan="on") as base:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client:
            seeded = await seed_node(client)
        yield base, seeded.repair_offer


async def test_refresh_slots__from_a_real_node(settings: Settings, remote_node: tuple[str, str]) -> None:
    _, offer_id = remote_node
    async with fetcher() as fetch, open_database(settings):
        offer = await fetch.fetch(offer_id)
        item = await store_object(offer, actor_iri=offer["attributedTo"], now=NOW)
        assert item is not None and item.kind == "repair"
        await refresh_slots(item, fetch.fetch, NOW)
        collection = await fetch.fetch(offer["slots"])

        row = await CatalogueItem.get(iri=offer_id)
    assert row.slots_fetched_at == NOW and row.slots is not None
    slots = row.slots["orderedItems"]
    assert row.slots["id"] == offer["slots"] == f"{offer_id}/slots"
    assert collection["totalItems"] > 100, "the walk must cross at least one page boundary"
    assert row.slots["totalItems"] == collection["totalItems"] == len(slots)
    assert slots[0]["id"] == f"{offer_id}/slots#2025-10-14T12:00Z"
    assert (slots[0]["hasBeginning"], slots[0]["hasEnd"]) == (
        "2025-10-14T14:00:00+02:00",
        "2025-10-14T15:00:00+02:00",
    )
    assert slots[0]["availableQuantity"] == {"hasUnit": "one", "hasNumericalValue": "2"}
    starts = [datetime.fromisoformat(slot["hasBeginning"]) for slot in slots]
    assert starts == sorted(starts) and len({slot["id"] for slot in slots}) == len(slots)
    assert all(slot["id"].startswith(offer["slots"] + "#") for slot in slots)


def _slot(collection: str, day: int) -> dict[str, Any]:
    start = f"2025-11-{day:02d}T10:00:00+01:00"
    return {
        "type": "Intent",
        "id": f"{collection}#2025-11-{day:02d}T09:00Z",
        "action": "deliverService",
        "hasBeginning": start,
        "hasEnd": f"2025-11-{day:02d}T11:00:00+01:00",
    }


def _chain(base: str, pages: int, *, loop_to: int | None = None) -> dict[str, dict[str, Any]]:
    """The golden repair offer and a slot collection of ``pages`` pages with one slot each."""
    offer = golden("repair-offer", base)
    collection = offer["slots"]
    documents = {OFFER_PATH: offer, f"{OFFER_PATH}/slots": golden("slot-collection", base)}
    for number in range(1, pages + 1):
        page: dict[str, Any] = {
            "id": f"{collection}?page={number}",
            "type": "OrderedCollectionPage",
            "partOf": collection,
            "orderedItems": [_slot(collection, number)],
        }
        if number < pages:
            page["next"] = f"{collection}?page={number + 1}"
        elif loop_to is not None:
            page["next"] = f"{collection}?page={loop_to}"
        documents[f"{OFFER_PATH}/slots?page={number}"] = page
    return documents


async def _stored(base: str, fetch: Fetcher) -> CatalogueItem:
    offer = await fetch.fetch(base + OFFER_PATH)
    item = await store_object(offer, actor_iri=base + "/actors/atelier-fives", now=NOW)
    assert item is not None
    return item


async def test_refresh_slots__walks_ten_pages_at_most(settings: Settings) -> None:
    documents: dict[str, dict[str, Any]] = {}
    async with serving(lambda base: documents_app(documents)) as base, fetcher() as fetch:
        documents.update(_chain(base, 12))
        async with open_database(settings):
            item = await _stored(base, fetch)
            await refresh_slots(item, fetch.fetch, NOW)
            row = await CatalogueItem.get(iri=item.iri)
    assert row.slots is not None
    assert [slot["hasBeginning"][:10] for slot in row.slots["orderedItems"]] == [
        f"2025-11-{day:02d}" for day in range(1, 11)
    ]
    assert row.slots["totalItems"] == 37  # what the collection says, not what was walked


async def test_refresh_slots__a_loop_ends_the_walk(settings: Settings) -> None:
    documents: dict[str, dict[str, Any]] = {}
    async with serving(lambda base: documents_app(documents)) as base, fetcher() as fetch:
        documents.update(_chain(base, 3, loop_to=1))
        async with open_database(settings):
            item = await _stored(base, fetch)
            await refresh_slots(item, fetch.fetch, NOW)
            row = await CatalogueItem.get(iri=item.iri)
    assert row.slots is not None and len(row.slots["orderedItems"]) == 3


async def test_refresh_slots__refusals_keep_the_previous_slots(settings: Settings) -> None:
    documents: dict[str, dict[str, Any]] = {}
    async with (
        serving(lambda base: documents_app(documents)) as base,
        serving(lambda other: documents_app({})) as other,
        fetcher() as fetch,
    ):
        documents.update(_chain(base, 2))
        slots_path = f"{OFFER_PATH}/slots"
        async with open_database(settings):
            item = await _stored(base, fetch)
            await refresh_slots(item, fetch.fetch, NOW)
            before = (await CatalogueItem.get(iri=item.iri)).slots
            assert before is not None and len(before["orderedItems"]) == 2

            documents[slots_path]["first"] = f"{other}{slots_path}?page=1"
            with pytest.raises(ForbiddenError, match="another origin"):
                await refresh_slots(item, fetch.fetch, NOW)
            documents.update(_chain(base, 2))

            documents[slots_path]["attributedTo"] = base + "/actors/someone-else"
            with pytest.raises(ForbiddenError, match="someone-else"):
                await refresh_slots(item, fetch.fetch, NOW)
            documents.update(_chain(base, 2))

            collection = base + slots_path
            documents[f"{slots_path}?page=1"]["orderedItems"] = [_slot(collection, 1)] * 501
            with pytest.raises(ValidationError, match="orderedItems"):
                await refresh_slots(item, fetch.fetch, NOW)
            documents.update(_chain(base, 2))

            documents[f"{slots_path}?page=1"]["partOf"] = base + "/elsewhere"
            with pytest.raises(ForbiddenError, match="is not a page of"):
                await refresh_slots(item, fetch.fetch, NOW)

            row = await CatalogueItem.get(iri=item.iri)
    assert row.slots == before


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The test's database, open."""
    async with open_database(settings):
        yield


async def test_store_slots__golden_collection(db: None) -> None:
    item = await store_object(load_example("repair-offer"), actor_iri=FIVES, now=NOW)
    assert item is not None
    collection = load_example("slot-collection")
    page = load_example("slot-page")
    foreign = copy.deepcopy(page["orderedItems"][0])
    foreign["id"] = "https://velo-fives.example/listings/other/slots#2025-10-14T12:00Z"
    broken = {"type": "Intent", "id": collection["id"] + "#x"}  # no action, no times
    items = [page["orderedItems"][1], foreign, broken, "not an object", page["orderedItems"][0]]
    await store_slots(item, {**collection, "orderedItems": items}, NOW)
    row = await CatalogueItem.get(iri=item.iri)
    assert row.slots is not None
    assert [slot["id"] for slot in row.slots["orderedItems"]] == [
        collection["id"] + "#2025-10-14T12:00Z",
        collection["id"] + "#2025-10-14T13:00Z",
    ]
    assert row.slots["orderedItems"][0] == page["orderedItems"][0]
    assert (row.slots["updated"], row.slots["totalItems"]) == ("2025-10-13T06:00:00Z", 37)


async def test_store_slots__refusals(db: None) -> None:
    offer = await store_object(load_example("repair-offer"), actor_iri=FIVES, now=NOW)
    event = await store_object(load_example("event"), actor_iri=FIVES, now=NOW)
    assert offer is not None and event is not None
    collection = load_example("slot-collection")
    with pytest.raises(ValidationError, match="not a repair offer"):
        await store_slots(event, collection, NOW)
    with pytest.raises(ForbiddenError, match="is not the slot collection"):
        await store_slots(offer, {**collection, "id": collection["id"] + "2"}, NOW)
    with pytest.raises(ValidationError, match="more than 5000"):
        await store_slots(offer, {**collection, "orderedItems": [{}] * 5001}, NOW)
    assert (await CatalogueItem.get(iri=offer.iri)).slots is None
    await refresh_slots(event, _no_fetch, NOW)  # an event has no slots: nothing fetched, nothing stored


async def _no_fetch(url: str) -> dict[str, Any]:
    raise AssertionError(f"nothing should be fetched, got {url}")


async def test_slot_refresh_job__refetches_stale_collections_only(settings: Settings) -> None:
    documents: dict[str, dict[str, Any]] = {}
    async with serving(lambda base: documents_app(documents)) as base, fetcher() as fetch:
        documents.update(_chain(base, 2))
        async with open_database(settings):
            item = await _stored(base, fetch)
            job = SlotRefreshJob(fetch.fetch, max_age=timedelta(hours=1))
            assert await job(NOW) == 1  # never fetched
            assert await job(NOW + timedelta(minutes=30)) == 0  # fresh
            documents.update(_chain(base, 3))
            assert await job(NOW + timedelta(hours=2)) == 1
            row = await CatalogueItem.get(iri=item.iri)
            documents.clear()  # the origin stops answering: the slots stay, the next turn waits
            assert await job(NOW + timedelta(hours=4)) == 1
            kept = await CatalogueItem.get(iri=item.iri)
    assert row.slots is not None and len(row.slots["orderedItems"]) == 3
    assert kept.slots == row.slots and kept.slots_fetched_at == NOW + timedelta(hours=4)
