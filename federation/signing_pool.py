"""Signatures computed in a child process, in micro-batches, off the event loop and off its GIL.

An RSA-2048 signature costs a few hundred microseconds of CPU, most of a delivery's cost. Threads of
the worker's own process signed before: ``cryptography`` releases the GIL while it computes, but every
signature has to take the GIL back from the busy event loop, and the loop lost as much time as the
threads gained (``bench/README.md``, session 5: 0.38 of the raw signing rate with one thread, 0.58–0.64
with a process). :class:`SigningPool` therefore starts one child process
(:mod:`federation.signing_child`) and talks to it over two pipes (:mod:`federation.signing_wire`):
the signatures asked for during one turn of the event loop leave in frames of ``batch``, each key is
sent once and kept under a handle, and the answers come back in order on the same loop. The child
holds keys in memory only and dies with its parent (its stdin closes).

If the child dies, the signatures it owed fail with :class:`SigningProcessError` (their deliveries are
retried later) and the next signature starts a new child, not before ``restart_delay`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import OrderedDict, deque
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from federation.errors import (
    SigningFailedError,
    SigningPoolClosedError,
    SigningProcessError,
    SigningProtocolError,
)
from federation.keys import PrivateKey, signature_algorithm
from federation.signing_wire import (
    HEADER,
    MAX_FRAME,
    OK,
    RESULTS,
    forget_frame,
    key_frame,
    parse_results,
    sign_frame,
)

__all__ = ["CHILD_MODULE", "SigningPool"]

logger = logging.getLogger("federation.signing")

CHILD_MODULE = "federation.signing_child"
"""The module the child process runs (``python -m``)."""

_Waiter = tuple["asyncio.Future[tuple[bytes, str]]", str]
_Pending = tuple[PrivateKey, bytes, "asyncio.Future[tuple[bytes, str]]", str]


class _Child:
    """One running child process: its pipes, the keys it holds and the batches it owes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        if process.stdin is None or process.stdout is None:
            raise SigningProcessError("the signing process was started without its pipes")
        self.process = process
        self.stdin = process.stdin
        self.stdout = process.stdout
        self.keys: OrderedDict[int, tuple[PrivateKey, int]] = OrderedDict()  # id(key) → (key, handle)
        self.batches: deque[tuple[int, list[_Waiter]]] = deque()
        self.next_handle = 0
        self.next_batch = 0
        self.reader: asyncio.Task[None] | None = None


class SigningPool:
    """Signs in one child process, batching the requests of one event-loop turn by ``batch``.

    Use it from one event loop, with ``async with`` (or :meth:`aclose`): closing waits, ``stop_timeout``
    seconds at most, for the signatures already asked for, then stops the child. ``keys`` bounds the
    keys the child holds (the least recently used are forgotten). A signing error is raised to the caller
    of :meth:`sign` only. ``python`` is the interpreter that runs the child (this one by default).
    """

    def __init__(
        self,
        *,
        batch: int = 16,
        keys: int = 1024,
        restart_delay: float = 1.0,
        stop_timeout: float = 10.0,
        python: str | None = None,
    ) -> None:
        if batch < 1 or keys < 1:
            raise ValueError("a signing pool needs a batch of at least one and room for at least one key")
        self._batch = batch
        self._max_keys = keys
        self._restart_delay = restart_delay
        self._stop_timeout = stop_timeout
        self._python = python or sys.executable
        self._root = str(Path(__file__).resolve().parent.parent)  # where `federation` is importable from
        self._child: _Child | None = None
        self._starting = asyncio.Lock()
        self._pending: list[_Pending] = []
        self._closed = False
        self._stopped_at: float | None = None
        self._stop_reason = ""
        self.restarts = 0
        """How many times a child had to be started again after one stopped."""

    @property
    def pid(self) -> int | None:
        """The process id of the running child, None before the first signature or after it stopped."""
        return None if self._child is None else self._child.process.pid

    async def sign(self, private_key: PrivateKey, data: bytes) -> tuple[bytes, str]:
        """The signature of ``data`` by ``private_key`` and its algorithm name (as ``keys.sign_bytes``)."""
        if self._closed:
            raise SigningPoolClosedError("the signing pool is closed")
        algorithm = signature_algorithm(private_key)
        if self._child is None:
            await self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[bytes, str]] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._dispatch)
        self._pending.append((private_key, data, future, algorithm))
        return await future

    async def _start(self) -> None:
        async with self._starting:
            if self._child is not None:
                return
            if self._closed:
                raise SigningPoolClosedError("the signing pool is closed")
            if self._stopped_at is not None:
                wait = self._stopped_at + self._restart_delay - time.monotonic()
                if wait > 0:
                    raise SigningProcessError(
                        f"the signing process stopped ({self._stop_reason}); a new one starts in {wait:.1f} s"
                    )
                self.restarts += 1
            self._child = await self._spawn()
            self._child.reader = asyncio.create_task(self._read(self._child), name="fedicoop-signing-reader")

    async def _spawn(self) -> _Child:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [self._root, env.get("PYTHONPATH")]))
        try:
            process = await asyncio.create_subprocess_exec(
                self._python,
                "-m",
                CHILD_MODULE,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            self._stopped_at, self._stop_reason = time.monotonic(), f"could not start: {exc}"
            raise SigningProcessError(f"the signing process could not start: {exc}") from exc
        return _Child(process)

    def _dispatch(self) -> None:
        """Send the signatures asked for during this loop turn, in frames of ``batch``."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        child = self._child
        if child is None:  # the child stopped between sign() and now
            self._fail([(future, algorithm) for _, _, future, algorithm in pending], self._lost_error())
            return
        frames: list[bytes] = []
        for start in range(0, len(pending), self._batch):
            chunk = pending[start : start + self._batch]
            items = [(self._handle(child, key, frames), data) for key, data, _, _ in chunk]
            batch_id = child.next_batch
            child.next_batch = (batch_id + 1) & 0xFFFFFFFF
            frames.append(sign_frame(batch_id, items))
            child.batches.append((batch_id, [(future, algorithm) for _, _, future, algorithm in chunk]))
        child.stdin.write(b"".join(frames))

    def _handle(self, child: _Child, key: PrivateKey, frames: list[bytes]) -> int:
        """The child's handle for ``key``: a ``K`` frame queued the first time, ``F`` for a key evicted."""
        known = child.keys.get(id(key))
        if known is not None:
            child.keys.move_to_end(id(key))
            return known[1]
        handle = child.next_handle
        child.next_handle += 1
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        frames.append(key_frame(handle, der))
        child.keys[id(key)] = (key, handle)  # the key is held, so its id is not reused meanwhile
        if len(child.keys) > self._max_keys:
            _, (_, evicted) = child.keys.popitem(last=False)
            frames.append(forget_frame(evicted))
        return handle

    async def _read(self, child: _Child) -> None:
        """Settle the batches in the order the child answers them, until its stdout ends."""
        reason = "its output ended"
        try:
            while True:
                header = await child.stdout.readexactly(HEADER.size)
                kind, length = HEADER.unpack(header)
                if kind != RESULTS or length > MAX_FRAME:
                    raise SigningProtocolError(f"the child sent a {kind!r} frame of {length} bytes")
                batch_id, results = parse_results(await child.stdout.readexactly(length))
                if not child.batches:
                    raise SigningProtocolError(f"the child answered batch {batch_id}, which nobody asked for")
                expected, waiters = child.batches[0]  # left in place when the answer is wrong
                if batch_id != expected or len(results) != len(waiters):
                    raise SigningProtocolError(
                        f"the child answered batch {batch_id} with {len(results)} results; "
                        f"batch {expected} of {len(waiters)} was due"
                    )
                child.batches.popleft()
                for (future, algorithm), (status, value) in zip(waiters, results, strict=True):
                    if future.done():  # the caller was cancelled meanwhile
                        continue
                    if status == OK:
                        future.set_result((value, algorithm))
                    else:
                        future.set_exception(SigningFailedError(value.decode("utf-8", "replace")))
        except asyncio.IncompleteReadError:
            pass
        except SigningProtocolError as exc:
            reason = str(exc)
            child.process.kill()
        code = await child.process.wait()
        self._forget(child, f"{reason}, exit status {code}")

    def _forget(self, child: _Child, reason: str) -> None:
        if self._child is child:
            self._child = None
        self._stopped_at, self._stop_reason = time.monotonic(), reason
        owed = [waiter for _, waiters in child.batches for waiter in waiters]
        child.batches.clear()
        if owed and not self._closed:
            logger.warning("the signing process stopped with %d signatures owed: %s", len(owed), reason)
        self._fail(owed, self._lost_error())

    def _lost_error(self) -> Exception:
        if self._closed:
            return SigningPoolClosedError("the signing pool closed before this signature was computed")
        return SigningProcessError(f"the signing process stopped: {self._stop_reason}")

    @staticmethod
    def _fail(waiters: list[_Waiter], error: Exception) -> None:
        for future, _ in waiters:
            if not future.done():
                future.set_exception(error)

    async def aclose(self) -> None:
        """Refuse new signatures, let the child answer those already asked for, then stop it."""
        if self._closed:
            return
        self._closed = True
        async with self._starting:
            child = self._child
        if child is None:
            return
        if self._pending:
            self._dispatch()
        child.stdin.close()
        if child.reader is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(child.reader), self._stop_timeout)
        except TimeoutError:
            child.process.kill()
            await child.reader

    async def __aenter__(self) -> SigningPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
