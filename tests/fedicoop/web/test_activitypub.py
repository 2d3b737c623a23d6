"""Tests of fedicoop.web.activitypub: the public GETs of wire-format §3–§7, JSON and HTML, on both databases.

Data is created through the JSON API (``seed.seed_node``); every document is then fetched like a peer
(``Accept: application/activity+json`` or the ld+json profile form) or like a browser would.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fedicoop.web.seed import (
    AS_JSON,
    BASE,
    BROWSER_ACCEPT,
    LD_JSON,
    PUBLIC,
    Seeded,
    get_json,
    path_of,
    seed_node,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> Seeded:
    """The node of wire-format §3.1, §5, §6 and §7, created through the API."""
    return await seed_node(client)


def _uuid_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _document_urls(seeded: Seeded) -> list[str]:
    return [
        seeded.workshop,
        seeded.cooperative,
        seeded.repair_offer,
        seeded.loan_offer,
        seeded.request,
        seeded.event,
        seeded.slots,
        seeded.slots + "?page=1",
        seeded.workshop + "/outbox",
        seeded.workshop + "/outbox?page=1",
        seeded.workshop + "/followers",
        seeded.workshop + "/following",
        BASE + "/actor",
    ]


# --- JSON representations -----------------------------------------------------------------------


@pytest.mark.parametrize("accept", [AS_JSON, LD_JSON])
async def test_activitypub_get__every_document_answers_activity_json(
    client: httpx.AsyncClient, seeded: Seeded, accept: str
) -> None:
    for url in _document_urls(seeded):
        response = await client.get(path_of(url), headers={"Accept": accept})
        assert response.status_code == 200, (url, response.text)
        assert response.headers["content-type"] == AS_JSON, url
        assert response.headers["vary"] == "Accept", url
        assert response.json()["id"] == url


async def test_activitypub_get__place_and_activity(client: httpx.AsyncClient, seeded: Seeded) -> None:
    actor = await get_json(client, seeded.workshop)
    place_id = actor["location"]["id"]  # type: ignore[index]
    place = await get_json(client, place_id)
    assert place["type"] == "Place"
    assert place["id"] == place_id
    assert place["latitude"] == 50.6292
    assert isinstance(place["latitude"], float)
    page = await get_json(client, seeded.workshop + "/outbox?page=1")
    create = page["orderedItems"][0]  # type: ignore[index]
    activity = await get_json(client, create["id"])
    assert activity["type"] == "Create"
    assert activity["actor"] == seeded.workshop
    assert activity["object"]["id"] == create["object"]["id"]  # type: ignore[index]


async def test_actor_document__organization_shape(client: httpx.AsyncClient, seeded: Seeded) -> None:
    actor = await get_json(client, seeded.workshop)
    assert actor["type"] == "Organization"
    assert actor["preferredUsername"] == "atelier-fives"
    assert actor["url"] == BASE + "/@atelier-fives"
    for key in ("inbox", "outbox", "followers", "following"):
        assert actor[key] == f"{seeded.workshop}/{key}"
    assert actor["endpoints"] == {"sharedInbox": BASE + "/inbox"}
    key: dict[str, Any] = actor["publicKey"]  # type: ignore[assignment]
    assert key["id"] == seeded.workshop + "#main-key"
    assert key["owner"] == seeded.workshop
    assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert key["publicKeyPem"].rstrip().endswith("-----END PUBLIC KEY-----")
    fields = {item["name"]: item for item in actor["attachment"]}  # type: ignore[union-attr]
    assert fields["Horaires"]["type"] == "PropertyValue"
    assert fields["Horaires"]["value"] == "mar.–ven. 14h–19h · sam. 10h–13h"
    hours = actor["openingHoursSpecification"]
    assert [entry["opens"] for entry in hours] == ["14:00", "10:00"]  # type: ignore[union-attr]
    assert isinstance(actor["location"]["latitude"], float)  # type: ignore[index]


async def test_application_actor__type_application_named_relay(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    actor = await get_json(client, BASE + "/actor")
    assert actor["type"] == "Application"
    assert actor["preferredUsername"] == "relay"
    assert actor["publicKey"]["id"] == BASE + "/actor#main-key"  # type: ignore[index]
    assert actor["publicKey"]["owner"] == BASE + "/actor"  # type: ignore[index]


async def test_listing_document__note_shape(client: httpx.AsyncClient, seeded: Seeded) -> None:
    for url in (seeded.repair_offer, seeded.loan_offer, seeded.request):
        note = await get_json(client, url)
        assert note["type"] == "Note"
        assert "name" not in note
        assert "summary" not in note
        assert note["title"]
        assert note["kind"] in ("object", "service", "repair")
        assert note["purpose"] in ("offer", "request")
        assert note["publishes"]["id"] == url + "#primary"  # type: ignore[index]
        assert note["to"] == [PUBLIC]
        assert note["cc"] == [note["attributedTo"] + "/followers"]  # type: ignore[operator]
        assert note["content"].startswith(f"<p><strong>{note['title']}</strong></p>")  # type: ignore[union-attr]
        assert note["contentMap"] == {"fr": note["content"]}


async def test_listing_document__loan_offer(client: httpx.AsyncClient, seeded: Seeded) -> None:
    note = await get_json(client, seeded.loan_offer)
    assert note["kind"] == "object"
    assert note["purpose"] == "offer"
    assert note["attributedTo"] == seeded.cooperative
    assert note["publishes"]["action"] == "transferCustody"  # type: ignore[index]
    assert note["deposit"] == {"type": "MonetaryAmount", "value": "30.00", "currency": "EUR"}
    assert note["loanDuration"] == "P7D"


async def test_listing_document__request_carries_period(client: httpx.AsyncClient, seeded: Seeded) -> None:
    note = await get_json(client, seeded.request)
    assert note["purpose"] == "request"
    intent: dict[str, Any] = note["publishes"]  # type: ignore[assignment]
    assert intent["hasBeginning"] == "2025-10-25T09:00:00+02:00"
    assert intent["hasEnd"] == "2025-10-26T19:00:00+01:00"


async def test_listing_document__repair_offer(client: httpx.AsyncClient, seeded: Seeded) -> None:
    note = await get_json(client, seeded.repair_offer)
    assert note["kind"] == "repair"
    assert note["publishes"]["action"] == "deliverService"  # type: ignore[index]
    assert note["slots"] == seeded.slots
    assert note["nextSlot"] == "2025-10-14T14:00:00+02:00"


async def test_event_document__shape(client: httpx.AsyncClient, seeded: Seeded) -> None:
    event = await get_json(client, seeded.event)
    assert event["type"] == "Event"
    assert event["summary"].startswith("Samedi 18 octobre 2025, 10h–13h")  # type: ignore[union-attr]
    assert event["startTime"] == "2025-10-18T10:00:00+02:00"
    assert event["endTime"] == "2025-10-18T13:00:00+02:00"
    assert event["timezone"] == "Europe/Paris"
    organizers = event["organizers"]
    assert seeded.workshop in (organizers if isinstance(organizers, list) else organizers["items"])  # type: ignore[index]
    location: dict[str, Any] = event["location"]  # type: ignore[assignment]
    assert isinstance(location["latitude"], float)
    assert location["address"]["type"] == "PostalAddress"


async def test_slots_document__root_and_first_page(client: httpx.AsyncClient, seeded: Seeded) -> None:
    root = await get_json(client, seeded.slots)
    assert root["type"] == "OrderedCollection"
    assert root["first"] == seeded.slots + "?page=1"
    assert root["attributedTo"] == seeded.workshop
    assert isinstance(root["totalItems"], int) and root["totalItems"] > 100
    assert "orderedItems" not in root
    page = await get_json(client, seeded.slots + "?page=1")
    assert page["type"] == "OrderedCollectionPage"
    assert page["partOf"] == seeded.slots
    assert page["next"] == seeded.slots + "?page=2"
    items: list[dict[str, Any]] = page["orderedItems"]  # type: ignore[assignment]
    assert len(items) == 100
    first = items[0]
    assert first["id"] == seeded.slots + "#2025-10-14T12:00Z"
    assert first["type"] == "Intent"
    assert first["hasBeginning"] == "2025-10-14T14:00:00+02:00"
    assert first["hasEnd"] == "2025-10-14T15:00:00+02:00"
    assert first["availableQuantity"] == {"hasUnit": "one", "hasNumericalValue": "2"}
    assert [item["hasBeginning"] for item in items] == sorted(item["hasBeginning"] for item in items)


@pytest.mark.parametrize("suffix", ["", "?page=1"])
async def test_slots_document__etag_and_not_modified(
    client: httpx.AsyncClient, seeded: Seeded, suffix: str
) -> None:
    path = path_of(seeded.slots + suffix)
    first = await client.get(path, headers={"Accept": AS_JSON})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "max-age=300"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = await client.get(path, headers={"Accept": AS_JSON, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    stale = await client.get(path, headers={"Accept": AS_JSON, "If-None-Match": '"nope"'})
    assert stale.status_code == 200


async def test_outbox__root_and_page_newest_first(client: httpx.AsyncClient, seeded: Seeded) -> None:
    root = await get_json(client, seeded.workshop + "/outbox")
    assert root["type"] == "OrderedCollection"
    assert root["totalItems"] == 2
    assert root["first"] == seeded.workshop + "/outbox?page=1"
    page = await get_json(client, seeded.workshop + "/outbox?page=1")
    assert page["partOf"] == seeded.workshop + "/outbox"
    items: list[dict[str, Any]] = page["orderedItems"]  # type: ignore[assignment]
    assert [item["type"] for item in items] == ["Create", "Create"]
    # both were published at the frozen instant; the event came last, so it comes first
    assert [item["object"]["id"] for item in items] == [seeded.event, seeded.repair_offer]
    for item in items:
        assert isinstance(item["object"], dict) and item["object"]["type"] in ("Note", "Event")
        assert item["actor"] == seeded.workshop


async def test_followers__total_only(client: httpx.AsyncClient, seeded: Seeded) -> None:
    followers = await get_json(client, seeded.workshop + "/followers")
    assert followers["type"] == "OrderedCollection"
    assert followers["totalItems"] == 0
    assert "first" not in followers
    assert "orderedItems" not in followers


async def test_following__root_and_page(client: httpx.AsyncClient, seeded: Seeded) -> None:
    root = await get_json(client, seeded.workshop + "/following")
    assert root["totalItems"] == 0
    assert root["first"] == seeded.workshop + "/following?page=1"
    page = await get_json(client, seeded.workshop + "/following?page=1")
    assert page["type"] == "OrderedCollectionPage"
    assert page.get("orderedItems", []) == []


# --- deletion and errors ------------------------------------------------------------------------


async def test_listing_document__withdrawn_answers_410_tombstone(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    deleted = await client.delete(f"/api/v1/listings/{_uuid_of(seeded.loan_offer)}")
    assert deleted.status_code == 204
    response = await client.get(path_of(seeded.loan_offer), headers={"Accept": AS_JSON})
    assert response.status_code == 410
    assert response.headers["content-type"] == AS_JSON
    assert response.headers["vary"] == "Accept"
    tombstone = response.json()
    assert tombstone["type"] == "Tombstone"
    assert tombstone["id"] == seeded.loan_offer
    assert tombstone["formerType"] == "Note"
    assert tombstone["deleted"] == "2025-10-13T06:00:00Z"
    page = await client.get(path_of(seeded.loan_offer), headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 410
    assert page.headers["content-type"].startswith("text/html")
    assert "supprim" in page.text


async def test_event_document__deleted_answers_410_tombstone(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    deleted = await client.delete(f"/api/v1/events/{_uuid_of(seeded.event)}")
    assert deleted.status_code == 204
    response = await client.get(path_of(seeded.event), headers={"Accept": AS_JSON})
    assert response.status_code == 410
    assert response.json()["formerType"] == "Event"


@pytest.mark.parametrize(
    "path",
    [
        "/actors/nobody",
        "/@nobody",
        "/actors/relay",
        "/listings/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812",
        "/listings/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812/slots",
        "/events/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812",
        "/places/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812",
        "/activities/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812",
        "/listings/not-a-uuid",
        "/listings/not-a-uuid/slots",
        "/events/12345",
        "/places/zz",
        "/activities/0199d2a0-5e6f",
        "/actors/nobody/outbox",
    ],
)
async def test_activitypub_get__unknown_ids_answer_404(
    client: httpx.AsyncClient, seeded: Seeded, path: str
) -> None:
    response = await client.get(path, headers={"Accept": AS_JSON})
    assert response.status_code == 404, response.text


async def test_slots_document__not_a_repair_offer_404(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(path_of(seeded.loan_offer + "/slots"), headers={"Accept": AS_JSON})
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["0", "abc", "-1", "1.5", "10001", ""])
async def test_page_number__bad_values_answer_400(
    client: httpx.AsyncClient, seeded: Seeded, page: str
) -> None:
    for url in (seeded.slots, seeded.workshop + "/outbox", seeded.workshop + "/following"):
        response = await client.get(path_of(url) + f"?page={page}", headers={"Accept": AS_JSON})
        assert response.status_code == 400, (url, page, response.status_code)


# --- HTML representations -----------------------------------------------------------------------


def _html_urls(seeded: Seeded) -> list[tuple[str, str]]:
    return [
        (seeded.workshop, "Atelier vélo de Fives"),
        (BASE + "/@atelier-fives", "Atelier vélo de Fives"),
        (seeded.cooperative, "Partage Lille"),
        (seeded.repair_offer, "Réparation de vélo sur rendez-vous"),
        (seeded.loan_offer, "Prêt : perceuse-visseuse 18 V"),
        (seeded.request, "Recherche : remorque vélo pour enfant"),
        (seeded.event, "Atelier d&#39;autoréparation du samedi"),
        (seeded.slots, "Réparation de vélo sur rendez-vous"),
    ]


@pytest.mark.parametrize("accept", ["text/html", BROWSER_ACCEPT])
async def test_activitypub_get__browsers_get_html(
    client: httpx.AsyncClient, seeded: Seeded, accept: str
) -> None:
    for url, title in _html_urls(seeded):
        response = await client.get(path_of(url), headers={"Accept": accept})
        assert response.status_code == 200, (url, response.text)
        assert response.headers["content-type"].startswith("text/html"), url
        assert response.headers["vary"] == "Accept", url
        text = response.text
        assert title in text or title.replace("&#39;", "'") in text, url
        assert "<script" not in text.lower(), url


async def test_home__lists_actors_listings_and_events(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    for needle in (
        "Atelier vélo de Fives",
        "Partage Lille",
        "Réparation de vélo sur rendez-vous",
        "Prêt : perceuse-visseuse 18 V",
        "Recherche : remorque vélo pour enfant",
        path_of(seeded.event),
    ):
        assert needle in text, needle
    assert "<script" not in text.lower()


async def test_profile_page__shows_profile_listings_and_events(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get("/@atelier-fives", headers={"Accept": "text/html"})
    assert response.status_code == 200
    text = response.text
    assert "Atelier vélo de Fives" in text
    assert "mar.–ven. 14h–19h · sam. 10h–13h" in text
    assert "Réparation de vélo sur rendez-vous" in text
    assert path_of(seeded.event) in text
    assert "Prêt : perceuse-visseuse 18 V" not in text  # that is partage-lille's


async def test_profile_page__activity_clients_get_the_actor(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    document = await get_json(client, BASE + "/@atelier-fives")
    assert document["id"] == seeded.workshop


async def test_activitypub_get__no_accept_header_gets_html(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(path_of(seeded.workshop), headers={"Accept": ""})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
