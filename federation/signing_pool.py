"""Signatures computed off the event loop: a few threads sign in micro-batches.

An RSA-2048 signature costs a few hundred microseconds of CPU, most of a delivery's cost, and
``cryptography`` releases the GIL while it signs. :class:`SigningPool` hands the signatures asked for
during one turn of the event loop to its threads in batches of ``batch``: one hand-over per batch
rather than per signature (a hand-over costs tens of microseconds), and the loop keeps sending and
receiving while the threads sign. ``bench/README.md`` has the measurement that chose it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from federation.cavage import sign_bytes
from federation.errors import SigningPoolClosedError
from federation.keys import PrivateKey

__all__ = ["SigningPool"]


_Pending = tuple[PrivateKey, bytes, "asyncio.Future[tuple[bytes, str]]"]


class SigningPool:
    """Signs on ``threads`` threads, batching the requests of one event-loop turn by ``batch``.

    Use it from one event loop; :meth:`close` (or ``async with``) stops the threads once the
    signatures asked for are done. A signing error is raised to the caller of :meth:`sign` only.
    """

    def __init__(self, threads: int = 2, batch: int = 16) -> None:
        if threads < 1 or batch < 1:
            raise ValueError("a signing pool needs at least one thread and a batch of at least one")
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fedicoop-sign")
        self._batch = batch
        self._pending: list[_Pending] = []
        self._closed = False

    async def sign(self, private_key: PrivateKey, data: bytes) -> tuple[bytes, str]:
        """The signature of ``data`` by ``private_key`` and its algorithm name (``cavage.sign_bytes``)."""
        if self._closed:
            raise SigningPoolClosedError("the signing pool is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[bytes, str]] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._dispatch, loop)
        self._pending.append((private_key, data, future))
        return await future

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), self._batch):
            batch = pending[start : start + self._batch]
            self._executor.submit(self._sign_batch, loop, batch)

    @staticmethod
    def _sign_batch(loop: asyncio.AbstractEventLoop, batch: list[_Pending]) -> None:
        results: list[tuple[bytes, str] | BaseException] = []
        for private_key, data, _ in batch:
            try:
                results.append(sign_bytes(private_key, data))
            except Exception as exc:  # handed to the caller that asked for this signature
                results.append(exc)
        try:
            loop.call_soon_threadsafe(_settle, [future for _, _, future in batch], results)
        except RuntimeError:  # the loop is closed: nobody waits for these signatures any more
            pass

    def close(self) -> None:
        """Refuse new signatures and wait for the threads to finish the ones handed to them."""
        self._closed = True
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> SigningPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


def _settle(
    futures: list[asyncio.Future[tuple[bytes, str]]], results: list[tuple[bytes, str] | BaseException]
) -> None:
    for future, result in zip(futures, results, strict=True):
        if future.done():  # the caller was cancelled meanwhile
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
