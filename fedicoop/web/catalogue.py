"""The catalogue as the API, the HTML page and the CLI show it: strict query parameters, rows as models.

:func:`parse_catalogue_query` reads the filters of ``/api/v1/catalogue`` and ``/catalogue`` from query
strings (an empty value means "no filter", as an HTML form sends it) and raises
:class:`~fedicoop.errors.BadRequestError` naming the parameter, what it expected and what it got:

``kind`` (offer, request, repair, event; repeated or comma-separated), ``category`` (slugs, likewise),
``q`` (words), ``commune`` (INSEE code; an arrondissement means its commune), ``epci`` (SIREN),
``departement``, ``region``, ``near`` (``latitude,longitude`` in degrees or a commune code, meaning its
town hall), ``radius`` (km around ``near``, 10 by default, at most 200), ``from`` and ``to`` (a date
``2025-10-14``, whole days in Paris time and ``to`` included, or a date and time, Paris time unless it
has an offset), ``node`` (origin host), ``sort`` (date, distance or start; distance when ``near`` is
given), ``cursor``, ``limit``; and the older ``purpose`` and ``actor``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from federation.errors import HostError
from federation.hosts import normalize_authority
from fedicoop.errors import BadRequestError
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.states import CatalogueKind, Purpose
from fedicoop.services.catalogue import slots_url
from fedicoop.services.search import (
    RADIUS_KM_MAX,
    SEARCH_LIMIT_MAX,
    SearchPage,
    SearchQuery,
    SortOrder,
    query_words,
    search,
)
from fedicoop.territory import Territory
from schemas.api import CatalogueFacetsOut, CatalogueItemOut, CataloguePageOut, CatalogueSlotOut
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

VALUE_MAX = 300
"""Characters in any other parameter."""

CATEGORIES_MAX = 20
"""Categories in one query."""

NEXT_SLOTS_SHOWN = 10
"""Upcoming slots shown per repair offer."""

PARIS = ZoneInfo("Europe/Paris")

_COMMUNE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")
_EPCI = re.compile(r"[0-9]{9}")
_DEPARTEMENT = re.compile(r"[0-9]{2}|2[AB]|97[0-9]")
_REGION = re.compile(r"[0-9]{2}")
_CATEGORY = re.compile(r"[A-Za-z0-9_-]{1,100}")
_DEGREES = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,15})?")
_KILOMETRES = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,6})?")
_YEARS = range(1900, 2201)

Params = Mapping[str, str | Sequence[str] | None]
"""Query parameters: one string per name, or several (``kind``, ``category``)."""


@dataclass(frozen=True, slots=True)
class CatalogueQuery:
    """The filters of one catalogue request, checked; ``near_commune`` waits for the territory."""

    search: SearchQuery = field(default_factory=SearchQuery)
    near_commune: str | None = None
    given: tuple[tuple[str, str], ...] = ()

    @property
    def cursor(self) -> str | None:
        """The cursor this request continues from."""
        return self.search.cursor

    @property
    def needs_territory(self) -> bool:
        """Whether :meth:`run` needs the territory (a commune code in ``near`` or ``commune``)."""
        return self.near_commune is not None or self.search.commune is not None

    def resolved(self, territory: Territory | None) -> SearchQuery:
        """The search with commune codes resolved: ``near`` to the town hall, an arrondissement to its
        commune. Raises BadRequestError when ``near`` names a commune the territory does not hold."""
        query = self.search
        if query.commune is not None and territory is not None:
            found = territory.commune(query.commune)
            query = replace(query, commune=found.code if found else query.commune)
        if self.near_commune is None:
            return query
        code = self.near_commune
        if territory is None:
            raise BadRequestError(
                f"near: commune {code} cannot be placed without the territory", field="near"
            )
        commune = territory.commune(code)
        if commune is None or commune.townhall is None:
            regions = ", ".join(sorted(territory.region_codes))
            raise BadRequestError(
                f"near: no commune {code} with a town hall in the régions served ({regions})", field="near"
            )
        return replace(query, near=commune.townhall)

    async def run(self, *, now: datetime | None = None, territory: Territory | None = None) -> SearchPage:
        """Search the catalogue; ``now`` (the node's clock; the system clock when omitted) places "next
        free slot" for sort=start."""
        return await search(self.resolved(territory), now=now or datetime.now(PARIS))

    def parameters(self, **changes: str | None) -> dict[str, str]:
        """The query parameters of this request, with ``changes``, blanks left out."""
        values: dict[str, str | None] = dict(self.given)
        values.update(changes)
        return {key: value for key, value in values.items() if value}


def _bad(name: str, expected: str, got: str) -> BadRequestError:
    return BadRequestError(f"{name}: expected {expected}, got {got[:80]!r}", field=name)


def _many(name: str, value: str | Sequence[str] | None) -> list[str]:
    """Every value of a repeatable parameter, commas splitting too, blanks dropped."""
    values = [value] if isinstance(value, str) else list(value or ())
    return [part.strip() for each in values for part in each.split(",") if part.strip()]


def _kinds(values: list[str]) -> tuple[CatalogueKind, ...]:
    expected = ", ".join(kind.value for kind in CatalogueKind)
    found: dict[CatalogueKind, None] = {}
    for value in values:
        try:
            found[CatalogueKind(value)] = None
        except ValueError:
            raise _bad("kind", f"one of {expected} (or several, separated by commas)", value) from None
    return tuple(found)


def _categories(values: list[str]) -> tuple[str, ...]:
    for value in values:
        if not _CATEGORY.fullmatch(value):
            raise _bad("category", "a category slug (letters, digits, - and _)", value)
    found = tuple(dict.fromkeys(values))
    if len(found) > CATEGORIES_MAX:
        raise BadRequestError(
            f"category: at most {CATEGORIES_MAX} categories, got {len(found)}", field="category"
        )
    return found


def _code(name: str, value: str | None, pattern: re.Pattern[str], expected: str) -> str | None:
    if value is None:
        return None
    if not pattern.fullmatch(value.upper()):
        raise _bad(name, expected, value)
    return value.upper()


def _near(value: str | None) -> tuple[tuple[float, float] | None, str | None]:
    """``near`` as a point, or as a commune code to resolve."""
    if value is None:
        return None, None
    if _COMMUNE.fullmatch(value.upper()):
        return None, value.upper()
    parts = [part.strip() for part in value.split(",")]
    expected = "latitude,longitude in decimal degrees (50.6292,3.0886) or a commune code (59350)"
    if len(parts) != 2 or not all(_DEGREES.fullmatch(part) for part in parts):
        raise _bad("near", expected, value)
    latitude, longitude = float(parts[0]), float(parts[1])
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise _bad("near", "a latitude from -90 to 90 and a longitude from -180 to 180", value)
    return (latitude, longitude), None


def _radius(value: str | None) -> float | None:
    if value is None:
        return None
    expected = f"a distance in km, more than 0 and at most {RADIUS_KM_MAX:g} (10, 2.5)"
    if not _KILOMETRES.fullmatch(value) or not 0.0 < float(value) <= RADIUS_KM_MAX:
        raise _bad("radius", expected, value)
    return float(value)


def _moment(name: str, value: str | None) -> datetime | None:
    """A date (the start of that day, or of the next for ``to``) or a date and time, Paris time if naive."""
    if value is None:
        return None
    expected = "a date (2025-10-14) or a date and time (2025-10-14T14:00, with an optional offset)"
    try:
        moment = datetime.fromisoformat(value) if len(value) != 10 else None
        day = date.fromisoformat(value) if moment is None else moment.date()
    except ValueError:
        raise _bad(name, expected, value) from None
    if day.year not in _YEARS:
        raise _bad(name, f"a year from {_YEARS.start} to {_YEARS.stop - 1}", value)
    if moment is None:  # a whole day; "to" includes it
        return datetime.combine(day + timedelta(days=1) if name == "to" else day, time(), PARIS)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)


def _node(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        if "://" in value:
            parts = urlsplit(value)
            return normalize_authority(parts.netloc, parts.scheme)
        return normalize_authority(value)
    except (HostError, ValueError):
        raise _bad(
            "node", "the host of a node, with its port if not 443 (velo-fives.example)", value
        ) from None


def _purpose(value: str | None) -> Purpose | None:
    if value is None:
        return None
    try:
        return Purpose(value)
    except ValueError:
        raise _bad("purpose", "one of " + ", ".join(choice.value for choice in Purpose), value) from None


def _sort(value: str | None) -> SortOrder | None:
    if value is None:
        return None
    try:
        return SortOrder(value)
    except ValueError:
        raise _bad("sort", "one of " + ", ".join(choice.value for choice in SortOrder), value) from None


def _actor(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if len(value) > IRI_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
        raise _bad("actor", f"the http(s) URL of an actor, at most {IRI_MAX} characters", value)
    return value


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= SEARCH_LIMIT_MAX:
        raise _bad("limit", f"a whole number from 1 to {SEARCH_LIMIT_MAX}", value)
    return int(value)


def _given(params: Params) -> dict[str, str | list[str]]:
    """The non-blank values, stripped; bounded in length and free of U+0000."""
    given: dict[str, str | list[str]] = {}
    for key, raw in params.items():
        values = [raw] if isinstance(raw, str) else list(raw or ())
        bound = {"q": TEXT_MAX, "cursor": CURSOR_MAX, "actor": IRI_MAX}.get(key, VALUE_MAX)
        kept = []
        for value in (value.strip() for value in values):
            if "\x00" in value:
                raise BadRequestError(f"{key}: contains U+0000", field=key)
            if len(value) > bound:
                raise BadRequestError(f"{key}: at most {bound} characters, got {len(value)}", field=key)
            if value:
                kept.append(value)
        if kept:
            given[key] = kept if key in ("kind", "category") else kept[-1]
    return given


def parse_catalogue_query(params: Params) -> CatalogueQuery:
    """Read the catalogue parameters (see the module docstring); blank values are ignored."""
    given = _given(params)

    def one(name: str) -> str | None:
        value = given.get(name)
        return value if isinstance(value, str) else None

    text = one("q")
    if text is not None:
        query_words(text)  # the word limit, before anything runs
    near, near_commune = _near(one("near"))
    has_near = near is not None or near_commune is not None
    sort = _sort(one("sort"))
    search_query = SearchQuery(
        kinds=_kinds(_many("kind", given.get("kind"))),
        categories=_categories(_many("category", given.get("category"))),
        text=text,
        commune=_code("commune", one("commune"), _COMMUNE, "an INSEE commune code (59350, 2A004)"),
        epci=_code("epci", one("epci"), _EPCI, "the SIREN of an EPCI, nine digits (200093201)"),
        departement=_code(
            "departement", one("departement"), _DEPARTEMENT, "a département code (59, 2A, 974)"
        ),
        region=_code("region", one("region"), _REGION, "a région code, two digits (32)"),
        near=near,
        radius_km=_radius(one("radius")),
        date_from=_moment("from", one("from")),
        date_to=_moment("to", one("to")),
        host=_node(one("node")),
        purpose=_purpose(one("purpose")),
        actor=_actor(one("actor")),
        sort=sort or (SortOrder.DISTANCE if has_near else SortOrder.DATE),
        limit=_limit(one("limit")),
        cursor=one("cursor"),
    )
    if search_query.radius_km is not None and not has_near:
        raise BadRequestError(
            "radius: a radius needs near (latitude,longitude or a commune code)", field="radius"
        )
    if search_query.sort is SortOrder.DISTANCE and not has_near:
        raise BadRequestError(
            "sort: sort=distance needs near (latitude,longitude or a commune code)", field="sort"
        )
    low, high = search_query.date_from, search_query.date_to
    if low is not None and high is not None and low >= high:
        raise BadRequestError(f"to: {one('to')!r} does not come after from {one('from')!r}", field="to")
    shown = tuple((key, value if isinstance(value, str) else ",".join(value)) for key, value in given.items())
    return CatalogueQuery(search=search_query, near_commune=near_commune, given=shown)


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


def catalogue_item_view(
    item: CatalogueItem, now: datetime, distance_m: float | None = None
) -> CatalogueItemOut:
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
        radius=item.radius,
        commune_code=item.commune_code,
        epci_code=item.epci_code,
        departement_code=item.departement_code,
        region_code=item.region_code,
        territory_flags=list(item.territory_flags or []),
        distance_m=round(distance_m) if distance_m is not None else None,
        received_at=item.received_at,
        slots_url=slots_url(item),
        slots_fetched_at=item.slots_fetched_at,
        next_slots=_next_slots(item, now),
    )


def catalogue_page_view(page: SearchPage, now: datetime) -> CataloguePageOut:
    """A page of the catalogue as the API shows it, with the size and facets of the filtered set."""
    return CataloguePageOut(
        items=[catalogue_item_view(item, now, page.distances.get(item.id)) for item in page.items],
        next_cursor=page.next_cursor,
        total=page.total,
        facets=CatalogueFacetsOut(
            kind=page.facets.kinds, category=page.facets.categories, departement=page.facets.departements
        ),
    )
