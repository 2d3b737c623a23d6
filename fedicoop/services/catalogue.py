"""The catalogue: the listings, repair offers and events of the remote actors this node follows.

:func:`store_object` reads a remote object tolerantly (unknown fields kept) but within the bounds of
wire-format §12, keeps it only when it is an offer, a request, a repair offer or an event attributed to
the actor that sent it, sanitises its HTML (§13.4) and files it by ``id``; an older or equal version never
replaces a newer one and an object never changes author. :func:`search` pages through the catalogue,
newest first, with an opaque cursor. :func:`refresh_slots` fetches the slot collection of a repair
offer (§6.2) and walks its pages (at most ten of at most 500 slots, all on the offer's origin);
:func:`store_slots` keeps its valid slot Intents on the row, in chronological order, as an
``OrderedCollection`` with ``id``, ``updated``, ``totalItems`` and every slot in ``orderedItems``.

Errors: a document that breaks the wire format raises :class:`~fedicoop.errors.ValidationError` naming
the field; an object attributed to someone else than the sender, on another origin than its author, or
whose author would change raises :class:`~fedicoop.errors.ForbiddenError`. Nothing is stored then.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pydantic
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from federation.errors import HostError
from federation.hosts import normalize_host, same_origin
from federation.sanitize import html_to_text, sanitize_html
from fedicoop.errors import BadRequestError, ForbiddenError, ValidationError
from fedicoop.models.catalogue import CatalogueItem, CatalogueTombstone
from fedicoop.models.states import CatalogueKind, Purpose
from schemas.base import ASObject
from schemas.collections import OrderedCollectionPage
from schemas.context import CATEGORIES, category_slug
from schemas.errors import BoundsError
from schemas.events import Event
from schemas.limits import COLLECTION_PAGES_MAX, ORDERED_ITEMS_MAX, SUMMARY_MAX, check_json_depth, json_path
from schemas.listings import Note
from schemas.media import Link
from schemas.places import Place
from schemas.slots import SlotCollection, SlotIntent

__all__ = [
    "SEARCH_LIMIT_MAX",
    "SLOTS_MAX",
    "CataloguePage",
    "Fetch",
    "normalise_text",
    "refresh_slots",
    "remove_actor_items",
    "remove_object",
    "search",
    "slots_url",
    "store_object",
    "store_slots",
]

logger = logging.getLogger("fedicoop.catalogue")

SEARCH_LIMIT_MAX = 100
"""The largest page :func:`search` returns."""

HTML_FIELDS = ("content", "summary")
"""Fields holding HTML, sanitised along with their ``…Map`` language variants."""


@dataclass(frozen=True, slots=True)
class CataloguePage:
    """One page of :func:`search`: the items, newest first, and the cursor of the next page (or None)."""

    items: list[CatalogueItem]
    next_cursor: str | None


def normalise_text(text: str) -> str:
    """Return ``text`` lowercased, without accents and with single spaces: the form search compares.

    >>> normalise_text("  Vélo   ÉLECTRIQUE\\nà Lille ")
    'velo electrique a lille'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.split())


def _without_nul(value: Any) -> Any:
    """Return a plain JSON copy of ``value`` without U+0000 in any string (PostgreSQL cannot store it)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {str(key).replace("\x00", ""): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(item) for item in value]
    return value


def _sanitised(document: dict[str, Any]) -> dict[str, Any]:
    """Return ``document`` with ``content``/``summary`` and their language maps sanitised (§13.4)."""
    for name in HTML_FIELDS:
        if isinstance(document.get(name), str):
            document[name] = sanitize_html(document[name])
        languages = document.get(name + "Map")
        if isinstance(languages, dict):
            document[name + "Map"] = {
                key: sanitize_html(value) for key, value in languages.items() if isinstance(value, str)
            }
    return document


def _validation_error(exc: pydantic.ValidationError, what: str) -> ValidationError:
    parts, first = [], None
    for error in exc.errors():
        where = json_path(tuple(error["loc"]))
        first = first or where
        parts.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return ValidationError(f"{what}: " + "; ".join(parts), field=first)


def _checked(model: type[pydantic.BaseModel], document: Mapping[str, Any], what: str) -> Any:
    """Validate ``document`` with ``model`` within the depth bound, or raise ValidationError."""
    try:
        check_json_depth(document)
        return model.model_validate(document)
    except BoundsError as exc:
        raise ValidationError(f"{what}: {exc}", field=exc.path) from None
    except pydantic.ValidationError as exc:
        raise _validation_error(exc, what) from None


def _kind_of(document: Mapping[str, Any]) -> str | None:
    """Return ``"Note"`` for a FEP-0837 listing, ``"Event"`` for an event, None for anything else."""
    kind = document.get("type")
    if kind == "Note" and "purpose" in document:
        return "Note"
    return "Event" if kind == "Event" else None


def _event_owner(event: Event, document: Mapping[str, Any]) -> str | None:
    """The author of an event: ``attributedTo``, else its first organizer, else a Mobilizon ``actor``."""
    if event.attributed_to is not None:
        return event.attributed_to
    if event.organizers is not None:
        for organizer in event.organizers.items or []:
            found = organizer.id if isinstance(organizer, ASObject) else organizer
            if isinstance(found, str):
                return found
    actor = document.get("actor")
    return actor if isinstance(actor, str) else None


def _first_place(location: Place | list[Place] | None) -> Place | None:
    if isinstance(location, list):
        return location[0] if location else None
    return location


def _place_name(place: Place | None) -> str | None:
    if place is None:
        return None
    if place.name:
        return place.name
    address = place.address
    if isinstance(address, str):
        return address or None
    return address.address_locality if address is not None else None


def _human_url(value: Any) -> str | None:
    """Return the first http(s) URL of a ``url`` value, an HTML ``Link`` first."""
    candidates = value if isinstance(value, list) else [value]
    links = [item for item in candidates if isinstance(item, Link)]
    html_first = [link.href for link in links if link.media_type == "text/html"]
    plain = [item if isinstance(item, str) else item.href for item in candidates if item is not None]
    for url in (*html_first, *plain):
        if isinstance(url, str):
            return url
    return None


def _available_quantity_is_zero(note: Note) -> bool:
    quantity = note.publishes.available_quantity
    return quantity is not None and Decimal(quantity.has_numerical_value) == 0


def _note_columns(note: Note) -> tuple[dict[str, Any], list[str]]:
    if note.kind == "repair" and note.purpose == "offer":
        kind = CatalogueKind.REPAIR
    else:
        kind = CatalogueKind.OFFER if note.purpose == "offer" else CatalogueKind.REQUEST
    conforms = note.publishes.resource_conforms_to
    slug = category_slug(conforms) if conforms else None
    return {
        "kind": kind,
        "purpose": Purpose(note.purpose),
        "category": slug,
        "name": note.title,
        "available": not _available_quantity_is_zero(note),
        "starts_at": note.publishes.has_beginning,
        "ends_at": note.publishes.has_end,
    }, [slug or "", CATEGORIES[slug].label if slug else ""]


def _event_columns(event: Event) -> tuple[dict[str, Any], list[str]]:
    cancelled = event.status == "CANCELLED" or event.event_status == "EventCancelled"
    return {
        "kind": CatalogueKind.EVENT,
        "purpose": None,
        "category": event.category,
        "name": event.name,
        "available": not cancelled,
        "starts_at": event.start_time,
        "ends_at": event.end_time,
    }, [(event.category or "").replace("_", " ")]


def _host_of(actor_iri: str) -> str:
    try:
        return normalize_host(urlsplit(actor_iri).hostname or "")
    except HostError as exc:
        raise ValidationError(f"actor {actor_iri!r}: {exc}", field="attributedTo") from None


def _columns(document: Mapping[str, Any], actor_iri: str) -> dict[str, Any] | None:
    """Validate ``document`` and return the catalogue columns, or None when it is no catalogue object."""
    kind = _kind_of(document)
    if kind is None:
        return None
    try:
        check_json_depth(document)  # before any recursive copy
    except BoundsError as exc:
        raise ValidationError(str(exc), field=exc.path) from None
    clean = _sanitised(_without_nul(document))
    model: Note | Event = _checked(Note if kind == "Note" else Event, clean, f"invalid {kind}")
    owner = model.attributed_to if isinstance(model, Note) else _event_owner(model, clean)
    if owner != actor_iri:
        raise ForbiddenError(f"{model.id} is attributed to {owner}, not to the sender {actor_iri}")
    if not same_origin(model.id, actor_iri):
        raise ForbiddenError(f"{model.id} is not on the origin of its author {actor_iri}")
    columns, category_words = _note_columns(model) if isinstance(model, Note) else _event_columns(model)
    content = clean.get("content")
    if not isinstance(content, str):
        languages = model.content_map or {}
        content = languages.get("fr") or next(iter(languages.values()), "")
    summary = clean.get("summary")  # an Event's is validated; a listing Note should have none (§5)
    summary = summary if isinstance(summary, str) and len(summary) <= SUMMARY_MAX else ""
    words = [columns["name"], html_to_text(content), html_to_text(summary), *category_words]
    place = _first_place(model.location)
    return {
        **columns,
        "iri": model.id,
        "actor_iri": actor_iri,
        "host": _host_of(actor_iri),
        "content": content,
        "summary": summary,
        "text": normalise_text(" ".join(words)),
        "url": _human_url(model.url),
        "document": clean,
        "published": model.published,
        "updated": model.updated,
        "location_name": _place_name(place),
        "latitude": place.latitude if place is not None else None,
        "longitude": place.longitude if place is not None else None,
    }


def _version(updated: datetime | None, published: datetime | None) -> datetime | None:
    return updated or published


async def _apply(existing: CatalogueItem, columns: dict[str, Any]) -> CatalogueItem:
    """Update ``existing`` with ``columns`` when they are a newer version by the same author."""
    if existing.actor_iri != columns["actor_iri"]:
        raise ForbiddenError(
            f"{existing.iri} belongs to {existing.actor_iri}; its attributedTo cannot become "
            f"{columns['actor_iri']}"
        )
    stored = _version(existing.updated, existing.published)
    incoming = _version(columns["updated"], columns["published"])
    if stored is not None and (incoming is None or incoming <= stored):
        return existing
    columns = {**columns, "published": columns["published"] or existing.published}
    existing.update_from_dict({key: value for key, value in columns.items() if key != "iri"})
    await existing.save()
    return existing


async def store_object(document: Mapping[str, Any], *, actor_iri: str, now: datetime) -> CatalogueItem | None:
    """Store or update a remote offer, request, repair offer or event sent by ``actor_iri``.

    Returns the stored row; the existing row unchanged when the document is not newer (by ``updated``,
    else ``published``) than what is stored; None, storing nothing, when the document is not a catalogue
    object (a plain Note, an Article…). ``published`` falls back to ``now``, the time of first reception,
    so that it always orders the catalogue. Raises ValidationError for a malformed or out-of-bounds
    document and ForbiddenError when it is attributed to another actor, lives on another origin, or would
    change the author of a stored object.
    """
    columns = _columns(document, actor_iri)
    if columns is None:
        return None
    existing = await CatalogueItem.get_or_none(iri=columns["iri"])
    if existing is not None:
        return await _apply(existing, columns)
    if await CatalogueTombstone.exists(iri=columns["iri"], actor_iri=actor_iri):
        return None  # deleted by its author: a Create that arrives late does not revive it
    try:
        return await CatalogueItem.create(
            **{**columns, "published": columns["published"] or now}, received_at=now
        )
    except IntegrityError:
        # The same object arrived twice at once: the other delivery stored it first.
        return await _apply(await CatalogueItem.get(iri=columns["iri"]), columns)


async def remove_object(iri: str, *, actor_iri: str, now: datetime | None = None) -> bool:
    """Delete the stored object ``iri`` if ``actor_iri`` is its author; tell whether a row went away.

    With ``now`` (a Delete from the author), a tombstone is kept, unless another author holds the
    object, so that the object's Create arriving after its Delete is ignored.
    """
    removed = await CatalogueItem.filter(iri=iri, actor_iri=actor_iri).delete() > 0
    if now is not None and (removed or not await CatalogueItem.exists(iri=iri)):
        await CatalogueTombstone.get_or_create(iri=iri, defaults={"actor_iri": actor_iri, "deleted_at": now})
    return removed


async def remove_actor_items(actor_iri: str) -> int:
    """Delete every stored object of ``actor_iri`` (unfollowed or gone); return how many went away."""
    return await CatalogueItem.filter(actor_iri=actor_iri).delete()


def _encode_cursor(item: CatalogueItem) -> str:
    raw = json.dumps([item.published.isoformat() if item.published else None, item.id])
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    bad = BadRequestError(f"cursor: {cursor[:80]!r} is not a cursor of this catalogue", field="cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, item_id = json.loads(raw)
        published = datetime.fromisoformat(moment)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if published.tzinfo is None or not isinstance(item_id, int) or isinstance(item_id, bool):
        raise bad
    return published, item_id


async def search(
    *,
    kind: CatalogueKind | None = None,
    purpose: Purpose | None = None,
    actor: str | None = None,
    text: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> CataloguePage:
    """Return one page of the catalogue, newest first (``published`` then id, both descending).

    ``text`` matches items holding every word of it, case and accents ignored; ``actor`` is an actor
    IRI. ``cursor`` is the ``next_cursor`` of the previous page: pages stay stable when items arrive
    meanwhile. Raises BadRequestError for a limit outside 1–100 or a cursor this node did not issue.
    """
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise BadRequestError(f"limit: expected 1 to {SEARCH_LIMIT_MAX}, got {limit}", field="limit")
    query = CatalogueItem.all()
    if kind is not None:
        query = query.filter(kind=kind)
    if purpose is not None:
        query = query.filter(purpose=purpose)
    if actor is not None:
        query = query.filter(actor_iri=actor)
    for word in normalise_text(text or "").split():
        query = query.filter(text__contains=word)
    if cursor:
        published, item_id = _decode_cursor(cursor)
        query = query.filter(Q(published__lt=published) | Q(published=published, id__lt=item_id))
    rows = await query.order_by("-published", "-id").limit(limit + 1)
    items = rows[:limit]
    return CataloguePage(items=items, next_cursor=_encode_cursor(items[-1]) if len(rows) > limit else None)


SLOTS_MAX = COLLECTION_PAGES_MAX * ORDERED_ITEMS_MAX
"""The most slots kept for one repair offer: ten pages of 500."""

Fetch = Callable[[str], Awaitable[dict[str, Any]]]
"""A document fetcher, such as ``federation.fetch.Fetcher.fetch``: URL in, JSON object out."""


def slots_url(item: CatalogueItem) -> str | None:
    """Return the slot collection IRI of a repair offer (its ``slots``), or None for any other item."""
    found = item.document.get("slots") if item.kind == CatalogueKind.REPAIR else None
    return found if isinstance(found, str) else None


def _valid_slots(entries: list[Any], collection_id: str) -> list[dict[str, Any]]:
    """Return the slot Intents of ``entries`` that are valid and belong to the collection, by start time."""
    found: dict[str, SlotIntent] = {}
    skipped = 0
    for entry in entries:
        try:
            slot = SlotIntent.model_validate(entry) if isinstance(entry, Mapping) else None
        except pydantic.ValidationError:
            slot = None
        if slot is None or not slot.id.startswith(collection_id + "#"):
            skipped += 1
            continue
        found.setdefault(slot.id, slot)
    if skipped:
        logger.warning("skipped %d invalid or foreign slots in %s", skipped, collection_id)
    ordered = sorted(found.values(), key=lambda slot: (slot.has_beginning, slot.id))
    fields = set(SlotIntent.model_fields) - {"context"}
    return [
        _without_nul(slot.model_dump(mode="json", by_alias=True, exclude_none=True, include=fields))
        for slot in ordered
    ]


def _entries(collection: Mapping[str, Any]) -> list[Any]:
    """The slot entries of a collection: its ``orderedItems``, else those of an embedded first page."""
    entries = collection.get("orderedItems")
    first = collection.get("first")
    if entries is None and isinstance(first, Mapping):
        entries = first.get("orderedItems")
    if entries is None:
        return []
    return entries if isinstance(entries, list) else [entries]


async def store_slots(item: CatalogueItem, collection: Mapping[str, Any], now: datetime) -> None:
    """Keep the slots of ``collection`` (a §6.2 root carrying every slot in ``orderedItems``) on ``item``.

    The collection must be the one the repair offer names in ``slots`` and, when it says so, attributed
    to the offer's author (ForbiddenError otherwise); invalid slots, and slots whose id is not in the
    collection, are skipped. Raises ValidationError when ``item`` has no slot collection, when the
    collection is malformed, or when it holds more than :data:`SLOTS_MAX` entries.
    """
    expected = slots_url(item)
    if expected is None:
        raise ValidationError(f"{item.iri} is not a repair offer with a slot collection", field="slots")
    root: SlotCollection = _checked(SlotCollection, collection, f"slot collection of {item.iri}")
    if root.id != expected:
        raise ForbiddenError(f"{root.id} is not the slot collection {expected} of {item.iri}")
    if root.attributed_to is not None and root.attributed_to != item.actor_iri:
        raise ForbiddenError(f"{root.id} is attributed to {root.attributed_to}, not to {item.actor_iri}")
    entries = _entries(collection)
    if len(entries) > SLOTS_MAX:
        raise ValidationError(
            f"{root.id} holds {len(entries)} slots, more than {SLOTS_MAX}", field="orderedItems"
        )
    slots = _valid_slots(entries, root.id)
    item.slots = {
        "id": root.id,
        "type": "OrderedCollection",
        "updated": root.to_wire().get("updated"),
        "totalItems": root.total_items if root.total_items is not None else len(slots),
        "orderedItems": slots,
    }
    item.slots_fetched_at = now
    await item.save(update_fields=["slots", "slots_fetched_at"])


def _page_ref(value: Any) -> str | Mapping[str, Any] | None:
    if isinstance(value, ASObject):
        return value.model_dump(by_alias=True, exclude_none=True)
    return value if isinstance(value, str | Mapping) else None


async def refresh_slots(item: CatalogueItem, fetch: Fetch, now: datetime) -> None:
    """Fetch the slot collection of the repair offer ``item`` with ``fetch`` and store it on the row.

    Walks ``first`` then ``next`` (fetched, or embedded), at most :data:`COLLECTION_PAGES_MAX` pages,
    each validated (at most 500 slots) and on the offer's origin; a page seen twice ends the walk.
    Does nothing for an item without a slot collection. Fetch errors (``federation.errors.FetchError``)
    propagate; the row keeps its previous slots then.
    """
    url = slots_url(item)
    if url is None:
        return
    document = await fetch(url)
    root: SlotCollection = _checked(SlotCollection, document, f"slot collection {url}")
    collected = list(_entries({"orderedItems": document.get("orderedItems")}))
    reference = _page_ref(root.first)
    seen: set[str] = set()
    for _ in range(COLLECTION_PAGES_MAX):
        if reference is None:
            break
        if isinstance(reference, str):
            if reference in seen:
                break
            if not same_origin(reference, url):
                raise ForbiddenError(f"page {reference} of {url} is on another origin")
            seen.add(reference)
            page_document: Mapping[str, Any] = await fetch(reference)
        else:
            page_document = reference
        page: OrderedCollectionPage[Any] = _checked(
            OrderedCollectionPage[Any], page_document, f"page of {url}"
        )
        if not same_origin(page.id, url) or page.part_of not in (None, url):
            raise ForbiddenError(f"page {page.id} is not a page of {url}")
        collected.extend(page.ordered_items)
        reference = page.next
    await store_slots(item, {**document, "orderedItems": collected}, now)
