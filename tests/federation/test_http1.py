"""Our HTTP/1.1 client (federation.http1 on federation.pool) against raw loopback servers.

Each server here is an asyncio TCP server whose handler reads request heads and writes exactly the bytes
a test needs: chunked and close-delimited bodies, interim answers, garbage, upgrades, truncations,
connections closed while kept alive, peers that never read, and a body of 100 MB.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from federation.errors import ExchangeError, ExchangeFailure, ResponseTooLargeError
from federation.http import (
    HttpPolicy,
    LocalProtocolError,
    ReadTimeout,
    RemoteProtocolError,
    UnsupportedProtocol,
    WriteTimeout,
    bounded_request,
    client_factory,
)
from federation.http1 import HIGH_WATER, encode_request
from federation.ssrf import AddressPolicy
from federation.transport import GuardedTransport
from tests.federation.loopback import LOOSE

Handler = Callable[["Connection"], Awaitable[None]]


@dataclass
class Connection:
    """One accepted connection: read request heads, write raw answers."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    requests: list[bytes] = field(default_factory=list)

    async def head(self) -> bytes:
        """The next request head (and its body when Content-Length says so); b"" when the client hung up."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return b""
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                head += await self.reader.readexactly(int(line.split(b":")[1]))
        self.requests.append(head)
        return head

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


@dataclass
class Server:
    port: int
    connections: list[Connection]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Server]:
    connections: list[Connection] = []
    tasks: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(reader, writer)
        connections.append(connection)
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(connection)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield Server(server.sockets[0].getsockname()[1], connections)
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.sleep(0.01)


def answer(body: bytes, *extra: str) -> bytes:
    headers = "".join(f"{line}\r\n" for line in extra)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


async def keep_answering(connection: Connection) -> None:
    while await connection.head():
        await connection.send(answer(b"hello"))


def loose(**options: object) -> GuardedTransport:
    return GuardedTransport(AddressPolicy(insecure_peers=True), **options)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_kept_alive__one_connection_for_many_requests() -> None:
    async with serving(keep_answering) as server, client_factory(LOOSE) as client:
        for index in range(5):
            response = await client.post(server.url(f"/inbox/{index}"), content=b'{"n":%d}' % index)
            assert (response.status_code, response.content) == (200, b"hello")
    assert len(server.connections) == 1
    assert [request.split(b" ")[1] for request in server.connections[0].requests] == [
        f"/inbox/{index}".encode() for index in range(5)
    ]
    assert server.connections[0].requests[0].endswith(b'\r\n\r\n{"n":0}')


@pytest.mark.anyio
async def test_chunked_body_is_decoded_and_the_connection_kept() -> None:
    async def chunked(connection: Connection) -> None:
        while await connection.head():
            await connection.send(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )

    async with serving(chunked) as server, client_factory(LOOSE) as client:
        first = await client.get(server.url())
        second = await client.get(server.url())
    assert (first.content, second.content) == (b"hello world", b"hello world")
    assert len(server.connections) == 1


@pytest.mark.anyio
async def test_a_body_delimited_by_the_end_of_the_connection_is_read_whole_and_not_kept() -> None:
    async def until_close(connection: Connection) -> None:
        await connection.head()
        await connection.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        connection.writer.close()

    async with serving(until_close) as server, client_factory(LOOSE) as client:
        first = await client.get(server.url())
        second = await client.get(server.url())
    assert (first.content, second.content) == (b"all of it", b"all of it")
    assert len(server.connections) == 2


@pytest.mark.anyio
async def test_interim_answers_are_skipped() -> None:
    async def early_hints(connection: Connection) -> None:
        await connection.head()
        await connection.send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        await connection.send(answer(b"final", "X-Final: yes"))

    async with serving(early_hints) as server, client_factory(LOOSE) as client:
        response = await client.get(server.url())
    assert (response.status_code, response.content, response.headers["x-final"]) == (200, b"final", "yes")
    assert "link" not in response.headers


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "does not parse"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", "does not parse"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "switch"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "before the end of the response body"),
        (b"HTTP/1.1 200 OK\r\nContent-", "without sending a complete response head"),
    ],
)
async def test_broken_answers_are_remote_protocol_errors(reply: bytes, message: str) -> None:
    accepted: list[Connection] = []

    async def broken_first(connection: Connection) -> None:
        accepted.append(connection)
        if len(accepted) > 1:
            await keep_answering(connection)
            return
        await connection.head()
        await connection.send(reply)
        connection.writer.close()

    async with serving(broken_first) as server, client_factory(LOOSE) as client:
        with pytest.raises(RemoteProtocolError, match=message):
            response = await client.get(server.url())
            await response.aread()
        after = await client.get(server.url())  # the broken connection is dropped, the client goes on
    assert (after.status_code, after.content) == (200, b"hello")
    assert len(server.connections) == 2


@pytest.mark.anyio
async def test_a_kept_connection_closed_by_the_peer_is_retried_once_on_a_new_one() -> None:
    async def once_per_connection(connection: Connection) -> None:
        await connection.head()
        await connection.send(answer(b"first"))
        await connection.head()  # the second request on this connection: hang up without answering

    async with serving(once_per_connection) as server, client_factory(LOOSE) as client:
        first = await client.post(server.url("/inbox"), content=b"one")
        second = await client.post(server.url("/inbox"), content=b"two")
    assert (first.content, second.content) == (b"first", b"first")
    assert len(server.connections) == 2
    assert server.connections[0].requests[1].endswith(b"two")
    assert server.connections[1].requests[0].endswith(b"two")


@pytest.mark.anyio
@pytest.mark.parametrize("extra", [b"unsolicited", answer(b"smuggled")])
async def test_bytes_sent_outside_a_response_drop_the_kept_connection(extra: bytes) -> None:
    async def chatty(connection: Connection) -> None:
        while await connection.head():
            await connection.send(answer(b"hello") + extra)

    async with serving(chatty) as server, client_factory(LOOSE) as client:
        first = await client.get(server.url())
        await asyncio.sleep(0.05)
        second = await client.get(server.url())
    assert (first.content, second.content) == (b"hello", b"hello")
    assert len(server.connections) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers", [{"X-Evil": "a\r\nInjected: 1"}, {"X-Evil": "a\nInjected: 1"}, {"X-Evil": "a\x00b"}]
)
async def test_header_injection_is_refused_before_connecting(headers: dict[str, str]) -> None:
    async with serving(keep_answering) as server, client_factory(LOOSE) as client:
        with pytest.raises(LocalProtocolError, match="forbidden byte"):
            await client.get(server.url(), headers=headers)
    assert server.connections == []


@pytest.mark.anyio
async def test_the_pool_bound_queues_requests_instead_of_failing() -> None:
    async def slow(connection: Connection) -> None:
        while await connection.head():
            await asyncio.sleep(0.05)
            await connection.send(answer(b"hello"))

    policy = HttpPolicy(user_agent="t", insecure_peers=True, max_connections=1, pool_timeout=5)
    transport = loose(limits=policy.limits())
    async with serving(slow) as server, client_factory(policy, transport=transport) as client:
        responses = await asyncio.gather(*(client.get(server.url(f"/{index}")) for index in range(4)))
    assert [response.status_code for response in responses] == [200] * 4
    assert len(server.connections) == 1


@pytest.mark.anyio
async def test_idle_connections_expire() -> None:
    policy = HttpPolicy(user_agent="t", insecure_peers=True, keepalive_expiry=0.2)
    async with serving(keep_answering) as server:
        async with client_factory(policy, transport=loose(limits=policy.limits())) as client:
            await client.get(server.url())
            await client.get(server.url())
            await asyncio.sleep(0.3)
            await client.get(server.url())
    assert len(server.connections) == 2


@pytest.mark.anyio
async def test_a_huge_body_is_cut_at_the_cap_and_never_buffered_whole() -> None:
    sent: list[int] = []

    async def flood(connection: Connection) -> None:
        await connection.head()
        size = 100 * 1024 * 1024
        await connection.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
        block = b"x" * 65536
        total = 0
        while total < size:
            connection.writer.write(block)
            await connection.writer.drain()
            total += len(block)
            sent.append(total)

    async with serving(flood) as server, client_factory(LOOSE) as client:
        with pytest.raises(ResponseTooLargeError, match="more than 1048576 bytes"):
            await bounded_request(client, "GET", server.url(), policy=LOOSE, max_bytes=1024 * 1024)
        await asyncio.sleep(0.1)
    assert max(sent) < 20 * 1024 * 1024, "the reader kept reading far past the cap"
    assert HIGH_WATER < 1024 * 1024


@pytest.mark.anyio
async def test_a_peer_that_never_reads_is_a_write_timeout() -> None:
    async def deaf(connection: Connection) -> None:
        await asyncio.sleep(10)

    policy = HttpPolicy(user_agent="t", insecure_peers=True, write_timeout=0.2, total_timeout=20)
    async with serving(deaf) as server, client_factory(policy) as client:
        with pytest.raises(WriteTimeout, match="did not read the request"):
            await client.post(server.url("/inbox"), content=b"x" * 64 * 1024 * 1024)


@pytest.mark.anyio
async def test_a_slow_body_is_a_read_timeout_and_the_connection_is_not_kept() -> None:
    async def stalls(connection: Connection) -> None:
        while await connection.head():
            await connection.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")

    policy = HttpPolicy(user_agent="t", insecure_peers=True, read_timeout=0.2)
    async with serving(stalls) as server, client_factory(policy) as client:
        for _ in range(2):
            with pytest.raises(ReadTimeout, match="the body stopped coming"):
                await client.get(server.url())
    assert len(server.connections) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["HEAD", "CONNECT"])
async def test_methods_whose_answers_have_no_readable_length_are_refused(method: str) -> None:
    async with serving(keep_answering) as server, client_factory(LOOSE) as client:
        with pytest.raises(UnsupportedProtocol, match=f"{method} requests are not sent"):
            await client.request(method, server.url())
    assert server.connections == []


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        (b"/a\r\nX: 1", [(b"Host", b"h")]),
        (b"/a HTTP/1.0", [(b"Host", b"h")]),
        (b"http://h/a", [(b"Host", b"h")]),
        (b"/a", [(b"Host\r\nX", b"h")]),
        (b"/a", [(b"Host", b"h\r")]),
        (b"/a", [(b"Host", b"h\nX: 1")]),
        (b"/a", [(b"Host", b"h\x00")]),
        (b"/a", [(b"Host", b"h\r\n\r\nGET /smuggled HTTP/1.1")]),
    ],
)
def test_encode_request__refuses_what_could_split_the_request(
    target: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    with pytest.raises(ExchangeError) as refused:
        encode_request("GET", target, headers, b"")
    assert refused.value.failure is ExchangeFailure.LOCAL_PROTOCOL


def test_encode_request__writes_names_as_given_and_the_body_after_the_head() -> None:
    data = encode_request("POST", b"/inbox?x=1", [(b"Host", b"h:8080"), (b"X-Odd-Case", b"v")], b"\r\n{}")
    assert data == b"POST /inbox?x=1 HTTP/1.1\r\nHost: h:8080\r\nX-Odd-Case: v\r\n\r\n\r\n{}"
