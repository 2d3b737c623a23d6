"""ConnectionPool: places, idle connections and closing, on real loopback sockets."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import pytest

from federation.errors import AddressBlockedError, ExchangeError, ExchangeFailure
from federation.http1 import encode_request
from federation.pool import ConnectionPool, Origin
from federation.ssrf import AddressPolicy

REQUEST = encode_request("GET", b"/", [(b"Host", b"127.0.0.1")], b"")


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield Origin("http", "127.0.0.1", server.sockets[0].getsockname()[1])
    server.close()


def _pool(**options: int | float) -> ConnectionPool:
    return ConnectionPool(
        AddressPolicy(insecure_peers=True),
        tls=ssl.create_default_context(),
        **options,  # type: ignore[arg-type]
    )


async def _exchange(pool: ConnectionPool, origin: Origin, *, pool_timeout: float | None = 5) -> bytes:
    connection = await pool.acquire(origin, connect_timeout=5, pool_timeout=pool_timeout)
    try:
        await connection.send(REQUEST, 5, 5)
        body = b""
        while chunk := await connection.read(5):
            body += chunk
    except BaseException:
        pool.discard(connection)
        raise
    pool.release(origin, connection)
    return body


@pytest.mark.anyio
async def test_places_are_bounded_handed_over_and_all_given_back(origin: Origin) -> None:
    pool = _pool(max_connections=2)
    bodies = await asyncio.gather(*(_exchange(pool, origin) for _ in range(20)))
    assert bodies == [b"ok"] * 20
    assert (pool.busy, pool.idle) == (0, 2)
    held = [await pool.acquire(origin, connect_timeout=5, pool_timeout=5) for _ in range(2)]
    assert pool.busy == 2
    waiting = [asyncio.create_task(_exchange(pool, origin)) for _ in range(3)]
    await asyncio.sleep(0.01)
    waiting[1].cancel()  # a waiter that gives up keeps no place
    with pytest.raises(ExchangeError) as timed_out:
        await _exchange(pool, origin, pool_timeout=0.05)
    assert timed_out.value.failure is ExchangeFailure.POOL_TIMEOUT
    for connection in held:
        pool.discard(connection)
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert results[0] == results[2] == b"ok"
    assert isinstance(results[1], asyncio.CancelledError)
    assert pool.busy == 0
    await pool.aclose()
    assert pool.idle == 0
    with pytest.raises(ExchangeError, match="closed"):
        await pool.acquire(origin, connect_timeout=5, pool_timeout=5)


@pytest.mark.anyio
async def test_idle_connections_are_bounded_oldest_closed_first(origin: Origin) -> None:
    pool = _pool(max_connections=10, max_idle=2)
    held = [await pool.acquire(origin, connect_timeout=5, pool_timeout=5) for _ in range(4)]
    for connection in held:
        await connection.send(REQUEST, 5, 5)
        while await connection.read(5):
            pass
        pool.release(origin, connection)
    assert (pool.busy, pool.idle) == (0, 2)
    assert [connection.closed for connection in held] == [True, True, False, False]
    again = await pool.acquire(origin, connect_timeout=5, pool_timeout=5)
    assert again is held[3]  # the most recently used first
    pool.release(origin, again)
    await pool.aclose()
    assert all(connection.closed for connection in held)


@pytest.mark.anyio
async def test_a_refused_address_costs_no_place_and_no_connection(origin: Origin) -> None:
    pool = ConnectionPool(AddressPolicy(), tls=ssl.create_default_context(), max_connections=1)
    for _ in range(3):
        with pytest.raises(AddressBlockedError, match="loopback"):
            await pool.acquire(origin, connect_timeout=5, pool_timeout=0.1)
    assert pool.busy == 0


def test_a_pool_needs_a_place() -> None:
    with pytest.raises(ValueError, match="at least one connection"):
        _pool(max_connections=0)
