"""WebFinger: handle parsing, resolution against real loopback peers, the round trip, host-meta, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from federation.errors import (
    FetchConnectionError,
    HandleError,
    HostBlockedError,
    IdMismatchError,
    RedirectError,
    ResponseTooLargeError,
    WebFingerError,
)
from federation.fetch import Fetcher
from federation.http import AsyncClient, HttpPolicy, MockTransport, client_factory
from federation.http import Request as Request_
from federation.http import Response as Response_
from federation.webfinger import ACCEPT_JRD, parse_handle, resolve_handle
from tests.federation.loopback import LOOSE, Peer, free_port, running_peer

JRD = "application/jrd+json"


def serve_webfinger(
    peer: Peer, answers: dict[str, dict[str, Any] | bytes], path: str = "/.well-known/webfinger"
) -> None:
    async def handler(request: Request) -> Response:
        answer = answers.get(request.query_params.get("resource", ""))
        if answer is None:
            return Response(b"{}", status_code=404, media_type=JRD)
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        return Response(body, media_type=JRD)

    peer.route(path, handler)


def jrd(subject: str, href: str | None, link_type: str = "application/activity+json") -> dict[str, Any]:
    links: list[dict[str, str]] = [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "x"}
    ]
    if href is not None:
        links.append({"rel": "self", "type": link_type, "href": href})
    return {"subject": subject, "links": links}


def serve_actor(peer: Peer, path: str, username: str) -> str:
    actor_id = peer.url(path)
    peer.serve(
        path,
        {"id": actor_id, "type": "Organization", "preferredUsername": username, "inbox": actor_id + "/inbox"},
    )
    return actor_id


async def resolve(client: AsyncClient, handle: str, **options: Any) -> str:
    fetcher = Fetcher(client, LOOSE, signer=None, now=lambda: datetime.now(UTC))
    return await resolve_handle(client, LOOSE, handle, fetcher.fetch, **options)


@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        ("@atelier-fives@velo-fives.example", ("atelier-fives", "velo-fives.example")),
        ("atelier_fives@Velo-Fives.Example.", ("atelier_fives", "velo-fives.example")),
        ("acct:relay@velo-fives.example", ("relay", "velo-fives.example")),
        ("ACCT:relay@velo-fives.example", ("relay", "velo-fives.example")),
        ("  @camille@mastodon.example  ", ("camille", "mastodon.example")),
        ("@alice@localhost:8000", ("alice", "localhost:8000")),
        ("@alice@a.example:443", ("alice", "a.example")),
        ("@léa@bücher.example", None),
        ("@lea@bücher.example", ("lea", "xn--bcher-kva.example")),
        ("@first.last~x@a.example", ("first.last~x", "a.example")),
    ],
)
def test_parse_handle__forms(handle: str, expected: tuple[str, str] | None) -> None:
    if expected is None:
        with pytest.raises(HandleError, match="invalid name"):
            parse_handle(handle)
    else:
        assert parse_handle(handle) == expected


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "alice",
        "@alice",
        "@alice@",
        "@@a.example",
        "@alice@bob@a.example",
        "alice@a.example/path",
        "alice@a b.example",
        "al ice@a.example",
        "alice/x@a.example",
        "https://a.example/@alice",
        "@alice@a.example:99999",
        "@" + "a" * 256 + "@a.example",
    ],
)
def test_parse_handle__refused(handle: str) -> None:
    with pytest.raises(HandleError):
        parse_handle(handle)


@pytest.mark.anyio
async def test_resolve__same_host(peer: Peer, http: AsyncClient) -> None:
    actor_id = serve_actor(peer, "/actors/atelier-fives", "atelier-fives")
    serve_webfinger(peer, {f"acct:atelier-fives@{peer.authority}": jrd("acct:x", actor_id)})
    assert await resolve(http, f"@atelier-fives@{peer.authority}") == actor_id
    webfinger, fetch = peer.hits
    assert webfinger.path == "/.well-known/webfinger"
    assert webfinger.query == f"resource=acct%3Aatelier-fives%40{peer.authority.replace(':', '%3A')}"
    assert webfinger.headers["accept"] == ACCEPT_JRD
    assert fetch.path == "/actors/atelier-fives"


@pytest.mark.anyio
async def test_resolve__ld_json_self_link(peer: Peer, http: AsyncClient) -> None:
    actor_id = serve_actor(peer, "/actors/a", "a")
    link_type = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    serve_webfinger(peer, {f"acct:a@{peer.authority}": jrd("acct:x", actor_id, link_type)})
    assert await resolve(http, f"a@{peer.authority}") == actor_id


@pytest.mark.anyio
async def test_resolve__round_trip_on_the_actor_host(peer: Peer, http: AsyncClient) -> None:
    """A handle on one domain whose actor lives on another (Mastodon's WEB_DOMAIN split)."""
    async with running_peer() as social:
        actor_id = serve_actor(social, "/users/camille", "camille")
        serve_webfinger(peer, {f"acct:camille@{peer.authority}": jrd("acct:x", actor_id)})
        serve_webfinger(
            social, {f"acct:camille@{social.authority}": jrd(f"acct:camille@{peer.authority}", actor_id)}
        )
        assert await resolve(http, f"@camille@{peer.authority}") == actor_id
        assert [hit.path for hit in social.hits] == ["/users/camille", "/.well-known/webfinger"]


@pytest.mark.anyio
async def test_resolve__round_trip_mismatch_refused(peer: Peer, http: AsyncClient) -> None:
    """A host cannot claim a handle for an actor whose own host maps that name elsewhere."""
    async with running_peer() as victim:
        actor_id = serve_actor(victim, "/users/camille", "camille")
        other = serve_actor(victim, "/users/someone-else", "someone-else")
        serve_webfinger(peer, {f"acct:admin@{peer.authority}": jrd("acct:x", actor_id)})
        serve_webfinger(victim, {f"acct:camille@{victim.authority}": jrd("acct:x", other)})
        with pytest.raises(WebFingerError, match="points to"):
            await resolve(http, f"@admin@{peer.authority}")


@pytest.mark.anyio
async def test_resolve__round_trip_unknown_on_the_actor_host(peer: Peer, http: AsyncClient) -> None:
    async with running_peer() as victim:
        actor_id = serve_actor(victim, "/users/camille", "camille")
        serve_webfinger(peer, {f"acct:admin@{peer.authority}": jrd("acct:x", actor_id)})
        with pytest.raises(WebFingerError, match="404"):
            await resolve(http, f"@admin@{peer.authority}")


@pytest.mark.anyio
async def test_resolve__round_trip_needs_a_username(peer: Peer, http: AsyncClient) -> None:
    async with running_peer() as other:
        actor_id = other.url("/users/x")
        other.serve("/users/x", {"id": actor_id, "type": "Person"})
        serve_webfinger(peer, {f"acct:x@{peer.authority}": jrd("acct:x", actor_id)})
        with pytest.raises(WebFingerError, match="preferredUsername"):
            await resolve(http, f"@x@{peer.authority}")


@pytest.mark.anyio
@pytest.mark.parametrize("link_type", [None, "text/html", "application/json"])
async def test_resolve__jrd_without_activity_self_link(
    peer: Peer, http: AsyncClient, link_type: str | None
) -> None:
    answer = jrd("acct:a", peer.url("/actors/a") if link_type else None, link_type or "")
    serve_webfinger(peer, {f"acct:a@{peer.authority}": answer})
    with pytest.raises(WebFingerError, match="no ActivityStreams self link"):
        await resolve(http, f"@a@{peer.authority}")
    assert len(peer.hits) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"links": []}'])
async def test_resolve__jrd_that_does_not_parse(peer: Peer, http: AsyncClient, body: bytes) -> None:
    serve_webfinger(peer, {f"acct:a@{peer.authority}": body})
    with pytest.raises(WebFingerError, match="does not parse"):
        await resolve(http, f"@a@{peer.authority}")


@pytest.mark.anyio
async def test_resolve__self_link_id_mismatch_refused(peer: Peer, http: AsyncClient) -> None:
    peer.serve("/actors/a", {"id": "https://mastodon.example/users/victim", "type": "Person"})
    serve_webfinger(peer, {f"acct:a@{peer.authority}": jrd("acct:a", peer.url("/actors/a"))})
    with pytest.raises(IdMismatchError):
        await resolve(http, f"@a@{peer.authority}")


@pytest.mark.anyio
async def test_resolve__unknown_user_without_host_meta(peer: Peer, http: AsyncClient) -> None:
    serve_webfinger(peer, {})
    with pytest.raises(WebFingerError, match="404 and host-meta has no lrdd"):
        await resolve(http, f"@nobody@{peer.authority}")
    assert [hit.path for hit in peer.hits] == ["/.well-known/webfinger", "/.well-known/host-meta"]


@pytest.mark.anyio
async def test_resolve__host_meta_lrdd_fallback(peer: Peer, http: AsyncClient) -> None:
    actor_id = serve_actor(peer, "/actors/a", "a")
    xrd = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">'
        f'<Link rel="lrdd" template="{peer.url("/wf")}?resource={{uri}}"/></XRD>'
    )
    peer.serve("/.well-known/host-meta", xrd.encode(), content_type="application/xrd+xml")
    serve_webfinger(peer, {f"acct:a@{peer.authority}": jrd("acct:a", actor_id)}, path="/wf")
    assert await resolve(http, f"@a@{peer.authority}") == actor_id
    assert [hit.path for hit in peer.hits] == [
        "/.well-known/webfinger",
        "/.well-known/host-meta",
        "/wf",
        "/actors/a",
    ]


@pytest.mark.anyio
async def test_resolve__host_meta_with_a_dtd_ignored(peer: Peer, http: AsyncClient) -> None:
    xrd = (
        '<?xml version="1.0"?><!DOCTYPE XRD [<!ENTITY a "aaaaaaaaaa">]>'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">'
        f'<Link rel="lrdd" template="{peer.url("/wf")}?resource={{uri}}"/></XRD>'
    )
    peer.serve("/.well-known/host-meta", xrd.encode(), content_type="application/xrd+xml")
    with pytest.raises(WebFingerError, match="no lrdd"):
        await resolve(http, f"@a@{peer.authority}")
    assert "/wf" not in [hit.path for hit in peer.hits]


@pytest.mark.anyio
async def test_resolve__webfinger_redirect_followed(peer: Peer, http: AsyncClient) -> None:
    async with running_peer() as social:
        actor_id = serve_actor(social, "/users/a", "a")
        resource = f"acct%3Aa%40{peer.authority.replace(':', '%3A')}"
        peer.redirect(
            "/.well-known/webfinger", social.url(f"/.well-known/webfinger?resource={resource}"), status=301
        )
        serve_webfinger(
            social,
            {
                f"acct:a@{peer.authority}": jrd("acct:a", actor_id),
                f"acct:a@{social.authority}": jrd("acct:a", actor_id),
            },
        )
        assert await resolve(http, f"@a@{peer.authority}") == actor_id


@pytest.mark.anyio
async def test_resolve__webfinger_redirect_loop_bounded(peer: Peer, http: AsyncClient) -> None:
    peer.redirect("/.well-known/webfinger", peer.url("/.well-known/webfinger?resource=again"))
    with pytest.raises(RedirectError, match="more than 3 times"):
        await resolve(http, f"@a@{peer.authority}")
    assert len(peer.hits) == 4


@pytest.mark.anyio
async def test_resolve__jrd_over_64_kib(peer: Peer, http: AsyncClient) -> None:
    big = jrd("acct:a", peer.url("/actors/a"))
    big["properties"] = {"padding": "x" * (64 * 1024)}
    serve_webfinger(peer, {f"acct:a@{peer.authority}": big})
    with pytest.raises(ResponseTooLargeError):
        await resolve(http, f"@a@{peer.authority}")


@pytest.mark.anyio
async def test_resolve__blocked_host_makes_no_request(peer: Peer, http: AsyncClient) -> None:
    serve_webfinger(peer, {f"acct:a@{peer.authority}": jrd("acct:a", peer.url("/actors/a"))})
    with pytest.raises(HostBlockedError):
        await resolve(http, f"@a@{peer.authority}", host_allowed=lambda host: host != "127.0.0.1")
    assert peer.hits == []


@pytest.mark.anyio
async def test_resolve__unreachable_host(http: AsyncClient) -> None:
    with pytest.raises(FetchConnectionError, match="webfinger"):
        await resolve(http, f"@a@127.0.0.1:{free_port()}")


@pytest.mark.anyio
async def test_resolve__https_unless_insecure_peers() -> None:
    seen: list[str] = []

    def answer(request: Request_) -> Response_:
        seen.append(str(request.url))
        return Response_(404)

    async def never(url: str) -> dict[str, Any]:
        raise AssertionError(url)

    strict = HttpPolicy(user_agent="fedicoop/test")
    async with client_factory(strict, transport=MockTransport(answer)) as client:
        with pytest.raises(WebFingerError, match="404"):
            await resolve_handle(client, strict, "@a@A.Example", never)
    assert seen == [
        "https://a.example/.well-known/webfinger?resource=acct%3Aa%40a.example",
        "https://a.example/.well-known/host-meta",
    ]
