"""The HTTP client of the federation package: policy, client factory, bounded requests, httpx names.

Everything else imports the client factory, the bounded request helper and the httpx names it needs
from here, so that a switch of HTTP library stays a change to this module and :mod:`federation.transport`
(house-style §1). The client built by :func:`client_factory` has explicit timeouts (connect 5 s, read
10 s, write 10 s), explicit pool limits, our User-Agent, no redirects unless asked (at most 3), ignores
proxy environment variables, and runs the SSRF URL check on every request and every redirect hop
(wire-format §13.1–§13.3). Its default transport, :class:`~federation.transport.GuardedTransport`,
checks resolved and connected addresses. :func:`bounded_request` adds the 30 s total budget and the
streamed size cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

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
    LocalProtocolError,
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
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
)

from federation.errors import ResponseTooLargeError
from federation.ssrf import AddressPolicy
from federation.transport import GuardedTransport

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
    "HTTPError",
    "HTTPStatusError",
    "Headers",
    "HttpPolicy",
    "Limits",
    "LocalProtocolError",
    "MockTransport",
    "NetworkError",
    "PoolTimeout",
    "ProtocolError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Request",
    "RequestError",
    "Response",
    "Timeout",
    "TimeoutException",
    "TooManyRedirects",
    "TransportError",
    "UnsupportedProtocol",
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
    max_connections: int = 256
    max_keepalive_connections: int = 256
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


def client_factory(policy: HttpPolicy, transport: AsyncBaseTransport | None = None) -> AsyncClient:
    """Build the one AsyncClient a process (or a test) uses for federation traffic.

    Explicit ``Timeout`` and ``Limits``, our User-Agent, the ActivityStreams ``Accept`` by default
    (callers such as WebFinger pass their own), redirects off by default (at most
    ``max_redirects`` when a call enables them), proxy variables ignored, and a request hook that
    runs the SSRF URL check on every request and redirect hop. Without ``transport`` the
    :class:`~federation.transport.GuardedTransport` is used; tests pass an
    ``httpx.MockTransport``, an ASGI transport or a guarded transport with an injected resolver.
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
