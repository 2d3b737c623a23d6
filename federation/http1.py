"""One HTTP/1.1 client connection: the request written whole, the response head awaited, the body streamed.

:class:`Http1Connection` is an asyncio protocol around ``httptools``' response parser (llhttp, the parser
of Node.js): one exchange at a time, keep-alive when the peer allows it, reading paused while more than
``HIGH_WATER`` body bytes wait to be consumed, so a peer that sends 100 MB fills no memory. Bodies
delimited by the connection's end (no ``Content-Length``, not chunked) are supported; 1xx interim
answers are skipped; upgrades are refused. Every failure is an :class:`~federation.errors.ExchangeError`
saying where it happened; a reused connection that the peer had closed before it answered anything fails
with ``CLOSED``, which the pool may retry once on a new connection. No address check, no TLS, no httpx
here: :mod:`federation.pool` opens connections behind the address policy and :mod:`federation.transport`
speaks httpx.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence

import httptools

from federation.errors import ExchangeError, ExchangeFailure

__all__ = ["HIGH_WATER", "LOW_WATER", "Http1Connection", "encode_request"]

HIGH_WATER = 256 * 1024
"""Body bytes buffered before the connection stops reading from the socket."""

LOW_WATER = 64 * 1024
"""Body bytes buffered below which reading resumes."""

_NO_BODY_STATUSES = frozenset({204, 304})


def encode_request(method: str, target: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes) -> bytes:
    """The bytes of an HTTP/1.1 request; refuses CR, LF or NUL in the target or a header (no injection).

    The head is checked once, whole: it must hold no NUL and exactly one CRLF per line, no other CR or LF.

    >>> encode_request("POST", b"/inbox", [(b"Host", b"a.example"), (b"Content-Length", b"2")], b"{}")
    b'POST /inbox HTTP/1.1\\r\\nHost: a.example\\r\\nContent-Length: 2\\r\\n\\r\\n{}'
    """
    if not target.startswith((b"/", b"*")) or b" " in target:
        raise ExchangeError(ExchangeFailure.LOCAL_PROTOCOL, f"{target!r} is not a request target")
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        parts += [name, b": ", value, b"\r\n"]
    parts.append(b"\r\n")
    head = b"".join(parts)
    lines = len(headers) + 2  # the request line, the headers, the empty line
    if b"\x00" in head or not head.count(b"\r") == head.count(b"\n") == head.count(b"\r\n") == lines:
        raise ExchangeError(ExchangeFailure.LOCAL_PROTOCOL, "the target or a header holds a forbidden byte")
    return head + body


class Http1Connection(asyncio.Protocol):
    """A client connection carrying one HTTP/1.1 exchange at a time (see the module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.BaseTransport | None = None
        self.exchanges = 0
        """How many exchanges this connection started (the first one is on a fresh connection)."""
        self.idle_since = time.monotonic()
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._writable = True
        self._reading_paused = False
        self._in_use = False
        self._begin_exchange_state()

    def _begin_exchange_state(self) -> None:
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_done = False
        self._interim = False
        self._complete = False
        self._until_close = False
        self._keep_alive = False
        self._received = False
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._error: ExchangeError | None = None

    # --- asyncio protocol callbacks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport (the plain TCP one; :meth:`use_transport` swaps in TLS)."""
        self.transport = transport

    def use_transport(self, transport: asyncio.BaseTransport) -> None:
        """Carry on over ``transport`` (the TLS transport started on this connection's socket)."""
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Feed the parser; bytes outside an exchange, or that do not parse, end the connection."""
        if not self._in_use or self._complete:
            self._fail(ExchangeFailure.PROTOCOL, "the server sent bytes outside of a response")
            self.close()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ExchangeFailure.PROTOCOL, "the server switched protocols, which we never ask for")
            self.close()
        except httptools.HttpParserError as exc:
            self._fail(ExchangeFailure.PROTOCOL, f"the response does not parse: {exc}")
            self.close()

    def eof_received(self) -> bool | None:
        """The server closed its side: the end of a close-delimited body, or a failure."""
        self._ended("the server closed the connection")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: finish a close-delimited body, or fail the exchange."""
        self.closed = True
        self._ended(f"the connection was lost: {exc}" if exc else "the server closed the connection")

    def pause_writing(self) -> None:
        """The socket's send buffer is full."""
        self._writable = False

    def resume_writing(self) -> None:
        """The send buffer drained."""
        self._writable = True
        self._wake()

    # --- parser callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        """A new response (after an interim one, the final one); a second final one is refused."""
        if self._complete:
            self._fail(ExchangeFailure.PROTOCOL, "the server sent more than one response")
            raise _StopParsing  # nothing of it may reach the exchange; the connection is dropped
        self._headers = []
        self._interim = False

    def on_header(self, name: bytes, value: bytes) -> None:
        """One whole header line."""
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        """The head is complete: note the status and how the body ends, wake the exchange."""
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self._interim = True
            return
        self._status = status
        self._head_done = True
        names = {name.lower() for name, _ in self._headers}
        self._until_close = (
            b"content-length" not in names
            and b"transfer-encoding" not in names
            and status not in _NO_BODY_STATUSES
        )
        self._wake()

    def on_body(self, body: bytes) -> None:
        """Body bytes: buffer them; pause reading when too many wait."""
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()  # type: ignore[attr-defined]
        self._wake()

    def on_message_complete(self) -> None:
        """The response ended; an interim one leaves the exchange waiting for the final one."""
        if self._interim:
            return
        self._complete = True
        self._keep_alive = self._parser.should_keep_alive()
        self._wake()

    # --- the exchange ------------------------------------------------------------------------------

    def reusable(self, now: float, expiry: float) -> bool:
        """Whether this idle connection may carry another exchange (open, clean, not idle too long)."""
        transport = self.transport
        return (
            not self.closed
            and not self._in_use
            and self._error is None
            and transport is not None
            and not transport.is_closing()
            and now - self.idle_since < expiry
        )

    async def send(
        self, request: bytes, write_timeout: float | None, read_timeout: float | None
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Write ``request`` (head and body) and wait for the response head: its status and headers."""
        transport = self.transport
        if transport is None or self.closed or transport.is_closing():
            raise ExchangeError(ExchangeFailure.CLOSED, "the connection closed before the request was sent")
        self._begin_exchange_state()
        self._in_use = True
        self.exchanges += 1
        transport.write(request)  # type: ignore[attr-defined]
        while not self._writable and self._error is None:
            await self._wait(
                write_timeout, ExchangeFailure.WRITE_TIMEOUT, "the server did not read the request"
            )
        while not self._head_done:
            if self._error is not None:
                raise self._error
            await self._wait(read_timeout, ExchangeFailure.READ_TIMEOUT, "no response came in time")
        return self._status, self._headers

    async def read(self, read_timeout: float | None) -> bytes:
        """The next body chunk, ``b""`` once the body is complete."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._reading_paused and self._buffered < LOW_WATER and self.transport is not None:
                    self._reading_paused = False
                    self.transport.resume_reading()  # type: ignore[attr-defined]
                return chunk
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error
            await self._wait(read_timeout, ExchangeFailure.READ_TIMEOUT, "the body stopped coming")

    def finish(self) -> bool:
        """End the exchange; True when the connection can be kept for another, else it is closed."""
        reuse = (
            self._complete
            and self._keep_alive
            and not self._chunks
            and self._error is None
            and not self.closed
        )
        self._in_use = False
        if reuse:
            self.idle_since = time.monotonic()
        else:
            self.close()
        return reuse

    def close(self) -> None:
        """Drop the connection at once (an exchange left midway cannot be resumed)."""
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()  # type: ignore[attr-defined]

    # --- helpers -----------------------------------------------------------------------------------

    def _ended(self, why: str) -> None:
        if self._head_done and self._until_close and not self._complete:
            self._complete = True  # a body delimited by the end of the connection
            self._keep_alive = False
        elif self._in_use and not self._complete:
            if not self._received and self.exchanges > 1:
                self._fail(ExchangeFailure.CLOSED, f"{why} before answering (a stale kept-alive connection)")
            elif not self._head_done:
                self._fail(ExchangeFailure.PROTOCOL, f"{why} without sending a complete response head")
            else:
                self._fail(ExchangeFailure.PROTOCOL, f"{why} before the end of the response body")
        self._wake()

    def _fail(self, failure: ExchangeFailure, message: str) -> None:
        if self._error is None:
            self._error = ExchangeError(failure, message)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self, seconds: float | None, failure: ExchangeFailure, message: str) -> None:
        waiter = self._waiter = self._loop.create_future()
        timer = None if seconds is None else self._loop.call_later(seconds, _expire, waiter, failure, message)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()


class _StopParsing(Exception):
    """Raised from a parser callback to stop parsing a connection that already failed."""


def _expire(waiter: asyncio.Future[None], failure: ExchangeFailure, message: str) -> None:
    if not waiter.done():
        waiter.set_exception(ExchangeError(failure, message))
