"""The HTTP client of the federation package: the only module that imports httpx (and httpcore).

Everything else imports the client factory, the bounded request helper and the httpx names it needs
from here, so that a switch of HTTP library stays a change to this one file (house-style §1). The
client built by :func:`client_factory` has explicit timeouts (connect 5 s, read 10 s, write 10 s),
explicit pool limits, our User-Agent, no redirects unless asked (at most 3), ignores proxy
environment variables, and runs the SSRF guard on every request and every redirect hop (wire-format
§13.1–§13.3). :func:`bounded_request` adds the 30 s total budget and the streamed size cap.

The address check happens on the address actually connected to: :class:`GuardedNetworkBackend` is an
httpcore network backend whose ``connect_tcp`` resolves the name once with ``getaddrinfo``, refuses
the connection if any resolved address is not public, connects to the checked IP itself and checks
the peer address of the connected socket again. httpx 0.28's ``AsyncHTTPTransport`` takes no network
backend, so :class:`GuardedTransport` drives an ``httpcore.AsyncConnectionPool`` directly (TLS still
verifies the certificate against the host name, which httpcore sends as SNI).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

import httpcore
import httpx
from httpx import (
    URL,
    ASGITransport,
    AsyncBaseTransport,
    AsyncByteStream,
    AsyncClient,
    Auth,
    ConnectError,
    ConnectTimeout,
    Headers,
    HTTPError,
    HTTPStatusError,
    Limits,
    MockTransport,
    NetworkError,
    PoolTimeout,
    ProtocolError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Request,
    RequestError,
    Response,
    Timeout,
    TimeoutException,
    TooManyRedirects,
    TransportError,
    WriteError,
    WriteTimeout,
)

from federation.errors import AddressBlockedError, ResponseTooLargeError
from federation.ssrf import AddressPolicy

__all__ = [
    "ACCEPT_ACTIVITY",
    "ACTIVITY_JSON",
    "MAX_DISCOVERY_BYTES",
    "MAX_DOCUMENT_BYTES",
    "URL",
    "ASGITransport",
    "AsyncBaseTransport",
    "AsyncByteStream",
    "AsyncClient",
    "Auth",
    "BoundedResponse",
    "ConnectError",
    "ConnectTimeout",
    "GuardedNetworkBackend",
    "GuardedTransport",
    "HTTPError",
    "HTTPStatusError",
    "Headers",
    "HttpPolicy",
    "Limits",
    "MockTransport",
    "NetworkError",
    "PoolTimeout",
    "ProtocolError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Request",
    "RequestError",
    "Resolver",
    "Response",
    "Timeout",
    "TimeoutException",
    "TooManyRedirects",
    "TransportError",
    "WriteError",
    "WriteTimeout",
    "bounded_request",
    "client_factory",
    "make_user_agent",
]

MAX_DOCUMENT_BYTES = 1024 * 1024
"""Size cap of an ActivityStreams document (wire-format §13.3)."""

MAX_DISCOVERY_BYTES = 64 * 1024
"""Size cap of WebFinger, host-meta and NodeInfo documents (wire-format §13.3)."""

ACTIVITY_JSON = "application/activity+json"
"""The media type we serve and POST (wire-format §1)."""

ACCEPT_ACTIVITY = (
    'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
)
"""The default ``Accept`` of our client, used by signed GETs (wire-format §10.6)."""

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``await resolve(host, port)``: the IP addresses a host name resolves to, in preference order."""


def make_user_agent(version: str, base_url: str) -> str:
    """Return our User-Agent, ``fedicoop/<version> (+<base url>)``.

    >>> make_user_agent("0.1.0", "https://velo-fives.example/")
    'fedicoop/0.1.0 (+https://velo-fives.example/)'
    """
    return f"fedicoop/{version} (+{base_url})"


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """How outbound HTTP behaves: peers allowed, User-Agent, body cap, timeouts and redirects.

    ``insecure_peers`` allows ``http://`` and private addresses (tests and demos only);
    ``max_body`` is the default response cap in bytes; ``total_timeout`` bounds a whole request,
    redirects and body included; the other timeouts are httpx's per-phase ones.
    """

    user_agent: str
    insecure_peers: bool = False
    max_body: int = MAX_DOCUMENT_BYTES
    total_timeout: float = 30.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0
    pool_timeout: float = 10.0
    max_redirects: int = 3
    max_connections: int = 100
    max_keepalive_connections: int = 20
    keepalive_expiry: float = 30.0

    def timeout(self) -> Timeout:
        """Return the explicit per-phase httpx ``Timeout``."""
        return Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.write_timeout,
            pool=self.pool_timeout,
        )

    def limits(self) -> Limits:
        """Return the explicit connection pool ``Limits``."""
        return Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_keepalive_connections,
            keepalive_expiry=self.keepalive_expiry,
        )


async def _system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the policy allows.

    ``connect_tcp`` resolves the host once (``resolve``, the system ``getaddrinfo`` by default),
    raises AddressBlockedError if any address is refused, then connects to the checked addresses in
    order through ``inner`` (httpcore's AnyIO backend by default) and re-checks the connected peer.
    No name is resolved again between the check and the connection.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolve: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolve = resolve or _system_resolve
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore backend interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, check every address, connect to a checked one and check the peer again."""
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"resolving {host} failed: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:
            self._policy.check_address(address)
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if isinstance(peer, tuple) and peer:
                try:
                    self._policy.check_address(str(peer[0]))
                except AddressBlockedError:
                    await stream.aclose()
                    raise
            return stream
        raise failure or httpcore.ConnectError(f"could not connect to {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore backend interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refuse Unix sockets: outbound federation traffic is TCP only."""
        raise AddressBlockedError(f"Unix socket {path!r} is refused")

    async def sleep(self, seconds: float) -> None:
        """Sleep, as httpcore's connection retries expect."""
        await asyncio.sleep(seconds)


_EXCEPTION_MAP: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


def _map_error(exc: Exception, request: Request) -> Exception:
    for source, target in _EXCEPTION_MAP:
        if isinstance(exc, source):
            return target(str(exc) or type(exc).__name__, request=request)
    return exc


class _GuardedStream(AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes], request: Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except Exception as exc:
            mapped = _map_error(exc, self._request)
            if mapped is exc:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        closer = getattr(self._stream, "aclose", None)
        if closer is not None:
            await closer()


class GuardedTransport(AsyncBaseTransport):
    """An httpx transport over an httpcore pool whose connections pass the SSRF guard.

    Each request's URL is checked with :meth:`AddressPolicy.check_url` and each connection made by
    a :class:`GuardedNetworkBackend`. ``verify`` is the TLS context (certificates always verified by
    default, whatever ``insecure_peers`` says). httpcore errors are mapped to the httpx ones.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        limits: Limits | None = None,
        verify: ssl.SSLContext | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        pool_limits = limits or Limits(max_connections=100, max_keepalive_connections=20)
        self._policy = policy
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify or httpx.create_ssl_context(trust_env=False),
            max_connections=pool_limits.max_connections,
            max_keepalive_connections=pool_limits.max_keepalive_connections,
            keepalive_expiry=pool_limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend or GuardedNetworkBackend(policy),
        )

    async def handle_async_request(self, request: Request) -> Response:
        """Check the URL, send the request through the guarded pool and wrap the response."""
        self._policy.check_url(str(request.url))
        if not isinstance(request.stream, AsyncByteStream):  # pragma: no cover - httpx guarantees it
            raise TypeError("GuardedTransport needs an async request stream")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            core_response = await self._pool.handle_async_request(core_request)
        except Exception as exc:
            mapped = _map_error(exc, request)
            if mapped is exc:
                raise
            raise mapped from exc
        if not isinstance(core_response.stream, AsyncIterable):  # pragma: no cover - async pool
            raise TypeError("httpcore returned a synchronous response stream")
        return Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_GuardedStream(core_response.stream, request),
            extensions=core_response.extensions,
        )

    async def aclose(self) -> None:
        """Close the pool and its connections."""
        await self._pool.aclose()


def client_factory(policy: HttpPolicy, transport: AsyncBaseTransport | None = None) -> AsyncClient:
    """Build the one AsyncClient a process (or a test) uses for federation traffic.

    Explicit ``Timeout`` and ``Limits``, our User-Agent, the ActivityStreams ``Accept`` by default
    (callers such as WebFinger pass their own), redirects off by default (at most
    ``max_redirects`` when a call enables them), proxy variables ignored, and a request hook that
    runs the SSRF URL check on every request and redirect hop. Without ``transport`` the
    :class:`GuardedTransport` is used; tests pass an ``httpx.MockTransport`` or an ASGI transport.
    """
    address_policy = AddressPolicy(insecure_peers=policy.insecure_peers)

    async def check_request(request: Request) -> None:
        address_policy.check_url(str(request.url))

    return AsyncClient(
        transport=transport or GuardedTransport(address_policy, limits=policy.limits()),
        timeout=policy.timeout(),
        headers={"User-Agent": policy.user_agent, "Accept": ACCEPT_ACTIVITY},
        follow_redirects=False,
        max_redirects=policy.max_redirects,
        trust_env=False,
        event_hooks={"request": [check_request]},
    )


@dataclass(frozen=True, slots=True)
class BoundedResponse:
    """A response read in full under the size cap: status, headers, final URL, body and redirect chain.

    ``history`` lists the URLs that answered with a redirect, in order; ``url`` is the final one.
    """

    status_code: int
    headers: Headers
    url: str
    content: bytes
    history: tuple[str, ...] = ()


async def _read_bounded(response: Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(f"{response.url} declares {int(declared)} bytes; the cap is {limit}")
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > limit:
            raise ResponseTooLargeError(f"{response.url} sent more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def bounded_request(
    client: AsyncClient,
    method: str,
    url: str,
    *,
    policy: HttpPolicy,
    max_bytes: int | None = None,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    auth: Auth | None = None,
    follow_redirects: bool = False,
) -> BoundedResponse:
    """Send one request and read its body in a stream, within the size cap and the total time budget.

    The body is read chunk by chunk and the transfer aborted with ResponseTooLargeError as soon as
    it exceeds ``max_bytes`` (``policy.max_body`` by default; a larger ``Content-Length`` fails
    before reading). The whole exchange, redirects and body included, must finish within
    ``policy.total_timeout`` seconds, else ``TimeoutException`` is raised. Transport failures raise
    the httpx errors re-exported here; the SSRF guard raises AddressBlockedError.
    """
    limit = policy.max_body if max_bytes is None else max_bytes
    request = client.build_request(method, url, headers=headers, content=content)
    try:
        async with asyncio.timeout(policy.total_timeout):
            response = await client.send(request, auth=auth, follow_redirects=follow_redirects, stream=True)
            try:
                body = await _read_bounded(response, limit)
            finally:
                await response.aclose()
    except TimeoutError as exc:
        raise TimeoutException(
            f"{method} {url} took longer than the total budget of {policy.total_timeout} s", request=request
        ) from exc
    return BoundedResponse(
        status_code=response.status_code,
        headers=response.headers,
        url=str(response.url),
        content=body,
        history=tuple(str(hop.url) for hop in response.history),
    )
