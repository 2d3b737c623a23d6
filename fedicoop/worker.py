"""The background worker: a loop over jobs that each drain one queue of the database (no broker).

:class:`Worker` calls its jobs in turn and sleeps when none found work; :class:`DeliveryJob` is the
delivery queue's job (wire-format §11). It claims due rows under a lease, posts each with the
network's :class:`~federation.delivery.Deliverer` (the body serialised once per activity, ``bto``/``bcc``
removed), at most ``concurrency`` at once and 4 per host, and records results in bulk as they come
back. Posting runs in background tasks, so a slow peer holds only its own rows. :func:`running_worker`
runs a worker beside the web app (``fedicoop serve``) or alone (``fedicoop worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from federation.addressing import without_blind
from federation.delivery import DeliveryResult, Outcome, Payload
from federation.fetch import Signer
from fedicoop.clock import Clock
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor
from fedicoop.models.deliveries import Delivery
from fedicoop.network import Network
from fedicoop.services import deliveries

__all__ = [
    "PER_HOST",
    "DeliveryJob",
    "Drainable",
    "Job",
    "Worker",
    "delivery_job",
    "running_worker",
    "serialise",
    "worker_id",
]

logger = logging.getLogger("fedicoop.worker")

PER_HOST = 4
"""At most this many concurrent POSTs to one host (wire-format §11)."""

BODY_CACHE = 256
"""Serialised activity bodies kept by a delivery job (a fan-out is claimed in several batches)."""


class Job(Protocol):
    """One kind of background work: handle what is due at ``now`` and say how much (0 when idle)."""

    async def __call__(self, now: datetime) -> int:
        """Handle due work; return the number of rows handled (0: nothing to do)."""
        ...


@runtime_checkable
class Drainable(Protocol):
    """A job with work in flight that it can finish before the worker stops."""

    async def drain(self) -> None:
        """Wait for the work in flight and record it."""
        ...


def worker_id() -> str:
    """A name for this worker process, unique across machines: host, pid and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def serialise(document: dict[str, object]) -> bytes:
    """The exact bytes posted for an activity: compact UTF-8 JSON without ``bto``/``bcc``.

    >>> serialise({"id": "https://a.example/1", "bcc": ["https://b.example/u"], "content": "é"})
    b'{"id":"https://a.example/1","content":"\\xc3\\xa9"}'
    """
    return json.dumps(without_blind(document), ensure_ascii=False, separators=(",", ":")).encode()


class DeliveryJob:
    """Claims due deliveries ahead and posts them in background tasks; results are recorded in bulk.

    Each call starts posting backlog rows while fewer than ``concurrency`` are in flight, records the
    attempts that finished (in bulk), and claims more rows (one claim for many) so that at most
    ``concurrency`` are claimed and not yet recorded, then starts those. While
    fewer than a quarter of the places are free it waits (``poll`` seconds at most) for more, so a busy
    job neither makes the worker sleep nor queries once per row. A row whose lease would run out before
    its turn comes is given back unattempted.
    """

    def __init__(
        self,
        network: Network,
        worker_id: str,
        *,
        concurrency: int,
        rng: random.Random,
        per_host: int = PER_HOST,
        lease: timedelta = deliveries.LEASE,
        poll: float = 0.5,
        drain_timeout: float = 10.0,
    ) -> None:
        self.network = network
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.rng = rng
        self.lease = lease
        self.poll = poll
        self.drain_timeout = drain_timeout
        self._per_host = per_host
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._backlog: deque[tuple[Delivery, Payload, str]] = deque()
        self._tasks: dict[asyncio.Task[None], Delivery] = {}
        self._done: list[tuple[Delivery, DeliveryResult]] = []
        self._expired: list[Delivery] = []
        self._activities: OrderedDict[uuid.UUID, tuple[Payload, str]] = OrderedDict()
        self._signers: dict[str, Signer] = {}
        self._signer_lock = asyncio.Lock()

    @property
    def in_flight(self) -> int:
        """Rows claimed and not yet recorded (waiting in the backlog, being posted, or posted)."""
        return len(self._backlog) + len(self._tasks) + len(self._done)

    async def __call__(self, now: datetime) -> int:
        """Record finished attempts, claim ahead, start posting; return rows recorded plus rows claimed."""
        await self._wait_for_room()
        self._start_backlog()  # refill the places first: recording and claiming take a while
        handled = await self._flush()
        room = self.concurrency - len(self._backlog) - len(self._tasks)
        if room >= max(1, self.concurrency // 4) or not (self._backlog or self._tasks):
            handled += await self._claim(room)
        self._start_backlog()
        if not handled and self._tasks:  # the queue is drained: wait for an attempt, not idle_sleep
            await asyncio.wait(self._tasks, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
            return await self._flush()
        return handled

    async def _claim(self, limit: int) -> int:
        """Claim up to ``limit`` due rows into the backlog; return how many were claimed."""
        clock = self.network.node.clock
        rows = await deliveries.claim_due(self.worker_id, clock(), limit, self.lease)
        if not rows:
            return 0
        claimed = len(rows)
        rows = await deliveries.screen_unavailable(rows, clock())
        activities = await self._load_activities(rows)
        for row in rows:
            payload, actor_iri = activities[row.activity_id]  # type: ignore[attr-defined]
            self._backlog.append((row, payload, actor_iri))
        return claimed

    def _start_backlog(self) -> None:
        while self._backlog and len(self._tasks) < self.concurrency:
            row, payload, actor_iri = self._backlog.popleft()
            task = asyncio.create_task(self._deliver(row, payload, actor_iri))
            self._tasks[task] = row
            task.add_done_callback(self._forget)

    async def _wait_for_room(self) -> None:
        """While fewer than a quarter of the places are free, wait (``poll`` seconds at most) for more.

        Claims and records then go in batches rather than one query per finished row.
        """
        refill = max(1, self.concurrency // 4)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.poll
        while self._tasks and self.concurrency - len(self._tasks) < refill:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await asyncio.wait(set(self._tasks), timeout=remaining, return_when=asyncio.FIRST_COMPLETED)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    async def drain(self) -> None:
        """Finish the attempts in flight (for ``drain_timeout`` at most) and record them.

        Attempts still running after that are cancelled and their rows given back to the queue, as are
        the backlog's rows (never attempted).
        """
        self._expired.extend(row for row, _, _ in self._backlog)
        self._backlog.clear()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.drain_timeout)
            for task in pending:
                self._expired.append(self._tasks[task])
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        await self._flush()

    async def _flush(self) -> int:
        done, self._done = self._done, []
        expired, self._expired = self._expired, []
        if expired:
            await deliveries.release(expired)
        if done:
            await deliveries.record_results(done, self.network.node.clock(), self.rng)
        return len(done)

    async def _load_activities(self, rows: Sequence[Delivery]) -> dict[uuid.UUID, tuple[Payload, str]]:
        """The posted payload and the actor of each activity of ``rows``; one query for those not cached."""
        wanted: set[uuid.UUID] = {row.activity_id for row in rows}  # type: ignore[attr-defined]
        missing = [activity_id for activity_id in wanted if activity_id not in self._activities]
        if missing:
            for activity in await Activity.filter(id__in=missing):
                self._activities[activity.id] = (Payload.of(serialise(activity.document)), activity.actor_iri)
        found = {}
        for activity_id in wanted:
            self._activities.move_to_end(activity_id)
            found[activity_id] = self._activities[activity_id]
        while len(self._activities) > BODY_CACHE:
            self._activities.popitem(last=False)
        return found

    async def _signer(self, actor_iri: str) -> Signer:
        signer = self._signers.get(actor_iri)
        if signer is not None:
            return signer
        async with self._signer_lock:  # the first rows of a batch start at once: load the key once
            return await self._load_signer(actor_iri)

    async def _load_signer(self, actor_iri: str) -> Signer:
        signer = self._signers.get(actor_iri)
        if signer is None:
            urls = self.network.node.urls
            if actor_iri == urls.application_actor:
                signer = self.network.app_signer
            else:
                actor = await Actor.get(username=urls.local_username(actor_iri))
                signer = await self.network.signer_for(actor)
            self._signers[actor_iri] = signer
        return signer

    def _slot(self, host: str) -> asyncio.Semaphore:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self._per_host)
        return slot

    async def _deliver(self, row: Delivery, payload: Payload, actor_iri: str) -> None:
        network = self.network
        clock = network.node.clock
        margin = timedelta(seconds=network.policy.total_timeout)
        try:
            async with self._slot(row.host):
                if row.locked_until is not None and clock() >= row.locked_until - margin:
                    self._expired.append(row)
                    return
                signer = await self._signer(actor_iri)
                result = await network.deliverer.post(row.inbox, payload, signer)
        except Exception as exc:  # a bug or a lost database must not lose the row: it is retried
            logger.exception("delivery %s to %s failed unexpectedly", row.id, row.inbox)
            result = DeliveryResult(Outcome.RETRY, None, f"internal error: {type(exc).__name__}: {exc}")
        self._done.append((row, result))


class Worker:
    """Runs jobs in turn until stopped, sleeping ``idle_sleep`` when none had work (longer after errors).

    A job that raises is logged and the loop goes on: the rows it claimed come back when their lease
    expires. On stop, jobs with work in flight (:class:`Drainable`) finish it.
    """

    def __init__(
        self, jobs: Sequence[Job], clock: Clock, *, idle_sleep: float = 0.5, error_sleep: float = 5.0
    ) -> None:
        self.jobs = list(jobs)
        self.clock = clock
        self.idle_sleep = idle_sleep
        self.error_sleep = error_sleep
        self.errors = 0

    async def run_once(self) -> int:
        """Call every job once; return the rows they handled."""
        handled = 0
        for job in self.jobs:
            try:
                handled += await job(self.clock())
            except Exception:
                self.errors += 1
                logger.exception("worker job %s failed", type(job).__name__)
        return handled

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until ``stop`` is set, then drain the jobs."""
        while not stop.is_set():
            errors = self.errors
            if await self.run_once() == 0:
                pause = self.error_sleep if self.errors > errors else self.idle_sleep
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
        for job in self.jobs:
            if isinstance(job, Drainable):
                try:
                    await job.drain()
                except Exception:
                    logger.exception("draining worker job %s failed", type(job).__name__)


def delivery_job(network: Network, name: str, rng: random.Random | None = None) -> DeliveryJob:
    """The delivery job of a node, with its settings' concurrency and lease."""
    return DeliveryJob(
        network,
        name,
        concurrency=network.node.settings.worker_concurrency,
        rng=rng or random.SystemRandom(),
        lease=timedelta(seconds=network.node.settings.delivery_lease_seconds),
    )


@contextlib.asynccontextmanager
async def running_worker(
    network: Network, *, extra_jobs: Sequence[Job] = (), name: str | None = None
) -> AsyncIterator[Worker]:
    """Run the node's worker (the delivery job, then ``extra_jobs``) in a task for the ``async with`` body.

    Leaving the block stops the loop and drains the deliveries in flight. Enter it inside the open
    database and network (``open_network``), e.g. in the app's lifespan when ``worker_in_serve`` is set.
    """
    worker = Worker([delivery_job(network, name or worker_id()), *extra_jobs], network.node.clock)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="fedicoop-worker")
    try:
        yield worker
    finally:
        stop.set()
        await task
