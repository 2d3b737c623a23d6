"""The catalogue as the API, the HTML page and the CLI show it: strict query parameters, rows as models.

:func:`parse_catalogue_query` reads the filters of ``/api/v1/catalogue`` and ``/catalogue`` from query
strings (an empty value means "no filter", as an HTML form sends it) and raises
:class:`~fedicoop.errors.BadRequestError` naming the parameter and what it expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fedicoop.errors import BadRequestError
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.states import CatalogueKind, Purpose
from fedicoop.services.catalogue import SEARCH_LIMIT_MAX, CataloguePage, search, slots_url
from schemas.api import CatalogueItemOut, CataloguePageOut, CatalogueSlotOut
from schemas.limits import IRI_MAX

__all__ = [
    "DEFAULT_LIMIT",
    "CatalogueQuery",
    "catalogue_item_view",
    "catalogue_page_view",
    "parse_catalogue_query",
]

DEFAULT_LIMIT = 20
"""Items per page unless ``limit`` says otherwise."""

TEXT_MAX = 200
"""Characters in the ``q`` search text."""

CURSOR_MAX = 200
"""Characters in a ``cursor`` (ours are about 60)."""

NEXT_SLOTS_SHOWN = 10
"""Upcoming slots shown per repair offer."""


@dataclass(frozen=True, slots=True)
class CatalogueQuery:
    """The filters of one catalogue request, already checked."""

    kind: CatalogueKind | None = None
    purpose: Purpose | None = None
    actor: str | None = None
    text: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    async def run(self) -> CataloguePage:
        """Search the catalogue with these filters."""
        return await search(
            kind=self.kind,
            purpose=self.purpose,
            actor=self.actor,
            text=self.text,
            limit=self.limit,
            cursor=self.cursor,
        )

    def parameters(self, **changes: str | None) -> dict[str, str]:
        """The query parameters of this request (``q`` for the text), with ``changes``, blanks left out."""
        values: dict[str, str | None] = {
            "kind": self.kind.value if self.kind else None,
            "purpose": self.purpose.value if self.purpose else None,
            "actor": self.actor,
            "q": self.text,
            "limit": str(self.limit) if self.limit != DEFAULT_LIMIT else None,
            "cursor": self.cursor,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value}


def _choice(name: str, value: str | None, choices: type[CatalogueKind] | type[Purpose]) -> Any:
    if value is None:
        return None
    try:
        return choices(value)
    except ValueError:
        expected = ", ".join(choice.value for choice in choices)
        raise BadRequestError(f"{name}: expected one of {expected}, got {value[:80]!r}", field=name) from None


def _actor(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if len(value) > IRI_MAX or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequestError(
            f"actor: expected the http(s) URL of an actor, at most {IRI_MAX} characters, got {value[:80]!r}",
            field="actor",
        )
    return value


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= SEARCH_LIMIT_MAX:
        raise BadRequestError(
            f"limit: expected a whole number from 1 to {SEARCH_LIMIT_MAX}, got {value[:80]!r}", field="limit"
        )
    return int(value)


def _bounded(name: str, value: str | None, bound: int) -> str | None:
    if value is not None and len(value) > bound:
        raise BadRequestError(f"{name}: at most {bound} characters, got {len(value)}", field=name)
    return value


def parse_catalogue_query(params: Mapping[str, str | None]) -> CatalogueQuery:
    """Read ``kind``, ``purpose``, ``actor``, ``q``, ``limit`` and ``cursor``; blank values are ignored."""
    given = {key: value.strip() for key, value in params.items() if value is not None and value.strip()}
    for key, value in given.items():
        if "\x00" in value:
            raise BadRequestError(f"{key}: contains U+0000", field=key)
    return CatalogueQuery(
        kind=_choice("kind", given.get("kind"), CatalogueKind),
        purpose=_choice("purpose", given.get("purpose"), Purpose),
        actor=_actor(given.get("actor")),
        text=_bounded("q", given.get("q"), TEXT_MAX),
        limit=_limit(given.get("limit")),
        cursor=_bounded("cursor", given.get("cursor"), CURSOR_MAX),
    )


def _next_slots(item: CatalogueItem, now: datetime) -> list[CatalogueSlotOut]:
    shown: list[CatalogueSlotOut] = []
    for slot in (item.slots or {}).get("orderedItems", []):
        start, end = datetime.fromisoformat(slot["hasBeginning"]), datetime.fromisoformat(slot["hasEnd"])
        if start < now:
            continue
        quantity = slot.get("availableQuantity")
        available = int(float(quantity["hasNumericalValue"])) if isinstance(quantity, dict) else None
        shown.append(CatalogueSlotOut(id=slot["id"], start=start, end=end, available=available))
        if len(shown) == NEXT_SLOTS_SHOWN:
            break
    return shown


def catalogue_item_view(item: CatalogueItem, now: datetime) -> CatalogueItemOut:
    """A catalogue row as the API shows it, with its slots still to come after ``now``."""
    return CatalogueItemOut(
        id=item.iri,
        actor=item.actor_iri,
        host=item.host,
        kind=item.kind.value,
        purpose=item.purpose.value if item.purpose else None,
        category=item.category,
        name=item.name,
        content=item.content,
        summary=item.summary,
        url=item.url,
        available=item.available,
        published=item.published,
        updated=item.updated,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        location_name=item.location_name,
        latitude=item.latitude,
        longitude=item.longitude,
        received_at=item.received_at,
        slots_url=slots_url(item),
        slots_fetched_at=item.slots_fetched_at,
        next_slots=_next_slots(item, now),
    )


def catalogue_page_view(page: CataloguePage, now: datetime) -> CataloguePageOut:
    """A page of the catalogue as the API shows it."""
    return CataloguePageOut(
        items=[catalogue_item_view(item, now) for item in page.items], next_cursor=page.next_cursor
    )
