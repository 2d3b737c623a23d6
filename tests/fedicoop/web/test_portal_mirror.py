"""The local mirror: what a node publishes is in its own catalogue, API and portal pages (SQLite and
PostgreSQL), follows its updates, leaves with a withdrawal or a deletion, and the demo data shows.

Everything is published through the JSON API as an admin would (``tests/fedicoop/web/seed.py``); the
node's clock stands on Monday 13 October 2025, 08:00 in Paris, so the workshop's first free slot is on
Tuesday the 14th at 14h.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from fedicoop.db import open_database
from fedicoop.demo import seed_demo
from fedicoop.node import build_node
from fedicoop.services.slot_refresh import SlotRefreshJob
from fedicoop.settings import Settings
from tests.conftest import TEST_BASE_URL, Clock
from tests.fedicoop.web.seed import Seeded, seed_node
from tests.fedicoop.web.test_portal_pages import page

pytestmark = pytest.mark.anyio

ROUBAIX = {"name": "Roubaix", "latitude": 50.6912, "longitude": 3.174, "locality": "Roubaix", "country": "FR"}


async def catalogue(client: httpx.AsyncClient, **params: str) -> dict[str, dict[str, Any]]:
    """The catalogue through the API, by object id."""
    response = await client.get("/api/v1/catalogue", params={"limit": "100", **params})
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["items"]}


def uuid_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


async def detail_path(client: httpx.AsyncClient, object_id: str) -> str:
    """The portal page of an object, found through the results page's links."""
    results = await page(client, "/catalogue", limit="100")
    for attrs in results.all("a"):
        href = attrs.get("href") or ""
        if "/catalogue/items/" in href:
            shown = await page(client, href)
            if object_id in shown.hrefs():
                return href.removeprefix(TEST_BASE_URL)
    raise AssertionError(f"no page links {object_id}")


async def test_mirror__what_the_node_publishes_is_in_its_catalogue(client: httpx.AsyncClient) -> None:
    seeded: Seeded = await seed_node(client)
    held = await catalogue(client)
    assert set(held) == {seeded.repair_offer, seeded.loan_offer, seeded.request, seeded.event}
    assert {item["host"] for item in held.values()} == {"velo-fives.example"}
    assert {item["commune_code"] for item in held.values()} == {"59350"}  # placed by us, from the points
    assert held[seeded.loan_offer]["kind"] == "offer" and held[seeded.request]["kind"] == "request"
    assert held[seeded.repair_offer]["next_slots"][0]["start"] == "2025-10-14T14:00:00+02:00"
    home = await page(client, "/portal")
    assert "Prêt : perceuse-visseuse 18 V" in home.text and "Atelier d'autoréparation du samedi" in home.text
    item = await page(client, await detail_path(client, seeded.loan_offer))
    assert (
        "Partage Lille" in item.text and "Caution 30 €" in item.text and "Durée du prêt 7 jours" in item.text
    )


async def test_mirror__updates_move_pause_and_cancel(client: httpx.AsyncClient) -> None:
    seeded = await seed_node(client)
    moved = await client.patch(f"/api/v1/listings/{uuid_of(seeded.request)}", json={"location": ROUBAIX})
    assert moved.status_code == 200, moved.text
    paused = await client.patch(f"/api/v1/listings/{uuid_of(seeded.loan_offer)}", json={"paused": True})
    assert paused.status_code == 200, paused.text
    cancelled = await client.patch(f"/api/v1/events/{uuid_of(seeded.event)}", json={"status": "CANCELLED"})
    assert cancelled.status_code == 200, cancelled.text
    held = await catalogue(client)
    assert held[seeded.request]["commune_code"] == "59512"
    assert held[seeded.loan_offer]["available"] is False and held[seeded.event]["available"] is False
    assert set(await catalogue(client, commune="59512")) == {seeded.request}
    offer = await page(client, await detail_path(client, seeded.loan_offer))
    assert "En pause" in offer.text
    event = await page(client, await detail_path(client, seeded.event))
    assert "Annulé" in event.text


async def test_mirror__withdrawn_and_deleted_objects_leave(client: httpx.AsyncClient) -> None:
    seeded = await seed_node(client)
    shown = await detail_path(client, seeded.loan_offer)
    assert (await client.delete(f"/api/v1/listings/{uuid_of(seeded.loan_offer)}")).status_code == 204
    assert (await client.delete(f"/api/v1/events/{uuid_of(seeded.event)}")).status_code == 204
    assert set(await catalogue(client)) == {seeded.repair_offer, seeded.request}
    await page(client, shown, status=404)


async def test_mirror__repair_slots_are_searchable_by_date(client: httpx.AsyncClient) -> None:
    seeded = await seed_node(client)
    tuesday = await catalogue(client, kind="repair", **{"from": "2025-10-14", "to": "2025-10-14"})
    assert set(tuesday) == {seeded.repair_offer}
    assert await catalogue(client, kind="repair", **{"from": "2025-10-13", "to": "2025-10-13"}) == {}
    workshop = await page(client, await detail_path(client, seeded.repair_offer))
    assert "mardi 14 octobre 2025, 14h–15h · 2 places libres" in workshop.text.lower()


async def test_mirror__an_actor_that_opts_out_is_unlisted(client: httpx.AsyncClient) -> None:
    seeded = await seed_node(client)
    hidden = await client.patch("/api/v1/actors/partage-lille", json={"discoverable": False})
    assert hidden.status_code == 200, hidden.text
    assert set(await catalogue(client)) == {seeded.repair_offer, seeded.event}
    shown = await client.patch("/api/v1/actors/partage-lille", json={"discoverable": True})
    assert shown.status_code == 200, shown.text
    assert seeded.loan_offer in await catalogue(client)


async def test_demo__the_portal_pages_show_the_demo_data(
    client: httpx.AsyncClient, settings: Settings, clock: Clock
) -> None:
    async with open_database(settings):
        assert await seed_demo(build_node(settings, clock))
    home = await page(client, "/portal")
    for text in (
        "Prêt : perceuse-visseuse 18 V",
        "Réparation de vélo sur rendez-vous",
        "Atelier d'autoréparation vélo (démo)",
        "Café réparation du quartier (démo)",
        "Partage Lille (démo)",
    ):
        assert text in home.text, text
    roubaix = await page(client, "/catalogue", commune="Roubaix")
    assert "Cours de couture pour débutants" in roubaix.text and "5 résultats" in roubaix.text
    assert "Réparation de vélo sur rendez-vous" not in roubaix.text  # at the Fives workshop, in Lille
    repairs = await page(client, "/catalogue", kind="repair", **{"from": "2025-10-14", "to": "2025-10-14"})
    assert "1 résultat" in repairs.text and "Prochain créneau libre" in repairs.text
    node = await page(client, "/catalogue/nodes/velo-fives.example")
    assert "Atelier vélo de Fives (démo)" in node.text and "7 annonces et événements" in node.text


async def test_mirror__a_local_workshop_has_its_page_the_application_actor_none(
    client: httpx.AsyncClient,
) -> None:
    seeded = await seed_node(client)
    workshop = await page(client, f"/catalogue/actors/{quote(seeded.workshop, safe='')}")
    assert "Atelier vélo de Fives" in workshop.text and "Atelier de réparation" in workshop.text
    assert "Du mardi au vendredi : 14h–19h" in workshop.text
    assert "mardi 14 octobre 2025, 14h–15h · 2 places libres" in workshop.text.lower()
    await page(client, f"/catalogue/actors/{quote(TEST_BASE_URL + '/actor', safe='')}", status=404)
    await page(client, f"/catalogue/actors/{quote(TEST_BASE_URL + '/actors/nobody', safe='')}", status=404)


async def test_mirror__slot_refresh_reads_the_nodes_own_offers_locally(
    client: httpx.AsyncClient, clock: Clock, settings: Settings
) -> None:
    """An hour later the refresh job drops the slots that passed, from local data: no HTTP request."""
    seeded = await seed_node(client)
    first = (await catalogue(client))[seeded.repair_offer]["next_slots"][0]["start"]
    assert first == "2025-10-14T14:00:00+02:00"

    async def no_fetch(url: str) -> dict[str, Any]:
        raise AssertionError(f"the node fetched its own {url}")

    clock.now = datetime(2025, 10, 14, 13, 30, tzinfo=UTC)  # Tuesday 15h30 in Paris: the 14h slot is over
    job = SlotRefreshJob(no_fetch, publisher=build_node(settings, clock).publisher)
    async with open_database(settings):
        assert await job(clock.now) == 1
    later = (await catalogue(client))[seeded.repair_offer]["next_slots"][0]["start"]
    assert later > first


async def test_mirror__a_deleted_actor_takes_its_objects_out_of_the_catalogue(
    client: httpx.AsyncClient,
) -> None:
    seeded = await seed_node(client)
    before = await catalogue(client)
    owner = before[seeded.loan_offer]["actor"]
    assert (await client.delete("/api/v1/actors/partage-lille")).status_code == 204
    after = await catalogue(client)
    assert seeded.loan_offer not in after and all(item["actor"] != owner for item in after.values())
    assert set(after) < set(before)
