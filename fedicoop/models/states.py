"""The enumerations stored in the database: kinds, purposes and states."""

from __future__ import annotations

from enum import StrEnum


class ActorKind(StrEnum):
    """What a local actor is: the node's Application actor, an Organization of one of three sorts, or a
    feed (a ``Service`` that announces what matches a saved search, ``fedicoop.feeds``)."""

    APPLICATION = "application"
    COOPERATIVE = "cooperative"
    WORKSHOP = "workshop"
    PLACE = "place"
    FEED = "feed"


class ListingKind(StrEnum):
    """What a listing is about: an object, a service, or a repair appointment."""

    OBJECT = "object"
    SERVICE = "service"
    REPAIR = "repair"


class Purpose(StrEnum):
    """FEP-0837 purpose: something offered or something looked for."""

    OFFER = "offer"
    REQUEST = "request"


class Action(StrEnum):
    """ValueFlows action of a listing's primary intent (wire-format §5)."""

    TRANSFER = "transfer"
    TRANSFER_CUSTODY = "transferCustody"
    DELIVER_SERVICE = "deliverService"


class ListingState(StrEnum):
    """Lifecycle of a listing: live, paused (availableQuantity 0) or withdrawn (a Tombstone)."""

    PUBLISHED = "published"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"


class EventStatus(StrEnum):
    """iCalendar status of an event, sent with its FEP-8a8e ``eventStatus`` counterpart."""

    TENTATIVE = "TENTATIVE"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class BookingState(StrEnum):
    """States of a slot booking (wire-format §6.3); pending and accepted hold a place."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class FollowState(StrEnum):
    """State of a follow relation in either direction."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class DeliveryState(StrEnum):
    """State of one delivery row (wire-format §11)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"
    SKIPPED = "skipped"


class InboxState(StrEnum):
    """State of one incoming activity: waiting, applied, stored as ignored, or failed after retries."""

    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


class CatalogueKind(StrEnum):
    """What a catalogue item is: an offer, a request, a repair offer or an event."""

    OFFER = "offer"
    REQUEST = "request"
    REPAIR = "repair"
    EVENT = "event"


class LinkTarget(StrEnum):
    """What a connector published a source record as (``fedicoop.models.connectors.SourceLink``)."""

    ACTOR = "actor"
    LISTING = "listing"
    EVENT = "event"
