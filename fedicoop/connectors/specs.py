"""What a connector wants the node to publish: the desired state of one source, in our own terms.

A connector reads its whole source and returns a :class:`Snapshot`; :mod:`fedicoop.connectors.sync`
compares it with what the previous runs published (the ``source_link`` rows) and turns every difference
into a Create, Update or Delete. Specs carry the API input models of the services (``ActorCreate``,
``ListingCreate``, ``EventCreate``), so an imported object obeys exactly the rules of a typed-in one.
Every spec has a :class:`SourceKey`, stable across runs; its ``fingerprint`` decides whether anything
changed (the imported slots of a repair offer are compared apart: they change every day and are served
from the slot collection, not pushed).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.api import ActorCreate, AvailabilityInput, EventCreate, ListingCreate, PlaceInput


@dataclass(frozen=True, slots=True, order=True)
class SourceKey:
    """One record of the source: its ``kind`` (``repairer``, ``session``, ``product``, ``place``…) and id."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


Owner = SourceKey | str
"""Who publishes a listing or an event: an actor of the same snapshot (its key) or a local username."""


def _fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ActorSpec:
    """A workshop or place actor. ``profile.username`` is the wanted name: the engine makes it unique
    when it creates the actor and keeps it afterwards. ``availability`` (workshops) replaces the hours,
    closures, slot length and capacity; ``booking_url``, when set, makes the workshop's slots read-only
    (imported), bookings being taken on that page."""

    key: SourceKey
    profile: ActorCreate
    availability: AvailabilityInput | None = None
    booking_url: str | None = None

    def fingerprint(self) -> str:
        """A digest of everything published about the actor (its username excepted)."""
        profile = self.profile.model_dump(mode="json", exclude={"username"})
        hours = self.availability.model_dump(mode="json") if self.availability is not None else None
        return _fingerprint(profile, hours, self.booking_url)


@dataclass(frozen=True, slots=True)
class ImportedSlot:
    """A free slot copied from the source (its capacity unknown): aware start and end."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ListingSpec:
    """An offer, request or repair offer. ``data.actor`` is ignored: ``owner`` says who publishes it.

    ``listing_id`` reuses the source's UUID when it has one (EBS products), unless that id is already
    taken on the node. ``served_places`` (itinerant workshops) replaces the single location by the
    communes served, blurred. ``slots`` is set for repair offers whose slots are imported read-only.
    """

    key: SourceKey
    owner: Owner
    data: ListingCreate
    paused: bool = False
    listing_id: uuid.UUID | None = None
    served_places: tuple[PlaceInput, ...] = ()
    slots: tuple[ImportedSlot, ...] | None = None

    def fingerprint(self) -> str:
        """A digest of everything published about the listing (its slots excepted)."""
        data = self.data.model_dump(mode="json", exclude={"actor"})
        places = [place.model_dump(mode="json") for place in self.served_places]
        return _fingerprint(str(self.owner), data, self.paused, places)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An event (a self-repair session…). ``data.actor`` is ignored: ``owner`` says who organises it.
    An event that has ended is never withdrawn because it left the source's horizon."""

    key: SourceKey
    owner: Owner
    data: EventCreate

    def fingerprint(self) -> str:
        """A digest of everything published about the event."""
        return _fingerprint(str(self.owner), self.data.model_dump(mode="json", exclude={"actor"}))


@dataclass(frozen=True, slots=True)
class Skip:
    """A source record deliberately not published, and why (``restricted``, ``not enabled``…)."""

    key: SourceKey
    reason: str


@dataclass(slots=True)
class Snapshot:
    """Everything one source wants published now. ``source`` names the source and scopes its links:
    ``rustine https://api.example``, ``ebs ebs@db.example/ebs``. A record absent from the snapshot (or
    skipped) that an earlier run published is withdrawn."""

    source: str
    actors: list[ActorSpec] = field(default_factory=list)
    listings: list[ListingSpec] = field(default_factory=list)
    events: list[EventSpec] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
