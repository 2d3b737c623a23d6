"""The delivery worker (fedicoop.worker) against real loopback peers (uvicorn on 127.0.0.1).

The peers check every HTTP signature with the real verifier and the keys of our actors; failures are
real answers too (500, 429 with Retry-After, 410, 400, a peer that never answers). Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from starlette.requests import Request
from starlette.responses import Response

from fedicoop.clock import system_clock
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor
from fedicoop.models.deliveries import Delivery, DomainHealth
from fedicoop.models.remote import RemoteActor
from fedicoop.models.states import DeliveryState
from fedicoop.network import Network, http_policy, open_network
from fedicoop.node import Node
from fedicoop.services import deliveries
from fedicoop.services.deliveries import Target
from fedicoop.services.listings import create_listing
from fedicoop.settings import Settings
from fedicoop.worker import PER_HOST, DeliveryJob, Worker, running_worker
from schemas.api import ListingCreate
from tests.federation.loopback import Peer, running_peer
from tests.fedicoop.queue_helpers import activity, follower, open_node, organization, relay_follower, trust

pytestmark = pytest.mark.anyio

LISTING = ListingCreate(
    actor="coop-fives", kind="object", exchange="gift", title="Vélo", category="velos-accessoires"
)


class Middle(random.Random):
    """A generator whose jitter is always exactly 1."""

    def uniform(self, a: float, b: float) -> float:
        return 1.0


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    """The test node's settings with loopback peers allowed (http://127.0.0.1:port)."""
    return settings.model_copy(update={"insecure_peers": True})


@asynccontextmanager
async def live_node(settings: Settings) -> AsyncIterator[Node]:
    async with open_node(settings, system_clock) as node:
        yield node


def accept(peer: Peer, *paths: str, status: int = 202) -> None:
    for path in paths:
        peer.serve(path, b"", status=status, method="POST")


async def run_job(network: Network, **options: object) -> DeliveryJob:
    job = DeliveryJob(network, "test-worker", concurrency=16, rng=Middle(), **options)  # type: ignore[arg-type]
    while await job(network.node.clock()):
        pass
    await job.drain()
    return job


async def test_delivery__signed_posts_reach_followers_and_relay_followers(live_settings: Settings) -> None:
    async with running_peer() as alpha, running_peer() as beta, live_node(live_settings) as node:
        now = node.clock()
        coop = await organization("coop-fives", now)
        relay = await Actor.get(kind="application")
        for peer in (alpha, beta):
            await trust(peer, node, coop)
            await trust(peer, node, relay)
        accept(alpha, "/inbox")
        accept(beta, "/users/3/inbox", "/relay/inbox")
        shared = alpha.url("/inbox")
        await follower(coop, alpha.url("/users/1"), alpha.url("/users/1/inbox"), now, shared_inbox=shared)
        await follower(coop, alpha.url("/users/2"), alpha.url("/users/2/inbox"), now, shared_inbox=shared)
        await follower(coop, beta.url("/users/3"), beta.url("/users/3/inbox"), now)
        await relay_follower(node, beta.url("/relay"), beta.url("/relay/inbox"), now)
        await create_listing(LISTING, node.publisher, now)
        create = await Activity.get(type="Create")
        announce = await Activity.get(type="Announce")
        async with open_network(node) as network:
            await run_job(network)
        assert await Delivery.filter(state=DeliveryState.DELIVERED).count() == 4
        assert await Delivery.exclude(state=DeliveryState.DELIVERED).count() == 0
        coop_iri = node.urls.actor("coop-fives")
        (to_alpha,) = alpha.requests_to("/inbox", "POST")
        assert (to_alpha.signer, to_alpha.signature_error) == (coop_iri, None)
        assert json.loads(to_alpha.body) == create.document
        assert to_alpha.headers["content-type"] == "application/activity+json"
        (to_beta,) = beta.requests_to("/users/3/inbox", "POST")
        assert to_beta.signer == coop_iri and to_beta.body == to_alpha.body
        relay_hits = beta.requests_to("/relay/inbox", "POST")
        assert sorted((json.loads(hit.body)["type"], hit.signer) for hit in relay_hits) == [
            ("Announce", node.urls.application_actor),
            ("Create", coop_iri),
        ]
        assert (
            json.loads(next(hit.body for hit in relay_hits if b"Announce" in hit.body)) == announce.document
        )


async def test_delivery__each_failure_answer_gets_its_outcome(live_settings: Settings) -> None:
    async with running_peer() as peer, live_node(live_settings) as node:
        now = node.clock()
        coop = await organization("coop-fives", now)
        peer.serve("/500", b"oops", status=500, method="POST")
        peer.serve("/429", b"", status=429, method="POST", headers={"Retry-After": "120"})
        peer.serve("/410", b"", status=410, method="POST")
        peer.serve("/400", b"no such thing", status=400, method="POST")
        peer.serve("/302", b"", status=302, method="POST", headers={"Location": peer.url("/elsewhere")})
        peer.stall("/stall", method="POST")
        gone_iri = peer.url("/users/gone")
        await follower(coop, gone_iri, peer.url("/410"), now)
        act = await activity(node, coop, now)
        names = ["500", "429", "410", "400", "302", "stall", "closed"]
        targets = [Target(peer.url(f"/{name}"), gone_iri if name == "410" else None) for name in names]
        targets[-1] = Target("http://127.0.0.1:9/inbox")  # the discard port: connection refused
        await deliveries.enqueue(act, targets, now, local_base=live_settings.base_url)
        policy = dataclasses.replace(http_policy(node), total_timeout=1.0)
        async with open_network(node, policy=policy) as network:
            await run_job(network)
        rows = {row.inbox.rsplit("/", 1)[1]: row for row in await Delivery.all()}
        after = node.clock()

        def waits(name: str) -> timedelta:
            return rows[name].next_attempt_at - after

        assert (rows["500"].state, rows["500"].last_status, rows["500"].last_error) == (
            "pending",
            500,
            "HTTP 500: oops",
        )
        assert timedelta(seconds=25) <= waits("500") <= timedelta(seconds=31)
        assert (rows["429"].state, rows["429"].last_status) == ("pending", 429)
        assert timedelta(seconds=115) <= waits("429") <= timedelta(seconds=121)
        assert (rows["410"].state, rows["410"].last_status) == ("failed", 410)
        assert (await RemoteActor.get(iri=gone_iri)).gone
        assert (rows["400"].state, rows["400"].last_error) == ("failed", "HTTP 400: no such thing")
        assert (rows["302"].state, rows["302"].last_status) == ("failed", 302)
        assert peer.requests_to("/elsewhere", "POST") == []
        assert rows["stall"].state == "pending" and "longer than 1.0 s" in rows["stall"].last_error
        assert rows["inbox"].state == "pending" and rows["inbox"].last_status is None
        assert "ConnectError" in rows["inbox"].last_error
        assert all(row.attempts == 1 and row.locked_by is None for row in rows.values())
        health = {row.host: row for row in await DomainHealth.all()}
        assert health[peer.authority].failure_days == [after.date().isoformat()]
        assert not health[peer.authority].unavailable


async def test_delivery__blocked_host_fails_without_a_request(settings: Settings) -> None:
    blocked = settings.model_copy(update={"insecure_peers": True, "blocked_domains": ["127.0.0.1"]})
    async with running_peer() as peer, live_node(blocked) as node:
        coop = await organization("coop-fives", node.clock())
        act = await activity(node, coop, node.clock())
        await deliveries.enqueue(act, [Target(peer.url("/inbox"))], node.clock(), local_base=blocked.base_url)
        async with open_network(node) as network:
            await run_job(network)
        row = await Delivery.get()
        assert (row.state, row.last_status, row.last_error) == ("failed", None, "host 127.0.0.1 is blocked")
        assert peer.hits == []


async def test_delivery__at_most_four_posts_at_once_to_one_host(live_settings: Settings) -> None:
    async with running_peer() as peer, live_node(live_settings) as node:
        running, peak = 0, 0

        async def slow(request: Request) -> Response:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.05)
            running -= 1
            return Response(status_code=202)

        coop = await organization("coop-fives", node.clock())
        for n in range(12):
            peer.route(f"/users/{n}/inbox", slow, method="POST")
        act = await activity(node, coop, node.clock())
        targets = [Target(peer.url(f"/users/{n}/inbox")) for n in range(12)]
        await deliveries.enqueue(act, targets, node.clock(), local_base=live_settings.base_url)
        async with open_network(node) as network:
            await run_job(network)
        assert await Delivery.filter(state=DeliveryState.DELIVERED).count() == 12
        assert peak == PER_HOST


async def test_delivery__unavailable_host_gets_only_its_probe_and_a_success_clears_it(
    live_settings: Settings,
) -> None:
    async with running_peer() as peer, live_node(live_settings) as node:
        coop = await organization("coop-fives", node.clock())
        accept(peer, *(f"/users/{n}/inbox" for n in range(3)))
        act = await activity(node, coop, node.clock())
        await deliveries.enqueue(
            act,
            [Target(peer.url(f"/users/{n}/inbox")) for n in range(3)],
            node.clock(),
            local_base=live_settings.base_url,
        )
        await DomainHealth.create(
            host=peer.authority, failure_days=[f"2025-10-0{d}" for d in range(1, 8)], unavailable=True
        )
        async with open_network(node) as network:
            await run_job(network)
        states = sorted(row.state for row in await Delivery.all())
        assert states == ["delivered", "skipped", "skipped"]
        assert len([hit for hit in peer.hits if hit.method == "POST"]) == 1
        health = await DomainHealth.get(host=peer.authority)
        assert not health.unavailable and health.failure_days == [] and health.last_success_at is not None


async def test_delivery__a_row_whose_lease_runs_out_is_given_back_unattempted(
    live_settings: Settings,
) -> None:
    async with running_peer() as peer, live_node(live_settings) as node:
        coop = await organization("coop-fives", node.clock())
        accept(peer, "/inbox")
        act = await activity(node, coop, node.clock())
        await deliveries.enqueue(
            act, [Target(peer.url("/inbox"))], node.clock(), local_base=live_settings.base_url
        )
        async with open_network(node) as network:
            # A lease shorter than one request's time budget would expire during the POST.
            await run_job(network, lease=timedelta(seconds=10))
        row = await Delivery.get()
        assert (row.state, row.attempts, row.locked_by, row.locked_until) == ("pending", 0, None, None)
        assert peer.hits == []


class Counting:
    """A job that counts its calls and reports one row handled for the first ``busy`` calls."""

    def __init__(self, busy: int = 0) -> None:
        self.calls = 0
        self.busy = busy

    async def __call__(self, now: datetime) -> int:
        self.calls += 1
        return 1 if self.calls <= self.busy else 0


class Exploding:
    """A job that always fails."""

    async def __call__(self, now: datetime) -> int:
        raise RuntimeError("database unreachable")


async def test_worker__a_failing_job_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counting = Counting(busy=1)
    worker = Worker([Exploding(), counting], system_clock)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert worker.errors == 2 and counting.calls == 2
    assert "worker job Exploding failed" in caplog.text


async def test_worker__runs_until_stopped_sleeping_when_idle() -> None:
    counting = Counting(busy=3)
    worker = Worker([counting], system_clock, idle_sleep=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 1)
    # Three busy rounds back to back, then idle rounds 50 ms apart: far fewer than a busy loop makes.
    assert 4 <= counting.calls <= 12


async def test_running_worker__delivers_in_the_background_with_extra_jobs(live_settings: Settings) -> None:
    async with running_peer() as peer, live_node(live_settings) as node:
        coop = await organization("coop-fives", node.clock())
        await trust(peer, node, coop)
        accept(peer, "/inbox")
        await follower(
            coop,
            peer.url("/users/1"),
            peer.url("/users/1/inbox"),
            node.clock(),
            shared_inbox=peer.url("/inbox"),
        )
        extra = Counting()
        async with open_network(node) as network, running_worker(network, extra_jobs=[extra], name="serve"):
            await create_listing(LISTING, node.publisher, node.clock())
            for _ in range(200):  # the worker polls every 0.5 s when idle
                if await Delivery.exists(state=DeliveryState.DELIVERED):
                    break
                await asyncio.sleep(0.05)
        (hit,) = peer.requests_to("/inbox", "POST")
        assert hit.signer == node.urls.actor("coop-fives")
        assert extra.calls > 0
        row = await Delivery.get()
        assert row.state == "delivered" and row.locked_by is None
