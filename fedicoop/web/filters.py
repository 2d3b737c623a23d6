"""The filters, tests and globals of the page templates: reading ActivityStreams documents safely.

Documents are read tolerantly, as wire-format §1 asks: one value where a list is expected, an embedded
object where an IRI is expected, ``contentMap`` without ``content``. ``safe_html`` runs
:func:`federation.sanitize.sanitize_html` before marking a string safe: it is the only way HTML written by
someone else reaches a page. Every other filter returns plain text, and every URL put into an attribute
goes through ``link``, which keeps only ``http``/``https`` (and ``mailto`` where asked).

Each filter and global is wrapped by :func:`strict`: templates read optional keys with ``.get()``, so an
``Undefined`` reaching a helper means a required key is missing, and it raises.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Undefined, UndefinedError
from markupsafe import Markup

from federation.sanitize import html_to_text, sanitize_html, text_to_html
from fedicoop.web.formatting import (
    as_list,
    decimal_of,
    distance,
    duration,
    fr_date,
    fr_time,
    money,
    next_slot,
    opening_hours,
    places_left,
    price,
    when,
)
from schemas.context import CATEGORIES, category_slug

__all__ = [
    "link",
    "ref",
    "required",
    "slots_by_day",
    "slots_url",
    "strict",
    "template_filters",
    "template_globals",
    "template_tests",
]

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


def strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter or global so that an ``Undefined`` argument raises: templates read optional keys with
    ``.get()``, so an ``Undefined`` reaching a helper always means a required key is missing."""

    @functools.wraps(function)
    def strict(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, Undefined):
                str(value)  # StrictUndefined raises UndefinedError here
        return function(*args, **kwargs)

    return strict


def required(document: Document, key: str) -> Any:
    """Return ``document[key]``, raising ``UndefinedError`` (as the templates do) when it is missing."""
    if key not in document:
        raise UndefinedError(f"{document.get('type', 'document')!s} has no {key!r}: it is required here")
    return document[key]


def _label(labels: Mapping[str, str], fallback: str) -> Callable[[Any], str]:
    """Return a filter mapping a wire value to its French label, ``fallback`` for anything unknown."""

    def label(value: Any) -> str:
        return labels.get(value, fallback) if isinstance(value, str) else fallback

    return label


def link(value: Any, mailto: bool = False) -> str | None:
    """Return the URL of a string, a Link/Image object or a list of them if it is an absolute ``http(s)``
    URL (or ``mailto:`` when ``mailto`` is true), safe for an ``href`` or a ``src``; otherwise None."""
    for item in as_list(value):
        if isinstance(item, Mapping):
            item = item.get("href", item.get("url"))
            if isinstance(item, list | Mapping):
                item = link(item, mailto)
        if not isinstance(item, str):
            continue
        candidate = item.strip()
        parts = urlsplit(candidate)
        scheme = parts.scheme.lower()
        if (scheme in ("http", "https") and parts.netloc) or (mailto and scheme == "mailto" and parts.path):
            return candidate
    return None


def ref(value: Any) -> str | None:
    """Return the id of an IRI or of an embedded object (the first one of a list)."""
    for item in as_list(value):
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
    return f"@{required(actor, 'preferredUsername')}@{_host(required(actor, 'id'))}"


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


def _is_paused(note: Any) -> bool:
    """Tell whether a listing is paused: its primary Intent's ``availableQuantity`` is zero."""
    publishes = note.get("publishes") if isinstance(note, Mapping) else None
    available = publishes.get("availableQuantity") if isinstance(publishes, Mapping) else None
    value = decimal_of(available.get("hasNumericalValue")) if isinstance(available, Mapping) else None
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
    for item in as_list(attachments):
        if not isinstance(item, Mapping) or item.get("type") not in ("Image", "Document"):
            continue
        media_type = item.get("mediaType")
        if isinstance(media_type, str) and not media_type.startswith("image/"):
            continue
        source = link(item.get("url"))
        if source is not None:
            alt = item.get("name")
            images.append({"src": source, "alt": alt if isinstance(alt, str) and alt != "Banner" else ""})
    return images


def _hashtags(tags: Any) -> list[dict[str, str | None]]:
    """Return the ``Hashtag`` entries of a ``tag`` value as ``{"name", "href"}`` (``href`` may be None)."""
    return [
        {"name": tag["name"], "href": link(tag.get("href"))}
        for tag in as_list(tags)
        if isinstance(tag, Mapping) and tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str)
    ]


def _fields(attachments: Any) -> list[dict[str, str]]:
    """Return the ``PropertyValue`` entries of an ``attachment`` as ``{"name", "value"}`` (value: HTML)."""
    return [
        {"name": item["name"], "value": item["value"]}
        for item in as_list(attachments)
        if isinstance(item, Mapping)
        and item.get("type") == "PropertyValue"
        and isinstance(item.get("name"), str)
        and isinstance(item.get("value"), str)
    ]


def _links(attachments: Any) -> list[dict[str, str]]:
    """Return the ``Link`` entries of an ``attachment`` with a safe ``href``, as ``{"name", "href"}``."""
    links = []
    for item in as_list(attachments):
        if isinstance(item, Mapping) and item.get("type") == "Link":
            href, name = link(item.get("href")), item.get("name")
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


def slots_url(offer: Document) -> str:
    """Return the URL of a repair offer's slot collection: its ``slots`` link, else ``{id}/slots``."""
    return link(offer.get("slots")) or f"{required(offer, 'id')}/slots"


def slots_by_day(slots: Sequence[Document]) -> list[tuple[str, list[Document]]]:
    """Group slot Intents by their Paris day, keeping their order: ``[(day label, slots), …]``."""
    days: list[tuple[str, list[Document]]] = []
    for slot in slots:
        label = fr_date(required(slot, "hasBeginning"))
        if not days or days[-1][0] != label:
            days.append((label, []))
        days[-1][1].append(slot)
    return days


def template_filters() -> dict[str, Callable[..., Any]]:
    """The filters of the page templates, each wrapped by :func:`strict`."""
    filters: dict[str, Callable[..., Any]] = {
        "address": _address,
        "as_list": as_list,
        "category_label": _category_label,
        "category_name": _category_name,
        "catalogue_kind_label": _label(_CATALOGUE_KIND_LABELS, "Autre"),
        "distance": distance,
        "duration": duration,
        "fr_date": fr_date,
        "fields": _fields,
        "fr_time": fr_time,
        "handle": _handle,
        "hashtags": _hashtags,
        "host": _host,
        "images": _images,
        "kind_label": _label(_KIND_LABELS, "Autre"),
        "action_label": _label(_ACTION_LABELS, "autre"),
        "link": link,
        "links": _links,
        "money": money,
        "next_slot": next_slot,
        "opening_hours": opening_hours,
        "paragraphs": _paragraphs,
        "places": places_left,
        "plain": _plain,
        "price": price,
        "purpose_label": _label(_PURPOSE_LABELS, "Annonce"),
        "safe_html": _safe_html,
    }
    return {name: strict(function) for name, function in filters.items()}


def template_globals() -> dict[str, Callable[..., Any]]:
    """The functions the page templates call, each wrapped by :func:`strict`."""
    functions: dict[str, Callable[..., Any]] = {
        "content_of": _content_of,
        "event_flags": _event_flags,
        "gone_sentence": _label(_GONE_SENTENCES, "Ce contenu a été supprimé"),
        "slots_url": slots_url,
        "when": when,
    }
    return {name: strict(function) for name, function in functions.items()}


def template_tests() -> dict[str, Callable[..., Any]]:
    """The tests of the page templates (``note is paused``), each wrapped by :func:`strict`."""
    return {"paused": strict(_is_paused)}
