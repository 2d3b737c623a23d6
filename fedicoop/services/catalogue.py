"""The catalogue: the listings, repair offers and events of the remote actors this node follows.

:func:`store_object` reads a remote object tolerantly (unknown fields kept) but within the bounds of
wire-format §12, keeps it only when it is an offer, a request, a repair offer or an event attributed to
the actor that sent it, sanitises its HTML (§13.4) and files it by ``id``; an older or equal version never
replaces a newer one and an object never changes author. Given the territory, it places every location
of the object (§8): the codes of the commune of the first point, computed and never taken from the
sender (a disagreement is flagged and logged), and every commune the locations cover (a blurred place
covers each commune its disc meets) for territorial searches. An author who opted out of discovery or
indexing has its items kept but unlisted. :func:`refresh_slots` fetches the slot collection of a repair
offer (§6.2) and walks its pages (at most ten of at most 500 slots, all on the offer's origin);
:func:`store_slots` keeps its valid slot Intents on the row, in chronological order, as an
``OrderedCollection`` with ``id``, ``updated``, ``totalItems`` and every slot in ``orderedItems``, and
its free slots in ``catalogue_slot`` for date searches. Searching is :mod:`fedicoop.services.search`.

Errors: a document that breaks the wire format raises :class:`~fedicoop.errors.ValidationError` naming
the field; an object attributed to someone else than the sender, on another origin than its author, or
whose author would change raises :class:`~fedicoop.errors.ForbiddenError`. Nothing is stored then.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pydantic
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from federation.errors import HostError
from federation.hosts import normalize_authority, same_origin
from federation.sanitize import html_to_text, sanitize_html
from fedicoop.errors import ForbiddenError, ValidationError
from fedicoop.models.catalogue import CatalogueCommune, CatalogueItem, CatalogueSlot, CatalogueTombstone
from fedicoop.models.remote import RemoteActor
from fedicoop.models.states import CatalogueKind, Purpose
from fedicoop.services.search import SEARCH_LIMIT_MAX, search_text
from fedicoop.territory import Commune, Territory, locate
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
    "BLUR_RADIUS_MAX_M",
    "SEARCH_LIMIT_MAX",
    "SLOTS_MAX",
    "Fetch",
    "author_listed",
    "refresh_slots",
    "relist_author",
    "remove_actor_items",
    "remove_object",
    "slots_url",
    "store_object",
    "store_slots",
]

logger = logging.getLogger("fedicoop.catalogue")

HTML_FIELDS = ("content", "summary")
"""Fields holding HTML, sanitised along with their ``…Map`` language variants."""

BLUR_RADIUS_MAX_M = 50_000.0
"""The widest disc a blurred place may cover in territorial searches; a wider radius is cut down (flagged)."""

RADIUS_UNITS = {"m": 1.0, "km": 1000.0, "cm": 0.01, "feet": 0.3048, "inches": 0.0254, "miles": 1609.344}
"""ActivityStreams ``units`` of a Place ``radius``, in metres (metres when absent)."""


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


def _places(location: Place | list[Place] | None) -> list[Place]:
    if location is None:
        return []
    return location if isinstance(location, list) else [location]


def _place_name(place: Place | None) -> str | None:
    if place is None:
        return None
    if place.name:
        return place.name
    address = place.address
    if isinstance(address, str):
        return address or None
    return address.address_locality if address is not None else None


def _place_words(place: Place) -> list[str]:
    """The name and locality of a place, for the search text."""
    address = place.address
    locality = address if isinstance(address, str) else address.address_locality if address else None
    return [text for text in (place.name, locality) if text]


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
    """The origin node of an actor: its host, with the port when it is not the scheme's default."""
    try:
        parts = urlsplit(actor_iri)
        return normalize_authority(parts.netloc, parts.scheme or "https")
    except (HostError, ValueError) as exc:
        raise ValidationError(f"actor {actor_iri!r}: {exc}", field="attributedTo") from None


def _columns(document: Mapping[str, Any], actor_iri: str) -> tuple[dict[str, Any], list[Place]] | None:
    """Validate ``document`` and return the catalogue columns and the places of its ``location``, or None
    when it is no catalogue object."""
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
    places = _places(model.location)
    place = places[0] if places else None
    words = [columns["name"], html_to_text(content), html_to_text(summary), *category_words]
    words += [name for each in places for name in _place_words(each)]
    return {
        **columns,
        "iri": model.id,
        "actor_iri": actor_iri,
        "host": _host_of(actor_iri),
        "content": content,
        "summary": summary,
        "text": search_text(*words),
        "url": _human_url(model.url),
        "document": clean,
        "published": model.published,
        "updated": model.updated,
        "location_name": _place_name(place),
        "latitude": place.latitude if place is not None else None,
        "longitude": place.longitude if place is not None else None,
        "radius": _radius_m(place),
    }, places


def _version(updated: datetime | None, published: datetime | None) -> datetime | None:
    return updated or published


def _radius_m(place: Place | None) -> float | None:
    """The radius of a blurred place in metres, or None (no radius, or units we do not know)."""
    if place is None or place.radius is None:
        return None
    factor = RADIUS_UNITS.get(place.units or "m")
    return place.radius * factor if factor is not None else None


def _claimed(place: Place) -> dict[str, str | None]:
    return {
        "communeCode": place.commune_code,
        "departementCode": place.departement_code,
        "regionCode": place.region_code,
        "epciCode": place.epci_code,
    }


def _placed(columns: dict[str, Any], places: list[Place], territory: Territory | None) -> list[Commune]:
    """Set the territory columns of ``columns`` from its places; return every commune they cover.

    The codes are those of the commune of the first place; each place with coordinates adds the
    communes it covers. Without a territory, or for places outside it, there are no codes.
    """
    covered: dict[str, Commune] = {}
    flags: list[str] = []
    primary: Commune | None = None
    for position, place in enumerate(places if territory is not None else []):
        if territory is None or place.latitude is None or place.longitude is None:
            continue
        radius = _radius_m(place)
        if radius is not None and radius > BLUR_RADIUS_MAX_M:
            flags.append(f"radius {radius:.0f} m is wider than {BLUR_RADIUS_MAX_M:.0f} m: cut down to it")
            radius = BLUR_RADIUS_MAX_M
        placement = locate(territory, place.latitude, place.longitude, radius, _claimed(place))
        if position == 0:
            primary = placement.commune
        flags.extend(placement.flags)
        covered.update(
            (commune.code, commune) for commune in placement.communes if commune.code not in covered
        )
    if flags:
        logger.info("territory of %s: %s", columns["iri"], "; ".join(flags))
    columns.update(
        departements=" ".join(sorted({commune.departement for commune in covered.values()})) or None,
        commune_code=primary.code if primary else None,
        epci_code=primary.epci if primary else None,
        departement_code=primary.departement if primary else None,
        region_code=primary.region if primary else None,
        territory_flags=flags,
    )
    if primary is not None:
        columns["text"] = f"{columns['text']} {search_text(primary.name)}".strip()
    return list(covered.values())


async def _write_communes(item: CatalogueItem, communes: Iterable[Commune]) -> None:
    await CatalogueCommune.filter(item_id=item.id).delete()
    await CatalogueCommune.bulk_create(
        [
            CatalogueCommune(
                item_id=item.id,
                commune=commune.code,
                epci=commune.epci,
                departement=commune.departement,
                region=commune.region,
            )
            for commune in communes
        ]
    )


def _newer(existing: CatalogueItem, columns: Mapping[str, Any]) -> bool:
    """Whether ``columns`` are a newer version of ``existing``; ForbiddenError if the author changes."""
    if existing.actor_iri != columns["actor_iri"]:
        raise ForbiddenError(
            f"{existing.iri} belongs to {existing.actor_iri}; its attributedTo cannot become "
            f"{columns['actor_iri']}"
        )
    stored = _version(existing.updated, existing.published)
    incoming = _version(columns["updated"], columns["published"])
    return stored is None or (incoming is not None and incoming > stored)


async def _apply(existing: CatalogueItem, columns: dict[str, Any], communes: list[Commune]) -> CatalogueItem:
    """Update ``existing`` with ``columns`` and its communes when they are a newer version."""
    if not _newer(existing, columns):
        return existing
    columns = {**columns, "published": columns["published"] or existing.published}
    async with in_transaction(CatalogueItem._meta.default_connection):
        existing.update_from_dict({key: value for key, value in columns.items() if key != "iri"})
        await existing.save()
        await _write_communes(existing, communes)
    return existing


async def author_listed(actor_iri: str) -> bool:
    """Whether the items of ``actor_iri`` may be listed and searched: False when its last fetched actor
    document says ``discoverable: false`` or ``indexable: false``; True otherwise (unknown actor included)."""
    actor = await RemoteActor.get_or_none(iri=actor_iri)
    if actor is None:
        return True
    return actor.document.get("discoverable") is not False and actor.document.get("indexable") is not False


async def relist_author(actor_iri: str) -> int:
    """Apply the author's current ``discoverable``/``indexable`` to its stored items (call it after the
    actor was fetched again); return how many items changed."""
    listed = await author_listed(actor_iri)
    return await CatalogueItem.filter(actor_iri=actor_iri, discoverable=not listed).update(
        discoverable=listed
    )


async def store_object(
    document: Mapping[str, Any], *, actor_iri: str, now: datetime, territory: Territory | None = None
) -> CatalogueItem | None:
    """Store or update a remote offer, request, repair offer or event sent by ``actor_iri``.

    Returns the stored row; the existing row unchanged when the document is not newer (by ``updated``,
    else ``published``) than what is stored; None, storing nothing, when the document is not a catalogue
    object (a plain Note, an Article…). ``published`` falls back to ``now``, the time of first reception,
    so that it always orders the catalogue. With ``territory``, the object's places get our territory
    codes and communes; without, none. Raises ValidationError for a malformed or out-of-bounds document
    and ForbiddenError when it is attributed to another actor, lives on another origin, or would change
    the author of a stored object.
    """
    found = _columns(document, actor_iri)
    if found is None:
        return None
    columns, places = found
    communes = _placed(columns, places, territory)
    columns["discoverable"] = await author_listed(actor_iri)
    existing = await CatalogueItem.get_or_none(iri=columns["iri"])
    if existing is not None:
        return await _apply(existing, columns, communes)
    if await CatalogueTombstone.exists(iri=columns["iri"], actor_iri=actor_iri):
        return None  # deleted by its author: a Create that arrives late does not revive it
    try:
        async with in_transaction(CatalogueItem._meta.default_connection):
            item = await CatalogueItem.create(
                **{**columns, "published": columns["published"] or now}, received_at=now
            )
            await _write_communes(item, communes)
    except IntegrityError:
        # The same object arrived twice at once: the other delivery stored it first.
        return await _apply(await CatalogueItem.get(iri=columns["iri"]), columns, communes)
    return item


async def remove_object(iri: str, *, actor_iri: str, now: datetime | None = None) -> bool:
    """Delete the stored object ``iri`` if ``actor_iri`` is its author; tell whether a row went away.

    Its communes and slots go with it. With ``now`` (a Delete from the author), a tombstone is kept,
    unless another author holds the object, so that the object's Create arriving after its Delete is
    ignored.
    """
    # Counted apart: on SQLite, delete() also counts the rows its cascades and triggers change.
    removed = await CatalogueItem.exists(iri=iri, actor_iri=actor_iri)
    await CatalogueItem.filter(iri=iri, actor_iri=actor_iri).delete()
    if now is not None and (removed or not await CatalogueItem.exists(iri=iri)):
        await CatalogueTombstone.get_or_create(iri=iri, defaults={"actor_iri": actor_iri, "deleted_at": now})
    return removed


async def remove_actor_items(actor_iri: str) -> int:
    """Delete every stored object of ``actor_iri`` (unfollowed or gone); return how many went away."""
    async with in_transaction(CatalogueItem._meta.default_connection):
        count = await CatalogueItem.filter(actor_iri=actor_iri).count()
        await CatalogueItem.filter(actor_iri=actor_iri).delete()
    return count


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
    async with in_transaction(CatalogueItem._meta.default_connection):
        await item.save(update_fields=["slots", "slots_fetched_at"])
        await CatalogueSlot.filter(item_id=item.id).delete()
        await CatalogueSlot.bulk_create(
            [
                CatalogueSlot(item_id=item.id, starts_at=start, ends_at=end)
                for start, end in _free_slots(slots)
            ]
        )


def _free_slots(slots: list[dict[str, Any]]) -> list[tuple[datetime, datetime]]:
    """The (start, end) of the slots with a free place (``availableQuantity`` absent or above zero)."""
    free = []
    for slot in slots:
        quantity = slot.get("availableQuantity")
        if isinstance(quantity, Mapping) and Decimal(str(quantity.get("hasNumericalValue", "1"))) <= 0:
            continue
        free.append((datetime.fromisoformat(slot["hasBeginning"]), datetime.fromisoformat(slot["hasEnd"])))
    return free


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
