"""The engine of the connectors: apply a source's :class:`Snapshot` to the node, and only what changed.

Every record of a snapshot has a :class:`~fedicoop.models.connectors.SourceLink` once published: the
object it became and the fingerprint of what was published. A run compares:

- no link (or its object was deleted on the node) → create it with the usual services, which publish
  the ``Create``; store the link;
- same fingerprint → nothing at all (a second run with no change sends nothing);
- another fingerprint → ``update_actor`` / ``set_availability`` / ``update_listing`` / ``update_event``,
  each publishing its ``Update``; a listing or event whose owner, kind, purpose or exchange changed is
  withdrawn and published anew (its author and nature cannot change in an Update);
- a repair offer's imported slots are compared apart: new ones refresh the slot collection and
  ``nextSlot`` (whose Update is rate-limited), nothing else;
- links of the source whose record left the snapshot (or was skipped) → the listing is withdrawn, the
  event deleted (an event that has ended is just forgotten), then the actor deleted (``Delete`` of the
  actor to its followers).

The whole snapshot is checked before anything is written (owners, keys, slots): a
:class:`~fedicoop.connectors.errors.ConnectorError` then names every problem. Each record is then applied
in its own transaction (its change, its activities and its link): a run that stops midway leaves what it
applied linked, and the next run goes on from there. A record the services refuse is reported in the
summary and the run goes on with the others.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.transactions import in_transaction

from fedicoop.connectors.checking import check_snapshot
from fedicoop.connectors.comparing import (
    actor_update,
    availability_differs,
    event_update,
    free_username,
    listing_update,
    profile_differs,
    replaced,
    slot_pairs,
    slots_fingerprint,
)
from fedicoop.connectors.errors import ConnectorError
from fedicoop.connectors.progress import Progress, report
from fedicoop.connectors.specs import ActorSpec, EventSpec, ListingSpec, Owner, Snapshot, SourceKey
from fedicoop.connectors.summary import RunSummary, SyncAction
from fedicoop.errors import FedicoopError
from fedicoop.ids import uuid7
from fedicoop.models.actors import Actor, Availability
from fedicoop.models.connectors import SourceLink
from fedicoop.models.events import Event
from fedicoop.models.listings import Listing
from fedicoop.models.states import LinkTarget
from fedicoop.node import Node
from fedicoop.services.actors import create_actor, delete_actor, update_actor
from fedicoop.services.availability import replace_imported_slots, set_availability
from fedicoop.services.events import create_event, delete_event, update_event
from fedicoop.services.listings import create_listing, update_listing, withdraw_listing

__all__ = ["synchronise"]


async def synchronise(
    snapshot: Snapshot, node: Node, now: datetime | None = None, progress: Progress | None = None
) -> RunSummary:
    """Make the node publish what ``snapshot`` says, sending a Create, Update or Delete per change.

    ``now`` defaults to the node's clock; ``progress`` is told ``(phase, done, total)`` for the phases
    ``actors``, ``listings``, ``events`` and ``withdrawals``. Raises ConnectorError, with nothing
    written, when the snapshot is inconsistent (an owner that is neither one of its actors nor a local
    actor, a key used twice, bad slots…); records the services refuse are reported in the summary.
    """
    started = node.clock()
    now = now or started
    local_owners = await check_snapshot(snapshot)
    await node.territory.get()  # load it before any transaction: mirroring places objects on it
    links = {(link.kind, link.source_id): link for link in await SourceLink.filter(source=snapshot.source)}
    run = _Run(snapshot, node, now, links, local_owners, progress)
    await run.actors()
    await run.listings()
    await run.events()
    await run.withdrawals()
    run.summary.started_at, run.summary.finished_at = started, node.clock()
    return run.summary


# Applying ---------------------------------------------------------------------------------------------


class _Run:
    """One application of a snapshot: the links found, the actors resolved, the summary being filled."""

    def __init__(
        self,
        snapshot: Snapshot,
        node: Node,
        now: datetime,
        links: dict[tuple[str, str], SourceLink],
        local_owners: dict[str, Actor],
        progress: Progress | None,
    ) -> None:
        self.snapshot = snapshot
        self.publisher = node.publisher
        self.now = now
        self.links = links
        self.local_owners = local_owners
        self.progress = progress
        self.owners: dict[SourceKey, Actor] = {}
        self.summary = RunSummary(snapshot.source, skipped=list(snapshot.skipped))

    # Links ---------------------------------------------------------------------------------------

    def _link_of(self, key: SourceKey, target: LinkTarget) -> SourceLink | None:
        link = self.links.get((key.kind, key.id))
        if link is not None and link.target != target:
            raise ConnectorError(
                f"{self.snapshot.source}: {key} was published as a {link.target.value}, "
                f"not a {target.value}; a source key must keep its type"
            )
        return link

    async def _store_link(
        self,
        link: SourceLink | None,
        key: SourceKey,
        target: LinkTarget,
        target_id: uuid.UUID,
        fingerprint: str,
        slots: str | None = None,
    ) -> None:
        if link is None:
            link = await SourceLink.create(
                source=self.snapshot.source,
                kind=key.kind,
                source_id=key.id,
                target=target,
                target_id=target_id,
                fingerprint=fingerprint,
                slots_fingerprint=slots,
                created_at=self.now,
                updated_at=self.now,
            )
            self.links[(key.kind, key.id)] = link
            return
        link.target_id, link.fingerprint, link.slots_fingerprint = target_id, fingerprint, slots
        link.updated_at = self.now
        await link.save(update_fields=["target_id", "fingerprint", "slots_fingerprint", "updated_at"])

    def _owner(self, owner: Owner) -> Actor:
        if isinstance(owner, str):
            return self.local_owners[owner]
        actor = self.owners.get(owner)
        if actor is None:
            raise ConnectorError(f"its owner, actor {owner}, could not be published in this run")
        return actor

    # Actors ----------------------------------------------------------------------------------------

    async def actors(self) -> None:
        """Create or update every actor of the snapshot and remember them for their objects."""
        specs = self.snapshot.actors
        report(self.progress, "actors", 0, len(specs))
        for done, spec in enumerate(specs, start=1):
            try:
                self.owners[spec.key] = await self._actor(spec)
            except FedicoopError as exc:
                self.summary.fail(spec.key, LinkTarget.ACTOR, str(exc))
                published = await self._published_actor(spec.key)
                if published is not None:  # its change failed: its objects still go on
                    self.owners[spec.key] = published
            report(self.progress, "actors", done, len(specs))

    async def _published_actor(self, key: SourceKey) -> Actor | None:
        link = self.links.get((key.kind, key.id))
        if link is None or link.target != LinkTarget.ACTOR:
            return None
        return await Actor.get_or_none(id=link.target_id, deleted_at=None).prefetch_related("location")

    async def _actor(self, spec: ActorSpec) -> Actor:
        link = self._link_of(spec.key, LinkTarget.ACTOR)
        actor = None
        if link is not None:
            actor = await Actor.get_or_none(id=link.target_id, deleted_at=None).prefetch_related("location")
        if actor is None:
            return await self._create_actor(spec, link)
        fingerprint = spec.fingerprint()
        if link is None or link.fingerprint == fingerprint:
            self.summary.record(LinkTarget.ACTOR, SyncAction.UNCHANGED)
            return actor
        publisher, now = self.publisher, self.now
        availability = await Availability.get_or_none(actor=actor)
        async with in_transaction():
            if profile_differs(actor, spec):
                await update_actor(actor.username, actor_update(spec), publisher, now)
            if spec.availability is not None and availability_differs(availability, spec):
                await set_availability(
                    actor.username, spec.availability, publisher, now, booking_url=spec.booking_url
                )
            await self._store_link(link, spec.key, LinkTarget.ACTOR, actor.id, fingerprint)
        self.summary.record(LinkTarget.ACTOR, SyncAction.UPDATED)
        return await Actor.get(id=actor.id).prefetch_related("location")

    async def _create_actor(self, spec: ActorSpec, link: SourceLink | None) -> Actor:
        publisher, now = self.publisher, self.now
        async with in_transaction():
            username = await free_username(spec.profile.username)
            actor = await create_actor(spec.profile.model_copy(update={"username": username}), now)
            if spec.availability is not None:
                await set_availability(
                    username, spec.availability, publisher, now, booking_url=spec.booking_url
                )
            await self._store_link(link, spec.key, LinkTarget.ACTOR, actor.id, spec.fingerprint())
        self.summary.record(LinkTarget.ACTOR, SyncAction.CREATED)
        return await Actor.get(id=actor.id).prefetch_related("location")

    # Listings --------------------------------------------------------------------------------------

    async def listings(self) -> None:
        """Create or update every listing of the snapshot, and refresh imported slots that changed."""
        specs = self.snapshot.listings
        report(self.progress, "listings", 0, len(specs))
        for done, spec in enumerate(specs, start=1):
            try:
                await self._listing(spec)
            except FedicoopError as exc:
                self.summary.fail(spec.key, LinkTarget.LISTING, str(exc))
            report(self.progress, "listings", done, len(specs))

    async def _listing(self, spec: ListingSpec) -> None:
        owner = self._owner(spec.owner)
        link = self._link_of(spec.key, LinkTarget.LISTING)
        listing = None
        if link is not None:
            listing = await Listing.get_or_none(id=link.target_id, deleted_at=None).prefetch_related(
                "actor", "location"
            )
        if listing is None or link is None:
            async with in_transaction():
                await self._create_listing(spec, owner, link)
            self.summary.record(LinkTarget.LISTING, SyncAction.CREATED)
            return
        fingerprint, slots = spec.fingerprint(), slots_fingerprint(spec.slots)
        data = spec.data.model_copy(update={"actor": owner.username})
        if replaced(listing, owner, data):
            async with in_transaction():
                await withdraw_listing(listing.id, self.publisher, self.now)
                await self._create_listing(spec, owner, link)
            self.summary.record(LinkTarget.LISTING, SyncAction.UPDATED)
            return
        if link.fingerprint != fingerprint:
            async with in_transaction():
                await update_listing(
                    listing.id,
                    listing_update(spec, owner),
                    self.publisher,
                    self.now,
                    unit_based=data.unit_based,
                    served_places=spec.served_places,
                )
                await self._store_link(
                    link, spec.key, LinkTarget.LISTING, listing.id, fingerprint, link.slots_fingerprint
                )
            self.summary.record(LinkTarget.LISTING, SyncAction.UPDATED)
        else:
            self.summary.record(LinkTarget.LISTING, SyncAction.UNCHANGED)
        if link.slots_fingerprint != slots:
            async with in_transaction():
                offer = await Listing.get(id=listing.id).prefetch_related("actor", "location")
                await replace_imported_slots(offer, slot_pairs(spec.slots), self.publisher, self.now)
                await self._store_link(
                    link, spec.key, LinkTarget.LISTING, listing.id, link.fingerprint, slots
                )
            self.summary.slots_refreshed += 1

    async def _create_listing(self, spec: ListingSpec, owner: Actor, link: SourceLink | None) -> None:
        listing_id = spec.listing_id
        if listing_id is None or await Listing.exists(id=listing_id):
            listing_id = uuid7()
        listing = await create_listing(
            spec.data.model_copy(update={"actor": owner.username}),
            self.publisher,
            self.now,
            listing_id=listing_id,
            paused=spec.paused,
            served_places=spec.served_places,
            imported_slots=slot_pairs(spec.slots),
        )
        await self._store_link(
            link, spec.key, LinkTarget.LISTING, listing.id, spec.fingerprint(), slots_fingerprint(spec.slots)
        )

    # Events ----------------------------------------------------------------------------------------

    async def events(self) -> None:
        """Create or update every event of the snapshot."""
        specs = self.snapshot.events
        report(self.progress, "events", 0, len(specs))
        for done, spec in enumerate(specs, start=1):
            try:
                await self._event(spec)
            except FedicoopError as exc:
                self.summary.fail(spec.key, LinkTarget.EVENT, str(exc))
            report(self.progress, "events", done, len(specs))

    async def _event(self, spec: EventSpec) -> None:
        owner = self._owner(spec.owner)
        link = self._link_of(spec.key, LinkTarget.EVENT)
        event = None
        if link is not None:
            event = await Event.get_or_none(id=link.target_id, deleted_at=None).prefetch_related("actor")
        fingerprint = spec.fingerprint()
        data = spec.data.model_copy(update={"actor": owner.username})
        if event is None or link is None or event.actor.id != owner.id:
            async with in_transaction():
                if event is not None:  # its organiser changed: an Update cannot say so
                    await delete_event(event.id, self.publisher, self.now)
                created = await create_event(data, self.publisher, self.now)
                await self._store_link(link, spec.key, LinkTarget.EVENT, created.id, fingerprint)
            self.summary.record(LinkTarget.EVENT, SyncAction.CREATED if event is None else SyncAction.UPDATED)
            return
        if link.fingerprint == fingerprint:
            self.summary.record(LinkTarget.EVENT, SyncAction.UNCHANGED)
            return
        async with in_transaction():
            await update_event(event.id, event_update(spec, owner), self.publisher, self.now)
            await self._store_link(link, spec.key, LinkTarget.EVENT, event.id, fingerprint)
        self.summary.record(LinkTarget.EVENT, SyncAction.UPDATED)

    # Withdrawals -----------------------------------------------------------------------------------

    async def withdrawals(self) -> None:
        """Withdraw what earlier runs published and the snapshot no longer holds: listings and events
        first, their actors last."""
        snapshot = self.snapshot
        specs: list[ActorSpec | ListingSpec | EventSpec] = [
            *snapshot.actors,
            *snapshot.listings,
            *snapshot.events,
        ]
        present = {spec.key for spec in specs}
        order = {LinkTarget.LISTING: 0, LinkTarget.EVENT: 1, LinkTarget.ACTOR: 2}
        stale = sorted(
            (link for link in self.links.values() if SourceKey(link.kind, link.source_id) not in present),
            key=lambda link: (order[link.target], link.id),
        )
        report(self.progress, "withdrawals", 0, len(stale))
        for done, link in enumerate(stale, start=1):
            try:
                await self._withdraw(link)
            except FedicoopError as exc:
                self.summary.fail(SourceKey(link.kind, link.source_id), link.target, str(exc))
            report(self.progress, "withdrawals", done, len(stale))

    async def _withdraw(self, link: SourceLink) -> None:
        publisher, now = self.publisher, self.now
        withdrawn = False
        async with in_transaction():
            if link.target == LinkTarget.LISTING:
                listing = await Listing.get_or_none(id=link.target_id, deleted_at=None)
                if listing is not None:
                    await withdraw_listing(listing.id, publisher, now)
                    withdrawn = True
            elif link.target == LinkTarget.EVENT:
                event = await Event.get_or_none(id=link.target_id, deleted_at=None)
                if event is not None and event.end_time > now:  # an event that has ended stays as it was
                    await delete_event(event.id, publisher, now)
                    withdrawn = True
            else:
                actor = await Actor.get_or_none(id=link.target_id, deleted_at=None)
                if actor is not None:
                    await delete_actor(actor.username, publisher, now)
                    withdrawn = True
            await link.delete()
        self.links.pop((link.kind, link.source_id), None)
        if withdrawn:
            self.summary.record(link.target, SyncAction.WITHDRAWN)
