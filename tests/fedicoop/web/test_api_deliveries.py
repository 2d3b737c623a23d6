"""The delivery queue in the JSON API (``/api/v1/deliveries``) on a running node, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from fedicoop.clock import system_clock
from fedicoop.models.deliveries import Delivery
from fedicoop.services import deliveries
from fedicoop.services.deliveries import Target
from fedicoop.settings import Settings
from tests.fedicoop.queue_helpers import activity, open_node, organization

pytestmark = pytest.mark.anyio

BASE = "https://velo-fives.example"
NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)


async def _seed(settings: Settings) -> list[int]:
    async with open_node(settings, system_clock) as node:
        coop = await organization("coop-fives", NOW)
        act = await activity(node, coop, NOW)
        await deliveries.enqueue(
            act, [Target(f"https://h{n}.example/inbox") for n in range(3)], NOW, local_base=BASE
        )
        rows = await Delivery.all().order_by("id")
        await Delivery.filter(id=rows[1].id).update(
            state="dead", attempts=15, last_status=503, last_error="HTTP 503"
        )
        await Delivery.filter(id=rows[2].id).update(state="delivered", attempts=1, last_status=202)
        return [row.id for row in rows]


async def test_list_deliveries__newest_first_with_state_filter_and_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ids = await _seed(settings)
    response = await client.get("/api/v1/deliveries")
    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == list(reversed(ids))
    dead = rows[1]
    assert dead == {
        "id": ids[1],
        "activity": dead["activity"],
        "activity_type": "Create",
        "inbox": "https://h1.example/inbox",
        "host": "h1.example",
        "recipient": None,
        "state": "dead",
        "attempts": 15,
        "first_attempt_at": None,
        "next_attempt_at": "2025-10-13T06:00:00Z",
        "last_status": 503,
        "last_error": "HTTP 503",
        "created_at": "2025-10-13T06:00:00Z",
        "delivered_at": None,
    }
    assert dead["activity"].startswith(f"{BASE}/activities/")
    only = (await client.get("/api/v1/deliveries", params={"state": "delivered"})).json()
    assert [row["id"] for row in only] == [ids[2]]
    assert len((await client.get("/api/v1/deliveries", params={"limit": 1})).json()) == 1
    bad = await client.get("/api/v1/deliveries", params={"state": "lost", "limit": 0})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid"
    assert {"state", "limit"} <= set(bad.json()["detail"].replace(":", " ").split())


async def test_retry_delivery__requeues_dead_409_for_others_404_unknown(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ids = await _seed(settings)
    response = await client.post(f"/api/v1/deliveries/{ids[1]}/retry")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["attempts"], body["last_error"]) == ("pending", 0, "HTTP 503")
    conflict = await client.post(f"/api/v1/deliveries/{ids[2]}/retry")
    assert conflict.status_code == 409 and conflict.json()["error"] == "conflict"
    assert "is delivered" in conflict.json()["detail"]
    missing = await client.post("/api/v1/deliveries/999999/retry")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_deliveries__need_a_token(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/v1/deliveries", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert (await client.post("/api/v1/deliveries/1/retry", headers={"Authorization": ""})).status_code == 401


async def test_deliveries__in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert set(paths["/deliveries"]) == {"get"}
    assert set(paths["/deliveries/{delivery_id}/retry"]) == {"post"}
