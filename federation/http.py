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

The default transport of :func:`client_factory` is :class:`GuardedAiohttpTransport`: the httpx API on
an aiohttp connection pool (``httpx-aiohttp``), because httpcore's pool slows down as concurrency and
the number of hosts grow (encode/httpx#3215; measured in ``bench/README.md``). It keeps the same
guarantees: :class:`GuardedResolver` resolves a name once and refuses it if any address is not
public, aiohttp then connects to those checked addresses only (an IP-literal URL is checked by
``check_url`` and not resolved), and :class:`GuardedConnector` checks the peer address of every new
socket before a byte is sent on it. Proxy variables are ignored (``trust_env=False``).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

import aiohttp
import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
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
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream
from multidict import CIMultiDict
from yarl import URL as YarlURL

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
    "GuardedAiohttpTransport",
    "GuardedConnector",
    "GuardedNetworkBackend",
    "GuardedResolver",
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


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that resolves a name once and refuses it unless every address is allowed.

    Raises AddressBlockedError (not an OSError, so aiohttp does not turn it into a connection error);
    aiohttp connects to the returned numeric addresses without resolving them again.
    """

    def __init__(self, policy: AddressPolicy, *, resolve: Resolver | None = None) -> None:
        self._policy = policy
        self._resolve = resolve or _system_resolve

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The checked addresses of ``host``, in preference order."""
        addresses = await self._resolve(host, port)
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        for address in addresses:
            self._policy.check_address(address)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        """Nothing to release."""


class GuardedConnector(aiohttp.TCPConnector):
    """An aiohttp connector that checks the peer address of each socket it opens before using it."""

    def __init__(self, policy: AddressPolicy, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self._policy = policy

    async def _wrap_create_connection(
        self, *args: object, **kwargs: object
    ) -> tuple[asyncio.Transport, aiohttp.client_proto.ResponseHandler]:
        transport, protocol = await super()._wrap_create_connection(*args, **kwargs)  # type: ignore[arg-type]
        peer = transport.get_extra_info("peername")
        try:
            if not isinstance(peer, tuple) or not peer:
                raise AddressBlockedError("the connected socket has no peer address")
            self._policy.check_address(str(peer[0]))
        except AddressBlockedError:
            transport.close()
            raise
        return transport, protocol


_AIOHTTP_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.TimeoutException),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientConnectionError, httpx.NetworkError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (TimeoutError, httpx.PoolTimeout),
)


def _remap(exc: BaseException, request: Request) -> httpx.TransportError:
    """The httpx error for an aiohttp one (or httpx-aiohttp's mapping of it, by its cause)."""
    cause = exc.__cause__ if isinstance(exc, httpx.TransportError) and exc.__cause__ else exc
    for source, target in _AIOHTTP_ERRORS:
        if isinstance(cause, source):
            return target(str(cause) or type(cause).__name__, request=request)
    if isinstance(exc, httpx.TransportError):
        return exc
    return httpx.TransportError(f"{type(exc).__name__}: {exc}")


class _RemappedStream(AsyncByteStream):
    def __init__(self, stream: AsyncByteStream, request: Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except (httpx.TransportError, aiohttp.ClientError) as exc:
            raise _remap(exc, self._request) from exc

    async def aclose(self) -> None:
        await self._stream.aclose()


class GuardedAiohttpTransport(AiohttpTransport):
    """httpx's transport interface on an aiohttp pool whose connections pass the SSRF guard.

    The URL is checked with :meth:`AddressPolicy.check_url`, names are resolved by a
    :class:`GuardedResolver` and every new socket's peer is checked by :class:`GuardedConnector`.
    ``limits.max_connections`` bounds the open connections; idle ones are kept
    ``limits.keepalive_expiry`` seconds. TLS certificates are always verified (``verify``).
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        limits: Limits | None = None,
        verify: ssl.SSLContext | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        pool_limits = limits or Limits(max_connections=100, max_keepalive_connections=20)
        context = verify or httpx.create_ssl_context(trust_env=False)

        def session() -> aiohttp.ClientSession:
            connector = GuardedConnector(
                policy,
                resolver=GuardedResolver(policy, resolve=resolve),
                ssl=context,
                limit=pool_limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=pool_limits.keepalive_expiry,
            )
            return aiohttp.ClientSession(connector=connector, trust_env=False)

        super().__init__(verify=context, trust_env=False, limits=pool_limits, client=session)
        self._policy = policy

    async def handle_async_request(self, request: Request) -> Response:
        """Check the URL, send the request through the guarded aiohttp pool, map errors to httpx's.

        Header names are sent as the caller spelled them and the URL exactly as httpx encoded it.
        """
        self._policy.check_url(str(request.url))
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        headers = CIMultiDict(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        try:
            data: bytes | AsyncByteStream | None = request.content or None
        except httpx.RequestNotRead:
            data = request.stream if isinstance(request.stream, AsyncByteStream) else None
        try:
            response = await self.client.request(
                method=request.method,
                url=YarlURL(str(request.url), encoded=True),  # sent as httpx encoded it
                headers=headers,
                data=data,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                    connect=timeout.get("pool"),
                ),
            ).__aenter__()
        except aiohttp.ClientError as exc:
            raise _remap(exc, request) from exc
        except TimeoutError as exc:
            raise _remap(exc, request) from exc
        return Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_RemappedStream(AiohttpResponseStream(response), request),
            extensions={"http_version": b"HTTP/1.1"},
        )


def client_factory(policy: HttpPolicy, transport: AsyncBaseTransport | None = None) -> AsyncClient:
    """Build the one AsyncClient a process (or a test) uses for federation traffic.

    Explicit ``Timeout`` and ``Limits``, our User-Agent, the ActivityStreams ``Accept`` by default
    (callers such as WebFinger pass their own), redirects off by default (at most
    ``max_redirects`` when a call enables them), proxy variables ignored, and a request hook that
    runs the SSRF URL check on every request and redirect hop. Without ``transport`` the
    :class:`GuardedAiohttpTransport` is used; tests pass an ``httpx.MockTransport``, an ASGI
    transport or a :class:`GuardedTransport`.
    """
    address_policy = AddressPolicy(insecure_peers=policy.insecure_peers)

    async def check_request(request: Request) -> None:
        address_policy.check_url(str(request.url))

    return AsyncClient(
        transport=transport or GuardedAiohttpTransport(address_policy, limits=policy.limits()),
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
