"""The fan-out benchmark: one Create to 1,000 followers on 100 loopback hosts, against raw signing.

A node database (SQLite or PostgreSQL) gets a cooperative actor followed by ``followers`` remote
actors with personal inboxes spread over ``hosts`` sink hosts (:mod:`bench.sinks`, another process).
Each round publishes a listing through the real path (``create_listing`` → ``Publisher`` → ``enqueue``)
and runs the real :class:`~fedicoop.worker.Worker` with one :class:`~fedicoop.worker.DeliveryJob`
over the node's real network runtime (``open_network``: guarded transport, key of the actor) until
every row of that Create is recorded delivered. The rate is rows delivered per second from the start
of the worker to the last row recorded. The job and the network live across rounds, as in a running
worker (the first round opens the connections). The baseline is RSA-2048 signing in one process,
measured before and after the rounds. The sinks must have received every delivery once, validly signed.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import Summary, database_url, free_port, process_cpu, raw_signing_rate, started
from federation.digest import make_digest
from federation.http import AsyncClient
from federation.keys import load_private_key, public_key_to_pem
from fedicoop.db import migrate_database, open_database
from fedicoop.models.activities import Activity
from fedicoop.models.actors import ActorKey
from fedicoop.models.deliveries import Delivery
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Follower
from fedicoop.models.states import DeliveryState, FollowState
from fedicoop.network import Network, open_network
from fedicoop.node import build_node
from fedicoop.services.actors import create_actor, ensure_application_actor
from fedicoop.services.listings import create_listing
from fedicoop.settings import Settings, load_settings
from fedicoop.worker import DeliveryJob, Worker, serialise, worker_id
from schemas.api import ActorCreate, ListingCreate

LISTING = ListingCreate.model_validate(
    {
        "actor": "coop-bench",
        "kind": "object",
        "exchange": "gift",
        "title": "Vélo de ville",
        "category": "velos-accessoires",
    }
)

SIGNING_SECONDS = 1.0
"""How long the signing baseline is measured before each round (and after the last)."""


@dataclass
class FanoutResult:
    """The figures of the fan-out benchmark."""

    followers: int
    hosts: int
    concurrency: int
    rates: list[float] = field(default_factory=list)
    enqueue_seconds: list[float] = field(default_factory=list)
    signing: list[float] = field(default_factory=list)
    received: int = 0
    expected: int = 0
    worker_cpu: list[float] = field(default_factory=list)
    loop_cpu: list[float] = field(default_factory=list)
    sinks_cpu: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """Each round's deliveries per second over the mean of the signing rates measured around it.

        The signing rate is measured just before every round and after the last: on a shared machine
        both rates drift within a run, and a round compares best with the baseline of its own minute.
        """
        return [rate / ((self.signing[i] + self.signing[i + 1]) / 2) for i, rate in enumerate(self.rates)]

    @property
    def ratio(self) -> Summary:
        """The median, lowest and highest of the rounds' ratios."""
        return Summary.of(self.ratios)

    def lines(self) -> list[str]:
        """The report printed by ``python -m bench``."""
        rounds = ", ".join(f"{rate:.0f}" for rate in self.rates)
        return [
            f"fan-out: {self.followers} followers on {self.hosts} hosts, "
            f"worker concurrency {self.concurrency}: {Summary.of(self.rates).show()} deliveries/s "
            f"(rounds: {rounds}; the first opens the connections)",
            f"fan-out: publish + enqueue {Summary.of(self.enqueue_seconds).show(3)} s per Create",
            f"fan-out: raw RSA-2048 signing {Summary.of(self.signing).show()} signatures/s "
            f"(before each round and after the last: {', '.join(f'{rate:.0f}' for rate in self.signing)})",
            f"fan-out: CPU per delivery: worker {Summary.of(self.worker_cpu).show()} µs "
            f"(its event loop's thread {Summary.of(self.loop_cpu).show()} µs), "
            f"sinks {Summary.of(self.sinks_cpu).show()} µs",
            f"fan-out: ratio {self.ratio.show(2)} (rounds: {', '.join(f'{r:.2f}' for r in self.ratios)}); "
            "target >= 0.6",
            f"fan-out: sinks received {self.received}/{self.expected} deliveries, each once, validly signed",
        ]


def fanout_settings(url: str, work: Path, concurrency: int | None) -> Settings:
    """Settings of the publishing node (not served: only its worker runs)."""
    extra: dict[str, Any] = {} if concurrency is None else {"worker_concurrency": concurrency}
    return load_settings(
        toml_file=None,
        env_file=None,
        base_url=f"http://127.0.0.1:{free_port()}",
        database_url=url,
        data_dir=str(work),
        insecure_peers=True,
        worker_in_serve=False,
        demo=False,
        **extra,
    )


async def _followers(actor: Any, ports: list[str], count: int, now: datetime) -> None:
    remotes, followers = [], []
    for index in range(count):
        authority = f"127.0.0.1:{ports[index % len(ports)]}"
        iri = f"http://{authority}/users/{index}"
        remotes.append(
            RemoteActor(
                iri=iri,
                host=authority,
                type="Person",
                inbox=f"{iri}/inbox",
                document={"id": iri},
                fetched_at=now,
            )
        )
        followers.append(
            Follower(
                actor=actor,
                follower_iri=iri,
                inbox=f"{iri}/inbox",
                follow_activity_iri=f"{iri}#follow",
                state=FollowState.ACCEPTED,
                created_at=now,
            )
        )
    await RemoteActor.bulk_create(remotes)
    await Follower.bulk_create(followers)


async def _until_delivered(job: DeliveryJob, activity: Activity) -> None:
    """Return once no row of ``activity`` is pending or in flight (polls 5 ms; the DB only when idle)."""
    while True:
        await asyncio.sleep(0.005)
        if job.in_flight:
            continue
        if not await Delivery.filter(activity=activity, state=DeliveryState.PENDING).exists():
            return


async def run_fanout(
    *, database: str, rounds: int, followers: int, hosts: int, concurrency: int | None, work: Path
) -> FanoutResult:
    """Publish ``rounds`` Creates to ``followers`` followers and deliver each with the real worker."""
    signing: list[float] = []
    async with database_url(database, work) as url:
        settings = fanout_settings(url, work, concurrency)
        await migrate_database(settings)
        node = build_node(settings)
        result = FanoutResult(followers, hosts, settings.worker_concurrency)
        async with open_database(settings):
            now = datetime.now(UTC)
            await ensure_application_actor(settings.display_name, now)
            actor = await create_actor(
                ActorCreate.model_validate(
                    {"username": "coop-bench", "kind": "cooperative", "name": "Bench"}
                ),
                now,
            )
            actor_iri = node.documents.actors.actor_id(actor)
            private = load_private_key((await ActorKey.get(actor=actor)).private_pem)
            key_file = work / "fanout-key.json"
            key_file.write_text(
                json.dumps(
                    {
                        "key_id": node.urls.key_id(actor_iri),
                        "owner": actor_iri,
                        "pem": public_key_to_pem(private.public_key()),
                    }
                )
            )
            async with started("sinks", [str(key_file), str(hosts)], work) as sinks:
                await _followers(actor, sinks.ready, followers, now)
                digests = []
                async with open_network(node) as network:
                    job = DeliveryJob(
                        network, worker_id(), concurrency=settings.worker_concurrency, rng=random.Random(7)
                    )
                    for _ in range(rounds):
                        before = time.perf_counter()
                        await create_listing(LISTING, node.publisher, node.clock())
                        result.enqueue_seconds.append(time.perf_counter() - before)
                        activity = await Activity.filter(type="Create").order_by("-published", "-id").first()
                        assert activity is not None
                        queued = await Delivery.filter(activity=activity, state=DeliveryState.PENDING).count()
                        if queued != followers:
                            raise RuntimeError(f"the Create queued {queued} deliveries, not {followers}")
                        digests.append(make_digest(serialise(activity.document)))
                        signing.append(raw_signing_rate(SIGNING_SECONDS))
                        stop = asyncio.Event()
                        worker = Worker([job], node.clock)
                        cpu = (
                            time.process_time() + _signing_cpu(network),
                            process_cpu(sinks.process.pid),
                            time.thread_time(),
                        )
                        start = time.perf_counter()
                        task = asyncio.create_task(worker.run(stop))
                        try:
                            await asyncio.wait_for(_until_delivered(job, activity), 600)
                        finally:
                            elapsed = time.perf_counter() - start
                            stop.set()
                            await task
                            worker_cpu = time.process_time() + _signing_cpu(network) - cpu[0]
                            result.worker_cpu.append(worker_cpu / followers * 1e6)
                            result.loop_cpu.append((time.thread_time() - cpu[2]) / followers * 1e6)
                            result.sinks_cpu.append(
                                (process_cpu(sinks.process.pid) - cpu[1]) / followers * 1e6
                            )
                        delivered = await Delivery.filter(
                            activity=activity, state=DeliveryState.DELIVERED
                        ).count()
                        if delivered != followers:
                            states = await Delivery.filter(activity=activity).values_list(
                                "state", "last_error"
                            )
                            raise RuntimeError(
                                f"{delivered}/{followers} delivered: {sorted(set(states))[:5]}"
                            )
                        result.rates.append(followers / elapsed)
                async with AsyncClient() as client:
                    stats = (await client.get(f"http://127.0.0.1:{sinks.ready[0]}/__stats")).json()
    signing.append(raw_signing_rate(SIGNING_SECONDS))
    result.signing = signing
    result.expected = followers * rounds
    _check_sinks(stats, digests, followers, hosts)
    result.received = sum(stats["digests"][digest]["deliveries"] for digest in digests)
    return result


def _signing_cpu(network: Network) -> float:
    """CPU seconds used so far by the signing pool's child process (0 before it starts)."""
    pid = network.signing.pid
    return 0.0 if pid is None else process_cpu(pid)


def _check_sinks(stats: dict[str, Any], digests: list[str], followers: int, hosts: int) -> None:
    if stats["invalid"]:
        raise RuntimeError(f"the sinks refused signatures: {stats['invalid']}")
    for digest in digests:
        entry = stats["digests"].get(digest)
        if entry != {"deliveries": followers, "duplicates": 0, "hosts": hosts}:
            raise RuntimeError(
                f"the sinks received {entry} for one Create, not {followers} once on {hosts} hosts"
            )
    if len(stats["digests"]) != len(digests):
        raise RuntimeError(
            f"the sinks received {len(stats['digests'])} distinct bodies for {len(digests)} Creates"
        )
