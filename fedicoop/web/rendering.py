"""HTML pages of a node, rendered from the very ActivityStreams documents it serves.

A browser asking for an actor, a listing, an event or a slot collection gets an HTML page at the same URL
(wire-format §4.4). :class:`PageRenderer` turns the JSON documents (plain dicts shaped like the examples of
wire-format.md) into those pages with jinja2: autoescaping everywhere, ``StrictUndefined`` so that a missing
required key is an error instead of an empty string, and a ``safe_html`` filter that runs
:func:`federation.sanitize.sanitize_html` before marking a string safe; it is the only way HTML written by
someone else reaches a page. Every other filter returns plain text, and every URL put into an attribute
goes through ``link``, which keeps only ``http``/``https`` (and ``mailto`` where asked).

Documents are read tolerantly, as wire-format §1 asks: one value where a list is expected, an embedded
object where an IRI is expected, ``contentMap`` without ``content``. Dates are shown in Europe/Paris time,
in French.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, Undefined, UndefinedError
from markupsafe import Markup

from federation.sanitize import html_to_text, sanitize_html, text_to_html
from fedicoop.domain.french import (
    DAY_NAMES,
    MONTH_NAMES,
    RANGE_DASH,
    FrenchFormatError,
    format_euros,
    format_event_when,
    format_hour,
    format_next_slot,
    paris_zone,
    to_paris,
)
from schemas.context import CATEGORIES, category_slug

__all__ = ["PageRenderer"]

Document = Mapping[str, Any]
"""An ActivityStreams document as decoded from JSON."""

_KIND_LABELS = {"object": "Objet", "service": "Service", "repair": "Réparation"}
_PURPOSE_LABELS = {"offer": "Offre", "request": "Demande"}
_CATALOGUE_KIND_LABELS = {
    "offer": "Offre",
    "request": "Demande",
    "repair": "Réparation",
    "event": "Événement",
}
_ACTION_LABELS = {"transfer": "Don, vente ou échange", "transferCustody": "Prêt", "deliverService": "Service"}
_GONE_SENTENCES = {
    "Note": "Cette annonce a été supprimée",
    "Event": "Cet événement a été supprimé",
    "Organization": "Ce profil a été supprimé",
    "Person": "Ce profil a été supprimé",
    "Group": "Ce profil a été supprimé",
}
_SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")
_DURATION_UNITS = (
    ("an", "ans"),
    ("mois", "mois"),
    ("semaine", "semaines"),
    ("jour", "jours"),
    ("heure", "heures"),
    ("minute", "minutes"),
)


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter or global so that an ``Undefined`` argument raises: templates read optional keys with
    ``.get()``, so an ``Undefined`` reaching a helper always means a required key is missing."""

    @functools.wraps(function)
    def strict(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, Undefined):
                str(value)  # StrictUndefined raises UndefinedError here
        return function(*args, **kwargs)

    return strict


def _required(document: Document, key: str) -> Any:
    """Return ``document[key]``, raising ``UndefinedError`` (as the templates do) when it is missing."""
    if key not in document:
        raise UndefinedError(f"{document.get('type', 'document')!s} has no {key!r}: it is required here")
    return document[key]


def _label(labels: Mapping[str, str], fallback: str) -> Callable[[Any], str]:
    """Return a filter mapping a wire value to its French label, ``fallback`` for anything unknown."""

    def label(value: Any) -> str:
        return labels.get(value, fallback) if isinstance(value, str) else fallback

    return label


def _as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list: ``[]`` for ``None``, the list itself, or a one-item list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _link(value: Any, mailto: bool = False) -> str | None:
    """Return the URL of a string, a Link/Image object or a list of them if it is an absolute ``http(s)``
    URL (or ``mailto:`` when ``mailto`` is true), safe for an ``href`` or a ``src``; otherwise None."""
    for item in _as_list(value):
        if isinstance(item, Mapping):
            item = item.get("href", item.get("url"))
            if isinstance(item, list | Mapping):
                item = _link(item, mailto)
        if not isinstance(item, str):
            continue
        candidate = item.strip()
        parts = urlsplit(candidate)
        scheme = parts.scheme.lower()
        if (scheme in ("http", "https") and parts.netloc) or (mailto and scheme == "mailto" and parts.path):
            return candidate
    return None


def _ref(value: Any) -> str | None:
    """Return the id of an IRI or of an embedded object (the first one of a list)."""
    for item in _as_list(value):
        if isinstance(item, Mapping):
            item = item.get("id")
        if isinstance(item, str):
            return item
    return None


def _host(url: Any) -> str:
    """Return the host name of a URL, or an empty string."""
    return (urlsplit(url).hostname or "") if isinstance(url, str) else ""


def _handle(actor: Document) -> str:
    """Return the fediverse handle ``@username@host`` of an actor, from ``preferredUsername`` and its id."""
    return f"@{_required(actor, 'preferredUsername')}@{_host(_required(actor, 'id'))}"


def _content_of(document: Document) -> str:
    """Return the raw HTML ``content`` of a document, falling back on ``contentMap`` (French first)."""
    content = document.get("content")
    if isinstance(content, str):
        return content
    languages = document.get("contentMap")
    if isinstance(languages, Mapping):
        for value in (languages.get("fr"), *languages.values()):
            if isinstance(value, str):
                return value
    return ""


def _safe_html(value: Any, drop_lead: str | None = None) -> Markup:
    """Sanitise an HTML string and mark it safe; ``drop_lead`` removes the leading ``<p><strong>title``
    paragraph a listing's ``content`` starts with (wire-format §5), since the page heading shows it."""
    if not isinstance(value, str):
        return Markup("")
    clean = sanitize_html(value)
    if drop_lead:
        lead = sanitize_html(f"<p><strong>{html.escape(drop_lead, quote=False)}</strong></p>")
        clean = clean.removeprefix(lead)
    return Markup(clean)  # noqa: S704 - the string has just been through the allow-list


def _plain(value: Any) -> str:
    """Return the plain text of an HTML string (empty for anything else)."""
    return html_to_text(value) if isinstance(value, str) else ""


def _paragraphs(value: Any) -> str:
    """Return a plain-text string as HTML paragraphs (still a plain ``str``: pipe it into ``safe_html``)."""
    return text_to_html(value) if isinstance(value, str) else ""


def _moment(value: Any) -> datetime | None:
    """Parse an ISO 8601 date-time into Paris time; a naive value is read as Paris time; junk gives None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=paris_zone())
    return to_paris(moment)


def _long_date(day: date) -> str:
    """Return "mardi 14 octobre 2025", with "1er" for the first day of a month."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{DAY_NAMES[day.weekday()]} {number} {MONTH_NAMES[day.month - 1]} {day.year}"


def _fr_date(value: Any) -> str:
    """Return the French date of an ISO date or date-time ("mardi 14 octobre 2025"), or the value itself."""
    moment = _moment(value)
    if moment is not None:
        return _long_date(moment.date())
    try:
        return _long_date(date.fromisoformat(value)) if isinstance(value, str) else ""
    except ValueError:
        return str(value)


def _fr_time(value: Any) -> str:
    """Return the Paris wall-clock time of an ISO date-time ("14h", "9h30"), or the value itself."""
    moment = _moment(value)
    return format_hour(moment.time()) if moment else str(value or "")


def _fr_datetime(value: Any) -> str:
    """Return "mardi 14 octobre 2025 à 14h" for an ISO date-time, in Paris time."""
    moment = _moment(value)
    return f"{_long_date(moment.date())} à {format_hour(moment.time())}" if moment else str(value or "")


def _when(start: Any, end: Any = None) -> str:
    """Return the French date and times of a period: an event, a wanted period, a slot."""
    begin, finish = _moment(start), _moment(end)
    if begin is None:
        return ""
    if finish is not None:
        try:
            return format_event_when(begin, finish)
        except FrenchFormatError:
            pass
    return _fr_datetime(start)


def _next_slot(value: Any) -> str:
    """Return the next free slot as "mardi 14 octobre à 14h", or an empty string."""
    moment = _moment(value)
    return format_next_slot(moment) if moment else ""


def _wall_clock(value: Any) -> str:
    """Return a schema.org ``opens``/``closes`` value ("14:00") as "14h"."""
    try:
        return format_hour(time.fromisoformat(value)) if isinstance(value, str) else ""
    except ValueError:
        return str(value)


def _day_indexes(value: Any) -> list[int]:
    """Return the weekday indexes (Monday is 0) of a ``dayOfWeek`` value, whatever the IRI spelling."""
    found: set[int] = set()
    for item in _as_list(value):
        name = item.rsplit("/", 1)[-1].rsplit(":", 1)[-1].rsplit("#", 1)[-1] if isinstance(item, str) else ""
        if name in _SCHEMA_DAYS:
            found.add(_SCHEMA_DAYS.index(name))
    return sorted(found)


def _days_text(indexes: list[int]) -> str:
    """Return "du mardi au vendredi" for three consecutive days or more, "lundi, jeudi" otherwise."""
    if len(indexes) >= 3 and indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"du {DAY_NAMES[indexes[0]]} au {DAY_NAMES[indexes[-1]]}"
    return ", ".join(DAY_NAMES[index] for index in indexes)


def _opening_hours(specification: Any) -> list[str]:
    """Return one French line per schema.org ``openingHoursSpecification`` entry, closures included."""
    lines = []
    for entry in _as_list(specification):
        if not isinstance(entry, Mapping):
            continue
        opens, closes = entry.get("opens"), entry.get("closes")
        start, end = entry.get("validFrom"), entry.get("validThrough")
        period = f" du {_fr_date(start)} au {_fr_date(end)}" if start and end else ""
        days = _days_text(_day_indexes(entry.get("dayOfWeek")))
        if opens == closes:
            lines.append(f"{days} : fermé{period}" if days else f"Fermé{period}")
        elif opens and closes:
            hours = f"{_wall_clock(opens)}{RANGE_DASH}{_wall_clock(closes)}"
            line = f"{days} : {hours}" if days else hours
            lines.append(line[0].upper() + line[1:] + period)
    return lines


def _number(value: Any) -> Decimal | None:
    """Return a decimal string or a JSON number as a Decimal, or None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _money(amount: Any) -> str:
    """Return a schema.org ``MonetaryAmount`` as "30 €" or "12,50 €" (other currencies keep their code)."""
    if not isinstance(amount, Mapping):
        return ""
    value = _number(amount.get("value"))
    if value is None:
        return ""
    currency = amount.get("currency")
    if currency in (None, "EUR") and value >= 0:
        return format_euros(int((value * 100).to_integral_value()))
    return f"{value} {currency}".replace(".", ",")


def _duration(value: Any) -> str:
    """Return an ISO 8601 duration ("P7D") in French ("7 jours"); other text is returned as given."""
    if not isinstance(value, str):
        return ""
    match = _DURATION.fullmatch(value.strip())
    if match is None or not any(match.groups()):
        return value
    parts = []
    for count, (one, many) in zip(match.groups(), _DURATION_UNITS, strict=True):
        if count is not None and int(count):
            parts.append(f"{int(count)} {one if int(count) == 1 else many}")
    return " et ".join(parts) if parts else value


def _price(note: Document) -> str:
    """Return what a listing asks in return: "Gratuit" without ``reciprocal``, else euros or time credits."""
    reciprocal = note.get("reciprocal")
    if reciprocal is None:
        return "Gratuit"
    quantity = reciprocal.get("resourceQuantity") if isinstance(reciprocal, Mapping) else None
    value = _number(quantity.get("hasNumericalValue")) if isinstance(quantity, Mapping) else None
    if value is None or not isinstance(quantity, Mapping) or value < 0:
        return "Contrepartie demandée"
    if quantity.get("hasUnit") == "hour":
        text = f"{value.normalize():f} h de crédit temps".replace(".", ",")
    elif str(reciprocal.get("resourceConformsTo", "")).endswith("/Q4916"):
        text = format_euros(int((value * 100).to_integral_value()))
    else:
        return "Contrepartie demandée"
    return f"{text} de l'heure" if note.get("unitBased") is True else text


def _places(quantity: Any) -> str:
    """Return an ``availableQuantity`` as "1 place libre" or "3 places libres"; empty when unknown."""
    value = _number(quantity.get("hasNumericalValue")) if isinstance(quantity, Mapping) else None
    if value is None:
        return ""
    return f"{value} place libre" if value == 1 else f"{value} places libres"


def _is_paused(note: Any) -> bool:
    """Tell whether a listing is paused: its primary Intent's ``availableQuantity`` is zero."""
    publishes = note.get("publishes") if isinstance(note, Mapping) else None
    available = publishes.get("availableQuantity") if isinstance(publishes, Mapping) else None
    value = _number(available.get("hasNumericalValue")) if isinstance(available, Mapping) else None
    return value == 0


def _category_label(iri: Any) -> str:
    """Return the French label of a fedicoop category IRI, "Autre" for an unknown one."""
    slug = category_slug(iri) if isinstance(iri, str) else None
    return CATEGORIES[slug].label if slug else "Autre"


def _category_name(slug: Any) -> str:
    """Return the French label of a fedicoop category slug; other categories (an event's) as given."""
    if not isinstance(slug, str):
        return ""
    return CATEGORIES[slug].label if slug in CATEGORIES else slug


def _address(place: Any) -> str:
    """Return the one-line postal address of a Place ("12 rue de l'Exemple, 59800 Lille")."""
    address = place.get("address") if isinstance(place, Mapping) else None
    if isinstance(address, str):
        return address
    if not isinstance(address, Mapping):
        return ""
    town = " ".join(str(address[key]) for key in ("postalCode", "addressLocality") if address.get(key))
    street = address.get("streetAddress")
    return ", ".join(part for part in (street if isinstance(street, str) else "", town) if part)


def _images(attachments: Any) -> list[dict[str, str]]:
    """Return the images of an ``attachment`` value as ``{"src", "alt"}`` with a safe URL; a Mobilizon
    banner's name "Banner" is no alt text, so it gets an empty ``alt``."""
    images = []
    for item in _as_list(attachments):
        if not isinstance(item, Mapping) or item.get("type") not in ("Image", "Document"):
            continue
        media_type = item.get("mediaType")
        if isinstance(media_type, str) and not media_type.startswith("image/"):
            continue
        source = _link(item.get("url"))
        if source is not None:
            alt = item.get("name")
            images.append({"src": source, "alt": alt if isinstance(alt, str) and alt != "Banner" else ""})
    return images


def _hashtags(tags: Any) -> list[dict[str, str | None]]:
    """Return the ``Hashtag`` entries of a ``tag`` value as ``{"name", "href"}`` (``href`` may be None)."""
    return [
        {"name": tag["name"], "href": _link(tag.get("href"))}
        for tag in _as_list(tags)
        if isinstance(tag, Mapping) and tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str)
    ]


def _fields(attachments: Any) -> list[dict[str, str]]:
    """Return the ``PropertyValue`` entries of an ``attachment`` as ``{"name", "value"}`` (value: HTML)."""
    return [
        {"name": item["name"], "value": item["value"]}
        for item in _as_list(attachments)
        if isinstance(item, Mapping)
        and item.get("type") == "PropertyValue"
        and isinstance(item.get("name"), str)
        and isinstance(item.get("value"), str)
    ]


def _links(attachments: Any) -> list[dict[str, str]]:
    """Return the ``Link`` entries of an ``attachment`` with a safe ``href``, as ``{"name", "href"}``."""
    links = []
    for item in _as_list(attachments):
        if isinstance(item, Mapping) and item.get("type") == "Link":
            href, name = _link(item.get("href")), item.get("name")
            if href is not None:
                links.append({"name": name if isinstance(name, str) and name else href, "href": href})
    return links


def _event_flags(event: Document) -> list[tuple[str, str]]:
    """Return the status badges of an event as ``(label, modifier)`` pairs ("Annulé", "cancelled")."""
    status, event_status = event.get("status"), event.get("eventStatus")
    if status == "CANCELLED" or event_status == "EventCancelled":
        return [("Annulé", "cancelled")]
    flags = []
    if event_status == "EventPostponed":
        flags.append(("Reporté", "warning"))
    elif event_status == "EventRescheduled":
        flags.append(("Date modifiée", "warning"))
    if status == "TENTATIVE" or event_status == "EventTentative":
        flags.append(("À confirmer", "warning"))
    if event.get("isOnline") is True or event_status == "EventMovedOnline":
        flags.append(("En ligne", "neutral"))
    return flags


def _slots_url(offer: Document) -> str:
    """Return the URL of a repair offer's slot collection: its ``slots`` link, else ``{id}/slots``."""
    return _link(offer.get("slots")) or f"{_required(offer, 'id')}/slots"


def _slots_by_day(slots: Sequence[Document]) -> list[tuple[str, list[Document]]]:
    """Group slot Intents by their Paris day, keeping their order: ``[(day label, slots), …]``."""
    days: list[tuple[str, list[Document]]] = []
    for slot in slots:
        label = _fr_date(_required(slot, "hasBeginning"))
        if not days or days[-1][0] != label:
            days.append((label, []))
        days[-1][1].append(slot)
    return days


class PageRenderer:
    """Renders the HTML pages of a node from its ActivityStreams documents (plain dicts): built once by
    the application with the node's display name and public base URL, it owns its jinja2 ``Environment``
    (the ``fedicoop`` package templates, autoescape on, ``StrictUndefined``) and has one method per page,
    each returning a complete HTML5 document; a document missing a required key (an id, a title, a name,
    a start time…) raises ``jinja2.UndefinedError``, optional keys may be absent."""

    def __init__(self, site_name: str, base_url: str) -> None:
        if not site_name.strip():
            raise ValueError("PageRenderer: site_name must not be empty, got an empty string")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"PageRenderer: base_url must be an absolute http(s) URL, got {base_url!r}")
        self.site_name = site_name
        self.base_url = base_url.rstrip("/")
        self._environment = Environment(
            loader=PackageLoader("fedicoop", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        filters: dict[str, Callable[..., Any]] = {
            "address": _address,
            "as_list": _as_list,
            "category_label": _category_label,
            "category_name": _category_name,
            "catalogue_kind_label": _label(_CATALOGUE_KIND_LABELS, "Autre"),
            "duration": _duration,
            "fr_date": _fr_date,
            "fields": _fields,
            "fr_time": _fr_time,
            "handle": _handle,
            "hashtags": _hashtags,
            "host": _host,
            "images": _images,
            "kind_label": _label(_KIND_LABELS, "Autre"),
            "action_label": _label(_ACTION_LABELS, "autre"),
            "link": _link,
            "links": _links,
            "money": _money,
            "next_slot": _next_slot,
            "opening_hours": _opening_hours,
            "paragraphs": _paragraphs,
            "places": _places,
            "plain": _plain,
            "price": _price,
            "purpose_label": _label(_PURPOSE_LABELS, "Annonce"),
            "safe_html": _safe_html,
        }
        functions: dict[str, Callable[..., Any]] = {
            "content_of": _content_of,
            "event_flags": _event_flags,
            "gone_sentence": _label(_GONE_SENTENCES, "Ce contenu a été supprimé"),
            "slots_url": _slots_url,
            "when": _when,
        }
        self._environment.filters.update({name: _strict(f) for name, f in filters.items()})
        self._environment.globals.update({name: _strict(f) for name, f in functions.items()})
        self._environment.globals.update(site_name=self.site_name, base_url=self.base_url)
        self._environment.tests["paused"] = _strict(_is_paused)

    def _render(self, template: str, **context: Any) -> str:
        return self._environment.get_template(template).render(**context)

    def home(
        self,
        node: Document,
        actors: Sequence[Document],
        listings: Sequence[Document],
        events: Sequence[Document],
    ) -> str:
        """Render the node's home page: ``node`` holds ``name`` (required), ``description`` (plain text),
        ``base_url`` and ``counts`` (``{"actors", "listings", "events"}`` → int), then the actors, listings
        and events, each listing and event shown with its author when that author is among ``actors``."""
        authors = {_required(actor, "id"): actor for actor in actors}
        return self._render(
            "home.html",
            node=node,
            actors=actors,
            listings=[(note, authors.get(_ref(note.get("attributedTo")))) for note in listings],
            events=[(event, authors.get(_ref(event.get("attributedTo")))) for event in events],
        )

    def actor(self, actor: Document, listings: Sequence[Document], events: Sequence[Document]) -> str:
        """Render an actor profile (an ``Organization``) with its current listings and upcoming events."""
        return self._render("actor.html", actor=actor, listings=listings, events=events)

    def listing(self, note: Document, actor: Document) -> str:
        """Render an offer, a request or a repair offer (a listing ``Note``) and its author ``actor``."""
        return self._render("listing.html", note=note, actor=actor)

    def event(self, event: Document, actor: Document) -> str:
        """Render an ``Event`` with its organising ``actor``."""
        return self._render("event.html", event=event, actor=actor)

    def slots(
        self,
        offer: Document,
        actor: Document,
        slots: Sequence[Document],
        page: int,
        has_next: bool,
    ) -> str:
        """Render page ``page`` (from 1) of the free slots of a repair ``offer``: ``slots`` are the slot
        ``Intent``s of that page (the ``orderedItems`` of the collection page) in chronological order, and
        ``has_next`` tells whether a next page exists."""
        if page < 1:
            raise ValueError(f"PageRenderer.slots: page must be 1 or more, got {page}")
        days = _slots_by_day(slots)
        context = {"offer": offer, "actor": actor, "page": page, "has_next": has_next}
        return self._render("slots.html", days=days, collection=_slots_url(offer), **context)

    def catalogue(
        self,
        filters: Mapping[str, str],
        items: Sequence[Document],
        next_page: str | None,
        first_page: str | None,
    ) -> str:
        """Render the catalogue: the form refilled from ``filters`` (parameter → value), the ``items``
        (``schemas.api.CatalogueItemOut`` dumped as JSON; their HTML goes through ``safe_html`` again) and
        the absolute URLs of the next and first pages, when there are such pages."""
        return self._render(
            "catalogue.html", filters=filters, items=items, next_page=next_page, first_page=first_page
        )

    def gone(self, tombstone: Document) -> str:
        """Render the "supprimé" page of a deleted object from its ``Tombstone``."""
        return self._render("gone.html", tombstone=tombstone)

    def error(self, status: int, title: str, detail: str) -> str:
        """Render an error page: the HTTP ``status``, a short ``title`` and a ``detail`` sentence."""
        return self._render("error.html", status=status, title=title, detail=detail)
