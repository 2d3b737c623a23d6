"""Faults between real nodes: a peer killed and restarted, a worker killed mid-delivery, hostile peers.

Every activity must arrive exactly once (stored once, processed once) and nothing may be lost or stuck;
a misbehaving peer gets the outcome of the delivery policy (wire-format §11) while the node serves on.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from federation.auth import HttpSignatureAuth
from tests.conftest import postgres_enabled
from tests.e2e.nodes import FEDICOOP, NodeError, NodeFactory, NodeProcess, start_all
from tests.e2e.steps import (
    catalogue,
    catalogue_ids,
    create_actor,
    db_rows,
    deliveries,
    followers,
    inbox_items,
    inbox_of,
    publish_listing,
    wait_accepted,
    wait_until,
)
from tests.federation.loopback import Peer, running_peer
from tests.fedicoop.remote import Remote

HUGE_ANSWER = 100 * 1024 * 1024
CHUNK = 64 * 1024
RETRY_WAIT = 90.0  # the first retry comes 22.5 to 37.5 s after a failure (30 s ± 25 % jitter)
LEASE_SECONDS = 40


def stamp(value: str) -> datetime:
    """An API timestamp as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def rows_to(node: NodeProcess, inbox: str, after: set[int], kinds: set[str]) -> list[dict[str, Any]]:
    """The node's delivery rows to ``inbox`` not in ``after``, of activity types ``kinds``."""
    return [
        row
        for row in deliveries(node)
        if row["inbox"] == inbox and row["id"] not in after and row["activity_type"] in kinds
    ]


def assert_once_each(receiver: NodeProcess, activities: set[str]) -> None:
    """Each activity is stored exactly once in the receiver's inbox, and processed."""
    stored = inbox_items(receiver)
    assert {activity: stored.get(activity) for activity in activities} == {
        activity: ["processed"] for activity in activities
    }


# -- B killed while A's deliveries to it are pending ---------------------------------------------------


def test_a_peer_killed_and_restarted_gets_everything_exactly_once(node_factory: NodeFactory) -> None:
    a, b = node_factory.start("a", "b")
    coop_a = create_actor(a, "coop-a")
    coop_b = create_actor(b, "coop-b")
    b.api("POST", "/follows", {"actor": "coop-b", "target": f"coop-a@{a.host}"}, expect=202)
    wait_accepted(b, [(coop_b, coop_a)], [a, b])
    first, first_uuid = publish_listing(a, "coop-a", "Prêt : tondeuse", exchange="loan")
    first_second = datetime.now(UTC).replace(microsecond=0)
    wait_until(lambda: catalogue_ids(b) == [first], "A's first listing in B's catalogue", nodes=[a, b])
    before = {row["id"] for row in deliveries(a)}

    # A burst: B dies (SIGKILL) right after two publications, possibly while receiving them.
    burst = [publish_listing(a, "coop-a", f"Don : pot de peinture {n}", exchange="gift") for n in (1, 2)]
    b.kill()
    later = [publish_listing(a, "coop-a", f"Échange : outil {n}", exchange="swap") for n in (3, 4)]
    # Versions have second precision (wire-format §1): edit in a later second than the Create, else
    # receivers rightly ignore the Update as not newer (see the report on same-second edits).
    wait_until(lambda: datetime.now(UTC) >= first_second + timedelta(seconds=1), "the next second")
    a.api("PATCH", f"/listings/{first_uuid}", {"title": "Prêt : tondeuse thermique"}, expect=200)
    kinds = {"Create", "Update"}

    def all_attempted() -> list[dict[str, Any]] | None:
        rows = rows_to(a, inbox_of(b), before, kinds)
        return rows if len(rows) == 5 and all(row["attempts"] >= 1 for row in rows) else None

    attempted = wait_until(all_attempted, "A's five deliveries to the dead B attempted", nodes=[a])
    failed = [row for row in attempted if row["state"] == "pending"]
    assert len(failed) >= 3  # at least the two Creates and the Update sent after the kill
    for row in failed:
        assert row["attempts"] == 1 and row["last_status"] is None and row["last_error"], row
        delay = stamp(row["next_attempt_at"]) - stamp(row["first_attempt_at"])
        assert 20 <= delay.total_seconds() <= 40, row

    b.start()  # same port, same database

    def all_delivered() -> list[dict[str, Any]] | None:
        rows = rows_to(a, inbox_of(b), before, kinds)
        return rows if all(row["state"] == "delivered" for row in rows) else None

    delivered = wait_until(all_delivered, "A's retries delivered to B", timeout=RETRY_WAIT, nodes=[a, b])
    listed = json.loads(a.cli("deliveries", "list", "--state", "delivered", "--json", check=True).stdout)
    assert {row["id"] for row in delivered} <= {row["id"] for row in listed}
    assert all(row["attempts"] == 2 for row in delivered if row["id"] in {r["id"] for r in failed})

    expected = {first, *(iri for iri, _ in burst), *(iri for iri, _ in later)}
    wait_until(lambda: set(catalogue_ids(b)) == expected, "all of A's listings in B", nodes=[a, b])
    ids = catalogue_ids(b)
    assert sorted(ids) == sorted(expected)  # each once
    names = {item["id"]: item["name"] for item in catalogue(b)}
    assert names[first] == "Prêt : tondeuse thermique"
    assert_once_each(b, {row["activity"] for row in delivered})
    assert a.get_json("/healthz", accept="application/json") == {"status": "ok"}


# -- a worker killed mid-delivery, two workers on PostgreSQL -----------------------------------------


class WorkerProcess:
    """A ``fedicoop worker`` process on a node's settings and database, logging beside the node's."""

    def __init__(self, node: NodeProcess, number: int) -> None:
        self.node = node
        self.log = node.directory / f"worker.{number}.log"
        self._file = self.log.open("wb")
        self.process = subprocess.Popen(
            [str(FEDICOOP), "worker"],
            cwd=node.directory,
            env=node.env,
            stdin=subprocess.DEVNULL,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def text(self) -> str:
        """What the worker logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        """Wait until the worker says it runs."""
        wait_until(
            lambda: "running on" in self.text() or self.process.poll() is not None,
            f"worker {self.pid} started",
            timeout=60,
        )
        if self.process.poll() is not None:
            raise NodeError(f"worker {self.pid} exited with {self.process.returncode}:\n{self.text()}")

    def kill(self) -> None:
        """SIGKILL the worker and reap it."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        """Stop the worker (SIGTERM, then SIGKILL) and close its log."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._file.close()


@contextmanager
def workers(node: NodeProcess, count: int) -> Iterator[list[WorkerProcess]]:
    """``count`` worker processes on ``node``'s database for the block."""
    started = [WorkerProcess(node, number) for number in range(1, count + 1)]
    try:
        for worker in started:
            worker.wait_ready()
        yield started
    finally:
        for worker in started:
            worker.close()


@contextmanager
def paused(*nodes: NodeProcess) -> Iterator[None]:
    """SIGSTOP the nodes for the block (their sockets still accept connections), then SIGCONT them."""
    pids = [node.pid for node in nodes]
    for pid in pids:
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            assert pid is not None
            os.kill(pid, signal.SIGCONT)


def leased(node: NodeProcess) -> list[tuple[int, str, datetime]]:
    """The node's claimed delivery rows: id, claim token, lease end."""
    sql = "SELECT id, locked_by, locked_until FROM delivery WHERE state = 'pending' AND locked_by IS NOT NULL"
    return [(int(row[0]), str(row[1]), row[2]) for row in db_rows(node, sql)]


def holder(token: str, pids: list[int]) -> int | None:
    """The pid of the worker whose claim token this is (``host:pid:suffix:claim``)."""
    return next((pid for pid in pids if f":{pid}:" in token), None)


@pytest.mark.postgres
@pytest.mark.skipif(not postgres_enabled(), reason="needs the PostgreSQL test server")
@pytest.mark.parametrize("node_factory", ["postgres"], indirect=True)
def test_a_worker_killed_mid_delivery_loses_nothing_and_duplicates_nothing(node_factory: NodeFactory) -> None:
    a = node_factory.node(
        "a",
        env={
            "FEDICOOP_WORKER_IN_SERVE": "0",
            "FEDICOOP_WORKER_CONCURRENCY": "4",
            "FEDICOOP_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        },
    )
    b, c = node_factory.node("b"), node_factory.node("c")
    start_all([a, b, c])
    coop_a = create_actor(a, "coop-a")
    with workers(a, 2) as (first, second):
        pids = [first.pid, second.pid]
        local = {node: [f"membre-{node.name}-{n}" for n in range(1, 4)] for node in (b, c)}
        for node, usernames in local.items():
            for username in usernames:
                create_actor(node, username)
                node.api("POST", "/follows", {"actor": username, "target": f"coop-a@{a.host}"}, expect=202)
        for node, usernames in local.items():
            wait_accepted(node, [(node.url(f"/actors/{u}"), coop_a) for u in usernames], [a, b, c])
        assert len(followers(a, "coop-a")) == 6
        before = {row["id"] for row in deliveries(a)}

        # B and C stall: both workers fill up (4 rows each) with POSTs that hang; the first one dies.
        with paused(b, c):
            listings = [
                publish_listing(a, "coop-a", f"Prêt : outil {n}", exchange="loan")[0] for n in range(6)
            ]

            def both_full() -> list[tuple[int, str, datetime]] | None:
                rows = leased(a)
                holders = [holder(token, pids) for _, token, _ in rows]
                return rows if holders.count(pids[0]) == 4 and holders.count(pids[1]) == 4 else None

            claimed = wait_until(both_full, "both workers hold 4 rows each", nodes=[a])
            first.kill()
        orphans = {row_id: until for row_id, token, until in claimed if holder(token, pids) == first.pid}

        def all_delivered() -> list[dict[str, Any]] | None:
            rows = [row for row in deliveries(a) if row["id"] not in before]
            creates = [row for row in rows if row["activity_type"] == "Create"]
            return rows if len(creates) == 12 and all(row["state"] == "delivered" for row in rows) else None

        delivered = wait_until(
            all_delivered, "every delivery done by the surviving worker", timeout=120, nodes=[a]
        )
    for row in delivered:
        if row["id"] in orphans:  # taken again only once the dead worker's lease ran out
            assert stamp(row["delivered_at"]).timestamp() >= orphans[row["id"]].timestamp() - 1, row
    assert {row["inbox"] for row in delivered} == {inbox_of(b), inbox_of(c)}
    for node in (b, c):
        activities = {row["activity"] for row in delivered if row["inbox"] == inbox_of(node)}
        assert len(activities) == 6
        assert_once_each(node, activities)
        assert sorted(catalogue_ids(node)) == sorted(listings)  # processed: each listing once
    assert "Traceback" not in second.text()


# -- hostile peers --------------------------------------------------------------------------------------


@contextmanager
def peer_in_thread() -> Iterator[Peer]:
    """A loopback peer served by its own event loop in a thread, so the test may block meanwhile."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        stop = box["stop"] = asyncio.Event()
        try:
            async with running_peer() as peer:
                box["peer"] = peer
                ready.set()
                await stop.wait()
        finally:
            ready.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="loopback-peer")
    thread.start()
    ready.wait(30)
    try:
        if "peer" not in box:
            raise RuntimeError("the loopback peer did not start")
        yield box["peer"]
    finally:
        loop.call_soon_threadsafe(box["stop"].set)
        thread.join(30)
        loop.close()


class FaultyInbox:
    """An inbox that answers 202 until armed, then misbehaves as ``fault`` says."""

    def __init__(self, peer: Peer, fault: str) -> None:
        self.peer = peer
        self.fault = fault
        self.armed = False

    async def __call__(self, request: Request) -> Response:
        if not self.armed:
            return Response(status_code=202)
        if self.fault == "500":
            return Response(b"internal error", status_code=500, media_type="text/plain")
        if self.fault == "429":
            return Response(b"slow down", status_code=429, headers={"Retry-After": "600"})
        if self.fault == "410":
            return Response(b"gone", status_code=410)
        if self.fault == "timeout":
            await self.peer.stopping.wait()
            return Response(b"too late")
        return StreamingResponse(self._huge(), media_type="application/json")

    async def _huge(self) -> AsyncIterator[bytes]:
        chunk = b" " * CHUNK
        for _ in range(HUGE_ANSWER // CHUNK):
            yield chunk


def signed_follow(node: NodeProcess, remote: Remote, target: str) -> int:
    """POST a Follow of ``target`` by ``remote``, signed with its key, to the node's shared inbox."""
    body = json.dumps(remote.activity("Follow", 1, object=target)).encode()
    request = node.http.build_request(
        "POST", node.url("/inbox"), content=body, headers={"Content-Type": "application/activity+json"}
    )
    HttpSignatureAuth(remote.key_id, remote.key, now=lambda: datetime.now(UTC)).sign(request)
    return node.http.send(request).status_code


def peak_memory(node: NodeProcess) -> int:
    """The peak resident memory of the node's process so far, in bytes (Linux ``VmHWM``)."""
    status = Path(f"/proc/{node.pid}/status").read_text(encoding="ascii")
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kilobytes) * 1024


def health_time(node: NodeProcess) -> float:
    """Seconds ``/healthz`` takes to answer 200."""
    began = time.monotonic()
    assert node.get_json("/healthz", accept="application/json") == {"status": "ok"}
    return time.monotonic() - began


FAULTS = ("500", "429", "410", "timeout", "huge")


def test_misbehaving_peers_get_the_policy_outcome_and_the_node_keeps_serving(
    node_factory: NodeFactory,
) -> None:
    (a,) = node_factory.start("a")
    coop_a = create_actor(a, "coop-a")
    with peer_in_thread() as peer:
        remotes = {fault: Remote.on(peer, f"peer-{fault}") for fault in FAULTS}
        inboxes = {fault: FaultyInbox(peer, fault) for fault in FAULTS}
        for fault, remote in remotes.items():
            peer.route(f"/users/peer-{fault}/inbox", inboxes[fault], method="POST")
            assert signed_follow(a, remote, coop_a) == 202
        wanted = {remote.actor_id for remote in remotes.values()}

        def accepts_delivered() -> bool:
            accepts = [row for row in deliveries(a) if row["activity_type"] == "Accept"]
            states = {row["recipient"]: row["state"] for row in accepts}
            return states == dict.fromkeys(wanted, "delivered")

        wait_until(accepts_delivered, "A's Accepts delivered to the five peers", nodes=[a])
        assert {row["follower"] for row in followers(a, "coop-a")} == wanted
        before = {row["id"] for row in deliveries(a)}
        memory = peak_memory(a)
        for inbox in inboxes.values():
            inbox.armed = True
        publish_listing(a, "coop-a", "Prêt : nettoyeur haute pression", exchange="loan")

        def outcomes() -> dict[str, dict[str, Any]] | None:
            rows = {row["recipient"]: row for row in deliveries(a) if row["id"] not in before}
            if set(rows) != wanted or any(row["attempts"] == 0 for row in rows.values()):
                return None
            return {fault: rows[remote.actor_id] for fault, remote in remotes.items()}

        latencies = [health_time(a)]
        seen: dict[str, dict[str, Any]] | None = None
        deadline = time.monotonic() + 60
        while seen is None and time.monotonic() < deadline:  # /healthz keeps answering meanwhile
            latencies.append(health_time(a))
            seen = outcomes()
            time.sleep(0.2)
        assert seen is not None, a.logs()
        latencies.append(health_time(a))

    assert max(latencies) < 2.0, latencies
    error = seen["500"]
    assert (error["state"], error["attempts"], error["last_status"]) == ("pending", 1, 500)
    delay = stamp(error["next_attempt_at"]) - stamp(error["first_attempt_at"])
    assert 20 <= delay.total_seconds() <= 40, error

    limited = seen["429"]
    assert (limited["state"], limited["attempts"], limited["last_status"]) == ("pending", 1, 429)
    assert (stamp(limited["next_attempt_at"]) - stamp(limited["first_attempt_at"])).total_seconds() >= 599

    gone = seen["410"]
    assert (gone["state"], gone["last_status"]) == ("failed", 410)
    remaining = {row["follower"] for row in followers(a, "coop-a")}
    assert remaining == wanted - {remotes["410"].actor_id}

    slow = seen["timeout"]
    assert (slow["state"], slow["attempts"], slow["last_status"]) == ("pending", 1, None)
    assert "timeout" in slow["last_error"].lower() or "timed out" in slow["last_error"].lower(), slow
    assert stamp(slow["next_attempt_at"]) > stamp(slow["first_attempt_at"])

    huge = seen["huge"]
    assert (huge["state"], huge["last_status"]) == ("delivered", 200)
    assert peak_memory(a) - memory < HUGE_ANSWER // 4  # A read a bounded part of the answer and hung up
    assert health_time(a) < 2.0
