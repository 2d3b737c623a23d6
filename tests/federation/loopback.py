"""A real HTTP peer for the federation tests: a starlette app served by uvicorn on 127.0.0.1.

``async with running_peer() as peer`` binds a free port, serves the app from a background asyncio task
and yields a :class:`Peer`. Tests register documents and handlers by path, then read back every request
the peer received (:class:`Hit`), including the result of checking its HTTP signature with the real
:class:`~federation.verifier.SignatureChecker` against the keys the test trusted on the peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from federation.errors import KeyUnavailableError, SignatureError
from federation.http import ACTIVITY_JSON, HttpPolicy
from federation.keys import PrivateKey, generate_rsa_keypair, load_private_key
from federation.verifier import SignatureChecker, VerificationKey

Handler = Callable[[Request], Awaitable[Response]]

LOOSE = HttpPolicy(user_agent="fedicoop/test", insecure_peers=True)
"""The outbound HTTP policy of the tests: loopback and http:// peers allowed."""


@functools.cache
def rsa_key(label: str) -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key per label, generated once per test process."""
    key = load_private_key(generate_rsa_keypair().private_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the peer received, with the outcome of its signature check."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    signer: str | None
    signature_error: str | None


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the test process keeps its own."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(eq=False)
class Peer:
    """The state of a running loopback peer: its routes, the keys it trusts, the requests it got."""

    authority: str
    require_signature: bool = False
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    hits: list[Hit] = field(default_factory=list)
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    keys: dict[str, VerificationKey] = field(default_factory=dict)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.authority}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this peer."""
        return self.base_url + path

    def route(self, path: str, handler: Handler, *, method: str = "GET") -> None:
        """Answer ``method path`` with ``handler``."""
        self.routes[(method, path)] = handler

    def serve(
        self,
        path: str,
        document: dict[str, Any] | bytes,
        *,
        status: int = 200,
        content_type: str = ACTIVITY_JSON,
        headers: dict[str, str] | None = None,
        method: str = "GET",
    ) -> None:
        """Answer ``method path`` with a fixed body (a dict is serialised as JSON)."""
        body = document if isinstance(document, bytes) else json.dumps(document).encode()

        async def handler(request: Request) -> Response:
            return Response(body, status_code=status, media_type=content_type, headers=headers)

        self.route(path, handler, method=method)

    def redirect(self, path: str, location: str, *, status: int = 302) -> None:
        """Answer ``GET path`` with a redirect to ``location``."""

        async def handler(request: Request) -> Response:
            return Response(status_code=status, headers={"Location": location})

        self.route(path, handler)

    def stall(self, path: str, *, method: str = "GET") -> None:
        """Answer ``method path`` only when the peer stops (for timeout tests)."""

        async def handler(request: Request) -> Response:
            await self.stopping.wait()
            return Response(b"too late")

        self.route(path, handler, method=method)

    def stream(self, path: str, chunks: int, chunk_size: int = 64 * 1024) -> None:
        """Answer ``GET path`` with an endless-looking ActivityStreams body of ``chunks`` chunks."""

        async def body() -> AsyncIterator[bytes]:
            for _ in range(chunks):
                yield b" " * chunk_size

        async def handler(request: Request) -> Response:
            return StreamingResponse(body(), media_type=ACTIVITY_JSON)

        self.route(path, handler)

    def trust(self, key_id: str, owner: str, private_key: PrivateKey) -> None:
        """Let the peer verify signatures made by ``private_key`` as ``key_id``."""
        self.keys[key_id] = VerificationKey(key_id=key_id, owner=owner, public_key=private_key.public_key())

    def requests_to(self, path: str, method: str = "GET") -> list[Hit]:
        """The requests received for ``method path``, in order."""
        return [hit for hit in self.hits if hit.path == path and hit.method == method]

    async def _retrieve(self, key_id: str, bypass_cache: bool) -> VerificationKey:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyUnavailableError(f"the peer does not know {key_id}") from None

    async def _check(
        self, request: Request, path: str, query: str, body: bytes
    ) -> tuple[str | None, str | None]:
        if "signature" not in request.headers and "signature-input" not in request.headers:
            return None, "unsigned"
        checker = SignatureChecker(key_retriever=self._retrieve, hosts=[self.authority], now=self.now)
        url = self.url(path) + (f"?{query}" if query else "")
        try:
            return await checker.verify(request.method, url, _raw_pairs(request), body), None
        except SignatureError as exc:
            return None, f"{type(exc).__name__}: {exc}"

    async def endpoint(self, request: Request) -> Response:
        """Record the request, check its signature, dispatch it to the handler of its path."""
        path = request.scope["raw_path"].decode("ascii")
        query = request.scope["query_string"].decode("ascii")
        body = await request.body()
        signer, error = await self._check(request, path, query, body)
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.headers.raw
        }
        self.hits.append(Hit(request.method, path, query, headers, body, signer, error))
        if self.require_signature and signer is None:
            return Response(json.dumps({"error": "signature", "detail": error}), status_code=401)
        handler = self.routes.get((request.method, path))
        if handler is None:
            return Response(b"not here", status_code=404, media_type="text/plain")
        return await handler(request)


def _raw_pairs(request: Request) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]


@contextlib.asynccontextmanager
async def serving(make_app: Callable[[str], ASGIApp], *, lifespan: str = "off") -> AsyncIterator[str]:
    """Serve ``make_app(base_url)`` with uvicorn on a free 127.0.0.1 port; yield the base URL.

    The port is bound first, so the app can be built knowing its own URL (a node's base URL).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        make_app(base),
        log_level="warning",
        lifespan=lifespan,  # type: ignore[arg-type]
        ws="none",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the loopback server stopped before it started")
                await asyncio.sleep(0.01)
        yield base
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def running_peer(*, require_signature: bool = False) -> AsyncIterator[Peer]:
    """Serve a fresh :class:`Peer` on a free loopback port for the duration of the block."""
    peers: list[Peer] = []

    def make_app(base: str) -> Starlette:
        peers.append(Peer(authority=base.removeprefix("http://"), require_signature=require_signature))
        return Starlette(routes=[Route("/{path:path}", peers[0].endpoint, methods=["GET", "POST"])])

    async with serving(make_app):
        try:
            yield peers[0]
        finally:
            peers[0].stopping.set()
