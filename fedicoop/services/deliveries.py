"""The delivery queue (wire-format §11): one durable row per (activity, target inbox), claimed by workers.

:func:`enqueue` writes the rows in the caller's transaction, next to the change that caused them.
Workers :func:`claim_due` rows under a lease (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several worker processes share the queue; a guarded update on SQLite, where one worker runs), post
them, and :func:`record_results` in bulk: delivered, final, gone (a personal inbox marks its actor gone
and removes it from our followers), or retried with backoff until dead. Each peer host's health is
tracked: a host that failed on 7 distinct days without a success is unavailable, and its rows are
skipped except one probe a day.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from federation.backoff import next_attempt
from federation.delivery import DeliveryResult, Outcome
from federation.errors import HostError
from federation.hosts import normalize_authority, origin
from fedicoop.errors import ConflictError, NotFoundError
from fedicoop.models.activities import Activity
from fedicoop.models.actors import Actor
from fedicoop.models.deliveries import Delivery, DomainHealth
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Follower
from fedicoop.models.states import DeliveryState, FollowState
from fedicoop.services.leases import claim
from fedicoop.urls import Urls
from schemas.api import DeliveryOut

__all__ = [
    "FAILING_DAYS",
    "LEASE",
    "PROBE_INTERVAL",
    "RETRYABLE_STATES",
    "Target",
    "UrlFilter",
    "claim_due",
    "delivery_views",
    "enqueue",
    "follower_targets",
    "host_of",
    "host_succeeded",
    "list_deliveries",
    "record_result",
    "record_results",
    "release",
    "retry_deliveries",
    "retry_delivery",
    "screen_unavailable",
]

LEASE = timedelta(minutes=5)
"""How long a claimed row stays with its worker; a worker that dies leaves rows that come back after it."""

FAILING_DAYS = 7
"""Distinct failing days without a success after which a host is unavailable."""

PROBE_INTERVAL = timedelta(hours=24)
"""How often one delivery is still attempted to an unavailable host."""

RETRYABLE_STATES = (DeliveryState.FAILED, DeliveryState.DEAD, DeliveryState.SKIPPED)
"""The states an administrator may send back to the queue."""

MOBILIZON = "mobilizon"
"""NodeInfo ``software.name`` of followers that receive only what concerns events (wire-format §3.2)."""

_RECORDED_FIELDS = (
    "state",
    "attempts",
    "first_attempt_at",
    "next_attempt_at",
    "locked_until",
    "locked_by",
    "last_status",
    "last_error",
    "delivered_at",
)


class UrlFilter(Protocol):
    """Tells whether a URL's host may federate (``fedicoop.network.HostFilter`` is one)."""

    def allows_url(self, url: str) -> bool:
        """Whether the host of ``url`` may federate with this node."""
        ...


@dataclass(frozen=True, slots=True)
class Target:
    """Where one copy of an activity goes: an inbox, and the actor it is for (``None`` for a relay)."""

    inbox: str
    recipient_iri: str | None = None


def host_of(url: str) -> str:
    """The normalised ``host[:port]`` of a URL, the key of per-host limits and health (HostError if none).

    >>> host_of("https://Mastodon.Example:443/inbox"), host_of("http://127.0.0.1:8001/inbox")
    ('mastodon.example', '127.0.0.1:8001')
    """
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if parts.scheme not in ("http", "https") or not netloc:
        raise HostError(f"inbox {url!r} is not an absolute http(s) URL")
    return normalize_authority(netloc, parts.scheme)


def _interleave(rows: list[Delivery]) -> list[Delivery]:
    """Order rows round-robin by host, so that a batch claimed in id order spreads over many hosts."""
    by_host: dict[str, list[Delivery]] = defaultdict(list)
    for row in rows:
        by_host[row.host].append(row)
    queues = list(by_host.values())
    ordered: list[Delivery] = []
    for index in range(max((len(queue) for queue in queues), default=0)):
        ordered.extend(queue[index] for queue in queues if index < len(queue))
    return ordered


def _probe_due(health: DomainHealth, now: datetime) -> bool:
    return health.last_probe_at is None or now - health.last_probe_at >= PROBE_INTERVAL


async def enqueue(
    activity: Activity,
    targets: Iterable[Target],
    now: datetime,
    *,
    local_base: str,
    hosts: UrlFilter | None = None,
) -> int:
    """Create the delivery rows of ``activity`` (in the caller's transaction); return how many.

    Targets are deduplicated by inbox (the first recipient named wins); inboxes on this node's origin,
    malformed ones, blocked hosts and inboxes that already have a row for this activity are left out.
    Rows to an unavailable host are created ``skipped``, except one left pending when a probe is due.
    """
    local_origin = origin(local_base)
    chosen: dict[str, tuple[Target, str]] = {}
    for target in targets:
        if target.inbox in chosen:
            continue
        try:
            host = host_of(target.inbox)
            if origin(target.inbox) == local_origin:
                continue
        except HostError:
            continue
        if hosts is not None and not hosts.allows_url(target.inbox):
            continue
        chosen[target.inbox] = (target, host)
    if not chosen:
        return 0
    existing = {
        str(inbox) for inbox in await Delivery.filter(activity_id=activity.id).values_list("inbox", flat=True)
    }
    fresh = [(target, host) for inbox, (target, host) in chosen.items() if inbox not in existing]
    unavailable = {
        health.host: health
        for health in await DomainHealth.filter(host__in={host for _, host in fresh}, unavailable=True)
    }
    probing: set[str] = set()
    rows: list[Delivery] = []
    for target, host in fresh:
        state, error = DeliveryState.PENDING, ""
        health = unavailable.get(host)
        if health is not None:
            if host not in probing and _probe_due(health, now):
                probing.add(host)
            else:
                state, error = DeliveryState.SKIPPED, _unavailable_error(health)
        rows.append(
            Delivery(
                activity_id=activity.id,
                inbox=target.inbox,
                host=host,
                recipient_iri=target.recipient_iri,
                state=state,
                next_attempt_at=now,
                created_at=now,
                last_error=error,
            )
        )
    await Delivery.bulk_create(_interleave(rows), ignore_conflicts=True)
    return len(rows)


def _unavailable_error(health: DomainHealth) -> str:
    return (
        f"not attempted: {health.host} failed on {len(health.failure_days)} distinct days without a success"
    )


async def follower_targets(actor: Actor, *, object_type: str | None) -> list[Target]:
    """The inboxes of ``actor``'s accepted followers (shared inbox preferred), in follow order.

    Followers known to be gone are left out, and so are Mobilizon followers unless ``object_type`` is
    ``Event`` (or ``None``: no filter), since Mobilizon reads any other object as a comment.
    """
    followers = await Follower.filter(actor=actor, state=FollowState.ACCEPTED).order_by("id")
    if not followers:
        return []
    excluded = Q(gone=True)
    if object_type is not None and object_type != "Event":
        excluded |= Q(software=MOBILIZON)
    iris = [follower.follower_iri for follower in followers]
    skip = {
        str(iri) for iri in await RemoteActor.filter(excluded, iri__in=iris).values_list("iri", flat=True)
    }
    return [
        Target(inbox=follower.shared_inbox or follower.inbox, recipient_iri=follower.follower_iri)
        for follower in followers
        if follower.follower_iri not in skip
    ]


async def claim_due(worker_id: str, now: datetime, limit: int, lease: timedelta = LEASE) -> list[Delivery]:
    """Claim at most ``limit`` due rows for ``lease``: pending, due, and not leased (or the lease expired).

    On PostgreSQL the rows are read ``FOR UPDATE SKIP LOCKED`` in the claiming transaction, so concurrent
    workers never get the same row and never wait for each other; on SQLite (one worker) the update
    re-checks the condition. ``locked_by`` is a claim token that starts with ``worker_id``.
    """
    due = Q(state=DeliveryState.PENDING, next_attempt_at__lte=now) & (
        Q(locked_until=None) | Q(locked_until__lt=now)
    )
    return await claim(
        Delivery, due, now=now, lease=lease, limit=limit, order=("next_attempt_at", "id"), worker_id=worker_id
    )


async def release(rows: Sequence[Delivery]) -> None:
    """Give claimed rows back to the queue unattempted (their lease is cleared if it is still theirs)."""
    for token in {row.locked_by for row in rows if row.locked_by}:
        ids = [row.id for row in rows if row.locked_by == token]
        await Delivery.filter(id__in=ids, locked_by=token).update(locked_until=None, locked_by=None)


async def screen_unavailable(rows: Sequence[Delivery], now: datetime) -> list[Delivery]:
    """Return the claimed rows worth posting; rows to an unavailable host become ``skipped``.

    One row per unavailable host still goes when that host's daily probe is due (the probe is claimed
    atomically, so two workers do not both probe).
    """
    hosts = {row.host for row in rows}
    unavailable = {
        health.host: health for health in await DomainHealth.filter(host__in=hosts, unavailable=True)
    }
    if not unavailable:
        return list(rows)
    kept: list[Delivery] = []
    skipped: dict[str, list[int]] = defaultdict(list)
    tried: set[str] = set()
    for row in rows:
        health = unavailable.get(row.host)
        if health is None:
            kept.append(row)
            continue
        if row.host not in tried:
            tried.add(row.host)
            due = Q(last_probe_at=None) | Q(last_probe_at__lte=now - PROBE_INTERVAL)
            if await DomainHealth.filter(due, host=row.host).update(last_probe_at=now):
                kept.append(row)
                continue
        skipped[_unavailable_error(health)].append(row.id)
    for error, ids in skipped.items():
        await Delivery.filter(id__in=ids).update(
            state=DeliveryState.SKIPPED, last_error=error, locked_until=None, locked_by=None
        )
    return kept


async def record_result(
    delivery: Delivery, result: DeliveryResult, now: datetime, rng: random.Random
) -> None:
    """Record the outcome of one attempt (see :func:`record_results`)."""
    await record_results([(delivery, result)], now, rng)


async def record_results(
    results: Sequence[tuple[Delivery, DeliveryResult]], now: datetime, rng: random.Random
) -> None:
    """Record attempts in bulk: one update for every row, one for the hosts that answered, then the rest.

    DELIVERED → delivered; FINAL → failed; GONE → failed, and a personal inbox marks its actor gone,
    removes it from our followers and fails its other pending rows; RETRY → pending at the backoff time
    (``Retry-After`` honoured), or dead past the 72-hour deadline. A 2xx clears the host's failing days;
    a network error or a 5xx adds today to them.
    """
    if not results:
        return
    succeeded: set[str] = set()
    failed: set[str] = set()
    gone: list[Delivery] = []
    rows: list[Delivery] = []
    for row, result in results:
        row.attempts += 1
        row.first_attempt_at = row.first_attempt_at or now
        row.last_status = result.status
        row.last_error = result.error or ""
        row.locked_until = None
        row.locked_by = None
        if result.outcome is Outcome.DELIVERED:
            row.state = DeliveryState.DELIVERED
            row.delivered_at = now
            succeeded.add(row.host)
        elif result.outcome is Outcome.RETRY:
            when = next_attempt(row.attempts, row.first_attempt_at, now, rng, result.retry_after)
            if when is None:
                row.state = DeliveryState.DEAD
            else:
                row.next_attempt_at = when
            if result.status is None or result.status >= 500:
                failed.add(row.host)
        else:
            row.state = DeliveryState.FAILED
            if result.outcome is Outcome.GONE:
                gone.append(row)
        rows.append(row)
    await _save_recorded(rows)
    if succeeded:
        await host_succeeded(succeeded, now)
    for host in sorted(failed - succeeded):
        await _host_failed(host, now)
    for row in gone:
        await _recipient_gone(row)


async def _save_recorded(rows: Sequence[Delivery]) -> None:
    """Write the recorded fields: one plain UPDATE per group of rows with equal values.

    A fan-out's deliveries form one group; the rest go in one ``bulk_update`` (a CASE per row and field).
    """
    groups: dict[tuple[object, ...], list[Delivery]] = defaultdict(list)
    for row in rows:
        groups[tuple(getattr(row, name) for name in _RECORDED_FIELDS)].append(row)
    singles: list[Delivery] = []
    for key, members in groups.items():
        if len(members) == 1:
            singles.extend(members)
            continue
        values = dict(zip(_RECORDED_FIELDS, key, strict=True))
        await Delivery.filter(id__in=[row.id for row in members]).update(**values)
    if singles:
        await Delivery.bulk_update(singles, fields=_RECORDED_FIELDS)


async def host_succeeded(hosts: str | Iterable[str], now: datetime) -> None:
    """Clear the failing days of hosts that answered (a 2xx, or a correctly signed request from them)."""
    names = [hosts] if isinstance(hosts, str) else list(hosts)
    await DomainHealth.filter(host__in=names).update(failure_days=[], unavailable=False, last_success_at=now)


async def _host_failed(host: str, now: datetime) -> None:
    today = now.date().isoformat()
    health = await DomainHealth.get_or_none(host=host)
    if health is None:
        try:
            await DomainHealth.create(host=host, failure_days=[today])
            return
        except IntegrityError:
            health = await DomainHealth.get(host=host)
    if today in health.failure_days:
        return
    days = sorted({*health.failure_days, today})[-FAILING_DAYS:]
    await DomainHealth.filter(id=health.id).update(
        failure_days=days, unavailable=health.unavailable or len(days) >= FAILING_DAYS
    )


async def _recipient_gone(row: Delivery) -> None:
    """A 410 from a personal inbox: the actor is gone, no longer a follower, and gets nothing more."""
    recipient = row.recipient_iri
    if recipient is None:
        return
    remote = await RemoteActor.get_or_none(iri=recipient)
    followers = await Follower.filter(follower_iri=recipient)
    personal = {follower.inbox for follower in followers}
    shared = {follower.shared_inbox for follower in followers}
    if remote is not None:
        personal.add(remote.inbox)
        shared.add(remote.shared_inbox)
    if row.inbox not in personal or row.inbox in shared:
        return
    if remote is not None:
        await RemoteActor.filter(id=remote.id).update(gone=True)
    await Follower.filter(follower_iri=recipient).delete()
    await Delivery.filter(inbox=row.inbox, state=DeliveryState.PENDING, locked_by=None).update(
        state=DeliveryState.FAILED, last_error=f"not attempted: {recipient} is gone (410)"
    )


async def list_deliveries(state: DeliveryState | None, limit: int) -> list[Delivery]:
    """The newest ``limit`` rows, in ``state`` when given."""
    query = Delivery.all() if state is None else Delivery.filter(state=state)
    return list(await query.order_by("-id").limit(limit))


async def get_delivery(delivery_id: int) -> Delivery:
    """One row by id; NotFoundError when there is none."""
    row = await Delivery.get_or_none(id=delivery_id)
    if row is None:
        raise NotFoundError(f"there is no delivery {delivery_id}")
    return row


async def retry_deliveries(ids: Sequence[int] | None, now: datetime) -> int:
    """Send failed, dead and skipped rows (all of them, or those of ``ids``) back to the queue, due now.

    Their attempts and first-attempt time restart, so they get the whole backoff schedule again.
    Returns how many rows were requeued.
    """
    query = Delivery.filter(state__in=RETRYABLE_STATES)
    if ids is not None:
        if not ids:
            return 0
        query = query.filter(id__in=list(ids))
    return await query.update(
        state=DeliveryState.PENDING,
        attempts=0,
        first_attempt_at=None,
        next_attempt_at=now,
        locked_until=None,
        locked_by=None,
    )


async def retry_delivery(delivery_id: int, now: datetime) -> Delivery:
    """Requeue one failed, dead or skipped row; NotFoundError or ConflictError (any other state)."""
    row = await get_delivery(delivery_id)
    if row.state not in RETRYABLE_STATES or not await retry_deliveries([delivery_id], now):
        allowed = ", ".join(state.value for state in RETRYABLE_STATES)
        raise ConflictError(
            f"delivery {delivery_id} is {row.state.value}: only {allowed} ones can be retried"
        )
    return await get_delivery(delivery_id)


async def delivery_views(rows: Sequence[Delivery], urls: Urls) -> list[DeliveryOut]:
    """The rows as the API shows them, with their activity's id and type (one query for the types)."""
    activity_ids: set[uuid.UUID] = {row.activity_id for row in rows}  # type: ignore[attr-defined]
    types = dict(await Activity.filter(id__in=activity_ids).values_list("id", "type"))
    return [
        DeliveryOut(
            id=row.id,
            activity=urls.activity(row.activity_id),  # type: ignore[attr-defined]
            activity_type=str(types.get(row.activity_id, "")),  # type: ignore[attr-defined]
            inbox=row.inbox,
            host=row.host,
            recipient=row.recipient_iri,
            state=row.state.value,
            attempts=row.attempts,
            first_attempt_at=row.first_attempt_at,
            next_attempt_at=row.next_attempt_at,
            last_status=row.last_status,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )
        for row in rows
    ]
