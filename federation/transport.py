"""The outbound transport: httpx's interface on an aiohttp pool, behind the SSRF guard (wire-format §13.1).

This is the only module that imports aiohttp (and, with :mod:`federation.http`, httpx). aiohttp's pool
replaced httpcore's because httpcore's slows down as concurrency and the number of hosts grow
(encode/httpx#3215; measured in ``bench/README.md``). The guarantees, in the order they apply:

1. :meth:`AddressPolicy.check_url` on every request, redirect hops included (scheme, userinfo, IP
   literal); aiohttp refuses non-canonical IPv4 literals such as ``127.1``.
2. :class:`GuardedResolver` resolves a name once and refuses it if any address is not public; aiohttp
   connects to those checked numeric addresses only (its DNS cache holds checked results only).
3. :class:`GuardedConnector` opens every new connection as plain TCP, checks the address of the peer it
   is connected to, and only then starts TLS: a refused peer gets no byte, not even a ClientHello.

Proxy environment variables are ignored (``trust_env=False``); aiohttp errors become httpx's
(:data:`AIOHTTP_ERRORS`), so callers see only httpx exceptions and :class:`AddressBlockedError`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import httpx
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_proto import ResponseHandler
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream
from multidict import CIMultiDict
from yarl import URL as YarlURL

from federation.errors import AddressBlockedError
from federation.ssrf import AddressPolicy

__all__ = [
    "AIOHTTP_ERRORS",
    "URL_CHECK_CACHE",
    "GuardedAiohttpTransport",
    "GuardedConnector",
    "GuardedResolver",
    "Resolver",
    "system_resolve",
]

URL_CHECK_CACHE = 4096
"""How many URLs that passed the address policy's URL check the transport remembers."""

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``await resolve(host, port)``: the IP addresses a host name resolves to, in preference order."""


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives for ``host`` (TCP), deduplicated, in the system's order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that resolves a name once and refuses it unless every address is allowed.

    Raises AddressBlockedError (not an OSError, so aiohttp does not turn it into a connection error);
    aiohttp connects to the returned numeric addresses without resolving them again.
    """

    def __init__(self, policy: AddressPolicy, *, resolve: Resolver | None = None) -> None:
        self._policy = policy
        self._resolve = resolve or system_resolve

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The checked addresses of ``host``, in preference order."""
        addresses = await self._resolve(host, port)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} resolves to no address")
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
    """An aiohttp connector that checks the peer of each new socket before a byte is sent on it.

    aiohttp's own connection step (``_wrap_create_connection``, which connects the resolved
    addresses with happy eyeballs) is asked for a plain TCP connection; the peer address of that
    socket must pass the policy; TLS, when the request wants it, is started afterwards on the same
    socket with aiohttp's protocol, context and server name. Both steps share the connect timeout.
    """

    def __init__(self, policy: AddressPolicy, **options: Any) -> None:
        super().__init__(**options)
        self._policy = policy

    async def _wrap_create_connection(
        self,
        *args: Any,
        addr_infos: list[AddrInfoType],
        req: aiohttp.ClientRequest,
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp connector interface
        client_error: type[Exception] = aiohttp.ClientConnectorError,
        **kwargs: Any,
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        context: ssl.SSLContext | None = kwargs.pop("ssl", None) or None
        server_hostname: str | None = kwargs.pop("server_hostname", None)
        async with asyncio.timeout(timeout.sock_connect):
            transport, protocol = await super()._wrap_create_connection(
                *args, addr_infos=addr_infos, req=req, timeout=timeout, client_error=client_error, **kwargs
            )
            self._check_peer(transport)
            if context is None:
                return transport, protocol
            return await self._start_tls(args[0], transport, context, server_hostname, req, client_error)

    def _check_peer(self, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        try:
            if not isinstance(peer, tuple) or not peer:
                raise AddressBlockedError("the connected socket has no peer address")
            self._policy.check_address(str(peer[0]))
        except AddressBlockedError:
            transport.abort()
            raise

    async def _start_tls(
        self,
        protocol_factory: Callable[[], ResponseHandler],
        transport: asyncio.Transport,
        context: ssl.SSLContext,
        server_hostname: str | None,
        req: aiohttp.ClientRequest,
        client_error: type[Exception],
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        protocol = protocol_factory()  # a fresh protocol for the TLS transport, as aiohttp's proxies do
        try:
            tls = await asyncio.get_running_loop().start_tls(
                transport, protocol, context, server_hostname=server_hostname
            )
        except BaseException as exc:
            transport.abort()
            if isinstance(exc, ssl.CertificateError):
                raise aiohttp.ClientConnectorCertificateError(req.connection_key, exc) from exc
            if isinstance(exc, ssl.SSLError):
                raise aiohttp.ClientConnectorSSLError(req.connection_key, exc) from exc
            if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
                raise client_error(req.connection_key, exc) from exc
            raise
        if tls is None:
            raise client_error(req.connection_key, OSError("TLS could not start: the connection closed"))
        protocol.connection_made(tls)
        return tls, protocol


AIOHTTP_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
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
"""aiohttp errors and the httpx error each becomes, most specific first."""


def _remap(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error for an aiohttp one (or httpx-aiohttp's mapping of it, by its cause)."""
    cause = exc.__cause__ if isinstance(exc, httpx.TransportError) and exc.__cause__ else exc
    for source, target in AIOHTTP_ERRORS:
        if isinstance(cause, source):
            return target(str(cause) or type(cause).__name__, request=request)
    if isinstance(exc, httpx.TransportError):
        return exc
    return httpx.TransportError(f"{type(exc).__name__}: {exc}")


class _RemappedStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, request: httpx.Request) -> None:
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
    :class:`GuardedResolver` (``resolve``, the system's ``getaddrinfo`` by default) and every new
    socket's peer is checked by :class:`GuardedConnector`. ``limits.max_connections`` bounds the open
    connections; idle ones are kept ``limits.keepalive_expiry`` seconds. TLS certificates are always
    verified (``verify``, the default context without proxy or certificate environment variables).
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        limits: httpx.Limits | None = None,
        verify: ssl.SSLContext | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        pool_limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
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
            # Federation needs no cookies: a peer's Set-Cookie is neither kept nor sent back.
            return aiohttp.ClientSession(
                connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
            )

        super().__init__(verify=context, trust_env=False, limits=pool_limits, client=session)
        self._policy = policy
        self._checked: dict[str, None] = {}  # URLs that passed check_url (bounded, oldest forgotten)
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _check_url(self, url: str) -> None:
        """check_url once per URL: deliveries post to the same inboxes again and again."""
        if url in self._checked:
            return
        self._policy.check_url(url)
        if len(self._checked) >= URL_CHECK_CACHE:
            del self._checked[next(iter(self._checked))]
        self._checked[url] = None

    def _timeout(self, phases: dict[str, float | None]) -> aiohttp.ClientTimeout:
        key = (phases.get("connect"), phases.get("read"), phases.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                sock_connect=key[0], sock_read=key[1], connect=key[2]
            )
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check the URL, send the request through the guarded aiohttp pool, map errors to httpx's.

        Header names are sent as the caller spelled them and the URL exactly as httpx encoded it.
        """
        url = str(request.url)
        self._check_url(url)
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        headers = CIMultiDict(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        try:
            data: bytes | httpx.AsyncByteStream | None = request.content or None
        except httpx.RequestNotRead:
            data = request.stream if isinstance(request.stream, httpx.AsyncByteStream) else None
        try:
            response = await self.client.request(
                method=request.method,
                url=YarlURL(url, encoded=True),  # sent as httpx encoded it
                headers=headers,
                data=data,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
                timeout=self._timeout(timeout),
            ).__aenter__()
        except aiohttp.ClientError as exc:
            raise _remap(exc, request) from exc
        except TimeoutError as exc:
            raise _remap(exc, request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_RemappedStream(AiohttpResponseStream(response), request),
            extensions={"http_version": b"HTTP/1.1"},
        )
