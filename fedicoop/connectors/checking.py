"""Checking a connector's snapshot before anything is written: keys, owners, slots and places.

:func:`check_snapshot` raises one :class:`~fedicoop.connectors.errors.ConnectorError` naming every
problem it finds, so that a run either applies a consistent snapshot or publishes nothing.
"""

from __future__ import annotations

import re

from fedicoop.connectors.errors import ConnectorError
from fedicoop.connectors.specs import ActorSpec, EventSpec, ListingSpec, Owner, Snapshot, SourceKey
from fedicoop.models.actors import Actor
from fedicoop.models.states import ActorKind
from schemas.limits import LOCAL_USERNAME_PATTERN

__all__ = ["KIND_MAX", "PROBLEMS_SHOWN", "SOURCE_ID_MAX", "SOURCE_MAX", "check_snapshot"]

SOURCE_MAX = 300
KIND_MAX = 32
SOURCE_ID_MAX = 200
PROBLEMS_SHOWN = 20
"""The problems of an invalid snapshot named in its error (the count says how many more)."""


def _owner_text(owner: Owner) -> str:
    return f"actor {owner}" if isinstance(owner, SourceKey) else f"local actor {owner!r}"


def _check_keys(snapshot: Snapshot, problems: list[str]) -> None:
    seen: set[SourceKey] = set()
    specs: list[ActorSpec | ListingSpec | EventSpec] = [
        *snapshot.actors,
        *snapshot.listings,
        *snapshot.events,
    ]
    for spec in specs:
        key = spec.key
        if key in seen:
            problems.append(f"{key}: the key is used twice in the snapshot")
        seen.add(key)
        if not key.kind or len(key.kind) > KIND_MAX:
            problems.append(f"{key}: the kind must have 1 to {KIND_MAX} characters")
        if not key.id or len(key.id) > SOURCE_ID_MAX:
            problems.append(f"{key}: the id must have 1 to {SOURCE_ID_MAX} characters")
    for skip in snapshot.skipped:
        if skip.key in seen:
            problems.append(f"{skip.key}: both published and skipped ({skip.reason})")


def _check_slots(spec: ListingSpec, problems: list[str]) -> None:
    if spec.slots is None:
        return
    if spec.data.kind != "repair":
        problems.append(f"{spec.key}: only a repair offer has slots, this is a {spec.data.kind} listing")
    for slot in spec.slots:
        start, end = slot.start, slot.end
        if start.tzinfo is None or end.tzinfo is None:
            problems.append(f"{spec.key}: slot {start.isoformat()} has a naive time (an offset is needed)")
        elif end <= start:
            problems.append(f"{spec.key}: slot {start.isoformat()} ends at {end.isoformat()}, not after")
        elif start.second or start.microsecond:
            problems.append(f"{spec.key}: slot {start.isoformat()} does not start on a whole minute")


async def check_snapshot(snapshot: Snapshot) -> dict[str, Actor]:
    """Check the whole snapshot before anything is written; return the local actors it names as owners.

    Raises one ConnectorError naming every problem found (the first :data:`PROBLEMS_SHOWN`)."""
    problems: list[str] = []
    if not snapshot.source or len(snapshot.source) > SOURCE_MAX:
        problems.append(f"the source name must have 1 to {SOURCE_MAX} characters")
    _check_keys(snapshot, problems)
    actor_specs = {spec.key: spec for spec in snapshot.actors}
    local: dict[str, Actor] = {}
    owned_specs: list[ListingSpec | EventSpec] = [*snapshot.listings, *snapshot.events]
    names = {spec.owner for spec in owned_specs if isinstance(spec.owner, str)}
    for name in sorted(names):
        actor = None
        if re.fullmatch(LOCAL_USERNAME_PATTERN, name):
            actor = await Actor.get_or_none(username=name, deleted_at=None).prefetch_related("location")
        if actor is None or actor.kind in (ActorKind.APPLICATION, ActorKind.FEED):
            problems.append(f"owner {name!r}: no such actor on this node (create it, or fix the option)")
        else:
            local[name] = actor
    repair_owners: set[str] = set()

    def kind_of(owner: Owner) -> str | None:
        if isinstance(owner, SourceKey):
            spec = actor_specs.get(owner)
            return spec.profile.kind.value if spec is not None else None
        actor = local.get(owner)
        return actor.kind.value if actor is not None else None

    def has_place(owner: Owner) -> bool:
        if isinstance(owner, SourceKey):
            spec = actor_specs.get(owner)
            return spec is not None and spec.profile.location is not None
        actor = local.get(owner)
        return actor is not None and actor.location is not None

    for owned in owned_specs:
        if isinstance(owned.owner, SourceKey) and owned.owner not in actor_specs:
            problems.append(f"{owned.key}: its owner {owned.owner} is not an actor of the snapshot")
    for listing in snapshot.listings:
        _check_slots(listing, problems)
        if listing.data.kind == "repair":
            if kind_of(listing.owner) not in (None, ActorKind.WORKSHOP.value):
                problems.append(
                    f"{listing.key}: a repair offer needs a workshop, {_owner_text(listing.owner)} is not"
                )
            if str(listing.owner) in repair_owners:
                problems.append(f"{listing.key}: {_owner_text(listing.owner)} has a second repair offer")
            repair_owners.add(str(listing.owner))
    for event in snapshot.events:
        if event.data.location is None and not event.data.is_online and not has_place(event.owner):
            problems.append(f"{event.key}: no location, and {_owner_text(event.owner)} has none")
    if problems:
        shown = problems[:PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        tail = f"\n  … and {more} more" if more else ""
        raise ConnectorError(
            f"{snapshot.source}: the snapshot is inconsistent, nothing was published:\n  "
            + "\n  ".join(shown)
            + tail
        )
    return local
