"""Fetcher: signed GETs against a real loopback peer, and every refusal of wire-format §10.6 and §13."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from federation.errors import (
    AddressBlockedError,
    ContentTypeError,
    FetchConnectionError,
    FetchError,
    FetchTimeoutError,
    HostBlockedError,
    IdMismatchError,
    RedirectError,
    RemoteGoneError,
    RemoteNotFoundError,
    ResponseTooLargeError,
)
from federation.fetch import Fetcher, Signer
from federation.http import ACCEPT_ACTIVITY, AsyncClient, HttpPolicy, MockTransport, client_factory
from tests.federation.loopback import LOOSE, Peer, free_port, rsa_key, running_peer

NODE_ACTOR = "https://velo-fives.example/actor"
SIGNER = Signer(key_id=f"{NODE_ACTOR}#main-key", private_key=rsa_key("node"))
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def real_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with running_peer() as server:
        server.trust(SIGNER.key_id, NODE_ACTOR, SIGNER.private_key)
        yield server


def fetcher(client: AsyncClient, policy: HttpPolicy = LOOSE, **options: Any) -> Fetcher:
    options.setdefault("signer", SIGNER)
    return Fetcher(client, policy, now=real_now, **options)


def note(peer: Peer, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.url(path),
        "type": "Note",
        **extra,
    }


@pytest.mark.anyio
async def test_fetch__signed_get_verifies_on_the_peer(peer: Peer, http: AsyncClient) -> None:
    peer.require_signature = True
    document = note(peer, "/notes/1", content="bonjour")
    peer.serve("/notes/1", document)
    assert await fetcher(http).fetch(peer.url("/notes/1")) == document
    (hit,) = peer.hits
    assert hit.signer == NODE_ACTOR
    assert hit.headers["accept"] == ACCEPT_ACTIVITY
    assert 'headers="(request-target) host date accept"' in hit.headers["signature"]
    assert f'keyId="{SIGNER.key_id}"' in hit.headers["signature"]


@pytest.mark.anyio
async def test_fetch__unsigned_when_no_signer(peer: Peer, http: AsyncClient) -> None:
    peer.serve("/notes/1", note(peer, "/notes/1"))
    await fetcher(http, signer=None).fetch(peer.url("/notes/1"))
    (hit,) = peer.hits
    assert hit.signature_error == "unsigned"
    assert hit.headers["accept"] == ACCEPT_ACTIVITY


@pytest.mark.anyio
async def test_fetch__signature_refused_by_a_peer_that_does_not_know_the_key(
    peer: Peer, http: AsyncClient
) -> None:
    peer.require_signature = True
    peer.keys.clear()
    peer.serve("/notes/1", note(peer, "/notes/1"))
    with pytest.raises(FetchError, match="HTTP 401"):
        await fetcher(http).fetch(peer.url("/notes/1"))
    assert peer.hits[0].signature_error is not None
    assert "KeyUnavailableError" in peer.hits[0].signature_error


@pytest.mark.anyio
async def test_fetch__fragment_is_not_sent(peer: Peer, http: AsyncClient) -> None:
    peer.serve("/actors/a", note(peer, "/actors/a"))
    document = await fetcher(http).fetch(peer.url("/actors/a#main-key"))
    assert document["id"] == peer.url("/actors/a")
    assert [hit.path for hit in peer.hits] == ["/actors/a"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type", ["application/activity+json", "application/activity+json; charset=utf-8", LD_JSON]
)
async def test_fetch__activity_media_types_accepted(peer: Peer, http: AsyncClient, content_type: str) -> None:
    peer.serve("/notes/1", note(peer, "/notes/1"), content_type=content_type)
    assert (await fetcher(http).fetch(peer.url("/notes/1")))["type"] == "Note"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/html; charset=utf-8",
        "application/ld+json",
        'application/ld+json; profile="https://example.org/other"',
        "text/plain",
    ],
)
async def test_fetch__other_media_types_refused(peer: Peer, http: AsyncClient, content_type: str) -> None:
    peer.serve("/notes/1", note(peer, "/notes/1"), content_type=content_type)
    with pytest.raises(ContentTypeError, match="not ActivityStreams") as caught:
        await fetcher(http).fetch(peer.url("/notes/1"))
    assert peer.url("/notes/1") in str(caught.value)


@pytest.mark.anyio
async def test_fetch__foreign_id_refused_without_refetch(peer: Peer, http: AsyncClient) -> None:
    """CVE-2024-23832: a document claiming an id on another origin is refused outright."""
    peer.serve("/upload/evil.json", {"id": "https://mastodon.example/users/victim", "type": "Person"})
    with pytest.raises(IdMismatchError, match=re.escape("foreign id https://mastodon.example/users/victim")):
        await fetcher(http).fetch(peer.url("/upload/evil.json"))
    assert len(peer.hits) == 1


@pytest.mark.anyio
async def test_fetch__same_origin_id_fetched_once_by_id(peer: Peer, http: AsyncClient) -> None:
    canonical = note(peer, "/notes/canonical")
    peer.serve("/notes/alias", canonical)
    peer.serve("/notes/canonical", canonical)
    assert await fetcher(http).fetch(peer.url("/notes/alias")) == canonical
    assert [hit.path for hit in peer.hits] == ["/notes/alias", "/notes/canonical"]


@pytest.mark.anyio
async def test_fetch__same_origin_id_that_moves_again_refused(peer: Peer, http: AsyncClient) -> None:
    peer.serve("/a", note(peer, "/b"))
    peer.serve("/b", note(peer, "/c"))
    peer.serve("/c", note(peer, "/c"))
    with pytest.raises(IdMismatchError, match="twice"):
        await fetcher(http).fetch(peer.url("/a"))
    assert [hit.path for hit in peer.hits] == ["/a", "/b"]


@pytest.mark.anyio
@pytest.mark.parametrize("document", [{"type": "Note"}, {"id": 42, "type": "Note"}])
async def test_fetch__document_without_string_id_refused(
    peer: Peer, http: AsyncClient, document: dict[str, Any]
) -> None:
    peer.serve("/notes/1", document)
    with pytest.raises(IdMismatchError, match="without a string id"):
        await fetcher(http).fetch(peer.url("/notes/1"))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1, 2]", "not an object"),
        (b'"Note"', "not an object"),
        (b"{not json", "not JSON"),
        (b"", "not JSON"),
    ],
)
async def test_fetch__non_object_json_refused(
    peer: Peer, http: AsyncClient, body: bytes, message: str
) -> None:
    peer.serve("/notes/1", body)
    with pytest.raises(FetchError, match=message):
        await fetcher(http).fetch(peer.url("/notes/1"))


@pytest.mark.anyio
async def test_fetch__same_origin_redirects_followed_and_each_hop_signed(
    peer: Peer, http: AsyncClient
) -> None:
    peer.require_signature = True
    peer.redirect("/@alice", "/users/alice", status=301)
    peer.redirect("/users/alice", peer.url("/actors/alice"), status=308)
    peer.serve("/actors/alice", note(peer, "/actors/alice"))
    document = await fetcher(http).fetch(peer.url("/@alice"))
    assert document["id"] == peer.url("/actors/alice")
    assert [hit.path for hit in peer.hits] == ["/@alice", "/users/alice", "/actors/alice"]
    assert all(hit.signer == NODE_ACTOR for hit in peer.hits)
    assert len({hit.headers["signature"] for hit in peer.hits}) == 3


@pytest.mark.anyio
async def test_fetch__cross_origin_redirect_refused(peer: Peer, http: AsyncClient) -> None:
    async with running_peer() as other:
        other.serve("/notes/1", note(other, "/notes/1"))
        peer.redirect("/notes/1", other.url("/notes/1"))
        with pytest.raises(RedirectError, match="outside"):
            await fetcher(http).fetch(peer.url("/notes/1"))
        assert other.hits == []


@pytest.mark.anyio
async def test_fetch__redirect_to_localhost_alias_is_another_origin(peer: Peer, http: AsyncClient) -> None:
    peer.redirect("/notes/1", f"http://localhost:{peer.authority.split(':')[1]}/notes/1")
    with pytest.raises(RedirectError, match="outside"):
        await fetcher(http).fetch(peer.url("/notes/1"))
    assert len(peer.hits) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(("hops", "allowed"), [(3, True), (4, False)])
async def test_fetch__redirect_count_bounded(peer: Peer, http: AsyncClient, hops: int, allowed: bool) -> None:
    for index in range(hops):
        peer.redirect(f"/r{index}", f"/r{index + 1}")
    peer.serve(f"/r{hops}", note(peer, f"/r{hops}"))
    if allowed:
        await fetcher(http).fetch(peer.url("/r0"))
        assert len(peer.hits) == hops + 1
    else:
        with pytest.raises(RedirectError, match="more than 3 times"):
            await fetcher(http).fetch(peer.url("/r0"))
        assert len(peer.hits) == 4


@pytest.mark.anyio
async def test_fetch__redirect_without_location_refused(peer: Peer, http: AsyncClient) -> None:
    peer.serve("/notes/1", b"", status=302)
    with pytest.raises(RedirectError, match="without a Location"):
        await fetcher(http).fetch(peer.url("/notes/1"))


@pytest.mark.anyio
async def test_fetch__not_found(peer: Peer, http: AsyncClient) -> None:
    with pytest.raises(RemoteNotFoundError, match="404"):
        await fetcher(http).fetch(peer.url("/nothing"))


@pytest.mark.anyio
async def test_fetch__gone(peer: Peer, http: AsyncClient) -> None:
    peer.serve("/notes/1", note(peer, "/notes/1", type="Tombstone"), status=410)
    with pytest.raises(RemoteGoneError, match="410"):
        await fetcher(http).fetch(peer.url("/notes/1"))


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["Tombstone", ["Tombstone", "Note"]])
async def test_fetch__tombstone_is_gone(peer: Peer, http: AsyncClient, kind: Any) -> None:
    peer.serve("/notes/1", {"id": peer.url("/notes/1"), "type": kind, "formerType": "Note"})
    with pytest.raises(RemoteGoneError, match="Tombstone"):
        await fetcher(http).fetch(peer.url("/notes/1"))


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 403, 500, 503])
async def test_fetch__other_statuses_named(peer: Peer, http: AsyncClient, status: int) -> None:
    peer.serve("/notes/1", note(peer, "/notes/1"), status=status)
    with pytest.raises(FetchError, match=f"HTTP {status}") as caught:
        await fetcher(http).fetch(peer.url("/notes/1"))
    assert type(caught.value) is FetchError


@pytest.mark.anyio
async def test_fetch__declared_size_over_cap(peer: Peer, http: AsyncClient) -> None:
    peer.serve("/big", b"{" + b" " * (1024 * 1024) + b"}")
    with pytest.raises(ResponseTooLargeError, match="declares"):
        await fetcher(http).fetch(peer.url("/big"))


@pytest.mark.anyio
async def test_fetch__streamed_100_mib_aborted_past_cap(peer: Peer, http: AsyncClient) -> None:
    peer.stream("/huge", chunks=1600)  # 100 MiB, chunked, no Content-Length
    with pytest.raises(ResponseTooLargeError, match="more than 1048576 bytes"):
        await fetcher(http).fetch(peer.url("/huge"))


@pytest.mark.anyio
async def test_fetch__read_timeout(peer: Peer) -> None:
    policy = HttpPolicy(user_agent="fedicoop/test", insecure_peers=True, read_timeout=0.2)
    peer.stall("/slow")
    async with client_factory(policy) as client:
        with pytest.raises(FetchTimeoutError, match="/slow"):
            await fetcher(client, policy).fetch(peer.url("/slow"))


@pytest.mark.anyio
async def test_fetch__total_budget_covers_the_redirect_chain(peer: Peer) -> None:
    policy = HttpPolicy(user_agent="fedicoop/test", insecure_peers=True, total_timeout=0.5, read_timeout=5)

    async def slow_redirect(request: Request) -> Response:
        await asyncio.sleep(0.2)
        return Response(status_code=302, headers={"Location": "/r"})

    peer.route("/r", slow_redirect)
    async with client_factory(policy) as client:
        with pytest.raises(FetchTimeoutError):
            await fetcher(client, policy).fetch(peer.url("/r"))
    assert 2 <= len(peer.hits) <= 3


@pytest.mark.anyio
async def test_fetch__connection_refused(http: AsyncClient) -> None:
    url = f"http://127.0.0.1:{free_port()}/notes/1"
    with pytest.raises(FetchConnectionError, match=re.escape(f"GET {url} failed: ConnectError")):
        await fetcher(http).fetch(url)


@pytest.mark.anyio
async def test_fetch__blocked_host_makes_no_request(peer: Peer, http: AsyncClient) -> None:
    peer.serve("/notes/1", note(peer, "/notes/1"))
    seen: list[str] = []

    def allowed(host: str) -> bool:
        seen.append(host)
        return False

    with pytest.raises(HostBlockedError, match=re.escape("127.0.0.1")):
        await fetcher(http, host_allowed=allowed).fetch(peer.url("/notes/1"))
    assert seen == ["127.0.0.1"]
    assert peer.hits == []


@pytest.mark.anyio
async def test_fetch__ssrf_guard_without_insecure_peers(peer: Peer) -> None:
    strict = HttpPolicy(user_agent="fedicoop/test")
    async with client_factory(strict) as client:
        with pytest.raises(AddressBlockedError):
            await fetcher(client, strict).fetch(peer.url("/notes/1"))
    assert peer.hits == []


@pytest.mark.anyio
@pytest.mark.parametrize("url", ["ftp://a.example/x", "not a url", "https:///nohost"])
async def test_fetch__not_an_http_url(http: AsyncClient, url: str) -> None:
    with pytest.raises(FetchError, match="cannot fetch"):
        await fetcher(http).fetch(url)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
        httpx.RemoteProtocolError("illegal status line: b'garbage'"),
        httpx.ReadError("connection reset by peer"),
    ],
)
async def test_fetch__transport_failures_become_connection_errors(error: httpx.TransportError) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    async with client_factory(LOOSE, transport=MockTransport(fail)) as client:
        with pytest.raises(FetchConnectionError, match=r"GET https://a\.example/notes/1 failed") as caught:
            await fetcher(client).fetch("https://a.example/notes/1")
    assert caught.value.__cause__ is error


@pytest.mark.anyio
async def test_fetch__connect_timeout_from_transport() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("connect timed out")

    async with client_factory(LOOSE, transport=MockTransport(fail)) as client:
        with pytest.raises(FetchTimeoutError, match="timed out"):
            await fetcher(client).fetch("https://a.example/notes/1")
