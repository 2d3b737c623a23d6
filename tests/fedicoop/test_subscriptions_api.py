"""``/api/v1/subscriptions``: validation (400, nothing stored), and the whole flow between two real nodes.

In the flow test both nodes are fedicoop apps served by uvicorn on loopback with their workers running:
our Follow is delivered, the other node accepts it, its Accept comes back to our inbox, and the
subscription turns ``accepted``; unsubscribing sends an Undo the other node applies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from fedicoop.models.deliveries import Delivery
from fedicoop.models.social import Following
from tests.federation.loopback import free_port
from tests.fedicoop.test_subscriptions import ServedNode, eventually, served_node

pytestmark = pytest.mark.anyio

OUR_TOKEN = "our-admin-token"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "give either target (one) or targets (a list)"),
        ({"target": "a.example", "targets": ["b.example"]}, "not both"),
        ({"target": ""}, "it is empty"),
        ({"target": "   "}, "it is empty"),
        ({"target": "not a host"}, "'not a host' is not a host"),
        ({"target": "ftp://a.example/"}, "scheme 'ftp'"),
        ({"targets": []}, "targets: the list is empty"),
        ({"targets": [f"n{i}.example" for i in range(101)]}, "targets: at most 100 targets, got 101"),
        ({"targets": ["a.example", "b.example/path"]}, "targets[1]: 'b.example/path' is not a host"),
        ({"targets": ["a.example", ""]}, "targets[1]:"),
    ],
)
async def test_post__bad_bodies__400_nothing_stored(
    node: httpx.AsyncClient, body: dict[str, Any], fragment: str
) -> None:
    response = await node.post("/api/v1/subscriptions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"
    assert fragment in response.json()["detail"]
    assert await Following.all().count() == 0
    assert await Delivery.all().count() == 0


async def test_post__wrong_types__4xx_never_500(node: httpx.AsyncClient) -> None:
    for body in ({"target": 5}, {"targets": "a.example"}, {"target": "a.example", "x": 1}, [1]):
        response = await node.post("/api/v1/subscriptions", json=body)
        assert response.status_code == 422, response.text
    malformed = await node.post(
        "/api/v1/subscriptions", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert await Following.all().count() == 0


async def test_single_target_failures__status_and_reason(node: httpx.AsyncClient) -> None:
    cases = [
        ({"target": f"127.0.0.1:{free_port()}"}, 502, "unreachable"),
        ({"target": "velo-fives.example"}, 422, "own_node"),
        ({"target": "https://velo-fives.example/actors/atelier-fives"}, 422, "own_node"),
    ]
    for body, status, reason in cases:
        response = await node.post("/api/v1/subscriptions", json=body)
        assert (response.status_code, response.json()["error"]) == (status, reason), response.text
        assert response.json()["field"] == "target"
    assert await Following.all().count() == 0


async def test_delete__bad_and_unknown_ids(node: httpx.AsyncClient) -> None:
    bad = await node.delete("/api/v1/subscriptions/abc")
    assert bad.status_code == 400 and "expected a subscription id" in bad.json()["detail"]
    unknown = await node.delete("/api/v1/subscriptions/4242")
    assert unknown.status_code == 404 and "no subscription matches '4242'" in unknown.json()["detail"]


async def test_subscriptions_need_a_token(node: httpx.AsyncClient) -> None:
    for method in ("GET", "POST"):
        response = await node.request(
            method, "/api/v1/subscriptions", headers={"Authorization": ""}, json={"target": "a.example"}
        )
        assert response.status_code == 401
    assert (await node.get("/api/v1/subscriptions")).json() == []


async def _subscriptions(ours: ServedNode) -> list[dict[str, Any]]:
    response = await ours.client.get("/api/v1/subscriptions")
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_flow__subscribe_by_host_accepted_list_then_unsubscribe(
    database_url: str, second_database_url: str, tmp_path: Path
) -> None:
    async with (
        served_node(second_database_url, tmp_path / "remote") as remote,
        served_node(database_url, tmp_path / "ours", token=OUR_TOKEN) as ours,
    ):
        remote_actor = f"{remote.base}/actor"
        created = await ours.client.post("/api/v1/subscriptions", json={"target": remote.host})
        assert created.status_code == 202, created.text
        assert created.json()["actor"] == remote_actor and created.json()["state"] == "pending"
        assert created.json()["host"] == remote.host and created.json()["type"] == "Application"

        async def accepted() -> bool:
            return [row["state"] for row in await _subscriptions(ours)] == ["accepted"]

        await eventually(accepted, "the remote node's Accept")
        followers = (await remote.client.get("/api/v1/followers")).json()
        assert [(row["follower"], row["state"]) for row in followers] == [(f"{ours.base}/actor", "accepted")]

        again = await ours.client.post("/api/v1/subscriptions", json={"target": remote_actor})
        assert again.status_code == 200 and again.json()["state"] == "accepted"
        unreachable = f"127.0.0.1:{free_port()}"
        batch = await ours.client.post(
            "/api/v1/subscriptions", json={"targets": [remote_actor, f"relay@{remote.host}", unreachable]}
        )
        assert batch.status_code == 200, batch.text
        results = batch.json()["results"]
        assert [(r["label"], r["outcome"], r["reason"]) for r in results] == [
            ("targets[0]", "already_subscribed", None),
            ("targets[1]", "duplicate", None),
            ("targets[2]", "failed", "unreachable"),
        ]
        assert results[0]["subscription"]["state"] == "accepted"
        assert batch.json()["counts"] == {
            "subscribed": 0,
            "already_subscribed": 1,
            "pending": 0,
            "duplicate": 1,
            "failed": 1,
        }
        (row,) = await _subscriptions(ours)
        gone = await ours.client.delete(f"/api/v1/subscriptions/{row['id']}")
        assert gone.status_code == 204, gone.text
        assert await _subscriptions(ours) == []

        async def undone() -> bool:
            return bool((await remote.client.get("/api/v1/followers")).json() == [])

        await eventually(undone, "the remote node applying our Undo")


async def test_subscriptions__in_the_openapi_document(node: httpx.AsyncClient) -> None:
    document = (await node.get("/api/v1/openapi.json")).json()
    assert set(document["paths"]["/subscriptions"]) == {"get", "post"}
    assert set(document["paths"]["/subscriptions/{subscription_id}"]) == {"delete"}
    body = document["components"]["schemas"]["SubscriptionCreate"]
    assert set(body["properties"]) == {"target", "targets"} and body["additionalProperties"] is False
