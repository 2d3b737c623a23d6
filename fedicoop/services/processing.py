"""Processing received activities: the asynchronous half of the inbox (wire-format §9.1, §10.5, §12.6).

:class:`InboxJob` is a worker job: it claims received items whose time has come and applies each one.
Follow, Accept, Reject and Undo change the social graph; Create, Update, Delete and Announce change the
catalogue, and only for authors this node follows (directly, or through their node's application
actor). Relayed content (signer ≠ actor) and every Announce are refetched from their origin before
anything is believed. A Join of one of our events is answered with Ignore (§7); a booking Offer to a
workshop whose slots are imported read-only, with a Reject naming its booking page (§6.3). Everything
else is stored as ignored. A transient failure (a peer that does not answer) is retried with the delivery
backoff; a permanent one marks the item failed with its reason.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q

from federation.addressing import actor_id_of, is_public
from federation.backoff import next_attempt
from federation.errors import FederationError, FetchError, RemoteGoneError, RemoteNotFoundError
from federation.hosts import same_origin
from fedicoop.errors import FedicoopError
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.inbox import InboxItem
from fedicoop.models.remote import RemoteActor
from fedicoop.models.social import Follower, Following
from fedicoop.models.states import InboxState
from fedicoop.network import Network
from fedicoop.services import bookings, catalogue, follows
from fedicoop.services.joins import ignore_join
from fedicoop.services.leases import claim
from fedicoop.services.remote_actors import forget_actor, resolve_actor
from schemas.base import type_names

__all__ = ["InboxJob", "Outcome", "apply_activity", "process_item"]

logger = logging.getLogger("fedicoop.processing")

OBJECT_TYPES = frozenset({"Note", "Event"})
"""The object types the catalogue keeps."""


class Outcome(StrEnum):
    """What processing did with an activity."""

    APPLIED = "processed"
    IGNORED = "ignored"


async def _store(network: Network, document: Mapping[str, Any], author: str, now: datetime) -> Outcome:
    if not type_names(document) & OBJECT_TYPES:
        return Outcome.IGNORED
    if not is_public(document) or not await follows.follows_author(author):
        return Outcome.IGNORED
    # The author's actor document says whether its items may be listed (discoverable, indexable):
    # content relayed by a node's application actor comes from authors this node never fetched.
    await resolve_actor(network, author)
    territory = await network.node.territory.get()
    item = await catalogue.store_object(document, actor_iri=author, now=now, territory=territory)
    if item is None:
        return Outcome.IGNORED
    if item.kind == "repair":
        try:
            await catalogue.refresh_slots(item, network.fetcher.fetch, now)
        except (FederationError, FedicoopError) as exc:  # the offer stays; its slots wait for the next try
            logger.info("slots of %s not fetched: %s", item.iri, exc)
    return Outcome.APPLIED


async def _from_origin(network: Network, object_iri: str, now: datetime) -> Outcome:
    """Believe only what the origin serves: store the object, or delete it when the origin says gone."""
    try:
        document = await network.fetcher.fetch(object_iri)
    except (RemoteGoneError, RemoteNotFoundError):
        stored = await CatalogueItem.get_or_none(iri=object_iri)
        if stored is None:
            return Outcome.IGNORED
        await catalogue.remove_object(object_iri, actor_iri=stored.actor_iri, now=now)
        return Outcome.APPLIED
    author = actor_id_of(document.get("attributedTo"))
    if author is None or not same_origin(author, object_iri):
        return Outcome.IGNORED
    return await _store(network, document, author, now)


async def _create_or_update(network: Network, item: InboxItem, now: datetime) -> Outcome:
    activity = item.document
    inner = activity.get("object")
    object_iri = actor_id_of(inner)
    if object_iri is None:
        return Outcome.IGNORED
    if object_iri == item.actor_iri:  # an actor's Update of its own profile
        if item.authentic and await RemoteActor.exists(iri=object_iri):
            await resolve_actor(network, object_iri, refresh=True)
            await catalogue.relist_author(object_iri)
            return Outcome.APPLIED
        return Outcome.IGNORED
    if not item.authentic or not isinstance(inner, Mapping):
        return await _from_origin(network, object_iri, now)
    author = actor_id_of(inner.get("attributedTo"))
    if author != item.actor_iri:
        return Outcome.IGNORED
    return await _store(network, inner, author, now)


async def _delete(network: Network, item: InboxItem, now: datetime) -> Outcome:
    object_iri = actor_id_of(item.document.get("object"))
    if object_iri is None:
        return Outcome.IGNORED
    if not item.authentic:
        return await _from_origin(network, object_iri, now)
    if object_iri == item.actor_iri:  # the actor itself was deleted
        await catalogue.remove_actor_items(object_iri)
        await Follower.filter(follower_iri=object_iri).delete()
        await Following.filter(target_iri=object_iri).delete()
        await forget_actor(object_iri, now)
        return Outcome.APPLIED
    removed = await catalogue.remove_object(object_iri, actor_iri=item.actor_iri, now=now)
    return Outcome.APPLIED if removed else Outcome.IGNORED


async def _announce(network: Network, item: InboxItem, now: datetime) -> Outcome:
    object_iri = actor_id_of(item.document.get("object"))
    if object_iri is None or not network.hosts.allows_url(object_iri):
        return Outcome.IGNORED
    return await _from_origin(network, object_iri, now)


async def apply_activity(network: Network, item: InboxItem) -> Outcome:
    """Apply one received activity; raise FederationError or FedicoopError when it cannot be applied."""
    now = network.node.clock()
    kind = item.type
    activity = item.document
    if kind == "Follow" and item.authentic:
        state = await follows.receive_follow(network, activity, now)
        return Outcome.IGNORED if state is None else Outcome.APPLIED
    if kind in ("Accept", "Reject") and item.authentic:
        settled = await follows.settle_following(activity, accepted=kind == "Accept")
        return Outcome.APPLIED if settled else Outcome.IGNORED
    if kind == "Undo" and item.authentic:
        return Outcome.APPLIED if await follows.receive_undo_follow(activity) else Outcome.IGNORED
    if kind in ("Create", "Update"):
        return await _create_or_update(network, item, now)
    if kind == "Delete":
        return await _delete(network, item, now)
    if kind == "Announce":
        return await _announce(network, item, now)
    if kind == "Join" and item.authentic:
        return Outcome.APPLIED if await ignore_join(network, activity) else Outcome.IGNORED
    if kind == "Offer" and item.authentic:
        return Outcome.APPLIED if await bookings.answer_offer(network, activity) else Outcome.IGNORED
    return Outcome.IGNORED


_PERMANENT = (RemoteGoneError, RemoteNotFoundError)


async def process_item(network: Network, item: InboxItem, rng: random.Random) -> InboxState:
    """Process one claimed item and record the outcome; transient fetch failures are retried."""
    now = network.node.clock()
    item.attempts += 1
    try:
        outcome = await apply_activity(network, item)
    except FetchError as exc:
        if isinstance(exc, _PERMANENT):
            return await _finish(item, InboxState.FAILED, now, str(exc))
        retry_at = next_attempt(item.attempts, item.received_at, now, rng)
        if retry_at is None:
            return await _finish(item, InboxState.FAILED, now, str(exc))
        item.next_attempt_at, item.locked_until, item.last_error = retry_at, None, str(exc)
        await item.save(update_fields=["attempts", "next_attempt_at", "locked_until", "last_error"])
        return InboxState.RECEIVED
    except (FederationError, FedicoopError) as exc:
        return await _finish(item, InboxState.FAILED, now, f"{type(exc).__name__}: {exc}")
    state = InboxState.PROCESSED if outcome is Outcome.APPLIED else InboxState.IGNORED
    return await _finish(item, state, now, "")


async def _finish(item: InboxItem, state: InboxState, now: datetime, error: str) -> InboxState:
    item.state, item.processed_at, item.locked_until, item.last_error = state, now, None, error[:2000]
    await item.save(update_fields=["state", "processed_at", "locked_until", "last_error", "attempts"])
    return state


class InboxJob:
    """The worker job that processes received activities, in arrival order, under a lease."""

    def __init__(
        self, network: Network, worker_id: str, *, batch: int = 50, lease: timedelta = timedelta(minutes=5)
    ) -> None:
        self.network = network
        self.worker_id = worker_id
        self.batch = batch
        self.lease = lease
        self.rng = random.Random()  # noqa: S311 - jitter, not cryptography

    async def __call__(self, now: datetime) -> int:
        """Process the items due at ``now``; return how many were handled."""
        due = Q(state=InboxState.RECEIVED, next_attempt_at__lte=now) & (
            Q(locked_until__isnull=True) | Q(locked_until__lt=now)
        )
        items = await claim(
            InboxItem,
            due,
            now=now,
            lease=self.lease,
            worker_id=self.worker_id,
            limit=self.batch,
            order=("id",),
        )
        for item in items:
            try:
                await process_item(self.network, item, self.rng)
            except Exception:  # a bug in one item must not stop the others
                logger.exception("processing %s failed", item.activity_iri)
                await _finish(item, InboxState.FAILED, now, "internal error; see the log")
        return len(items)
