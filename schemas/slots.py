"""Repair slots (wire-format §6.2): slot ``Intent``s served in a paged ``OrderedCollection``.

A slot's id is the collection id plus the fragment of its UTC start (``#2025-10-14T12:00Z``) and never
changes; :func:`slot_id` builds it. ``availableQuantity`` is left out when unknown (imported slots).
"""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.base import IRI, Ref, UtcDateTime, WallDateTime
from schemas.collections import OrderedCollection, OrderedCollectionPage
from schemas.listings import Intent


class SlotIntent(Intent):
    """One bookable slot: an ``Intent`` with a stable ``id``, ``hasBeginning`` and ``hasEnd`` required."""

    id: IRI
    has_beginning: WallDateTime
    has_end: WallDateTime


class SlotCollection(OrderedCollection):
    """The root of a repair offer's slot collection: attributed to the workshop, with its ``updated`` time."""

    attributed_to: Ref | None = None
    updated: UtcDateTime | None = None


class SlotPage(OrderedCollectionPage[SlotIntent]):
    """One page of a slot collection, in chronological order (100 slots a page)."""


def slot_id(collection_id: str, start: datetime) -> str:
    """Return the id of the slot of ``collection_id`` starting at ``start``: ``{id}#YYYY-MM-DDTHH:MMZ``, UTC.

    >>> from datetime import timedelta, timezone
    >>> slot_id("https://a.example/slots", datetime(2025, 10, 14, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    'https://a.example/slots#2025-10-14T12:00Z'
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("a slot start needs an offset")
    return f"{collection_id}#{start.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"
