"""Deliverer: a signed POST verified by a real loopback inbox, and the §11 outcome of every answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from federation.delivery import Deliverer, DeliveryResult, Outcome, Payload, classify
from federation.digest import make_digest
from federation.fetch import Signer
from federation.http import AsyncBaseTransport, HttpPolicy, MockTransport
from federation.signing_pool import SigningPool
from federation.ssrf import AddressPolicy
from federation.transport import GuardedTransport
from tests.federation.loopback import LOOSE, Peer, free_port, rsa_key, running_peer

ACTOR = "https://velo-fives.example/actors/atelier-fives"
SIGNER = Signer(key_id=f"{ACTOR}#main-key", private_key=rsa_key("atelier"))
BODY = json.dumps(
    {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://velo-fives.example/activities/0199e3c1-7a20-7d11-b5c4-2f9e8d7c6b5a",
        "type": "Accept",
        "actor": ACTOR,
        "object": "https://mastodon.example/7f1e2d3c",
        "content": "Vélo réparé ✓",
    },
    ensure_ascii=False,
    separators=(",", ":"),
).encode()


def real_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with running_peer(require_signature=True) as server:
        server.trust(SIGNER.key_id, ACTOR, SIGNER.private_key)
        yield server


def guarded(policy: HttpPolicy) -> GuardedTransport:
    return GuardedTransport(AddressPolicy(insecure_peers=policy.insecure_peers))


async def deliver(
    transport: AsyncBaseTransport | None,
    url: str,
    policy: HttpPolicy = LOOSE,
    host_allowed: Callable[[str], bool] = lambda h: True,
) -> DeliveryResult:
    """Post BODY once through ``transport`` (a fresh guarded one when None), closing what it opened."""
    own = transport is None
    used = guarded(policy) if transport is None else transport
    try:
        async with SigningPool() as signing:
            deliverer = Deliverer(used, policy, signing, real_now, host_allowed=host_allowed)
            return await deliverer.post(url, Payload.of(BODY), SIGNER)
    finally:
        if own:
            await used.aclose()


@pytest.fixture
async def http() -> AsyncIterator[AsyncBaseTransport]:
    """The guarded transport, allowed to reach loopback peers."""
    async with guarded(LOOSE) as transport:
        yield transport


@pytest.mark.anyio
async def test_post__signature_and_digest_verify_on_the_inbox(peer: Peer, http: AsyncBaseTransport) -> None:
    peer.serve("/inbox", b"", status=202, method="POST")
    result = await deliver(http, peer.url("/inbox"))
    assert result == DeliveryResult(Outcome.DELIVERED, 202, None, None)
    (hit,) = peer.hits
    assert hit.method == "POST"
    assert hit.signer == ACTOR
    assert hit.body == BODY
    assert hit.headers["digest"] == make_digest(BODY)
    assert hit.headers["digest"].startswith("SHA-256=")
    assert hit.headers["content-type"] == "application/activity+json"
    assert 'headers="(request-target) host date digest content-type"' in hit.headers["signature"]
    assert hit.headers["user-agent"] == "fedicoop/test"


class Tampering(httpx.AsyncBaseTransport):
    """A real transport that swaps the body after signing, as a meddling proxy would."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        forged = BODY.replace(b"Accept", b"Reject")
        swapped = httpx.Request(request.method, request.url, headers=request.headers, content=forged)
        return await self._inner.handle_async_request(swapped)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.mark.anyio
async def test_post__tampered_body_does_not_verify(peer: Peer) -> None:
    """The inbox really checks the digest: a body changed after signing is refused (and 401 is retried)."""
    peer.serve("/inbox", b"", status=202, method="POST")
    async with Tampering() as transport:
        result = await deliver(transport, peer.url("/inbox"))
    assert (result.outcome, result.status) == (Outcome.RETRY, 401)
    (hit,) = peer.hits
    assert hit.body != BODY
    assert hit.signer is None
    assert hit.signature_error is not None
    assert hit.signature_error.startswith("DigestMismatchError")


@pytest.mark.anyio
async def test_post__each_attempt_signed_afresh(peer: Peer, http: AsyncBaseTransport) -> None:
    peer.serve("/inbox", b"", status=202, method="POST")
    await deliver(http, peer.url("/inbox"))
    await asyncio.sleep(1.1)
    await deliver(http, peer.url("/inbox"))
    first, second = peer.hits
    assert first.headers["date"] != second.headers["date"]
    assert first.headers["signature"] != second.headers["signature"]
    assert second.signer == ACTOR


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (410, Outcome.GONE),
        (401, Outcome.RETRY),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (400, Outcome.FINAL),
        (403, Outcome.FINAL),
        (404, Outcome.FINAL),
        (413, Outcome.FINAL),
        (422, Outcome.FINAL),
    ],
)
async def test_post__status_classes(
    peer: Peer, http: AsyncBaseTransport, status: int, outcome: Outcome
) -> None:
    peer.serve("/inbox", b'{"error": "nope"}' if status >= 300 else b"", status=status, method="POST")
    result = await deliver(http, peer.url("/inbox"))
    assert result.outcome is outcome
    assert result.status == status
    assert len(peer.hits) == 1
    if outcome is Outcome.DELIVERED:
        assert result.error is None
    else:
        assert result.error == f'HTTP {status}: {{"error": "nope"}}'


@pytest.mark.anyio
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_post__redirects_are_final_and_not_followed(
    peer: Peer, http: AsyncBaseTransport, status: int
) -> None:
    async def moved(request: Request) -> Response:
        return Response(status_code=status, headers={"Location": "/elsewhere"})

    peer.route("/inbox", moved, method="POST")
    peer.serve("/elsewhere", b"", status=202, method="POST")
    result = await deliver(http, peer.url("/inbox"))
    assert (result.outcome, result.status, result.error) == (Outcome.FINAL, status, f"HTTP {status}")
    assert [hit.path for hit in peer.hits] == ["/inbox"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "retry_after", "kept"),
    [
        (429, "120", "120"),
        (503, "Wed, 15 Oct 2025 08:00:00 GMT", "Wed, 15 Oct 2025 08:00:00 GMT"),
        (500, "120", None),
        (202, "120", None),
    ],
)
async def test_post__retry_after_kept_raw(
    peer: Peer, http: AsyncBaseTransport, status: int, retry_after: str, kept: str | None
) -> None:
    peer.serve("/inbox", b"", status=status, method="POST", headers={"Retry-After": retry_after})
    result = await deliver(http, peer.url("/inbox"))
    assert result.retry_after == kept


@pytest.mark.anyio
async def test_post__error_excerpt_bounded(peer: Peer, http: AsyncBaseTransport) -> None:
    peer.serve("/inbox", ("é" * 1000).encode(), status=400, method="POST", content_type="text/plain")
    result = await deliver(http, peer.url("/inbox"))
    assert result.error == "HTTP 400: " + "é" * 200


@pytest.mark.anyio
async def test_post__huge_answer_read_only_in_part(peer: Peer, http: AsyncBaseTransport) -> None:
    async def endless(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(1600):  # 100 MiB
                yield b"x" * 65536

        return StreamingResponse(chunks(), status_code=202)

    peer.route("/inbox", endless, method="POST")
    result = await asyncio.wait_for(deliver(http, peer.url("/inbox")), timeout=10)
    assert result == DeliveryResult(Outcome.DELIVERED, 202, None, None)


@pytest.mark.anyio
async def test_post__connection_refused_is_retried(http: AsyncBaseTransport) -> None:
    result = await deliver(http, f"http://127.0.0.1:{free_port()}/inbox")
    assert result.outcome is Outcome.RETRY
    assert result.status is None
    assert result.error is not None
    assert "ConnectError" in result.error


@pytest.mark.anyio
async def test_post__read_timeout_is_retried(peer: Peer) -> None:
    policy = HttpPolicy(user_agent="fedicoop/test", insecure_peers=True, read_timeout=0.2)
    peer.stall("/inbox", method="POST")
    result = await deliver(None, peer.url("/inbox"), policy)
    assert result.outcome is Outcome.RETRY
    assert result.error is not None
    assert "ReadTimeout" in result.error


@pytest.mark.anyio
async def test_post__total_budget_is_retried(peer: Peer) -> None:
    policy = HttpPolicy(user_agent="fedicoop/test", insecure_peers=True, total_timeout=0.3)

    async def drip(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(50):
                await asyncio.sleep(0.05)
                yield b"."

        return StreamingResponse(chunks(), status_code=202)

    peer.route("/inbox", drip, method="POST")
    result = await deliver(None, peer.url("/inbox"), policy)
    assert result == DeliveryResult(Outcome.RETRY, None, f"POST {peer.url('/inbox')} took longer than 0.3 s")


@pytest.mark.anyio
async def test_post__blocked_host_is_final_without_request(peer: Peer, http: AsyncBaseTransport) -> None:
    result = await deliver(http, peer.url("/inbox"), host_allowed=lambda host: host != "127.0.0.1")
    assert result == DeliveryResult(Outcome.FINAL, None, "host 127.0.0.1 is blocked")
    assert peer.hits == []


@pytest.mark.anyio
async def test_post__ssrf_refusal_is_final_without_request(peer: Peer) -> None:
    strict = HttpPolicy(user_agent="fedicoop/test")
    result = await deliver(None, peer.url("/inbox"), strict)
    https_loopback = await deliver(None, f"https://{peer.authority}/inbox", strict)
    assert result.outcome is Outcome.FINAL
    assert result.error is not None
    assert "address policy" in result.error
    assert https_loopback.outcome is Outcome.FINAL
    assert peer.hits == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "inbox", ["not a url", "https://exa mple.example/inbox", "https://a.example:99999/inbox"]
)
async def test_post__malformed_inbox_is_final(http: AsyncBaseTransport, inbox: str) -> None:
    result = await deliver(http, inbox)
    assert result.outcome is Outcome.FINAL
    assert result.status is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
        httpx.ConnectError("[Errno -2] Name or service not known"),
        httpx.RemoteProtocolError("illegal status line"),
        httpx.WriteTimeout("write timed out"),
    ],
)
async def test_post__transport_failures_are_retried(error: httpx.TransportError) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    result = await deliver(MockTransport(fail), "https://a.example/inbox")
    assert result.outcome is Outcome.RETRY
    assert result.error is not None
    assert str(error) in result.error
    assert type(error).__name__ in result.error


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (100, Outcome.FINAL),
        (300, Outcome.FINAL),
        (304, Outcome.FINAL),
        (410, Outcome.GONE),
        (401, Outcome.RETRY),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (499, Outcome.FINAL),
        (500, Outcome.RETRY),
        (599, Outcome.RETRY),
        (600, Outcome.FINAL),
    ],
)
def test_classify(status: int, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_outcome__values() -> None:
    assert [member.value for member in Outcome] == ["delivered", "retry", "final", "gone"]


@pytest.mark.anyio
async def test_post__a_signing_process_that_cannot_start_gives_retry_without_a_request(
    peer: Peer, http: AsyncBaseTransport, tmp_path: Path
) -> None:
    peer.serve("/inbox", b"", status=202, method="POST")
    async with SigningPool(python=str(tmp_path / "no-such-python")) as signing:
        deliverer = Deliverer(http, LOOSE, signing, real_now)
        result = await deliverer.post(peer.url("/inbox"), Payload.of(BODY), SIGNER)
    assert result.outcome is Outcome.RETRY
    assert result.status is None
    assert result.error is not None and "not signed: the signing process could not start" in result.error
    assert peer.hits == []
