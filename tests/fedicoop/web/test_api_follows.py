"""``/api/v1/follows`` and ``/api/v1/followers``: following by handle or URL, and every refusal."""

from __future__ import annotations

import httpx
import pytest

from fedicoop.models.deliveries import Delivery
from fedicoop.models.social import Following
from tests.fedicoop.remote import Remote

pytestmark = pytest.mark.anyio


async def test_follow_by_url__202_pending_then_listed(node: httpx.AsyncClient, remote: Remote) -> None:
    response = await node.post("/api/v1/follows", json={"actor": "atelier-fives", "target": remote.actor_id})
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "pending" and response.json()["target"] == remote.actor_id
    listed = (await node.get("/api/v1/follows", params={"state": "pending"})).json()
    assert [row["target"] for row in listed] == [remote.actor_id]
    assert (await node.get("/api/v1/follows", params={"state": "accepted"})).json() == []
    assert await Delivery.filter(activity__type="Follow").count() == 1


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"actor": "nobody", "target": "x@y.example"}, 404, "nobody"),
        ({"actor": "atelier-fives", "target": "no handle"}, 422, "neither a handle"),
        (
            {"actor": "atelier-fives", "target": "https://velo-fives.example/actors/atelier-fives"},
            422,
            "this node",
        ),
        ({"actor": "Bad Name", "target": "x@y.example"}, 422, "actor"),
        ({"actor": "atelier-fives"}, 422, "target"),
        ({"actor": "atelier-fives", "target": "http://127.0.0.1:9/users/x"}, 502, "127.0.0.1:9"),
    ],
)
async def test_follow_refusals__4xx_nothing_stored(
    node: httpx.AsyncClient, remote: Remote, body: dict[str, str], status: int, fragment: str
) -> None:
    response = await node.post("/api/v1/follows", json=body)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    assert await Following.all().count() == 0
    assert await Delivery.all().count() == 0


async def test_follow_twice__409(node: httpx.AsyncClient, remote: Remote) -> None:
    body = {"actor": "atelier-fives", "target": remote.actor_id}
    assert (await node.post("/api/v1/follows", json=body)).status_code == 202
    again = await node.post("/api/v1/follows", json=body)
    assert again.status_code == 409 and "already follows" in again.json()["detail"]


async def test_unfollow_unknown__404(node: httpx.AsyncClient, remote: Remote) -> None:
    response = await node.delete(
        "/api/v1/follows", params={"actor": "atelier-fives", "target": remote.actor_id}
    )
    assert response.status_code == 404


async def test_follows_need_a_token(node: httpx.AsyncClient) -> None:
    response = await node.get("/api/v1/follows", headers={"Authorization": ""})
    assert response.status_code == 401
