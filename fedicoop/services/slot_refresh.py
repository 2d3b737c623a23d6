"""Keeping followed repair offers' slots fresh: a worker job that refetches stale slot collections.

A repair offer's slots change as bookings are made and days pass, without any activity being sent for
each change (wire-format §6.2). The job refetches, from their origin, the collections older than
``max_age``, a few at a time, oldest first; a failed refetch keeps the slots last stored and waits for
the next turn.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tortoise.expressions import Q

from federation.errors import FederationError
from fedicoop.errors import FedicoopError
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.states import CatalogueKind
from fedicoop.services.catalogue import Fetch, refresh_slots
from fedicoop.services.publishing import Publisher

__all__ = ["SlotRefreshJob"]

logger = logging.getLogger("fedicoop.slots")


class SlotRefreshJob:
    """Refetch with ``fetch`` the slot collections older than ``max_age``, ``batch`` a turn."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        publisher: Publisher | None = None,
        max_age: timedelta = timedelta(hours=1),
        batch: int = 5,
    ) -> None:
        self.fetch = fetch
        self.publisher = publisher
        self.max_age = max_age
        self.batch = batch

    async def __call__(self, now: datetime) -> int:
        """Refresh the stalest collections due at ``now``; return how many were tried."""
        stale = Q(slots_fetched_at__isnull=True) | Q(slots_fetched_at__lt=now - self.max_age)
        items = (
            await CatalogueItem.filter(stale, kind=CatalogueKind.REPAIR)
            .order_by("slots_fetched_at", "id")
            .limit(self.batch)
        )
        for item in items:
            try:
                if self.publisher is not None and self.publisher.is_mirrored(item):
                    await self.publisher.refresh_mirrored_slots(item, now)  # our own: from local data
                else:
                    await refresh_slots(item, self.fetch, now)
            except (FederationError, FedicoopError) as exc:
                logger.info("slots of %s not refreshed: %s", item.iri, exc)
            if item.slots_fetched_at is None or item.slots_fetched_at < now:
                await CatalogueItem.filter(pk=item.pk).update(slots_fetched_at=now)
        return len(items)
