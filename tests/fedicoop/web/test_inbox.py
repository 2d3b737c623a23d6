"""The inbox's synchronous half: verify → validate → persist → 202, and every refusal storing nothing.

The node runs in process (ASGI) on the test database; the remote actor is a real loopback HTTP peer
that publishes its key, so every signature is fetched and verified over HTTP.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.auth import HttpSignatureAuth
from federation.digest import make_digest
from fedicoop.app import create_app
from fedicoop.models.inbox import InboxItem
from tests.conftest import TEST_BASE_URL, Clock, _settings
from tests.federation.loopback import rsa_key
from tests.fedicoop.remote import AS, PUBLIC, Remote, post_signed

pytestmark = pytest.mark.anyio


async def post(
    node: httpx.AsyncClient, clock: Clock, remote: Remote, document: dict[str, Any] | bytes, **options: Any
) -> httpx.Response:
    if not options.pop("tamper", False):
        return await post_signed(node, clock, remote, document, **options)
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    request = node.build_request(
        "POST", "/inbox", content=body, headers={"Content-Type": "application/activity+json"}
    )
    HttpSignatureAuth(remote.key_id, remote.key, now=clock).sign(request)
    tampered = node.build_request("POST", "/inbox", content=body + b" ", headers=dict(request.headers))
    return await node.send(tampered)


async def stored() -> list[InboxItem]:
    return await InboxItem.all().order_by("id")


def follow(remote: Remote, number: int = 1) -> dict[str, Any]:
    return remote.activity("Follow", number, object=f"{TEST_BASE_URL}/actors/atelier-fives")


async def test_signed_follow__accepted_202_and_stored_once(
    node: httpx.AsyncClient, clock: Clock, remote: Remote
) -> None:
    response = await post(node, clock, remote, follow(remote), path="/actors/atelier-fives/inbox")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "stored"
    again = await post(node, clock, remote, follow(remote), path="/actors/atelier-fives/inbox")
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    [item] = await stored()
    assert (item.type, item.actor_iri, item.signer_iri, item.authentic, item.recipient) == (
        "Follow",
        remote.actor_id,
        remote.actor_id,
        True,
        "atelier-fives",
    )


async def test_relayed_activity__stored_as_not_authentic(
    node: httpx.AsyncClient, clock: Clock, remote: Remote
) -> None:
    other = remote.peer.url("/users/dominique")
    create = {
        "@context": AS,
        "id": f"{other}/activities/9",
        "type": "Create",
        "actor": other,
        "object": {
            "id": f"{other}/notes/9",
            "type": "Note",
            "attributedTo": other,
            "content": "x",
            "to": [PUBLIC],
        },
        "to": [PUBLIC],
    }
    response = await post(node, clock, remote, create)
    assert response.status_code == 202, response.text
    [item] = await stored()
    assert item.authentic is False and item.signer_iri == remote.actor_id


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("expired date", 401, "signature"),
        ("future date", 401, "signature"),
        ("wrong key", 401, "signature"),
        ("tampered body", 401, "signature"),
        ("unknown key", 401, "signature"),
        ("keyId on another host", 401, "signature"),
    ],
)
async def test_bad_signatures__401_and_nothing_stored(
    node: httpx.AsyncClient, clock: Clock, remote: Remote, case: str, status: int, code: str
) -> None:
    options: dict[str, Any] = {
        "expired date": {"skew": -timedelta(hours=2)},
        "future date": {"skew": timedelta(hours=2)},
        "wrong key": {"key": rsa_key("mallory")},
        "tampered body": {"tamper": True},
        "unknown key": {"key_id": remote.peer.url("/users/nobody#main-key")},
        "keyId on another host": {"key_id": "http://127.0.0.2:9/users/camille#main-key"},
    }[case]
    response = await post(node, clock, remote, follow(remote), **options)
    assert (response.status_code, response.json()["error"]) == (status, code), response.text
    assert response.json()["detail"]
    assert await stored() == []


async def test_unsigned__401(node: httpx.AsyncClient, remote: Remote) -> None:
    response = await node.post(
        "/inbox", content=json.dumps(follow(remote)), headers={"Content-Type": "application/activity+json"}
    )
    assert response.status_code == 401 and "no Signature" in response.json()["detail"]
    assert await stored() == []


async def test_digest_not_signed__401(node: httpx.AsyncClient, clock: Clock, remote: Remote) -> None:
    body = json.dumps(follow(remote)).encode()
    request = node.build_request(
        "POST", "/inbox", content=body, headers={"Content-Type": "application/activity+json"}
    )
    HttpSignatureAuth(remote.key_id, remote.key, now=clock).sign(request)
    signature = request.headers["Signature"].replace("date digest content-type", "date content-type")
    request.headers["Signature"] = signature
    response = await node.send(request)
    assert response.status_code in (400, 401)
    assert await stored() == []


async def test_wrong_digest__401(node: httpx.AsyncClient, clock: Clock, remote: Remote) -> None:
    body = json.dumps(follow(remote)).encode()
    request = node.build_request(
        "POST", "/inbox", content=body, headers={"Content-Type": "application/activity+json"}
    )
    HttpSignatureAuth(remote.key_id, remote.key, now=clock).sign(request)
    request.headers["Digest"] = make_digest(b"something else")
    response = await node.send(request)
    assert response.status_code == 401
    assert await stored() == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"type": "Follow"}).encode(), "id"),
        (b"[" * 40 + b"]" * 40, "JSON object"),
    ],
)
async def test_malformed_bodies__400(
    node: httpx.AsyncClient, clock: Clock, remote: Remote, body: bytes, fragment: str
) -> None:
    response = await post(node, clock, remote, body)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["detail"]
    assert await stored() == []


async def test_too_deep__400(node: httpx.AsyncClient, clock: Clock, remote: Remote) -> None:
    deep: Any = "x"
    for _ in range(40):
        deep = {"a": deep}
    response = await post(node, clock, remote, {**follow(remote), "extra": deep})
    assert response.status_code == 400 and "nesting" in response.json()["detail"]


async def test_oversized__413_before_verifying(node: httpx.AsyncClient, clock: Clock, remote: Remote) -> None:
    body = json.dumps({**follow(remote), "padding": "x" * (1024 * 1024)}).encode()
    response = await post(node, clock, remote, body)
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert remote.peer.requests_to("/users/camille") == []  # no key fetched for it
    assert await stored() == []


async def test_wrong_media_type__415(node: httpx.AsyncClient, clock: Clock, remote: Remote) -> None:
    response = await post(node, clock, remote, follow(remote), content_type="text/plain")
    assert response.status_code == 415
    assert await stored() == []


async def test_signer_is_not_the_actor_of_a_foreign_origin_id__400(
    node: httpx.AsyncClient, clock: Clock, remote: Remote
) -> None:
    forged = remote.activity(
        "Create",
        3,
        object={
            "id": "http://127.0.0.2:8/notes/1",
            "type": "Note",
            "attributedTo": remote.actor_id,
            "to": [PUBLIC],
        },
        to=[PUBLIC],
    )
    response = await post(node, clock, remote, forged)
    assert response.status_code == 400 and "origin" in response.json()["detail"]
    assert await stored() == []


async def test_blocked_host__403(database_url: str, tmp_path: Path, clock: Clock, remote: Remote) -> None:
    settings = _settings(database_url, tmp_path, insecure_peers=True, blocked_domains=["127.0.0.1"])
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=TEST_BASE_URL) as http:
            response = await post(http, clock, remote, follow(remote))
            assert response.status_code == 403, response.text
            assert await stored() == []


async def test_unknown_local_actor_inbox__404(node: httpx.AsyncClient, clock: Clock, remote: Remote) -> None:
    response = await post(node, clock, remote, follow(remote), path="/actors/nobody/inbox")
    assert response.status_code == 404


async def test_delete_from_a_gone_actor__202_dropped(
    node: httpx.AsyncClient, clock: Clock, remote: Remote
) -> None:
    gone = remote.peer.url("/users/gone")
    remote.peer.serve("/users/gone", {"id": gone, "type": "Tombstone"}, status=410)
    delete = {
        "@context": AS,
        "id": f"{gone}#delete",
        "type": "Delete",
        "actor": gone,
        "object": gone,
        "to": [PUBLIC],
    }
    response = await post(node, clock, remote, delete, key_id=f"{gone}#main-key")
    assert response.status_code == 202 and response.json()["status"] == "dropped"
    assert await stored() == []


async def test_node_keeps_serving_after_hostile_input(
    node: httpx.AsyncClient, clock: Clock, remote: Remote
) -> None:
    for body in (b"\x00\xff", b"{", json.dumps({"id": 1, "type": [], "actor": None}).encode()):
        await post(node, clock, remote, body)
    assert (await node.get("/healthz")).status_code == 200
    assert (await post(node, clock, remote, follow(remote, 7))).status_code == 202
