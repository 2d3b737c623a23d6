"""The database models of a node, one module per concept."""

from __future__ import annotations

MODEL_MODULES: tuple[str, ...] = (
    "fedicoop.models.actors",
    "fedicoop.models.places",
    "fedicoop.models.listings",
    "fedicoop.models.events",
    "fedicoop.models.activities",
    "fedicoop.models.social",
    "fedicoop.models.bookings",
    "fedicoop.models.tokens",
    "fedicoop.models.deliveries",
    "fedicoop.models.inbox",
    "fedicoop.models.remote",
    "fedicoop.models.catalogue",
    "fedicoop.models.feeds",
    "fedicoop.models.connectors",
)
