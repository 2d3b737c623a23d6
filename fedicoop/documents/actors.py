"""Actor documents: ``Organization`` actors, the node's ``Application`` actor (wire-format §3) and feed
actors (``Service``, a bot announcing a saved search of the catalogue, ``fedicoop.feeds``)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from federation.sanitize import text_to_html
from fedicoop.documents.places import place_document
from fedicoop.domain.hours import Closure, WeeklyHours, horaires_text, opening_hours_specification
from fedicoop.models.actors import Actor
from fedicoop.models.listings import Listing
from fedicoop.models.states import ActorKind
from fedicoop.urls import Urls
from schemas.actors import Actor as ActorDocument
from schemas.actors import Endpoints, OpeningHoursSpecification, PropertyValue, PublicKey
from schemas.base import ASObject
from schemas.context import fedicoop_context
from schemas.limits import LOCAL_ACTOR_FIELDS_MAX
from schemas.media import Image, Link

FEP_0837_PROPOSAL = "https://w3id.org/valueflows/ont/vf#Proposal"
AS_LD_MEDIA_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href)}" rel="nofollow noopener">{html.escape(text, quote=False)}</a>'


def _field_value(value: str) -> str:
    if value.startswith(("https://", "http://")) and " " not in value:
        return _link(value, value.split("://", 1)[1])
    return html.escape(value, quote=False)


def _endpoints(urls: Urls, actor_id: str) -> dict[str, Any]:
    """What every actor document of ours holds: its inbox, outbox, follower and following collections
    and the node's shared inbox."""
    return {
        "inbox": urls.actor_collection(actor_id, "inbox"),
        "outbox": urls.actor_collection(actor_id, "outbox"),
        "followers": urls.actor_collection(actor_id, "followers"),
        "following": urls.actor_collection(actor_id, "following"),
        "endpoints": Endpoints(shared_inbox=urls.shared_inbox),
    }


class ActorDocuments:
    """Builds actor documents for one node."""

    def __init__(self, urls: Urls, node_name: str) -> None:
        self.urls = urls
        self.node_name = node_name

    def actor_id(self, actor: Actor) -> str:
        """The id of a local actor (``/actor`` for the Application actor)."""
        if actor.kind == ActorKind.APPLICATION:
            return self.urls.application_actor
        return self.urls.actor(actor.username)

    def organization(
        self,
        actor: Actor,
        public_pem: str,
        *,
        hours: WeeklyHours | None = None,
        closures: list[Closure] | None = None,
        repair_offer: Listing | None = None,
        booking_url: str | None = None,
        today: date,
    ) -> ActorDocument:
        """The Organization document of a cooperative, workshop or place (location must be loaded).

        ``booking_url`` (a workshop whose slots are imported read-only) is where appointments are made:
        the ``Rendez-vous`` field links there instead of to the repair offer."""
        urls = self.urls
        actor_id = urls.actor(actor.username)
        attachment: list[PropertyValue | Link | ASObject | str] = []
        specification = None
        own_hours = any(field["name"].strip().lower() == "horaires" for field in actor.fields_json)
        if hours is not None:
            closure_list = closures or []
            if not own_hours:  # an "Horaires" field of the actor's own (imported free text) wins
                text = horaires_text(hours, closure_list, today)
                attachment.append(PropertyValue(name="Horaires", value=html.escape(text)))
            specification = [
                OpeningHoursSpecification.model_validate(entry)
                for entry in opening_hours_specification(hours, closure_list, today=today)
            ]
        offer_id = urls.listing(repair_offer.id) if repair_offer is not None else None
        appointments = booking_url or offer_id
        if appointments is not None:
            attachment.append(
                PropertyValue(name="Rendez-vous", value=_link(appointments, "prendre rendez-vous"))
            )
        for field in actor.fields_json:
            attachment.append(PropertyValue(name=field["name"], value=_field_value(field["value"])))
        if actor.website:
            attachment.append(PropertyValue(name="Site", value=_field_value(actor.website)))
        room = LOCAL_ACTOR_FIELDS_MAX - (1 if offer_id is not None and repair_offer is not None else 0)
        attachment = attachment[:room]
        if offer_id is not None and repair_offer is not None:
            attachment.append(
                Link(
                    name=repair_offer.title,
                    media_type=AS_LD_MEDIA_TYPE,
                    href=offer_id,
                    rel=["payment", FEP_0837_PROPOSAL],
                )
            )
        return ActorDocument(
            context=fedicoop_context(),
            id=actor_id,
            type="Organization",
            preferred_username=actor.username,
            name=actor.name,
            summary=text_to_html(actor.summary) or None,
            url=urls.profile(actor.username),
            **_endpoints(urls, actor_id),
            manually_approves_followers=actor.manually_approves_followers,
            discoverable=actor.discoverable,
            indexable=actor.indexable,
            published=actor.published,
            icon=Image(media_type=actor.icon_media_type, url=actor.icon_url) if actor.icon_url else None,
            image=Image(media_type=actor.image_media_type, url=actor.image_url) if actor.image_url else None,
            public_key=PublicKey(id=urls.key_id(actor_id), owner=actor_id, public_key_pem=public_pem),
            location=place_document(actor.location, urls) if actor.location is not None else None,
            opening_hours_specification=specification,
            attachment=attachment or None,
        )

    def application(self, actor: Actor, public_pem: str) -> ActorDocument:
        """The node's Application actor (``relay@host``), fetchable without a signature."""
        urls = self.urls
        actor_id = urls.application_actor
        return ActorDocument(
            context=fedicoop_context(),
            id=actor_id,
            type="Application",
            preferred_username=actor.username,
            name=actor.name,
            summary=text_to_html(actor.summary) or None,
            url=urls.absolute("/"),
            **_endpoints(urls, actor_id),
            manually_approves_followers=False,
            discoverable=False,
            indexable=False,
            published=actor.published,
            public_key=PublicKey(id=urls.key_id(actor_id), owner=actor_id, public_key_pem=public_pem),
        )

    def feed(self, actor: Actor, public_pem: str, params: Mapping[str, str]) -> ActorDocument:
        """A feed actor: a ``Service`` (shown as a bot) whose ``url`` is the HTML page of its saved search,
        with the search, its Atom feed and its calendar as profile fields."""
        urls = self.urls
        actor_id = urls.actor(actor.username)
        query = urlencode(dict(params))
        suffix = f"?{query}" if query else ""
        search = urls.absolute("/catalogue" + suffix)
        attachment: list[PropertyValue | Link | ASObject | str] = [
            PropertyValue(name="Recherche", value=_link(search, "voir les résultats")),
            PropertyValue(name="Atom", value=_link(urls.absolute("/catalogue.atom" + suffix), "flux Atom")),
            PropertyValue(name="Agenda", value=_link(urls.absolute("/catalogue.ics" + suffix), "iCalendar")),
        ]
        return ActorDocument(
            context=fedicoop_context(),
            id=actor_id,
            type="Service",
            preferred_username=actor.username,
            name=actor.name,
            summary=text_to_html(actor.summary) or None,
            url=search,
            **_endpoints(urls, actor_id),
            manually_approves_followers=False,
            discoverable=actor.discoverable,
            indexable=actor.indexable,
            published=actor.published,
            public_key=PublicKey(id=urls.key_id(actor_id), owner=actor_id, public_key_pem=public_pem),
            attachment=attachment,
        )
