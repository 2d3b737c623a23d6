"""HttpSignatureAuth: the §10.2 request byte for byte, GET signing, re-signing, checker round trip."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from federation.auth import HttpSignatureAuth, http_date
from federation.cavage import parse_signature_header
from federation.http import ACCEPT_ACTIVITY, HttpPolicy, MockTransport, Request, Response, client_factory
from federation.keys import load_private_key, load_public_key_pem
from federation.verifier import SignatureChecker, VerificationKey

NOW = datetime(2025, 10, 14, 8, 0, tzinfo=UTC)
POLICY = HttpPolicy(user_agent="fedicoop/0.1.0 (+https://velo-fives.example/)")


def test_http_date__refuses_naive_and_converts_zones() -> None:
    with pytest.raises(ValueError, match="aware"):
        http_date(datetime(2025, 1, 1))
    paris = datetime(2025, 10, 14, 10, 0, 0, 500, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert http_date(paris) == "Tue, 14 Oct 2025 10:00:00 GMT"


class Capture:
    """A MockTransport handler that keeps the requests it receives."""

    def __init__(self, status: int = 202) -> None:
        self.requests: list[Request] = []
        self.status = status

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(self.status)


@pytest.mark.anyio
async def test_auth__wire_format_example_byte_for_byte(
    mastodon_vectors: dict[str, Any], wire_format_10_2: dict[str, Any]
) -> None:
    capture = Capture()
    signer = HttpSignatureAuth(
        wire_format_10_2["key_id"],
        load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"]),
        now=lambda: NOW,
    )
    async with client_factory(POLICY, transport=MockTransport(capture)) as client:
        response = await client.post(
            wire_format_10_2["url"], content=wire_format_10_2["body"].encode(), auth=signer
        )
    assert response.status_code == 202
    (sent,) = capture.requests
    for name, value in wire_format_10_2["headers"].items():
        assert sent.headers[name] == value, name
    assert sent.headers["Signature"] == wire_format_10_2["Signature"]
    assert sent.content == wire_format_10_2["body"].encode()


@pytest.mark.anyio
async def test_auth__get_signs_accept_and_query(mastodon_vectors: dict[str, Any]) -> None:
    capture = Capture(200)
    key = load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"])
    signer = HttpSignatureAuth("https://velo-fives.example/actor#main-key", key, now=lambda: NOW)
    async with client_factory(POLICY, transport=MockTransport(capture)) as client:
        await client.get("https://mastodon.example/users/camille/outbox?page=true", auth=signer)
    (sent,) = capture.requests
    parsed = parse_signature_header(sent.headers["Signature"])
    assert parsed.headers == ("(request-target)", "host", "date", "accept")
    assert parsed.algorithm == "rsa-sha256"
    assert sent.headers["Accept"] == ACCEPT_ACTIVITY
    assert "Digest" not in sent.headers
    checker = SignatureChecker(
        key_retriever=_retriever(load_public_key_pem(mastodon_vectors["actor"]["publicKeyPem"])),
        hosts=["mastodon.example"],
        now=lambda: NOW,
    )
    owner = await checker.verify("GET", str(sent.url), sent.headers, b"")
    assert owner == "https://velo-fives.example/actor"


def _retriever(public_key: Any) -> Callable[[str, bool], Any]:
    async def retrieve(key_id: str, bypass_cache: bool) -> VerificationKey:
        return VerificationKey(key_id, key_id.partition("#")[0], public_key)

    return retrieve


@pytest.mark.anyio
async def test_auth__explicit_accept_and_content_type_are_kept(mastodon_vectors: dict[str, Any]) -> None:
    capture = Capture(200)
    key = load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"])
    signer = HttpSignatureAuth("https://velo-fives.example/actor#main-key", key, now=lambda: NOW)
    async with client_factory(POLICY, transport=MockTransport(capture)) as client:
        await client.get(
            "https://gts.example/.well-known/webfinger?resource=acct:a@gts.example",
            headers={"Accept": "application/jrd+json"},
            auth=signer,
        )
        await client.post(
            "https://gts.example/inbox",
            content=b"{}",
            headers={"Content-Type": "application/ld+json"},
            auth=signer,
        )
    get, post = capture.requests
    assert get.headers["Accept"] == "application/jrd+json"
    assert post.headers["Content-Type"] == "application/ld+json"
    assert post.headers["Digest"].startswith("SHA-256=")


@pytest.mark.anyio
async def test_auth__each_send_is_signed_again_with_a_fresh_date(mastodon_vectors: dict[str, Any]) -> None:
    capture = Capture(503)
    clock = iter([NOW, NOW + timedelta(seconds=30)])
    key = load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"])
    signer = HttpSignatureAuth("https://velo-fives.example/actors/a#main-key", key, now=lambda: next(clock))
    async with client_factory(POLICY, transport=MockTransport(capture)) as client:
        await client.post("https://mastodon.example/inbox", content=b"{}", auth=signer)
        await client.post("https://mastodon.example/inbox", content=b"{}", auth=signer)
    first, second = capture.requests
    assert first.headers["Date"] == "Tue, 14 Oct 2025 08:00:00 GMT"
    assert second.headers["Date"] == "Tue, 14 Oct 2025 08:00:30 GMT"
    assert first.headers["Signature"] != second.headers["Signature"]


@pytest.mark.anyio
async def test_auth__round_trip_through_the_checker_with_a_port(mastodon_vectors: dict[str, Any]) -> None:
    public_key = load_public_key_pem(mastodon_vectors["actor"]["publicKeyPem"])
    checker = SignatureChecker(
        key_retriever=_retriever(public_key), hosts=["peer.example:8443"], now=lambda: NOW
    )
    owners: list[str] = []

    async def inbox(request: Request) -> Response:
        body = await request.aread()
        owners.append(
            await checker.verify(request.method, str(request.url), request.headers.multi_items(), body)
        )
        return Response(202)

    key = load_private_key(mastodon_vectors["actor"]["privateKeyPem_pkcs1"])
    signer = HttpSignatureAuth("https://velo-fives.example/actors/a#main-key", key, now=lambda: NOW)
    async with client_factory(POLICY, transport=MockTransport(inbox)) as client:
        response = await client.post(
            "https://peer.example:8443/inbox?x=1", content=b'{"type":"Follow"}', auth=signer
        )
    assert response.status_code == 202
    assert owners == ["https://velo-fives.example/actors/a"]
