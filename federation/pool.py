"""Outbound connections behind the address policy, kept alive and bounded (wire-format §13.1).

:class:`ConnectionPool` hands out :class:`~federation.http1.Http1Connection` objects per origin
(scheme, host, port). A new connection is opened in this order, all within the connect timeout:

1. the host name is resolved once (``resolve``, the system's ``getaddrinfo`` by default) and refused if
   any address it resolves to is not allowed (an IP literal is checked as is);
2. the checked numeric addresses are dialled in order (``dial``), never the name again;
3. the address of the peer the socket is actually connected to is checked again (DNS rebinding, a
   transparent redirect), and a refused peer is dropped before a byte is sent, not even a ClientHello;
4. TLS, for https, starts on that socket with the verifying context and the URL's host as server name.

At most ``max_connections`` connections are in use or opening at once (a caller waits ``pool_timeout``
for a place); up to ``max_idle`` idle ones are kept ``keepalive_expiry`` seconds, the most recently used
taken first. Proxy settings of the environment play no part.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from federation.errors import AddressBlockedError, ExchangeError, ExchangeFailure
from federation.http1 import Http1Connection
from federation.ssrf import AddressPolicy

__all__ = ["ConnectionPool", "Dialer", "Origin", "Resolver", "system_dial", "system_resolve"]

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``await resolve(host, port)``: the IP addresses a host name resolves to, in preference order."""

Dialer = Callable[[str, int], Awaitable[socket.socket]]
"""``await dial(address, port)``: a connected non-blocking TCP socket to a numeric address."""

_SWEEP_EVERY = 5.0


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives for ``host`` (TCP), deduplicated, in the system's order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def system_dial(address: str, port: int) -> socket.socket:
    """A non-blocking TCP socket connected to ``address`` (numeric, IPv4 or IPv6) on ``port``."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a connection goes: scheme, host as written in the URL (no brackets) and port."""

    scheme: str
    host: str
    port: int


class ConnectionPool:
    """Guarded, kept-alive HTTP/1.1 connections per origin (see the module docstring)."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        tls: ssl.SSLContext,
        max_connections: int = 256,
        max_idle: int = 256,
        keepalive_expiry: float = 30.0,
        resolve: Resolver | None = None,
        dial: Dialer | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("a connection pool needs room for at least one connection")
        self._policy = policy
        self._tls = tls
        self._max_connections = max_connections
        self._max_idle = max(0, max_idle)
        self._expiry = keepalive_expiry
        self._resolve = resolve or system_resolve
        self._dial = dial or system_dial
        self._busy = 0  # connections in use or opening
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._idle: dict[Origin, list[Http1Connection]] = {}
        self._idle_order: OrderedDict[Http1Connection, Origin] = OrderedDict()
        self._swept = time.monotonic()
        self._closed = False

    @property
    def busy(self) -> int:
        """Connections in use or opening."""
        return self._busy

    @property
    def idle(self) -> int:
        """Connections kept for reuse."""
        return len(self._idle_order)

    async def acquire(
        self, origin: Origin, *, connect_timeout: float | None, pool_timeout: float | None
    ) -> Http1Connection:
        """A connection to ``origin``: a kept one if any is fit, else a new one (see the module docstring).

        Raises AddressBlockedError when the policy refuses an address, ExchangeError otherwise.
        """
        if self._closed:
            raise ExchangeError(ExchangeFailure.CLOSED, "the connection pool is closed")
        await self._take_place(pool_timeout)
        try:
            connection = self._take_idle(origin)
            if connection is None:
                connection = await self._open(origin, connect_timeout)
        except BaseException:
            self._give_place()
            raise
        return connection

    def release(self, origin: Origin, connection: Http1Connection) -> None:
        """End ``connection``'s exchange: keep it for ``origin`` if it can serve again, else close it."""
        if connection.finish():
            if self._closed or not self._max_idle:
                connection.close()
            else:
                self._idle.setdefault(origin, []).append(connection)
                self._idle_order[connection] = origin
                if len(self._idle_order) > self._max_idle:
                    self._drop_oldest_idle()
        self._give_place()
        now = time.monotonic()
        if now - self._swept > _SWEEP_EVERY:
            self._sweep(now)

    def discard(self, connection: Http1Connection) -> None:
        """Close a connection whose exchange failed or was abandoned, and free its place."""
        connection.close()
        self._give_place()

    async def aclose(self) -> None:
        """Close every idle connection and refuse new exchanges (connections in use close on release)."""
        self._closed = True
        for connection in list(self._idle_order):
            connection.close()
        self._idle.clear()
        self._idle_order.clear()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(ExchangeError(ExchangeFailure.CLOSED, "the connection pool is closed"))
        await asyncio.sleep(0)  # let the transports close

    # --- places ------------------------------------------------------------------------------------

    async def _take_place(self, pool_timeout: float | None) -> None:
        if self._busy < self._max_connections and not self._waiters:
            self._busy += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(pool_timeout):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give_place()  # the place was handed over as this caller gave up
            if isinstance(exc, TimeoutError):
                raise ExchangeError(
                    ExchangeFailure.POOL_TIMEOUT,
                    f"no connection free within {pool_timeout} s ({self._max_connections} in use)",
                ) from None
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _give_place(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the place passes to the waiter: _busy is unchanged
                return
        self._busy -= 1

    # --- idle connections --------------------------------------------------------------------------

    def _take_idle(self, origin: Origin) -> Http1Connection | None:
        kept = self._idle.get(origin)
        now = time.monotonic()
        while kept:
            connection = kept.pop()
            del self._idle_order[connection]
            if connection.reusable(now, self._expiry):
                return connection
            connection.close()
        return None

    def _drop_oldest_idle(self) -> None:
        connection, origin = self._idle_order.popitem(last=False)
        self._idle[origin].remove(connection)
        connection.close()

    def _sweep(self, now: float) -> None:
        """Close the idle connections past their expiry or closed by their peer."""
        self._swept = now
        for connection, origin in list(self._idle_order.items()):
            if not connection.reusable(now, self._expiry):
                del self._idle_order[connection]
                self._idle[origin].remove(connection)
                connection.close()

    # --- opening -----------------------------------------------------------------------------------

    async def _open(self, origin: Origin, connect_timeout: float | None) -> Http1Connection:
        try:
            async with asyncio.timeout(connect_timeout):
                return await self._connect(origin)
        except TimeoutError:
            raise ExchangeError(
                ExchangeFailure.CONNECT_TIMEOUT,
                f"connecting to {origin.host}:{origin.port} took longer than {connect_timeout} s",
            ) from None

    async def _connect(self, origin: Origin) -> Http1Connection:
        addresses = await self._addresses(origin)
        errors: list[str] = []
        for address in addresses:
            try:
                sock = await self._dial(address, origin.port)
            except OSError as exc:
                errors.append(f"{address}: {exc.strerror or exc}")
                continue
            return await self._start(origin, sock)
        raise ExchangeError(
            ExchangeFailure.CONNECT, f"cannot connect to {origin.host}:{origin.port} ({'; '.join(errors)})"
        )

    async def _addresses(self, origin: Origin) -> list[str]:
        """The checked addresses to dial: the IP literal itself, or every address of the name."""
        try:
            return [self._checked(str(ipaddress.ip_address(origin.host)))]
        except ValueError:
            pass
        try:
            addresses = await self._resolve(origin.host, origin.port)
        except OSError as exc:
            raise ExchangeError(ExchangeFailure.CONNECT, f"{origin.host}: {exc.strerror or exc}") from exc
        if not addresses:
            raise ExchangeError(ExchangeFailure.CONNECT, f"{origin.host} resolves to no address")
        return [self._checked(address) for address in addresses]

    def _checked(self, address: str) -> str:
        self._policy.check_address(address)
        return address

    async def _start(self, origin: Origin, sock: socket.socket) -> Http1Connection:
        loop = asyncio.get_running_loop()
        try:
            peer = sock.getpeername()
            self._policy.check_address(str(peer[0]))
        except (AddressBlockedError, OSError):
            sock.close()
            raise
        try:
            transport, connection = await loop.create_connection(lambda: Http1Connection(loop), sock=sock)
        except BaseException:
            sock.close()
            raise
        if origin.scheme != "https":
            return connection
        try:
            tls = await loop.start_tls(transport, connection, self._tls, server_hostname=origin.host)
        except BaseException as exc:
            transport.abort()
            if isinstance(exc, ssl.SSLError | ssl.CertificateError | OSError) and not isinstance(
                exc, TimeoutError
            ):
                raise ExchangeError(ExchangeFailure.CONNECT, f"TLS with {origin.host} failed: {exc}") from exc
            raise
        if tls is None:
            raise ExchangeError(
                ExchangeFailure.CONNECT, f"TLS with {origin.host} failed: the connection closed"
            )
        connection.use_transport(tls)
        return connection
