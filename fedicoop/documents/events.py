"""Event documents: the Mobilizon-compatible ``Event`` with FEP-8a8e fields of wire-format §7."""

from __future__ import annotations

import html

from federation.sanitize import text_to_html
from fedicoop.documents.places import place_document
from fedicoop.documents.text import hashtag_links, hashtag_name
from fedicoop.domain.french import format_event_when, to_paris
from fedicoop.models.events import Event
from fedicoop.models.states import EventStatus
from fedicoop.urls import Urls
from schemas.base import ASObject
from schemas.collections import Collection
from schemas.context import PUBLIC, fedicoop_context
from schemas.events import Event as EventDocument
from schemas.media import Document, Hashtag, Image, Link

CANCELLED_PREFIX = "ANNULÉ – "
_EVENT_STATUS = {
    EventStatus.CONFIRMED: "EventScheduled",
    EventStatus.TENTATIVE: "EventTentative",
    EventStatus.CANCELLED: "EventCancelled",
}


def _where(event: Event) -> str:
    place = event.location
    if place is None:
        return "en ligne" if event.is_online else ""
    town = " ".join(part for part in (place.postal_code, place.locality) if part)
    return ", ".join(dict.fromkeys(part for part in (place.name, place.street_address, town) if part))


def event_summary(event: Event) -> str:
    """The plain-text summary Mastodon shows: date and time, place, price; prefixed when cancelled."""
    parts = [format_event_when(event.start_time, event.end_time), _where(event), event.price_text]
    text = " · ".join(part for part in parts if part)
    return (CANCELLED_PREFIX + text) if event.status == EventStatus.CANCELLED else text


class EventDocuments:
    """Builds Event documents for one node."""

    def __init__(self, urls: Urls) -> None:
        self.urls = urls

    def event(self, event: Event, *, embedded: bool = False) -> EventDocument:
        """The Event of a live event (its actor and location must be loaded)."""
        urls = self.urls
        event_id = urls.event(event.id)
        actor_id = urls.actor(event.actor.username)
        when = format_event_when(event.start_time, event.end_time)
        place = event.location
        where_line = f"{when}"
        if place is not None and (place.street_address or place.locality):
            where_line += ", " + " à ".join(p for p in (place.street_address, place.locality) if p)
        if event.price_text:
            where_line += f". {event.price_text[:1].upper()}{event.price_text[1:]}."
        tags = [(hashtag_name(tag), urls.tag(hashtag_name(tag))) for tag in event.tags][:4]
        content = (
            text_to_html(event.description)
            + f"<p>{html.escape(where_line, quote=False)}</p>"
            + hashtag_links(tags)
        )
        banner: list[Image | Document | Link | ASObject | str] | None = (
            [
                Document(
                    name="Banner", media_type=event.banner_media_type or "image/jpeg", url=event.banner_url
                )
            ]
            if event.banner_url
            else None
        )
        return EventDocument(
            context=None if embedded else fedicoop_context(),
            id=event_id,
            name=event.name,
            summary=event_summary(event),
            content=content,
            content_map={"fr": content},
            media_type="text/html",
            url=event_id,
            attributed_to=actor_id,
            organizers=Collection(total_items=1, items=[actor_id]),
            published=event.published,
            updated=event.updated,
            start_time=to_paris(event.start_time),
            end_time=to_paris(event.end_time),
            timezone="Europe/Paris",
            category=event.category,
            join_mode="external",
            external_participation_url=event.registration_url or event_id,
            maximum_attendee_capacity=event.capacity,
            status=event.status.value,
            event_status=_EVENT_STATUS[event.status],
            is_online=event.is_online,
            anonymous_participation_enabled=False,
            in_language="fr",
            to=[PUBLIC],
            cc=[urls.actor_collection(actor_id, "followers")],
            tag=[Hashtag(name=f"#{name}", href=href) for name, href in tags] or None,
            attachment=banner,
            location=place_document(place, urls) if place is not None else None,
        )
