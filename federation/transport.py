"""The outbound transport: httpx's interface on our HTTP/1.1 pool, behind the SSRF guard (wire-format §13.1).

This module and :mod:`federation.http` are the only ones that import httpx. The exchange itself is
:mod:`federation.http1` (httptools' parser) over connections from :mod:`federation.pool`; aiohttp's pool
(and httpcore's before it) cost most of a delivery's CPU on the event loop (``bench/README.md``). The
guarantees, in the order they apply:

1. :meth:`AddressPolicy.check_url` on every request, redirect hops included (scheme, userinfo, IP
   literal); a host of digits and dots that is no canonical IPv4 address (``127.1``, ``2130706433``) is
   refused, since resolvers read such forms as addresses;
2. the pool resolves a name once and refuses it if any address is not allowed, then dials the checked
   numeric addresses only;
3. the pool checks the address of the peer each new socket is connected to, and only then starts TLS:
   a refused peer gets no byte, not even a ClientHello.

Proxy environment variables play no part and no cookie is kept. Failures are httpx's errors
(:data:`FAILURES`), or :class:`~federation.errors.AddressBlockedError`. A request that found a kept-alive
connection closed by its peer before any answer is sent again once on a new connection (deliveries are
idempotent: inboxes deduplicate activity ids).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx

from federation.errors import ExchangeError, ExchangeFailure
from federation.http1 import Http1Connection, encode_request
from federation.pool import ConnectionPool, Dialer, Origin, Resolver, system_dial, system_resolve
from federation.ssrf import AddressPolicy

__all__ = [
    "FAILURES",
    "URL_CHECK_CACHE",
    "GuardedTransport",
    "Resolver",
    "check_numeric_host",
    "system_dial",
    "system_resolve",
]

URL_CHECK_CACHE = 4096
"""How many URLs that passed the URL checks the transport remembers, with their origin."""

FAILURES: dict[ExchangeFailure, type[httpx.TransportError]] = {
    ExchangeFailure.CONNECT: httpx.ConnectError,
    ExchangeFailure.CONNECT_TIMEOUT: httpx.ConnectTimeout,
    ExchangeFailure.POOL_TIMEOUT: httpx.PoolTimeout,
    ExchangeFailure.WRITE: httpx.WriteError,
    ExchangeFailure.WRITE_TIMEOUT: httpx.WriteTimeout,
    ExchangeFailure.READ: httpx.ReadError,
    ExchangeFailure.READ_TIMEOUT: httpx.ReadTimeout,
    ExchangeFailure.PROTOCOL: httpx.RemoteProtocolError,
    ExchangeFailure.LOCAL_PROTOCOL: httpx.LocalProtocolError,
    ExchangeFailure.CLOSED: httpx.RemoteProtocolError,
}
"""The httpx error each exchange failure becomes."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_BODYLESS_ANSWERS = frozenset({"HEAD", "CONNECT"})  # answers whose length the parser cannot know


def _httpx_error(exc: ExchangeError, request: httpx.Request) -> httpx.TransportError:
    return FAILURES[exc.failure](str(exc), request=request)


def check_numeric_host(host: str) -> None:
    """Refuse a host of digits and dots that is no canonical IPv4 address (``127.1``, ``2130706433``).

    >>> check_numeric_host("127.0.0.1"), check_numeric_host("peer.example"), check_numeric_host("0x7f.1")
    (None, None, None)
    >>> check_numeric_host("127.1")
    Traceback (most recent call last):
    ...
    httpx.UnsupportedProtocol: 127.1 is not a canonical IPv4 address
    """
    if host and all(char.isdigit() or char == "." for char in host):
        parts = host.split(".")
        canonical = len(parts) == 4 and all(
            part.isdigit() and int(part) <= 255 and str(int(part)) == part for part in parts
        )
        if not canonical:
            raise httpx.UnsupportedProtocol(f"{host} is not a canonical IPv4 address")


class _Body(httpx.AsyncByteStream):
    """A response body read from its connection; the connection goes back to the pool at its end."""

    def __init__(
        self,
        pool: ConnectionPool,
        origin: Origin,
        connection: Http1Connection,
        read_timeout: float | None,
        request: httpx.Request,
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._connection: Http1Connection | None = connection
        self._read_timeout = read_timeout
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        try:
            while chunk := await connection.read(self._read_timeout):
                yield chunk
        except ExchangeError as exc:
            self._end(keep=False)
            raise _httpx_error(exc, self._request) from exc
        self._end(keep=True)

    def _end(self, *, keep: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if keep:
            self._pool.release(self._origin, connection)
        else:
            self._pool.discard(connection)

    async def aclose(self) -> None:
        """Give the connection back (kept alive only when its body was read to the end)."""
        self._end(keep=False)


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface on :class:`~federation.pool.ConnectionPool` (see the module docstring).

    ``limits.max_connections`` bounds the connections in use, ``limits.max_keepalive_connections`` the
    idle ones, kept ``limits.keepalive_expiry`` seconds. TLS certificates are always verified
    (``verify``: the default context without proxy or certificate environment variables). ``resolve``
    and ``dial`` replace name resolution and TCP connection (tests).
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        limits: httpx.Limits | None = None,
        verify: ssl.SSLContext | None = None,
        resolve: Resolver | None = None,
        dial: Dialer | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self._policy = policy
        self._pool = ConnectionPool(
            policy,
            tls=verify or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections or 100,
            max_idle=limits.max_keepalive_connections or 0,
            keepalive_expiry=limits.keepalive_expiry or 0.0,
            resolve=resolve,
            dial=dial,
        )
        self._origins: dict[str, Origin] = {}  # URLs that passed the checks (bounded, oldest forgotten)

    def _origin(self, request: httpx.Request) -> Origin:
        """The checked origin of the request's URL (checked once per URL)."""
        url = request.url
        key = str(url)
        origin = self._origins.get(key)
        if origin is not None:
            return origin
        self._policy.check_url(key)
        if url.scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"{url.scheme!r} URLs are not fetched", request=request)
        check_numeric_host(url.host)
        origin = Origin(url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme])
        if len(self._origins) >= URL_CHECK_CACHE:
            del self._origins[next(iter(self._origins))]
        self._origins[key] = origin
        return origin

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check the URL, send the request on a guarded kept-alive connection, stream the answer back.

        Header names are sent as the caller spelled them and the target exactly as httpx encoded it.
        """
        if request.method in _BODYLESS_ANSWERS:
            raise httpx.UnsupportedProtocol(
                f"{request.method} requests are not sent by federation", request=request
            )
        origin = self._origin(request)
        timeouts = request.extensions.get("timeout", {})
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        try:
            data = encode_request(request.method, request.url.raw_path, request.headers.raw, body)
        except ExchangeError as exc:
            raise _httpx_error(exc, request) from exc
        return await self._exchange(request, origin, data, timeouts, retry=True)

    async def _exchange(
        self,
        request: httpx.Request,
        origin: Origin,
        data: bytes,
        timeouts: dict[str, float | None],
        *,
        retry: bool,
    ) -> httpx.Response:
        """Send ``data`` on a pooled connection; with ``retry``, once more if a kept one proved stale."""
        try:
            connection = await self._pool.acquire(
                origin, connect_timeout=timeouts.get("connect"), pool_timeout=timeouts.get("pool")
            )
        except ExchangeError as exc:
            raise _httpx_error(exc, request) from exc
        try:
            status, headers = await connection.send(data, timeouts.get("write"), timeouts.get("read"))
        except ExchangeError as exc:
            self._pool.discard(connection)
            if exc.failure is ExchangeFailure.CLOSED and retry:
                return await self._exchange(request, origin, data, timeouts, retry=False)
            raise _httpx_error(exc, request) from exc
        except BaseException:
            self._pool.discard(connection)
            raise
        stream = _Body(self._pool, origin, connection, timeouts.get("read"), request)
        return httpx.Response(
            status, headers=headers, stream=stream, extensions={"http_version": b"HTTP/1.1"}
        )

    async def aclose(self) -> None:
        """Close the idle connections and refuse new requests."""
        await self._pool.aclose()
