"""The HTTP client: defaults, size cap, time budget, the SSRF hook; the default transport on real sockets.

The transport's own guarantees (resolver, connected peer, TLS, proxies, timeouts) are tested in
test_transport.py; which modules may import httpx and aiohttp, in tests/test_layering.py.
"""

from __future__ import annotations

import ast
import asyncio
import gzip
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

import federation
from federation import http
from federation.errors import AddressBlockedError, ResponseTooLargeError
from federation.http import (
    ACCEPT_ACTIVITY,
    AsyncByteStream,
    HttpPolicy,
    MockTransport,
    Request,
    Response,
    TimeoutException,
    TooManyRedirects,
    bounded_request,
    client_factory,
    make_user_agent,
)

POLICY = HttpPolicy(user_agent=make_user_agent("0.1.0", "https://velo-fives.example/"))
LOOSE = HttpPolicy(user_agent="fedicoop/test", insecure_peers=True)
PACKAGE = Path(federation.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "module",
    [
        "keys",
        "digest",
        "cavage",
        "rfc9421",
        "verifier",
        "http",
        "transport",
        "auth",
        "hosts",
        "ssrf",
        "backoff",
    ],
)
def test_http__layering_of_signature_modules(module: str) -> None:
    forbidden = {"tortoise", "starlette", "fastapi", "jinja2", "fedicoop"}
    assert not _imported_modules(PACKAGE / f"{module}.py") & forbidden


def test_make_user_agent__form() -> None:
    assert POLICY.user_agent == "fedicoop/0.1.0 (+https://velo-fives.example/)"


@pytest.mark.anyio
async def test_client_factory__explicit_defaults() -> None:
    async with client_factory(POLICY) as client:
        assert client.timeout.connect == 5.0
        assert client.timeout.read == 10.0
        assert client.timeout.write == 10.0
        assert client.timeout.pool == 10.0
        assert client.headers["User-Agent"] == POLICY.user_agent
        assert client.headers["Accept"] == ACCEPT_ACTIVITY
        assert client.follow_redirects is False
        assert client.max_redirects == 3
        assert client.trust_env is False
    limits = POLICY.limits()
    assert (limits.max_connections, limits.max_keepalive_connections) == (256, 256)


# --- bounded_request ---------------------------------------------------------------------------


class ChunkStream(AsyncByteStream):
    """A response body produced chunk by chunk, counting what was produced."""

    def __init__(self, chunks: Iterable[bytes], delay: float = 0.0) -> None:
        self.chunks = list(chunks)
        self.delay = delay
        self.produced = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if self.delay:
                await asyncio.sleep(self.delay)
            self.produced += 1
            yield chunk


@pytest.mark.anyio
async def test_bounded_request__reads_small_body() -> None:
    def handler(request: Request) -> Response:
        return Response(200, headers={"Content-Type": "application/activity+json"}, content=b'{"id": "x"}')

    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        response = await bounded_request(client, "GET", "https://mastodon.example/users/a", policy=POLICY)
    assert response.status_code == 200
    assert response.content == b'{"id": "x"}'
    assert response.headers["content-type"] == "application/activity+json"
    assert response.url == "https://mastodon.example/users/a"
    assert response.history == ()


@pytest.mark.anyio
async def test_bounded_request__declared_length_over_cap() -> None:
    def handler(request: Request) -> Response:
        return Response(
            200, headers={"Content-Length": str(2 * 1024 * 1024)}, content=b"x" * (2 * 1024 * 1024)
        )

    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        with pytest.raises(ResponseTooLargeError, match="declares 2097152 bytes"):
            await bounded_request(client, "GET", "https://mastodon.example/big", policy=POLICY)


@pytest.mark.anyio
async def test_bounded_request__streamed_body_aborted_past_cap() -> None:
    stream = ChunkStream([b"x" * 1024] * 1000)

    def handler(request: Request) -> Response:
        return Response(200, stream=stream)

    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        with pytest.raises(ResponseTooLargeError, match="more than 65536 bytes"):
            await bounded_request(
                client,
                "GET",
                "https://mastodon.example/.well-known/nodeinfo",
                policy=POLICY,
                max_bytes=http.MAX_DISCOVERY_BYTES,
            )
    assert stream.produced < 100


@pytest.mark.anyio
async def test_bounded_request__exact_cap_is_fine() -> None:
    def handler(request: Request) -> Response:
        return Response(200, stream=ChunkStream([b"a" * 10, b"b" * 6]))

    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        response = await bounded_request(
            client, "GET", "https://mastodon.example/x", policy=POLICY, max_bytes=16
        )
    assert response.content == b"a" * 10 + b"b" * 6


@pytest.mark.anyio
async def test_bounded_request__decompression_bomb() -> None:
    bomb = gzip.compress(b"\0" * (4 * 1024 * 1024))

    def handler(request: Request) -> Response:
        return Response(200, headers={"Content-Encoding": "gzip"}, content=bomb)

    assert len(bomb) < POLICY.max_body
    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        with pytest.raises(ResponseTooLargeError):
            await bounded_request(client, "GET", "https://mastodon.example/x", policy=POLICY)


@pytest.mark.anyio
async def test_bounded_request__total_budget_on_slow_headers() -> None:
    async def handler(request: Request) -> Response:
        await asyncio.sleep(5)
        return Response(200)

    policy = HttpPolicy(user_agent="t", total_timeout=0.05)
    async with client_factory(policy, transport=MockTransport(handler)) as client:
        with pytest.raises(TimeoutException, match=r"total budget of 0\.05 s"):
            await bounded_request(client, "GET", "https://mastodon.example/slow", policy=policy)


@pytest.mark.anyio
async def test_bounded_request__total_budget_on_drip_fed_body() -> None:
    stream = ChunkStream([b"x"] * 1000, delay=0.01)

    def handler(request: Request) -> Response:
        return Response(200, stream=stream)

    policy = HttpPolicy(user_agent="t", total_timeout=0.1)
    async with client_factory(policy, transport=MockTransport(handler)) as client:
        with pytest.raises(TimeoutException):
            await bounded_request(client, "GET", "https://mastodon.example/drip", policy=policy)
    assert stream.produced < 1000


@pytest.mark.anyio
async def test_bounded_request__posts_body_and_follows_redirects_when_asked() -> None:
    seen: list[tuple[str, str, bytes]] = []

    def handler(request: Request) -> Response:
        seen.append((request.method, str(request.url), request.content))
        if request.url.path == "/old":
            return Response(301, headers={"Location": "https://mastodon.example/new"})
        return Response(200, content=b"ok")

    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        posted = await bounded_request(
            client,
            "POST",
            "https://mastodon.example/inbox",
            policy=POLICY,
            content=b"{}",
            headers={"Content-Type": "application/activity+json"},
        )
        not_followed = await bounded_request(client, "GET", "https://mastodon.example/old", policy=POLICY)
        followed = await bounded_request(
            client, "GET", "https://mastodon.example/old", policy=POLICY, follow_redirects=True
        )
    assert posted.status_code == 200
    assert seen[0] == ("POST", "https://mastodon.example/inbox", b"{}")
    assert not_followed.status_code == 301
    assert followed.url == "https://mastodon.example/new"
    assert followed.history == ("https://mastodon.example/old",)


@pytest.mark.anyio
async def test_bounded_request__redirect_hops_are_guarded() -> None:
    def handler(request: Request) -> Response:
        if request.url.host == "mastodon.example":
            return Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})
        return Response(200)

    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        with pytest.raises(AddressBlockedError, match="scheme 'http'"):
            await bounded_request(
                client, "GET", "https://mastodon.example/x", policy=POLICY, follow_redirects=True
            )
    async with client_factory(LOOSE, transport=MockTransport(handler)) as client:
        response = await bounded_request(
            client, "GET", "https://mastodon.example/x", policy=LOOSE, follow_redirects=True
        )
        assert response.status_code == 200


@pytest.mark.anyio
async def test_bounded_request__at_most_three_redirects() -> None:
    def handler(request: Request) -> Response:
        hop = int(request.url.path.strip("/") or 0)
        return Response(302, headers={"Location": f"https://mastodon.example/{hop + 1}"})

    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        with pytest.raises(TooManyRedirects):
            await bounded_request(
                client, "GET", "https://mastodon.example/", policy=POLICY, follow_redirects=True
            )


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url",
    ["http://mastodon.example/", "https://127.0.0.1/", "https://a@mastodon.example/", "https://[fe80::1]/"],
)
async def test_client_factory__guard_runs_with_any_transport(url: str) -> None:
    def handler(request: Request) -> Response:
        raise AssertionError("the request must not reach the transport")

    async with client_factory(POLICY, transport=MockTransport(handler)) as client:
        with pytest.raises(AddressBlockedError):
            await client.get(url)


# --- the default transport on real loopback sockets -------------------------------------------


class LoopbackServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 that counts connections and records request heads."""

    def __init__(self) -> None:
        self.connections = 0
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n")
        writer.write(b"Connection: close\r\n\r\nhello")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def __aenter__(self) -> LoopbackServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.mark.anyio
async def test_client_factory__default_transport_refuses_loopback() -> None:
    async with LoopbackServer() as server, client_factory(POLICY) as client:
        with pytest.raises(AddressBlockedError, match="loopback"):
            await client.get(f"https://localhost:{server.port}/actor")
    assert server.connections == 0


@pytest.mark.anyio
async def test_client_factory__insecure_peers_reach_loopback() -> None:
    async with LoopbackServer() as server, client_factory(LOOSE) as client:
        response = await bounded_request(
            client, "GET", f"http://127.0.0.1:{server.port}/hello?x=1", policy=LOOSE
        )
    assert response.status_code == 200
    assert response.content == b"hello"
    assert server.connections == 1
    assert server.heads[0].startswith(b"GET /hello?x=1 HTTP/1.1\r\n")
    assert b"User-Agent: fedicoop/test\r\n" in server.heads[0]
