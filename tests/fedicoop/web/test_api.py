"""Tests of the JSON API under ``/api/v1`` (fedicoop.web.api) on a running node, SQLite and PostgreSQL.

The walkthrough is the newcomer's: a cooperative, a workshop with hours and its repair offer, an object
loan, a request and an event, each created, read, changed and deleted through the API. Then the bearer
token check, a storm of bad inputs (each a 4xx naming the field and the rule, and nothing stored), and a
property test posting arbitrary listings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fedicoop.db import open_database
from fedicoop.services.tokens import create_token, revoke_token
from fedicoop.settings import Settings

BASE = "https://velo-fives.example"
API = "/api/v1"
NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)

FIVES = {
    "name": "Atelier vélo de Fives",
    "latitude": 50.6275,
    "longitude": 3.0897,
    "street_address": "12 rue Pierre Legrand",
    "postal_code": "59800",
    "locality": "Lille",
}
COOP = {"username": "coop-fives", "kind": "cooperative", "name": "Coopérative de Fives"}
WORKSHOP = {
    "username": "atelier-fives",
    "kind": "workshop",
    "name": "Atelier vélo de Fives",
    "summary": "Réparation sur rendez-vous.",
    "location": FIVES,
}
HOURS = {
    "hours": [
        *({"day": day, "opens": "14:00", "closes": "19:00"} for day in ("tuesday", "wednesday")),
        *({"day": day, "opens": "14:00", "closes": "19:00"} for day in ("thursday", "friday")),
        {"day": "saturday", "opens": "10:00", "closes": "13:00"},
    ],
    "capacity": 2,
    "slot_minutes": 60,
}
REPAIR = {"actor": "atelier-fives", "kind": "repair", "title": "Réparation de vélos sur rendez-vous"}
LOAN = {
    "actor": "atelier-fives",
    "kind": "object",
    "title": "Prêt d'une remorque vélo",
    "category": "velos-accessoires",
    "exchange": "loan",
    "deposit": "30.00",
    "loan_duration": "P7D",
    "tags": ["remorque", "#velo"],
}
REQUEST = {
    "actor": "coop-fives",
    "kind": "service",
    "purpose": "request",
    "title": "Cherche aide pour un déménagement",
    "category": "transport-demenagement",
    "wanted_from": "2025-10-25T09:00:00+02:00",
    "wanted_until": "2025-10-25T12:00:00+02:00",
    "location": FIVES,
}
EVENT = {
    "actor": "atelier-fives",
    "name": "Repair café de Fives",
    "start_time": "2025-10-18T10:00:00+02:00",
    "end_time": "2025-10-18T13:00:00+02:00",
    "capacity": 20,
}


async def _post(client: httpx.AsyncClient, path: str, body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}{path}", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _newcomer(client: httpx.AsyncClient) -> None:
    """The cooperative and the workshop with its hours: what every bad-input test starts from."""
    await _post(client, "/actors", COOP)
    await _post(client, "/actors", WORKSHOP)
    response = await client.put(f"{API}/availability/atelier-fives", json=HOURS)
    assert response.status_code == 200, response.text


async def _ids(client: httpx.AsyncClient, path: str, **filters: str) -> list[str]:
    response = await client.get(f"{API}{path}", params={"limit": 500, **filters})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def _assert_error(response: httpx.Response, status: int, code: str, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail", "field"}
    assert body["error"] == code
    for word in words:
        assert word in body["detail"], (word, body)
    return body


# --- 1. the newcomer walkthrough ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_api_actors__create_show_list_update_delete(client: httpx.AsyncClient) -> None:
    created = await _post(client, "/actors", COOP)
    assert created == {"id": f"{BASE}/actors/coop-fives", "api_url": "/api/v1/actors/coop-fives"}
    workshop = await _post(client, "/actors", WORKSHOP)
    assert workshop["id"] == f"{BASE}/actors/atelier-fives"

    shown = (await client.get(f"{API}/actors/atelier-fives")).json()
    assert shown["kind"] == "workshop"
    assert shown["handle"] == "@atelier-fives@velo-fives.example"
    assert shown["location"]["postal_code"] == "59800"
    assert shown["location"]["latitude"] == pytest.approx(50.6275)
    assert shown["published"] == "2025-10-13T06:00:00Z"
    assert [actor["username"] for actor in (await client.get(f"{API}/actors")).json()] == [
        "atelier-fives",
        "coop-fives",
    ]

    patched = await client.patch(f"{API}/actors/coop-fives", json={"name": "Coop de Fives"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Coop de Fives"
    assert (await client.get(f"{API}/actors/coop-fives")).json()["name"] == "Coop de Fives"

    deleted = await client.delete(f"{API}/actors/coop-fives")
    assert deleted.status_code == 204
    _assert_error(await client.get(f"{API}/actors/coop-fives"), 404, "not_found", "coop-fives")
    assert await _ids(client, "/actors") == [f"{BASE}/actors/atelier-fives"]


@pytest.mark.anyio
async def test_api_availability__put_then_get_shows_next_slots(client: httpx.AsyncClient) -> None:
    await _newcomer(client)
    before_offer = (await client.get(f"{API}/availability/atelier-fives")).json()
    assert before_offer["repair_offer"] is None
    assert before_offer["next_slots"] == []

    repair = await _post(client, "/listings", REPAIR)
    response = await client.get(f"{API}/availability/atelier-fives")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["actor"] == "atelier-fives"
    assert body["capacity"] == 2
    assert body["slot_minutes"] == 60
    assert len(body["hours"]) == 5
    assert body["hours"][-1] == {"day": "saturday", "opens": "10:00:00", "closes": "13:00:00"}
    assert body["repair_offer"] == repair["id"]
    first = body["next_slots"][0]
    assert first["id"] == f"{repair['id']}/slots#2025-10-14T12:00Z"
    assert datetime.fromisoformat(first["start"]) == datetime(2025, 10, 14, 12, 0, tzinfo=UTC)
    assert datetime.fromisoformat(first["end"]) == datetime(2025, 10, 14, 13, 0, tzinfo=UTC)
    assert first["available"] == 2
    starts = [datetime.fromisoformat(slot["start"]) for slot in body["next_slots"]]
    assert starts == sorted(starts)
    assert all(start > NOW for start in starts)
    # Tuesday 14:00-19:00 is five one-hour slots; the sixth is Wednesday 14:00 Paris.
    assert starts[5] == datetime(2025, 10, 15, 12, 0, tzinfo=UTC)

    listing = (await client.get(repair["api_url"])).json()
    assert datetime.fromisoformat(listing["next_slot"]) == datetime(2025, 10, 14, 12, 0, tzinfo=UTC)
    assert listing["slots"] == f"{repair['id']}/slots"


@pytest.mark.anyio
async def test_api_listings__walkthrough_show_filter_patch_delete(client: httpx.AsyncClient) -> None:
    await _newcomer(client)
    repair = await _post(client, "/listings", REPAIR)
    loan = await _post(client, "/listings", LOAN)
    request = await _post(client, "/listings", REQUEST)
    for created in (repair, loan, request):
        uuid_text = created["api_url"].removeprefix("/api/v1/listings/")
        assert created["id"] == f"{BASE}/listings/{uuid_text}"

    shown = (await client.get(loan["api_url"])).json()
    assert shown["id"] == loan["id"]
    assert (shown["kind"], shown["purpose"], shown["action"]) == ("object", "offer", "transferCustody")
    assert (shown["deposit"], shown["loan_duration"]) == ("30.00", "P7D")
    assert shown["tags"] == ["remorque", "velo"]
    assert shown["state"] == "published"
    assert shown["location"]["locality"] == "Lille"  # the actor's location by default
    shown_request = (await client.get(request["api_url"])).json()
    assert shown_request["action"] == "deliverService"
    assert datetime.fromisoformat(shown_request["wanted_from"]) == datetime(2025, 10, 25, 7, 0, tzinfo=UTC)
    assert (await client.get(repair["api_url"])).json()["category"] == "reparation-velo"

    assert set(await _ids(client, "/listings")) == {repair["id"], loan["id"], request["id"]}
    assert set(await _ids(client, "/listings", actor="atelier-fives")) == {repair["id"], loan["id"]}
    assert await _ids(client, "/listings", actor="coop-fives") == [request["id"]]
    assert await _ids(client, "/listings", kind="object") == [loan["id"]]
    assert await _ids(client, "/listings", kind="repair") == [repair["id"]]
    assert await _ids(client, "/listings", purpose="request") == [request["id"]]
    assert set(await _ids(client, "/listings", purpose="offer", actor="atelier-fives")) == {
        repair["id"],
        loan["id"],
    }

    for created in (repair, loan, request):
        retitled = await client.patch(created["api_url"], json={"title": "Nouveau titre"})
        assert retitled.status_code == 200, retitled.text
        assert retitled.json()["title"] == "Nouveau titre"
        paused = await client.patch(created["api_url"], json={"paused": True})
        assert paused.json()["state"] == "paused"
        assert (await client.get(created["api_url"])).json()["state"] == "paused"
        resumed = await client.patch(created["api_url"], json={"paused": False})
        assert resumed.json()["state"] == "published"
        assert resumed.json()["title"] == "Nouveau titre"

    for created in (repair, loan, request):
        deleted = await client.delete(created["api_url"])
        assert deleted.status_code == 204
        assert deleted.content == b""
        _assert_error(await client.get(created["api_url"]), 410, "gone", "withdrawn")
        assert created["id"] not in await _ids(client, "/listings")
    assert await _ids(client, "/listings") == []
    # Withdrawing the repair offer frees the workshop for a new one.
    await _post(client, "/listings", REPAIR)


@pytest.mark.anyio
async def test_api_events__walkthrough_show_list_cancel_delete(client: httpx.AsyncClient) -> None:
    await _newcomer(client)
    event = await _post(client, "/events", EVENT)
    uuid_text = event["api_url"].removeprefix("/api/v1/events/")
    assert event["id"] == f"{BASE}/events/{uuid_text}"

    shown = (await client.get(event["api_url"])).json()
    assert shown["id"] == event["id"]
    assert shown["status"] == "CONFIRMED"
    assert shown["price_text"] == "gratuit"
    assert datetime.fromisoformat(shown["start_time"]) == datetime(2025, 10, 18, 8, 0, tzinfo=UTC)
    assert shown["location"]["name"] == "Atelier vélo de Fives"
    assert await _ids(client, "/events") == [event["id"]]
    assert await _ids(client, "/events", actor="atelier-fives") == [event["id"]]
    assert await _ids(client, "/events", actor="coop-fives") == []

    renamed = await client.patch(event["api_url"], json={"name": "Repair café d'automne"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Repair café d'automne"
    cancelled = await client.patch(event["api_url"], json={"status": "CANCELLED"})
    assert cancelled.json()["status"] == "CANCELLED"
    assert (await client.get(event["api_url"])).json()["status"] == "CANCELLED"
    assert await _ids(client, "/events") == [event["id"]]  # cancelled is still listed, deleted is not

    deleted = await client.delete(event["api_url"])
    assert deleted.status_code == 204
    _assert_error(await client.get(event["api_url"]), 410, "gone", "deleted")
    assert await _ids(client, "/events") == []


@pytest.mark.anyio
async def test_api_openapi__lists_paths_and_input_schemas(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert {
        "/actors",
        "/actors/{username}",
        "/listings",
        "/listings/{listing_id}",
        "/events",
        "/events/{event_id}",
        "/availability/{username}",
    } <= set(document["paths"])
    schemas = document["components"]["schemas"]
    assert {"ActorCreate", "ListingCreate", "EventCreate", "AvailabilityInput", "ErrorBody"} <= set(schemas)
    assert schemas["ListingCreate"]["properties"]["title"]["maxLength"] == 120
    assert schemas["AvailabilityInput"]["properties"]["capacity"]["maximum"] == 10
    assert schemas["ActorCreate"]["additionalProperties"] is False


# --- 2. authentication -----------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, "missing Authorization"),
        ({"Authorization": "Basic xyz"}, "Bearer <token>"),
        ({"Authorization": "Bearer"}, "Bearer <token>"),
        ({"Authorization": "Bearer fc_not-a-token"}, "unknown or revoked"),
    ],
)
async def test_api_auth__refuses_missing_or_bad_tokens(
    client: httpx.AsyncClient, headers: dict[str, str], words: str
) -> None:
    anonymous = httpx.AsyncClient(transport=client._transport, base_url=BASE, headers=headers)
    async with anonymous:
        _assert_error(await anonymous.get(f"{API}/actors"), 401, "unauthenticated", words)
        refused = await anonymous.post(f"{API}/actors", json=COOP)
        _assert_error(refused, 401, "unauthenticated", words)
    assert await _ids(client, "/actors") == []


@pytest.mark.anyio
async def test_api_auth__stored_token_works_until_revoked(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    async with open_database(settings):
        kept = await create_token("ci", NOW)
        revoked = await create_token("old-laptop", NOW)
        await revoke_token("old-laptop", NOW)
    transport = client._transport
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE, headers={"Authorization": f"Bearer {kept}"}
    ) as good:
        assert (await good.post(f"{API}/actors", json=COOP)).status_code == 201
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE, headers={"Authorization": f"bearer  {revoked} "}
    ) as bad:
        _assert_error(await bad.get(f"{API}/actors"), 401, "unauthenticated", "revoked")
    assert await _ids(client, "/actors") == [f"{BASE}/actors/coop-fives"]


# --- 3. bad input ----------------------------------------------------------------------------------

LONG_TITLE = "x" * 121
BAD_LISTINGS: list[tuple[str, dict[str, Any], int, str, str | None, tuple[str, ...]]] = [
    (
        "wrong-type",
        {**REQUEST, "location": {**FIVES, "latitude": "abc"}},
        422,
        "invalid",
        "location.latitude",
        ("location.latitude", "valid number"),
    ),
    (
        "missing-title",
        {k: v for k, v in LOAN.items() if k != "title"},
        422,
        "invalid",
        "title",
        ("title", "Field required"),
    ),
    ("unknown-field", {**LOAN, "colour": "red"}, 422, "invalid", "colour", ("colour", "unknown field")),
    ("title-121", {**LOAN, "title": LONG_TITLE}, 422, "invalid", "title", ("title", "at most 120")),
    (
        "description-2001",
        {**LOAN, "description": "d" * 2001},
        422,
        "invalid",
        "description",
        ("description", "at most 2000"),
    ),
    ("five-tags", {**LOAN, "tags": ["a", "b", "c", "d", "e"]}, 422, "invalid", "tags", ("tags", "at most 4")),
    (
        "unknown-category",
        {**LOAN, "category": "fusees"},
        422,
        "invalid",
        "category",
        ("category", "unknown category 'fusees'"),
    ),
    (
        "category-of-other-kind",
        {**LOAN, "category": "cours"},
        422,
        "invalid",
        None,
        ("'cours' is for kind 'service'",),
    ),
    (
        "deposit-on-gift",
        {**LOAN, "exchange": "gift", "loan_duration": None},
        422,
        "invalid",
        None,
        ("deposit", "loans only"),
    ),
    (
        "naive-wanted-from",
        {**REQUEST, "wanted_from": "2025-10-25T09:00:00", "wanted_until": None},
        422,
        "invalid",
        None,
        ("wanted_from", "offset"),
    ),
    (
        "until-before-from",
        {**REQUEST, "wanted_until": "2025-10-25T08:00:00+02:00"},
        422,
        "invalid",
        None,
        ("wanted_until must be after wanted_from",),
    ),
    ("unknown-actor", {**LOAN, "actor": "nobody"}, 404, "not_found", None, ("'nobody'",)),
    (
        "repair-by-cooperative",
        {**REPAIR, "actor": "coop-fives"},
        422,
        "invalid",
        "kind",
        ("only a workshop", "cooperative"),
    ),
    ("second-repair-offer", REPAIR, 409, "conflict", None, ("already has a repair offer",)),
    ("nul-in-title", {**LOAN, "title": "Remorque\x00"}, 422, "invalid", "title", ("title", "NUL")),
    (
        "nul-in-place",
        {**REQUEST, "location": {**FIVES, "locality": "\x00"}},
        422,
        "invalid",
        "location.locality",
        ("location.locality", "NUL"),
    ),
    (
        "exponent-price",
        {**LOAN, "exchange": "sale", "deposit": None, "loan_duration": None, "price": "1e999999999"},
        422,
        "invalid",
        "price",
        ("price", "decimal number written with a point"),
    ),
    ("negative-deposit", {**LOAN, "deposit": "-30"}, 422, "invalid", "deposit", ("deposit", "'-30'")),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "status", "code", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_LISTINGS],
)
async def test_api_listings__bad_input_is_refused_and_stores_nothing(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
    words: tuple[str, ...],
) -> None:
    await _newcomer(client)
    repair = await _post(client, "/listings", REPAIR)
    refused = _assert_error(await client.post(f"{API}/listings", json=body), status, code, *words)
    assert refused["field"] == field
    assert await _ids(client, "/listings") == [repair["id"]]


@pytest.mark.anyio
async def test_api_listings__malformed_json_and_non_object_bodies(client: httpx.AsyncClient) -> None:
    await _newcomer(client)
    headers = {"Content-Type": "application/json"}
    broken = await client.post(f"{API}/listings", content=b'{"actor": "coop-fives", "kind":', headers=headers)
    _assert_error(broken, 400, "malformed", "malformed JSON")
    array = await client.post(f"{API}/listings", json=[{**LOAN}])
    _assert_error(array, 422, "invalid", "valid dictionary")
    text = await client.post(f"{API}/listings", json="Prêt d'une remorque")
    _assert_error(text, 422, "invalid")
    huge = await client.post(f"{API}/listings", json={**LOAN, "description": "d" * (256 * 1024)})
    _assert_error(huge, 413, "too_large", str(256 * 1024))
    assert await _ids(client, "/listings") == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "status", "code", "field", "words"),
    [
        pytest.param(
            {**COOP, "username": "Coop Fives"},
            422,
            "invalid",
            "username",
            ("username", "pattern"),
            id="bad-pattern",
        ),
        pytest.param(
            {**COOP, "username": "x" * 65}, 422, "invalid", "username", ("username",), id="too-long"
        ),
        pytest.param(
            {**COOP, "username": "admin"},
            422,
            "invalid",
            "username",
            ("username", "'admin' is reserved"),
            id="reserved",
        ),
        pytest.param(
            {**COOP, "username": "relay"}, 422, "invalid", "username", ("reserved",), id="reserved-relay"
        ),
        pytest.param(
            {**COOP, "name": "Autre coop"},
            409,
            "conflict",
            None,
            ("'coop-fives' is already taken",),
            id="duplicate",
        ),
        pytest.param(
            {**COOP, "username": "autre", "kind": "person"},
            422,
            "invalid",
            "kind",
            ("kind",),
            id="unknown-kind",
        ),
        pytest.param(
            {**COOP, "username": "autre", "location": {**FIVES, "latitude": 91}},
            422,
            "invalid",
            "location.latitude",
            ("location.latitude", "less than or equal to 90"),
            id="latitude-91",
        ),
    ],
)
async def test_api_actors__bad_input_is_refused_and_stores_nothing(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
    words: tuple[str, ...],
) -> None:
    await _post(client, "/actors", COOP)
    refused = _assert_error(await client.post(f"{API}/actors", json=body), status, code, *words)
    assert refused["field"] == field
    assert await _ids(client, "/actors") == [f"{BASE}/actors/coop-fives"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        pytest.param(
            {**EVENT, "end_time": "2025-10-18T09:00:00+02:00"},
            None,
            ("end_time must be after start_time",),
            id="end-before-start",
        ),
        pytest.param(
            {**EVENT, "start_time": "2025-10-18T10:00:00"},
            "start_time",
            ("start_time", "needs an offset"),
            id="naive-start",
        ),
        pytest.param({**EVENT, "name": "n" * 201}, "name", ("name", "at most 200"), id="name-201"),
        pytest.param(
            {**EVENT, "capacity": 0}, "capacity", ("capacity", "greater than or equal to 1"), id="capacity-0"
        ),
        pytest.param({**EVENT, "actor": "coop-fives"}, "location", ("needs a location",), id="no-location"),
    ],
)
async def test_api_events__bad_input_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], field: str | None, words: tuple[str, ...]
) -> None:
    await _newcomer(client)
    refused = _assert_error(await client.post(f"{API}/events", json=body), 422, "invalid", *words)
    assert refused["field"] == field
    assert await _ids(client, "/events") == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("username", "body", "status", "code", "field", "words"),
    [
        pytest.param(
            "coop-fives", HOURS, 422, "invalid", "actor", ("only a workshop", "cooperative"), id="cooperative"
        ),
        pytest.param("nobody", HOURS, 404, "not_found", None, ("'nobody'",), id="unknown-actor"),
        pytest.param(
            "atelier-fives",
            {**HOURS, "hours": [{"day": "monday", "opens": "19:00", "closes": "14:00"}]},
            422,
            "invalid",
            "hours.0",
            ("hours.0", "closes (14:00:00) must be after opens (19:00:00)"),
            id="closes-before-opens",
        ),
        pytest.param(
            "atelier-fives",
            {**HOURS, "capacity": 11},
            422,
            "invalid",
            "capacity",
            ("capacity", "less than or equal to 10"),
            id="capacity-11",
        ),
        pytest.param(
            "atelier-fives",
            {**HOURS, "slot_minutes": 5},
            422,
            "invalid",
            "slot_minutes",
            ("slot_minutes", "greater than or equal to 15"),
            id="slot-5-minutes",
        ),
        pytest.param(
            "atelier-fives",
            {**HOURS, "hours": [{"day": "lundi", "opens": "9:00", "closes": "12:00"}]},
            422,
            "invalid",
            "hours.0.day",
            ("hours.0.day",),
            id="unknown-day",
        ),
    ],
)
async def test_api_availability__bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    username: str,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
    words: tuple[str, ...],
) -> None:
    await _newcomer(client)
    before = (await client.get(f"{API}/availability/atelier-fives")).json()
    response = await client.put(f"{API}/availability/{username}", json=body)
    refused = _assert_error(response, status, code, *words)
    assert refused["field"] == field
    assert (await client.get(f"{API}/availability/atelier-fives")).json() == before
    _assert_error(
        await client.get(f"{API}/availability/coop-fives"), 404, "not_found", "no repair availability"
    )


@pytest.mark.anyio
async def test_api_listings__bad_ids_and_withdrawn_listings(client: httpx.AsyncClient) -> None:
    await _newcomer(client)
    loan = await _post(client, "/listings", LOAN)
    _assert_error(await client.get(f"{API}/listings/not-a-uuid"), 422, "invalid", "not a listing id", "UUID")
    _assert_error(await client.patch(f"{API}/listings/not-a-uuid", json={"title": "t"}), 422, "invalid")
    _assert_error(await client.delete(f"{API}/events/not-a-uuid"), 422, "invalid", "not an event id")
    unknown = "/api/v1/listings/0199d5a0-0000-7000-8000-000000000000"
    _assert_error(await client.get(unknown), 404, "not_found")
    _assert_error(await client.get(f"{API}/listings?kind=spaceship"), 422, "invalid", "kind")
    _assert_error(await client.get(f"{API}/listings?limit=0"), 422, "invalid", "limit")
    _assert_error(await client.get(f"{API}/listings?actor=nobody"), 404, "not_found", "'nobody'")
    _assert_error(await client.get(f"{API}/listings?actor=a%00b"), 404, "not_found", "no actor named")
    _assert_error(await client.get(f"{API}/actors/a%00b"), 404, "not_found", "no actor named")
    _assert_error(await client.get(f"{API}/availability/A%20B"), 404, "not_found", "no actor named")

    cleared = await client.patch(loan["api_url"], json={"title": None})
    _assert_error(cleared, 422, "invalid", "title cannot be removed")
    deposit = await client.patch(
        (await _post(client, "/listings", REQUEST))["api_url"], json={"deposit": "5"}
    )
    _assert_error(deposit, 422, "invalid", "loans only")

    assert (await client.delete(loan["api_url"])).status_code == 204
    _assert_error(await client.patch(loan["api_url"], json={"title": "Encore là"}), 410, "gone", "withdrawn")
    _assert_error(await client.delete(loan["api_url"]), 410, "gone")
    assert loan["id"] not in await _ids(client, "/listings")
    assert (await client.get("/healthz")).status_code == 200


# --- 4. arbitrary listings -------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)
FIELD_NAMES = st.sampled_from(
    [
        "title",
        "description",
        "category",
        "exchange",
        "price",
        "deposit",
        "loan_duration",
        "quantity",
        "wanted_from",
        "wanted_until",
        "tags",
        "images",
        "location",
        "purpose",
        "unit_based",
        "conditions",
        "external_url",
        "unknown",
    ]
)
FIELD_VALUES = JSON_VALUES | st.sampled_from(
    [
        "loan",
        "gift",
        "velos-accessoires",
        "cours",
        "reparation-velo",
        "12.50",
        "-1",
        "1e999",
        "NaN",
        "2025-10-25T09:00:00+02:00",
        "2025-10-25T09:00:00",
        "https://example.org/a",
        "\x00",
        "  ",
        "offer",
        "request",
    ]
)
LISTING_BODIES = st.fixed_dictionaries(
    {
        "actor": st.sampled_from(["atelier-fives", "coop-fives", "nobody", "Atelier"]),
        "kind": st.sampled_from(["object", "service", "repair", "spaceship"]),
        "title": st.text(max_size=130),
    }
).flatmap(
    lambda base: st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=5).map(lambda extra: {**base, **extra})
)


@pytest.mark.anyio
@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=LISTING_BODIES)
async def test_api_listings__arbitrary_bodies_never_fail_the_server(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    if not await _ids(client, "/actors"):
        await _newcomer(client)
    before = len(await _ids(client, "/listings"))
    response = await client.post(f"{API}/listings", json=body)
    assert response.status_code < 500, response.text
    after = len(await _ids(client, "/listings"))
    if response.status_code == 201:
        assert after == before + 1
        assert response.json()["id"].startswith(f"{BASE}/listings/")
    else:
        assert 400 <= response.status_code < 500
        assert set(response.json()) == {"error", "detail", "field"}
        assert after == before
    assert (await client.get("/healthz")).status_code == 200
