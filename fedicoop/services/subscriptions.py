"""Subscriptions: this node's application actor following other nodes, to build the catalogue.

A target is a host (``velo-fives.example``, ``127.0.0.1:8000``), a bare origin (``https://host/``), a
handle (``relay@host``) or an actor URL. A host means its application actor: WebFinger
``acct:relay@host`` (round trip checked), else ``/actor`` on that host (where Mastodon keeps its own).
The Follow goes through :mod:`fedicoop.services.follows`, so through the publisher's durable queue;
the node answers with an Accept later.

:func:`subscribe_all` works a list (a file, an API body) in two phases: the targets are resolved a few
at once (network), then subscribed one by one in their order (database), so that two spellings of one
node give one Follow and a "duplicate" that names the first. Every target ends as one
``SubscriptionResult``: subscribed (a Follow sent now), already subscribed (accepted earlier),
pending (asked earlier, no answer yet), duplicate, or failed with a :class:`FailureReason`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from federation import errors as fed
from federation.hosts import normalize_authority, origin
from federation.webfinger import parse_handle, resolve_handle
from fedicoop import errors
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Following
from fedicoop.models.states import FollowState
from fedicoop.network import Network
from fedicoop.services import follows
from fedicoop.services.actors import APPLICATION_USERNAME, get_application_actor
from fedicoop.services.remote_actors import resolve_actor
from schemas.limits import IRI_MAX

__all__ = [
    "CONCURRENCY_DEFAULT",
    "CONCURRENCY_MAX",
    "Entry",
    "FailureReason",
    "Outcome",
    "Subscription",
    "SubscriptionResult",
    "Target",
    "list_subscriptions",
    "parse_target",
    "subscribe_all",
    "unsubscribe",
]

CONCURRENCY_DEFAULT = 4
"""Targets resolved at once unless told otherwise."""

CONCURRENCY_MAX = 16
"""The most targets resolved at once."""

_FINAL = (fed.FetchConnectionError, fed.FetchTimeoutError, fed.AddressBlockedError, fed.HostBlockedError)
"""Failures of WebFinger that ``/actor`` on the same host would meet too."""


class Outcome(StrEnum):
    """What became of one target."""

    SUBSCRIBED = "subscribed"
    ALREADY = "already_subscribed"
    PENDING = "pending"
    DUPLICATE = "duplicate"
    FAILED = "failed"


class FailureReason(StrEnum):
    """Why a target could not be subscribed to."""

    MALFORMED = "malformed"
    UNREACHABLE = "unreachable"
    NOT_ACTIVITYPUB = "not_activitypub"
    ADDRESS_REFUSED = "address_refused"
    BLOCKED = "blocked"
    GONE = "gone"
    OWN_NODE = "own_node"


# Most specific first; a FetchError or ValidationError not listed earlier means "not ActivityPub".
_REASONS: tuple[tuple[type[Exception], FailureReason], ...] = (
    (fed.AddressBlockedError, FailureReason.ADDRESS_REFUSED),
    (fed.HostBlockedError, FailureReason.BLOCKED),
    (errors.ForbiddenError, FailureReason.BLOCKED),
    (fed.FetchTimeoutError, FailureReason.UNREACHABLE),
    (fed.FetchConnectionError, FailureReason.UNREACHABLE),
    (fed.RemoteGoneError, FailureReason.GONE),
    (fed.HandleError, FailureReason.MALFORMED),
    (fed.HostError, FailureReason.MALFORMED),
    (errors.BadRequestError, FailureReason.MALFORMED),
    (fed.FetchError, FailureReason.NOT_ACTIVITYPUB),
    (errors.ValidationError, FailureReason.NOT_ACTIVITYPUB),
    (fed.FederationError, FailureReason.NOT_ACTIVITYPUB),
)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked target: a ``host`` (its application actor), a ``handle``, or an ``actor_url``."""

    text: str
    host: str | None = None
    handle: str | None = None
    actor_url: str | None = None

    @property
    def key(self) -> str:
        """What two spellings of the same target share (``Example.org`` and ``https://example.org/``)."""
        return self.host or self.handle or self.actor_url or self.text


@dataclass(frozen=True, slots=True)
class Entry:
    """One target to subscribe to, with the label the results name it by (``line 3``, ``targets[2]``)."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class Subscription:
    """A node (or actor) this node's application actor follows or asked to follow."""

    id: int
    actor: str
    host: str
    name: str
    type: str
    state: FollowState
    follow_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionResult:
    """What became of one entry; ``detail`` says it in words, ``reason`` why it failed."""

    label: str
    target: str
    outcome: Outcome
    detail: str
    reason: FailureReason | None = None
    subscription: Subscription | None = None


def _malformed(text: str, why: str) -> errors.BadRequestError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return errors.BadRequestError(
        f"{shown!r} is not a host (velo-fives.example), a handle (relay@host) or an actor URL: {why}",
        field="target",
    )


def parse_target(text: str) -> Target:
    """Check one target without any network; BadRequestError says what is wrong with it."""
    text = text.strip()
    if not text:
        raise _malformed(text, "it is empty")
    if len(text) > IRI_MAX:
        raise _malformed(text, f"it is longer than {IRI_MAX} characters")
    if any(char.isspace() or not char.isprintable() for char in text):
        raise _malformed(text, "it contains spaces or control characters")
    if "://" in text:
        return _parse_url(text)
    if "@" in text:
        try:
            name, host = parse_handle(text)
        except fed.HandleError as exc:
            raise _malformed(text, str(exc)) from None
        return Target(text=text, handle=f"{name}@{host}")
    if "/" in text:
        raise _malformed(text, "a path needs the whole URL, with https://")
    try:
        return Target(text=text, host=normalize_authority(text))
    except fed.HostError as exc:
        raise _malformed(text, str(exc)) from None


def _parse_url(text: str) -> Target:
    if "@" in text.split("://", 1)[1].split("/", 1)[0]:
        raise _malformed(text, "an actor URL has no user name")
    try:
        parts = urlsplit(text)
        authority = normalize_authority(parts.netloc, parts.scheme.lower()) if parts.netloc else ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except (ValueError, fed.HostError) as exc:
        raise _malformed(text, str(exc)) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _malformed(text, f"the scheme {parts.scheme!r} is not http or https")
    if not authority:
        raise _malformed(text, "the URL has no host")
    if parts.path in ("", "/") and not parts.query and not parts.fragment:
        return Target(text=text, host=authority)
    if parts.fragment:
        raise _malformed(text, "an actor URL has no #fragment")
    return Target(text=text, actor_url=text)


def _reason(exc: Exception) -> FailureReason:
    return next(reason for kind, reason in _REASONS if isinstance(exc, kind))


@dataclass(frozen=True, slots=True)
class _Failure:
    reason: FailureReason
    detail: str


def _check_host(network: Network, authority: str) -> _Failure | None:
    """Refuse our own host and the hosts the domain lists keep out, before any request."""
    if authority == network.node.urls.host:
        return _Failure(FailureReason.OWN_NODE, f"{authority} is this node")
    hostname = urlsplit(f"//{authority}").hostname or authority
    if not network.hosts.allows(hostname):
        listed = "not on the allowlist" if network.hosts.allowed is not None else "on the block list"
        return _Failure(FailureReason.BLOCKED, f"{hostname} is {listed} of this node")
    return None


async def _webfinger(network: Network, handle: str) -> str:
    """The actor id of ``handle`` (WebFinger, round trip checked, the domain lists applied)."""
    fetch, allows = network.fetcher.fetch, network.hosts.allows
    return await resolve_handle(network.client, network.policy, handle, fetch, host_allowed=allows)


async def _application_actor_of(network: Network, authority: str) -> RemoteActor | _Failure:
    """The application actor of a node: WebFinger ``acct:relay@host``, else ``/actor``."""
    try:
        actor_iri = await _webfinger(network, f"{APPLICATION_USERNAME}@{authority}")
    except _FINAL as exc:
        return _Failure(_reason(exc), str(exc))
    except (fed.FederationError, errors.ValidationError) as exc:
        scheme = "http" if network.policy.insecure_peers else "https"
        fallback = f"{scheme}://{authority}/actor"
        try:
            return await resolve_actor(network, fallback)
        except (fed.FederationError, errors.ValidationError) as second:
            detail = f"no WebFinger for acct:{APPLICATION_USERNAME}@{authority} ({exc}), and {second}"
            return _Failure(_reason(second), detail)
    return await resolve_actor(network, actor_iri)


async def _resolve(network: Network, target: Target) -> RemoteActor | _Failure:
    """The remote actor a target names, or why there is none."""
    authority = target.host or (target.handle or "").partition("@")[2]
    if target.actor_url is not None:
        authority = urlsplit(origin(target.actor_url)).netloc
    refused = _check_host(network, authority)
    if refused is not None:
        return refused
    try:
        if target.host is not None:
            return await _application_actor_of(network, target.host)
        actor_iri = target.actor_url or await _webfinger(network, target.handle or "")
        if actor_iri.startswith(network.node.settings.base_url + "/"):
            return _Failure(FailureReason.OWN_NODE, f"{actor_iri} is an actor of this node")
        return await resolve_actor(network, actor_iri)
    except (fed.FederationError, errors.ValidationError, errors.ForbiddenError) as exc:
        return _Failure(_reason(exc), str(exc))


def _subscription(row: Following, remote: RemoteActor | None) -> Subscription:
    return Subscription(
        id=row.id,
        actor=row.target_iri,
        host=_authority(row.target_iri) or "",
        name=remote.name if remote else "",
        type=remote.type if remote else "",
        state=row.state,
        follow_id=row.follow_activity_iri,
        created_at=row.created_at,
    )


async def _subscribe_one(network: Network, remote: RemoteActor) -> tuple[Outcome, Subscription]:
    """Follow ``remote`` with the application actor unless already done or asked."""
    application = await get_application_actor()
    existing = await Following.get_or_none(actor=application, target_iri=remote.iri)
    if existing is not None and existing.state != FollowState.REJECTED:
        outcome = Outcome.ALREADY if existing.state == FollowState.ACCEPTED else Outcome.PENDING
        return outcome, _subscription(existing, remote)
    following = await follows.follow(network, APPLICATION_USERNAME, remote.iri)
    return Outcome.SUBSCRIBED, _subscription(following, remote)


_DETAILS = {
    Outcome.SUBSCRIBED: "Follow sent to {actor}; pending until the node accepts",
    Outcome.ALREADY: "already subscribed to {actor}",
    Outcome.PENDING: "already asked {actor}; waiting for its answer",
}


async def subscribe_all(
    network: Network,
    entries: Sequence[Entry],
    *,
    concurrency: int = CONCURRENCY_DEFAULT,
    progress: Callable[[Entry], None] | None = None,
) -> list[SubscriptionResult]:
    """Subscribe to every entry; one result per entry, in order. ``progress`` is told each resolved entry.

    ``concurrency`` (1 to :data:`CONCURRENCY_MAX`) bounds the targets resolved at once.
    """
    if not 1 <= concurrency <= CONCURRENCY_MAX:
        raise errors.BadRequestError(
            f"concurrency: expected 1 to {CONCURRENCY_MAX}, got {concurrency}", field="concurrency"
        )
    results: dict[int, SubscriptionResult] = {}
    targets: dict[int, Target] = {}
    first_label: dict[str, str] = {}
    for index, entry in enumerate(entries):
        try:
            target = parse_target(entry.text)
        except errors.BadRequestError as exc:
            results[index] = _failed(entry, _Failure(FailureReason.MALFORMED, str(exc)))
            continue
        if target.key in first_label:
            detail = f"same target as {first_label[target.key]}"
            results[index] = SubscriptionResult(entry.label, entry.text, Outcome.DUPLICATE, detail)
            continue
        first_label[target.key] = entry.label
        targets[index] = target
    for index in results:
        if progress is not None:
            progress(entries[index])
    gate = asyncio.Semaphore(concurrency)

    async def resolve(index: int) -> RemoteActor | _Failure:
        async with gate:
            found = await _resolve(network, targets[index])
        if progress is not None:
            progress(entries[index])
        return found

    resolved = await asyncio.gather(*(resolve(index) for index in targets))
    first_actor: dict[str, str] = {}
    for index, found in zip(targets, resolved, strict=True):
        entry = entries[index]
        if isinstance(found, _Failure):
            results[index] = _failed(entry, found)
        elif found.iri in first_actor:
            detail = f"{found.iri} again, as {first_actor[found.iri]}"
            results[index] = SubscriptionResult(entry.label, entry.text, Outcome.DUPLICATE, detail)
        else:
            first_actor[found.iri] = entry.label
            outcome, subscription = await _subscribe_one(network, found)
            detail = _DETAILS[outcome].format(actor=found.iri)
            results[index] = SubscriptionResult(entry.label, entry.text, outcome, detail, None, subscription)
    return [results[index] for index in range(len(entries))]


def _failed(entry: Entry, failure: _Failure) -> SubscriptionResult:
    return SubscriptionResult(entry.label, entry.text, Outcome.FAILED, failure.detail, failure.reason)


async def list_subscriptions(state: FollowState | None = None) -> list[Subscription]:
    """The application actor's subscriptions, newest first, optionally in one state."""
    application = await get_application_actor()
    query = Following.filter(actor=application).order_by("-created_at", "-id")
    if state is not None:
        query = query.filter(state=state)
    return await _views(await query)


async def _views(rows: Sequence[Following]) -> list[Subscription]:
    """The subscriptions of ``rows``, with what we know of each followed actor."""
    remotes = {r.iri: r for r in await RemoteActor.filter(iri__in=[row.target_iri for row in rows])}
    return [_subscription(row, remotes.get(row.target_iri)) for row in rows]


async def _matching(target: str) -> list[Following]:
    """The subscriptions ``target`` names: an id, an actor URL, or every actor of a host."""
    application = await get_application_actor()
    text = target.strip()
    if text.isascii() and text.isdigit():
        row = await Following.get_or_none(actor=application, id=int(text))
        return [row] if row is not None else []
    if "://" in text:
        exact = await Following.filter(actor=application, target_iri=text)
        if exact:
            return list(exact)
    parsed = parse_target(text)
    if parsed.actor_url is not None or parsed.handle is not None:
        return []
    rows = await Following.filter(actor=application)
    return [row for row in rows if _authority(row.target_iri) == parsed.host]


def _authority(url: str) -> str | None:
    """The normalised ``host[:port]`` of a URL (None when it has none)."""
    try:
        return urlsplit(origin(url)).netloc
    except fed.HostError:
        return None


async def unsubscribe(network: Network, target: str) -> list[Subscription]:
    """Stop following what ``target`` names (a subscription id, a host or an actor URL); Undo is sent.

    NotFoundError when no subscription matches; BadRequestError when ``target`` is malformed.
    """
    rows = await _matching(target)
    if not rows:
        raise errors.NotFoundError(f"no subscription matches {target.strip()!r}")
    removed = await _views(rows)
    for row in rows:
        await follows.unfollow(network, APPLICATION_USERNAME, row.target_iri)
    return removed
