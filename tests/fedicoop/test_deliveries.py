"""The delivery queue (fedicoop.services.deliveries) on SQLite and PostgreSQL: enqueue, claim, outcomes.

The claims of two workers run on two separate PostgreSQL connections (two tortoise contexts on one
database), once racing freely and once with one transaction holding rows locked, to show that
``SKIP LOCKED`` never hands a row to two workers.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from federation.delivery import DeliveryResult, Outcome
from federation.hosts import DomainList
from fedicoop.clock import Clock
from fedicoop.db import is_postgres, open_database
from fedicoop.errors import ConflictError, NotFoundError
from fedicoop.ids import uuid7
from fedicoop.models.activities import Activity
from fedicoop.models.deliveries import Delivery, DomainHealth
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Follower
from fedicoop.models.states import DeliveryState, FollowState
from fedicoop.network import HostFilter
from fedicoop.services import deliveries
from fedicoop.services.deliveries import Target
from fedicoop.services.events import create_event
from fedicoop.services.listings import create_listing
from fedicoop.settings import Settings
from schemas.api import EventCreate, ListingCreate
from tests.fedicoop.queue_helpers import activity, follower, open_node, organization, relay_follower

pytestmark = pytest.mark.anyio

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
LOCAL = "https://velo-fives.example"


class Middle(random.Random):
    """A generator whose jitter is always exactly 1."""

    def uniform(self, a: float, b: float) -> float:
        return 1.0


def result(
    outcome: Outcome, status: int | None, error: str | None = None, retry_after: str | None = None
) -> DeliveryResult:
    return DeliveryResult(outcome, status, error, retry_after)


async def test_enqueue__dedupes_and_skips_local_blocked_and_malformed(
    settings: Settings, clock: Clock
) -> None:
    async with open_node(settings, clock) as node:
        coop = await organization("coop-fives", NOW)
        act = await activity(node, coop, NOW)
        hosts = HostFilter(blocked=DomainList.of(["bad.example"]), allowed=None)
        targets = [
            Target("https://masto.example/inbox", "https://masto.example/users/a"),
            Target("https://masto.example/inbox", "https://masto.example/users/b"),
            Target("https://other.example/users/c/inbox", "https://other.example/users/c"),
            Target(f"{LOCAL}/inbox", f"{LOCAL}/actors/x"),
            Target("https://social.bad.example/inbox", None),
            Target("not a url", None),
        ]
        assert await deliveries.enqueue(act, targets, NOW, local_base=LOCAL, hosts=hosts) == 2
        rows = await Delivery.filter(activity_id=act.id).order_by("id")
        assert [(row.inbox, row.host, row.recipient_iri, row.state) for row in rows] == [
            ("https://masto.example/inbox", "masto.example", "https://masto.example/users/a", "pending"),
            (
                "https://other.example/users/c/inbox",
                "other.example",
                "https://other.example/users/c",
                "pending",
            ),
        ]
        assert all(row.next_attempt_at == NOW and row.attempts == 0 for row in rows)
        # A second enqueue of the same activity adds only what is new.
        again = [Target("https://masto.example/inbox"), Target("https://third.example/inbox")]
        assert await deliveries.enqueue(act, again, NOW, local_base=LOCAL) == 1
        assert await Delivery.filter(activity_id=act.id).count() == 3


async def test_enqueue__interleaves_hosts_so_a_claim_spreads_over_them(
    settings: Settings, clock: Clock
) -> None:
    async with open_node(settings, clock) as node:
        coop = await organization("coop-fives", NOW)
        act = await activity(node, coop, NOW)
        targets = [
            Target(f"https://h{host}.example/users/{user}/inbox") for host in range(3) for user in range(3)
        ]
        await deliveries.enqueue(act, targets, NOW, local_base=LOCAL)
        claimed = await deliveries.claim_due("w", NOW, 3)
        assert sorted(row.host for row in claimed) == ["h0.example", "h1.example", "h2.example"]


async def test_enqueue__unavailable_host_gets_one_probe_a_day(settings: Settings, clock: Clock) -> None:
    async with open_node(settings, clock) as node:
        coop = await organization("coop-fives", NOW)
        await DomainHealth.create(host="dead.example", failure_days=["2025-10-01"] * 7, unavailable=True)
        targets = [Target(f"https://dead.example/u/{n}/inbox") for n in range(3)] + [
            Target("https://ok.example/inbox")
        ]
        first = await activity(node, coop, NOW)
        assert await deliveries.enqueue(first, targets, NOW, local_base=LOCAL) == 4
        states = {row.inbox: row.state for row in await Delivery.filter(activity_id=first.id)}
        assert sorted(states.values()) == ["pending", "pending", "skipped", "skipped"]
        assert states["https://ok.example/inbox"] == "pending"
        # The worker claims the probe (and it goes); a later probe the same day is skipped at once.
        rows = await deliveries.claim_due("w", NOW, 10)
        assert len(await deliveries.screen_unavailable(rows, NOW)) == 2
        assert (await DomainHealth.get(host="dead.example")).last_probe_at == NOW
        second = await activity(node, coop, NOW)
        await deliveries.enqueue(second, targets, NOW + timedelta(hours=1), local_base=LOCAL)
        states2 = [row.state for row in await Delivery.filter(activity_id=second.id, host="dead.example")]
        assert states2 == ["skipped"] * 3
        skipped = await Delivery.filter(activity_id=second.id, host="dead.example").first()
        assert skipped is not None and "dead.example failed on 7 distinct days" in skipped.last_error


async def test_follower_targets__accepted_shared_inbox_first_no_gone_mobilizon_only_for_events(
    settings: Settings, clock: Clock
) -> None:
    async with open_node(settings, clock):
        coop = await organization("coop-fives", NOW)
        await follower(
            coop,
            "https://a.example/u/1",
            "https://a.example/u/1/inbox",
            NOW,
            shared_inbox="https://a.example/inbox",
        )
        await follower(coop, "https://b.example/u/2", "https://b.example/u/2/inbox", NOW)
        await follower(
            coop, "https://c.example/u/3", "https://c.example/u/3/inbox", NOW, state=FollowState.PENDING
        )
        await follower(coop, "https://d.example/u/4", "https://d.example/u/4/inbox", NOW, gone=True)
        await follower(
            coop, "https://mobilizon.example/@m", "https://mobilizon.example/inbox", NOW, software="mobilizon"
        )
        note = await deliveries.follower_targets(coop, object_type="Note")
        assert note == [
            Target("https://a.example/inbox", "https://a.example/u/1"),
            Target("https://b.example/u/2/inbox", "https://b.example/u/2"),
        ]
        event = await deliveries.follower_targets(coop, object_type="Event")
        assert [target.recipient_iri for target in event][-1] == "https://mobilizon.example/@m"
        assert len(await deliveries.follower_targets(coop, object_type=None)) == 3


async def _queue(node_settings: Settings, clock: Clock, count: int) -> None:
    async with open_node(node_settings, clock) as node:
        coop = await organization("coop-fives", NOW)
        act = await activity(node, coop, NOW)
        await deliveries.enqueue(
            act,
            [Target(f"https://h{n % 10}.example/u/{n}/inbox") for n in range(count)],
            NOW,
            local_base=LOCAL,
        )


async def test_claim_due__only_due_unleased_pending_rows_and_expired_leases_come_back(
    settings: Settings, clock: Clock
) -> None:
    await _queue(settings, clock, 6)
    async with open_database(settings):
        rows = await Delivery.all().order_by("id")
        await Delivery.filter(id=rows[0].id).update(next_attempt_at=NOW + timedelta(minutes=1))
        await Delivery.filter(id=rows[1].id).update(state=DeliveryState.DELIVERED)
        await Delivery.filter(id=rows[2].id).update(
            locked_until=NOW + timedelta(seconds=1), locked_by="other"
        )
        claimed = await deliveries.claim_due("w1", NOW, 10, timedelta(minutes=5))
        assert sorted(row.id for row in claimed) == [rows[3].id, rows[4].id, rows[5].id]
        assert all(row.locked_by and row.locked_by.startswith("w1:") for row in claimed)
        assert all(row.locked_until == NOW + timedelta(minutes=5) for row in claimed)
        assert await deliveries.claim_due("w2", NOW, 10) == []
        # After five minutes the worker w1 is presumed dead: its rows come back, the other lease too.
        later = NOW + timedelta(minutes=5, seconds=1)
        reclaimed = await deliveries.claim_due("w2", later, 10)
        assert sorted(row.id for row in reclaimed) == [
            rows[0].id,
            rows[2].id,
            rows[3].id,
            rows[4].id,
            rows[5].id,
        ]
        # A released row is claimable at once.
        await deliveries.release(reclaimed[:2])
        assert len(await deliveries.claim_due("w3", later, 10)) == 2


async def test_claim_due__limit_and_order(settings: Settings, clock: Clock) -> None:
    await _queue(settings, clock, 5)
    async with open_database(settings):
        first = await deliveries.claim_due("w1", NOW, 2)
        second = await deliveries.claim_due("w2", NOW, 2)
        third = await deliveries.claim_due("w3", NOW, 2)
        assert [len(first), len(second), len(third)] == [2, 2, 1]
        ids = [row.id for row in first + second + third]
        assert ids == sorted(ids)


ON_POSTGRES = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@ON_POSTGRES
async def test_claim_due__two_workers_on_two_connections_never_share_a_row(
    settings: Settings, clock: Clock, database_url: str
) -> None:
    assert is_postgres(database_url)
    await _queue(settings, clock, 300)
    ready = asyncio.Barrier(2)

    async def claimer(name: str) -> list[int]:
        mine: list[int] = []
        async with open_database(settings):
            await Delivery.all().count()  # connected before the race starts
            await ready.wait()
            while rows := await deliveries.claim_due(name, NOW, 7):
                mine.extend(row.id for row in rows)
        return mine

    first, second = await asyncio.gather(claimer("w1"), claimer("w2"))
    assert first and second, "both workers took part"
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(await _all_ids(settings))


async def _all_ids(settings: Settings) -> list[int]:
    async with open_database(settings):
        return [int(value) for value in await Delivery.all().values_list("id", flat=True)]


@ON_POSTGRES
async def test_claim_due__rows_locked_by_another_transaction_are_skipped_not_waited_for(
    settings: Settings, clock: Clock, database_url: str
) -> None:
    await _queue(settings, clock, 6)
    holding = asyncio.Event()
    done = asyncio.Event()

    async def holder() -> list[int]:
        async with open_database(settings), in_transaction():
            rows = await Delivery.all().order_by("id").limit(3).select_for_update()
            holding.set()
            await done.wait()
            return [row.id for row in rows]

    async def claimer() -> list[int]:
        await holding.wait()
        try:
            async with open_database(settings), asyncio.timeout(10):
                return [row.id for row in await deliveries.claim_due("w2", NOW, 10)]
        finally:
            done.set()

    held, claimed = await asyncio.gather(holder(), claimer())
    assert len(held) == 3 and len(claimed) == 3
    assert not set(held) & set(claimed)


async def _one_row(settings: Settings, clock: Clock, *, personal: bool = True) -> Delivery:
    async with open_node(settings, clock) as node:
        coop = await organization("coop-fives", NOW)
        iri = "https://masto.example/users/camille"
        shared = None if personal else "https://masto.example/inbox"
        await follower(coop, iri, f"{iri}/inbox", NOW, shared_inbox=shared)
        act = await activity(node, coop, NOW)
        await deliveries.enqueue(
            act, await deliveries.follower_targets(coop, object_type="Note"), NOW, local_base=LOCAL
        )
    async with open_database(settings):
        (row,) = await deliveries.claim_due("w", NOW, 1)
    return row


async def test_record_result__delivered(settings: Settings, clock: Clock) -> None:
    row = await _one_row(settings, clock)
    async with open_database(settings):
        await DomainHealth.create(host="masto.example", failure_days=["2025-10-10", "2025-10-11"])
        await deliveries.record_result(row, result(Outcome.DELIVERED, 202), NOW, Middle())
        stored = await Delivery.get(id=row.id)
        assert (stored.state, stored.attempts, stored.last_status) == ("delivered", 1, 202)
        assert stored.delivered_at == NOW and stored.first_attempt_at == NOW
        assert stored.locked_by is None and stored.locked_until is None
        health = await DomainHealth.get(host="masto.example")
        assert health.failure_days == [] and health.last_success_at == NOW


async def test_record_result__final_4xx(settings: Settings, clock: Clock) -> None:
    row = await _one_row(settings, clock)
    async with open_database(settings):
        await deliveries.record_result(row, result(Outcome.FINAL, 400, "HTTP 400: bad"), NOW, Middle())
        stored = await Delivery.get(id=row.id)
        assert (stored.state, stored.last_status, stored.last_error) == ("failed", 400, "HTTP 400: bad")
        assert not await DomainHealth.exists(host="masto.example")


async def test_record_result__gone_personal_inbox_marks_the_actor_gone(
    settings: Settings, clock: Clock
) -> None:
    row = await _one_row(settings, clock)
    async with open_node(settings, clock) as node:
        coop = await organization("coop-other", NOW)
        other = await activity(node, coop, NOW)
        await deliveries.enqueue(other, [Target(row.inbox, row.recipient_iri)], NOW, local_base=LOCAL)
        await deliveries.record_result(row, result(Outcome.GONE, 410, "HTTP 410"), NOW, Middle())
        assert (await Delivery.get(id=row.id)).state == "failed"
        assert (await RemoteActor.get(iri=row.recipient_iri)).gone
        assert not await Follower.exists(follower_iri=row.recipient_iri)
        pending = await Delivery.get(activity_id=other.id)
        assert pending.state == "failed" and "is gone (410)" in pending.last_error


async def test_record_result__gone_shared_inbox_marks_nobody(settings: Settings, clock: Clock) -> None:
    row = await _one_row(settings, clock, personal=False)
    assert row.inbox == "https://masto.example/inbox"
    async with open_database(settings):
        await deliveries.record_result(row, result(Outcome.GONE, 410, "HTTP 410"), NOW, Middle())
        assert (await Delivery.get(id=row.id)).state == "failed"
        assert not (await RemoteActor.get(iri=row.recipient_iri)).gone
        assert await Follower.exists(follower_iri=row.recipient_iri)


async def test_record_result__retry_backoff_retry_after_and_dead(settings: Settings, clock: Clock) -> None:
    row = await _one_row(settings, clock)
    async with open_database(settings):
        await deliveries.record_result(row, result(Outcome.RETRY, 500, "HTTP 500"), NOW, Middle())
        stored = await Delivery.get(id=row.id)
        assert (stored.state, stored.attempts, stored.next_attempt_at) == (
            "pending",
            1,
            NOW + timedelta(seconds=30),
        )
        assert (await DomainHealth.get(host="masto.example")).failure_days == ["2025-10-13"]
        # A 429 asking for ten minutes gets them, although the schedule says one.
        later = NOW + timedelta(seconds=30)
        await deliveries.record_result(stored, result(Outcome.RETRY, 429, "HTTP 429", "600"), later, Middle())
        stored = await Delivery.get(id=row.id)
        assert stored.next_attempt_at == later + timedelta(seconds=600)
        assert stored.first_attempt_at == NOW
        # Past the 72-hour deadline the row is dead.
        await deliveries.record_result(
            stored, result(Outcome.RETRY, None, "timed out"), NOW + timedelta(hours=71, minutes=59), Middle()
        )
        stored = await Delivery.get(id=row.id)
        assert (stored.state, stored.attempts, stored.last_status, stored.last_error) == (
            "dead",
            3,
            None,
            "timed out",
        )


async def test_domain_health__unavailable_after_seven_failing_days_and_cleared_by_a_success(
    settings: Settings, clock: Clock
) -> None:
    row = await _one_row(settings, clock)
    async with open_database(settings):
        for day in range(7):
            moment = NOW + timedelta(days=day)
            await deliveries.record_result(row, result(Outcome.RETRY, 503, "HTTP 503"), moment, Middle())
            await deliveries.record_result(row, result(Outcome.RETRY, None, "refused"), moment, Middle())
            health = await DomainHealth.get(host="masto.example")
            assert len(health.failure_days) == day + 1
            assert health.unavailable is (day == 6)
        # A 401 or a 4xx says nothing about the host's health.
        await deliveries.record_result(
            row, result(Outcome.RETRY, 401, "HTTP 401"), NOW + timedelta(days=8), Middle()
        )
        assert len((await DomainHealth.get(host="masto.example")).failure_days) == 7
        await deliveries.host_succeeded("masto.example", NOW + timedelta(days=9))
        health = await DomainHealth.get(host="masto.example")
        assert not health.unavailable and health.failure_days == []


async def test_screen_unavailable__one_probe_per_day_the_rest_skipped(
    settings: Settings, clock: Clock
) -> None:
    await _queue(settings, clock, 20)
    async with open_database(settings):
        await DomainHealth.create(
            host="h3.example", failure_days=[], unavailable=True, last_probe_at=NOW - timedelta(hours=25)
        )
        await DomainHealth.create(
            host="h4.example", failure_days=[], unavailable=True, last_probe_at=NOW - timedelta(hours=1)
        )
        rows = await deliveries.claim_due("w", NOW, 20)
        kept = await deliveries.screen_unavailable(rows, NOW)
        assert len(kept) == 20 - 3
        assert [row.host for row in kept].count("h3.example") == 1
        assert "h4.example" not in {row.host for row in kept}
        skipped = await Delivery.filter(state=DeliveryState.SKIPPED).values_list("host", flat=True)
        assert sorted(skipped) == ["h3.example", "h4.example", "h4.example"]
        assert await Delivery.filter(state=DeliveryState.SKIPPED, locked_by__isnull=False).count() == 0


async def test_retry_deliveries__failed_dead_and_skipped_back_to_pending_with_a_fresh_schedule(
    settings: Settings, clock: Clock
) -> None:
    await _queue(settings, clock, 5)
    async with open_database(settings):
        rows = await Delivery.all().order_by("id")
        for row, state in zip(rows, ["failed", "dead", "skipped", "delivered", "pending"], strict=True):
            await Delivery.filter(id=row.id).update(state=state, attempts=4, first_attempt_at=NOW)
        later = NOW + timedelta(days=4)
        assert await deliveries.retry_deliveries([rows[0].id, rows[3].id], later) == 1
        assert await deliveries.retry_deliveries(None, later) == 2
        states = [row.state for row in await Delivery.all().order_by("id")]
        assert states == ["pending", "pending", "pending", "delivered", "pending"]
        again = await Delivery.get(id=rows[1].id)
        assert (again.attempts, again.first_attempt_at, again.next_attempt_at) == (0, None, later)
        assert await deliveries.retry_deliveries([], later) == 0


async def test_retry_delivery__not_found_and_conflict(settings: Settings, clock: Clock) -> None:
    await _queue(settings, clock, 1)
    async with open_database(settings):
        (row,) = await Delivery.all()
        with pytest.raises(ConflictError, match="is pending: only failed, dead, skipped ones can be retried"):
            await deliveries.retry_delivery(row.id, NOW)
        with pytest.raises(NotFoundError, match="there is no delivery 999999"):
            await deliveries.retry_delivery(999999, NOW)
        await Delivery.filter(id=row.id).update(state=DeliveryState.DEAD)
        assert (await deliveries.retry_delivery(row.id, NOW)).state == "pending"


LISTING = ListingCreate(
    actor="coop-fives", kind="object", exchange="gift", title="Vélo", category="velos-accessoires"
)


async def test_publisher__public_activity_to_followers_and_relay_followers_with_an_announce(
    settings: Settings, clock: Clock
) -> None:
    async with open_node(settings, clock) as node:
        coop = await organization("coop-fives", NOW)
        await follower(
            coop,
            "https://masto.example/users/a",
            "https://masto.example/users/a/inbox",
            NOW,
            shared_inbox="https://masto.example/inbox",
        )
        await relay_follower(
            node,
            "https://masto.example/actor",
            "https://masto.example/actor/inbox",
            NOW,
            shared_inbox="https://masto.example/inbox",
        )
        await relay_follower(node, "https://portal.example/actor", "https://portal.example/actor/inbox", NOW)
        await relay_follower(
            node,
            "https://mobilizon.example/relay",
            "https://mobilizon.example/inbox",
            NOW,
            software="mobilizon",
        )
        listing = await create_listing(LISTING, node.publisher, NOW)
        create = await Activity.get(type="Create", object_iri=node.urls.listing(listing.id))
        assert sorted(await Delivery.filter(activity_id=create.id).values_list("inbox", flat=True)) == [
            "https://masto.example/inbox",
            "https://portal.example/actor/inbox",
        ]
        announce = await Activity.get(type="Announce")
        assert announce.actor_iri == node.urls.application_actor and announce.public
        assert announce.document["object"] == node.urls.listing(listing.id)
        assert announce.document["to"] == [f"{node.urls.application_actor}/followers"]
        assert announce.document["cc"] == ["https://www.w3.org/ns/activitystreams#Public"]
        assert announce.document["id"] == node.urls.activity(announce.id)
        assert sorted(await Delivery.filter(activity_id=announce.id).values_list("inbox", flat=True)) == [
            "https://masto.example/inbox",
            "https://portal.example/actor/inbox",
        ]
        # Events also reach the Mobilizon follower, and each Announce has its own id.
        event = await create_event(
            EventCreate(
                actor="coop-fives",
                name="Repair café",
                is_online=True,
                start_time=NOW + timedelta(days=3),
                end_time=NOW + timedelta(days=3, hours=2),
            ),
            node.publisher,
            NOW,
        )
        event_announce = await Activity.get(type="Announce", object_iri=node.urls.event(event.id))
        assert event_announce.id != announce.id
        assert "https://mobilizon.example/inbox" in await Delivery.filter(
            activity_id=event_announce.id
        ).values_list("inbox", flat=True)


async def test_publisher__no_relay_followers_no_announce_and_no_rows_without_followers(
    settings: Settings, clock: Clock
) -> None:
    async with open_node(settings, clock) as node:
        await organization("coop-fives", NOW)
        await create_listing(LISTING, node.publisher, NOW)
        assert await Activity.filter(type="Create").count() == 1
        assert not await Activity.exists(type="Announce")
        assert await Delivery.all().count() == 0


async def test_publisher_send__records_a_private_activity_and_queues_it(
    settings: Settings, clock: Clock
) -> None:
    async with open_node(settings, clock) as node:
        coop = await organization("coop-fives", NOW)
        activity_id = uuid7()
        document = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": node.urls.activity(activity_id),
            "type": "Follow",
            "actor": node.urls.actor("coop-fives"),
            "object": "https://masto.example/users/a",
            "to": ["https://masto.example/users/a"],
        }
        target = Target("https://masto.example/inbox", "https://masto.example/users/a")
        sent = await node.publisher.send("Follow", coop, document, [target])
        assert (
            sent.id == activity_id and not sent.public and sent.object_iri == "https://masto.example/users/a"
        )
        (row,) = await Delivery.filter(activity_id=activity_id)
        assert (row.inbox, row.state, row.next_attempt_at) == (
            "https://masto.example/inbox",
            "pending",
            clock(),
        )
