"""The catalogue's search engine: French text folding, filters, facets and stable cursors, in SQL.

Text. :func:`search_text` turns what an item says into the text both full-text engines index: words
lowercased, without accents, French plurals folded to the singular (:func:`fold_word`: "vélos" → "velo",
"chevaux" → "cheval"). SQLite indexes it in the FTS5 table ``catalogue_fts`` (``unicode61
remove_diacritics 2``), PostgreSQL in the generated column ``search_vector`` (``to_tsvector('french',
…)``, GIN index), both built by migration ``0003_portal``. A query is split into words by us, its French
stop words dropped and the rest folded the same way; every word must match (AND). Nothing the user typed
reaches ``MATCH`` or ``plainto_tsquery`` but quoted words of letters and digits, always as a bound value.
PostgreSQL also stems words ("réparer" finds "réparation" there, not on SQLite).

Filters (:class:`SearchQuery`): kinds, categories, words, commune / EPCI / département / région (an item
matches every commune it covers, ``catalogue_commune``), a point and a radius (a bounding box on indexed
columns, then the exact haversine distance of the item's point, computed in SQL), a date range (events
and dated listings overlapping it; repair offers with a free slot starting in it), the origin host, the
author. Items whose author is not discoverable never show. :func:`search` returns a :class:`SearchPage`:
one page in the requested order (:class:`SortOrder`), an opaque cursor holding the sort, its key and
the id of the last item (items arriving between two pages never shift the next one), and the facet
counts per kind, category and département over the whole filtered set (filters included).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fedicoop.errors import BadRequestError
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.states import CatalogueKind, Purpose

__all__ = [
    "DEFAULT_RADIUS_KM",
    "EARTH_RADIUS_M",
    "QUERY_WORDS_MAX",
    "RADIUS_KM_MAX",
    "SEARCH_LIMIT_MAX",
    "STOP_WORDS",
    "Facets",
    "SearchPage",
    "SearchQuery",
    "SortOrder",
    "SqlParameters",
    "fold_word",
    "query_words",
    "search",
    "search_conditions",
    "search_text",
    "words",
]

SEARCH_LIMIT_MAX = 100
"""The largest page :func:`search` returns."""

QUERY_WORDS_MAX = 16
"""The most distinct words a text query may hold."""

RADIUS_KM_MAX = 200.0
"""The widest search radius, in kilometres."""

DEFAULT_RADIUS_KM = 10.0
"""The radius around ``near`` when none is given."""

EARTH_RADIUS_M = 6_371_008.8
"""Mean radius of the Earth (IUGG), in metres, for haversine distances."""

STOP_WORDS = frozenset(
    """au aux avec ce ces dans de des du elle elles en et eux il ils je la le les leur leurs lui ma mais me
    meme mes moi mon ne
    nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
    vous c d j l a m n s t y ete etee etees etes etant etante etants etantes suis es est sommes sont serai
    seras sera serons serez seront serais serait serions seriez seraient etais etait etions etiez etaient
    fus fut fumes futes furent sois soit soyons soyez soient fusse fusses fussions fussiez fussent ayant
    ayante ayantes ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais
    aurait aurions auriez auraient avais avait avions aviez avaient eut eumes eutes eurent aie aies ait
    ayons ayez aient eusse eusses eussions eussiez eussent""".split()
)
"""PostgreSQL's French stop words (snowball ``french.stop``) and their plurals (les, ils, elles,
leurs), without accents: never searched for.

Dropping them from queries on both engines keeps SQLite's results those of PostgreSQL, which drops them
from its index; a word that folds into one of them is kept whole ("mois" stays "mois", not "moi")."""

IRREGULAR_PLURALS = {
    "baux": "bail",
    "cieux": "ciel",
    "coraux": "corail",
    "emaux": "email",
    "soupiraux": "soupirail",
    "travaux": "travail",
    "vantaux": "vantail",
    "vitraux": "vitrail",
    "yeux": "oeil",
}
"""French plurals in ``-aux``/``-eux`` whose singular is not the regular one, without accents."""

INVARIABLE = frozenset(
    """avis bois corps deux fois jamais mieux moins pays plus prix repas sans souris sous temps toujours tous
    trois velours vieux""".split()
)
"""Common words that end like a plural but are not one: kept whole, so the index stays readable."""

_WORD = re.compile(r"[^\W_]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def words(text: str) -> list[str]:
    """Return the words of ``text``: runs of letters and digits, lowercased, accents removed.

    >>> words("Vélo-cargo d'occasion : 2 ŒUFS, l'été!")
    ['velo', 'cargo', 'd', 'occasion', '2', 'oeufs', 'l', 'ete']
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD.findall(bare)


def fold_word(word: str) -> str:
    """Return the singular of a French plural (a word as :func:`words` gives it); other words unchanged.

    Regular plurals only, plus a few irregular ``-aux``: a word of three letters or fewer, with a digit or
    ending in ``ss`` stays as it is, as do a few common invariable words (:data:`INVARIABLE`) and a word
    whose singular would be a stop word. Folding twice
    gives the same word, so a folded text can be folded again.

    >>> [fold_word(w) for w in ("velos", "chevaux", "bateaux", "jeux", "genoux", "travaux", "mois", "bus")]
    ['velo', 'cheval', 'bateau', 'jeu', 'genou', 'travail', 'mois', 'bus']
    """
    if len(word) <= 3 or not word.isalpha() or word in INVARIABLE:
        return word
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word.endswith("eaux") or word.endswith(("eux", "oux")):
        folded = word[:-1]
    elif word.endswith("aux"):
        folded = word[:-3] + "al"
    elif word.endswith("s") and not word.endswith("ss"):
        folded = word[:-1]
    else:
        return word
    return word if folded in STOP_WORDS else folded


def search_text(*parts: str) -> str:
    """Return the text the full-text engines index for an item made of ``parts``: folded words.

    >>> search_text("Deux VÉLOS d'enfants", "réparation")
    'deux velo d enfant reparation'
    """
    return " ".join(fold_word(word) for part in parts for word in words(part))


def query_words(text: str) -> list[str]:
    """Return the words to search for in ``text``: stop words dropped, folded, each once, in order.

    Raises BadRequestError (parameter ``q``) when more than :data:`QUERY_WORDS_MAX` words remain.

    >>> query_words("Des vélos et LE vélo de Roubaix")
    ['velo', 'roubaix']
    """
    found = list(dict.fromkeys(fold_word(word) for word in words(text) if word not in STOP_WORDS))
    if len(found) > QUERY_WORDS_MAX:
        raise BadRequestError(
            f"q: at most {QUERY_WORDS_MAX} distinct words (French stop words aside), got {len(found)}",
            field="q",
        )
    return found


class SortOrder(StrEnum):
    """The order of search results."""

    DATE = "date"
    """Newest first (``published``, then id, descending)."""
    DISTANCE = "distance"
    """Nearest first from the ``near`` point (then id); needs ``near``."""
    START = "start"
    """Soonest first: an event's start, a repair offer's first free slot from the date range's start (or
    now); items without either come last."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Filters, order and page of one search, their values already parsed (see ``fedicoop.web.catalogue``).

    Every filter given must match. ``near`` is (latitude, longitude) and ``radius_km`` its radius;
    ``date_from`` is inclusive and ``date_to`` exclusive, both aware datetimes.
    """

    kinds: tuple[CatalogueKind, ...] = ()
    categories: tuple[str, ...] = ()
    text: str | None = None
    commune: str | None = None
    epci: str | None = None
    departement: str | None = None
    region: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    host: str | None = None
    purpose: Purpose | None = None
    actor: str | None = None
    sort: SortOrder = SortOrder.DATE
    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Facets:
    """How many items of the filtered set fall in each kind, category and département, most first.

    An item covering communes of two départements counts in both.
    """

    kinds: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    departements: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results, the cursor of the next (or None), the size of the filtered set, its facets.

    ``distances`` gives, by item id, the distance in metres from ``near`` when the query had one.
    """

    items: list[CatalogueItem]
    next_cursor: str | None
    total: int
    facets: Facets
    distances: dict[int, float] = field(default_factory=dict)


def _check(query: SearchQuery) -> None:
    if not 1 <= query.limit <= SEARCH_LIMIT_MAX:
        raise BadRequestError(f"limit: expected 1 to {SEARCH_LIMIT_MAX}, got {query.limit}", field="limit")
    if query.radius_km is not None and query.near is None:
        raise BadRequestError("radius: a radius needs near (a point or a commune code)", field="radius")
    if query.sort is SortOrder.DISTANCE and query.near is None:
        raise BadRequestError("sort: sort=distance needs near (a point or a commune code)", field="sort")
    if query.near is not None:
        latitude, longitude = query.near
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
            raise BadRequestError(f"near: {latitude},{longitude} is not a WGS 84 point", field="near")
    radius = query.radius_km
    if radius is not None and not (0.0 < radius <= RADIUS_KM_MAX):
        raise BadRequestError(
            f"radius: expected more than 0 and at most {RADIUS_KM_MAX:g} km, got {radius:g}", field="radius"
        )
    for name, moment in (("from", query.date_from), ("to", query.date_to)):
        if moment is not None and moment.tzinfo is None:
            raise BadRequestError(f"{name}: the date and time needs a time zone", field=name)
    if query.date_from and query.date_to and query.date_from >= query.date_to:
        raise BadRequestError("to: must come after from", field="to")


@dataclass
class SqlParameters:
    """Bound values of one statement; placeholders are numbered (``?1`` on SQLite, ``$1`` on PostgreSQL)."""

    postgres: bool
    values: list[Any] = field(default_factory=list)

    def bind(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else f"?{len(self.values)}"

    def bind_time(self, moment: datetime) -> str:
        """A datetime as the column stores it: UTC, ISO text with a space on SQLite (as tortoise writes)."""
        utc = moment.astimezone(UTC)
        return self.bind(utc if self.postgres else utc.isoformat(sep=" "))

    def bind_all(self, values: Iterable[Any]) -> str:
        return ", ".join(self.bind(value) for value in values)


def _distance(sql: SqlParameters, near: tuple[float, float]) -> str:
    """SQL for the haversine distance in metres from ``near`` to the item's point."""
    latitude, longitude = (math.radians(value) for value in near)
    lat, cos_lat, lon = sql.bind(latitude), sql.bind(math.cos(latitude)), sql.bind(longitude)
    half_chord = (
        f"sqrt(power(sin((radians(i.latitude) - {lat}) / 2), 2)"
        f" + {cos_lat} * cos(radians(i.latitude)) * power(sin((radians(i.longitude) - {lon}) / 2), 2))"
    )
    smallest = "LEAST" if sql.postgres else "min"  # rounding may pass 1 near the antipode: asin fails
    return f"(2 * {EARTH_RADIUS_M} * asin({smallest}(1.0, {half_chord})))"


def _near(sql: SqlParameters, near: tuple[float, float], radius_m: float) -> list[str]:
    """Bounding box on the indexed coordinates, then the exact distance."""
    latitude, longitude = near
    span = math.degrees(radius_m / EARTH_RADIUS_M)
    found = [f"i.latitude BETWEEN {sql.bind(latitude - span)} AND {sql.bind(latitude + span)}"]
    shrink = math.cos(math.radians(min(abs(latitude) + span, 90.0)))
    if shrink > 1e-6 and span / shrink < 180.0:
        width = span / shrink
        if -180.0 <= longitude - width and longitude + width <= 180.0:
            found.append(
                f"i.longitude BETWEEN {sql.bind(longitude - width)} AND {sql.bind(longitude + width)}"
            )
    found.append(f"{_distance(sql, near)} <= {sql.bind(radius_m)}")
    return found


def _dates(sql: SqlParameters, start: datetime | None, end: datetime | None) -> str:
    """Repair offers with a free slot starting in [start, end); other items overlapping it (one IN list)."""
    slot, dated = [], ["e.starts_at IS NOT NULL"]
    if start is not None:
        low = sql.bind_time(start)
        slot.append(f"s.starts_at >= {low}")
        dated.append(f"(e.ends_at > {low} OR (e.ends_at IS NULL AND e.starts_at >= {low}))")
    if end is not None:
        high = sql.bind_time(end)
        slot.append(f"s.starts_at < {high}")
        dated.append(f"e.starts_at < {high}")
    others = sql.bind_all(kind.value for kind in CatalogueKind if kind is not CatalogueKind.REPAIR)
    return (
        f"i.id IN (SELECT s.item_id FROM catalogue_slot s WHERE {' AND '.join(slot)} "  # noqa: S608 - bound
        f"UNION ALL SELECT e.id FROM catalogue_item e WHERE e.kind IN ({others}) AND {' AND '.join(dated)})"
    )


def _text(sql: SqlParameters, found: Sequence[str]) -> str:
    if sql.postgres:
        return f"i.search_vector @@ plainto_tsquery('french', {sql.bind(' '.join(found))})"
    phrase = " ".join('"' + word.replace('"', '""') + '"' for word in found)
    return f"i.id IN (SELECT rowid FROM catalogue_fts WHERE catalogue_fts MATCH {sql.bind(phrase)})"  # noqa: S608 - our SQL, values bound


def search_conditions(sql: SqlParameters, query: SearchQuery, found: Sequence[str]) -> str:
    """The WHERE clause of the filtered set, over ``catalogue_item i``."""
    where = [f"i.discoverable = {sql.bind(True)}"]
    if query.kinds:
        where.append(f"i.kind IN ({sql.bind_all(kind.value for kind in query.kinds)})")
    if query.categories:
        where.append(f"i.category IN ({sql.bind_all(query.categories)})")
    if query.purpose is not None:
        where.append(f"i.purpose = {sql.bind(query.purpose.value)}")
    if query.actor is not None:
        where.append(f"i.actor_iri = {sql.bind(query.actor)}")
    if query.host is not None:
        where.append(f"i.host = {sql.bind(query.host)}")
    if found:
        where.append(_text(sql, found))
    if query.departement is not None:
        spot = "strpos" if sql.postgres else "instr"
        where.append(f"{spot}(' ' || i.departements || ' ', {sql.bind(' ' + query.departement + ' ')}) > 0")
    for column in ("commune", "epci", "region"):
        value = getattr(query, column)
        if value is not None:
            where.append(
                f"i.id IN (SELECT item_id FROM catalogue_commune WHERE {column} = {sql.bind(value)})"  # noqa: S608 - our SQL, values bound
            )
    if query.near is not None:
        where.extend(_near(sql, query.near, (query.radius_km or DEFAULT_RADIUS_KM) * 1000.0))
    if query.date_from is not None or query.date_to is not None:
        where.append(_dates(sql, query.date_from, query.date_to))
    return " AND ".join(where)


def _sort_key(sql: SqlParameters, query: SearchQuery, now: datetime) -> str:
    """The sort key of the date and start orders (the distance order's is the distance)."""
    if query.sort is SortOrder.START:
        low = sql.bind_time(query.date_from or now)
        # SQLite: "+" keeps the planner on (item_id, starts_at) for this per-item lookup; with statistics
        # it would skip-scan the (starts_at, item_id) index instead, once per candidate item.
        starts = "s.starts_at" if sql.postgres else "+s.starts_at"
        first_slot = (
            f"SELECT MIN(s.starts_at) FROM catalogue_slot s WHERE s.item_id = i.id AND {starts} >= {low}"  # noqa: S608 - our SQL, values bound
        )
        return f"COALESCE(i.starts_at, ({first_slot}))"
    return "i.published"


def _order(sort: SortOrder) -> str:
    if sort is SortOrder.DATE:
        return "c.sort_key DESC, c.id DESC"
    if sort is SortOrder.DISTANCE:
        return "c.sort_key, c.id"
    return "(c.sort_key IS NULL), c.sort_key, c.id"


def _after(sql: SqlParameters, sort: SortOrder, key: Any, item_id: int) -> str:
    """The condition of rows after the cursor's (key, id) in ``sort`` order."""
    last = sql.bind(item_id)
    if sort is SortOrder.DATE:
        mark = sql.bind_time(key)
        return f"(c.sort_key < {mark} OR (c.sort_key = {mark} AND c.id < {last}))"
    if sort is SortOrder.DISTANCE:
        mark = sql.bind(key)
        return f"(c.sort_key > {mark} OR (c.sort_key = {mark} AND c.id > {last}))"
    if key is None:
        return f"(c.sort_key IS NULL AND c.id > {last})"
    mark = sql.bind_time(key)
    return f"(c.sort_key IS NULL OR c.sort_key > {mark} OR (c.sort_key = {mark} AND c.id > {last}))"


def _encode_cursor(sort: SortOrder, key: Any, item_id: int) -> str:
    if isinstance(key, str):  # SQLite hands datetimes back as text
        key = datetime.fromisoformat(key)
    if isinstance(key, datetime):
        key = key.astimezone(UTC).isoformat()
    raw = json.dumps([sort.value, key, item_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str, sort: SortOrder) -> tuple[Any, int]:
    """Return the (sort key, id) of ``cursor``, or raise BadRequestError naming ``cursor``."""
    bad = BadRequestError(f"cursor: {cursor[:80]!r} is not a cursor of this catalogue", field="cursor")
    try:
        made_for, key, item_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad from None
    if made_for != sort.value:
        if made_for in {order.value for order in SortOrder}:
            raise BadRequestError(
                f"cursor: made for sort={made_for}, not sort={sort.value}; start again without it",
                field="cursor",
            )
        raise bad
    if not isinstance(item_id, int) or isinstance(item_id, bool):
        raise bad
    if sort is SortOrder.DISTANCE:
        if not isinstance(key, float | int) or isinstance(key, bool) or not math.isfinite(key):
            raise bad
        return float(key), item_id
    if key is None and sort is SortOrder.START:
        return None, item_id
    try:
        moment = datetime.fromisoformat(key) if isinstance(key, str) else None
    except ValueError:
        raise bad from None
    if moment is None or moment.tzinfo is None:
        raise bad
    return moment, item_id


def _ranked(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


async def _facets(query: SearchQuery, found: Sequence[str], postgres: bool) -> tuple[int, Facets]:
    database = CatalogueItem._meta.db
    sql = SqlParameters(postgres)
    where = search_conditions(sql, query, found)
    rows = await database.execute_query_dict(
        f"SELECT i.kind AS kind, i.category AS category, i.departements AS departements, COUNT(*) AS n "  # noqa: S608
        f"FROM catalogue_item i WHERE {where} GROUP BY i.kind, i.category, i.departements",
        sql.values,
    )
    kinds: dict[str, int] = {}
    categories: dict[str, int] = {}
    departements: dict[str, int] = {}
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["n"]
        if row["category"] is not None:
            categories[row["category"]] = categories.get(row["category"], 0) + row["n"]
        for code in (row["departements"] or "").split():
            departements[code] = departements.get(code, 0) + row["n"]
    facets = Facets(kinds=_ranked(kinds), categories=_ranked(categories), departements=_ranked(departements))
    return sum(kinds.values()), facets


async def search(query: SearchQuery, *, now: datetime) -> SearchPage:
    """Return one page of the catalogue matching ``query``, with its next cursor and facet counts.

    ``now`` is where sort=start looks for a repair offer's next free slot when the query has no
    ``date_from``. Raises BadRequestError (``field`` names the API parameter) for a limit outside 1–100,
    a radius or sort=distance without ``near``, a radius outside (0, 200] km, naive or inverted dates,
    too many words, or a cursor this node did not issue for this sort.
    """
    _check(query)
    found = query_words(query.text) if query.text is not None else []
    position = _decode_cursor(query.cursor, query.sort) if query.cursor else None
    if query.text is not None and not found:  # only stop words or punctuation: nothing to match
        return SearchPage(items=[], next_cursor=None, total=0, facets=Facets())
    database = CatalogueItem._meta.db
    postgres = database.capabilities.dialect == "postgres"
    sql = SqlParameters(postgres)
    distance = _distance(sql, query.near) if query.near is not None else "NULL"
    key = distance if query.sort is SortOrder.DISTANCE else _sort_key(sql, query, now)
    inner = f"SELECT i.id AS id, {key} AS sort_key, {distance} AS distance FROM catalogue_item i"  # noqa: S608 - our SQL, values bound
    inner += f" WHERE {search_conditions(sql, query, found)}"
    after = f"WHERE {_after(sql, query.sort, *position)}" if position is not None else ""
    rows = await database.execute_query_dict(
        f"SELECT c.id AS id, c.sort_key AS sort_key, c.distance AS distance FROM ({inner}) c {after} "  # noqa: S608 - our SQL, values bound
        f"ORDER BY {_order(query.sort)} LIMIT {sql.bind(query.limit + 1)}",
        sql.values,
    )
    shown = rows[: query.limit]
    loaded = {item.id: item for item in await CatalogueItem.filter(id__in=[row["id"] for row in shown])}
    items = [loaded[row["id"]] for row in shown if row["id"] in loaded]
    next_cursor = None
    if len(rows) > query.limit:
        next_cursor = _encode_cursor(query.sort, shown[-1]["sort_key"], shown[-1]["id"])
    distances = {row["id"]: float(row["distance"]) for row in shown if row["distance"] is not None}
    total, facets = await _facets(query, found, postgres)
    return SearchPage(items=items, next_cursor=next_cursor, total=total, facets=facets, distances=distances)
