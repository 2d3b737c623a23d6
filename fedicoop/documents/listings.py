"""Listing documents: the offer, request and repair-offer ``Note`` of wire-format §5 and §6.1."""

from __future__ import annotations

import html
from datetime import datetime

from federation.sanitize import text_to_html
from fedicoop.documents.places import place_document, served_place_document
from fedicoop.documents.text import euros, hashtag_links, hashtag_name, link_paragraph, paragraph, place_label
from fedicoop.domain.french import format_next_slot, to_paris
from fedicoop.models.listings import Listing
from fedicoop.models.states import Action, ListingKind, ListingState, Purpose
from fedicoop.urls import Urls
from schemas.api import Exchange
from schemas.context import PUBLIC, category_iri, fedicoop_context
from schemas.listings import Intent, MonetaryAmount, Note, Quantity
from schemas.media import Hashtag, Image
from schemas.places import Location

EURO_IRI = "https://www.wikidata.org/wiki/Q4916"
PAUSED_PREFIX = "[En pause] "

_DEFAULT_TAG = {
    (ListingKind.OBJECT, Action.TRANSFER_CUSTODY): "Pret",
    (ListingKind.OBJECT, Action.TRANSFER): "Don",
    (ListingKind.SERVICE, Action.DELIVER_SERVICE): "Service",
    (ListingKind.REPAIR, Action.DELIVER_SERVICE): "ReparationVelo",
}


def listing_tags(listing: Listing) -> list[str]:
    """The listing's hashtags (1 to 4): its own, else one for its kind and one for its commune."""
    if listing.tags:
        return [hashtag_name(tag) for tag in listing.tags][:4]
    if listing.purpose == Purpose.REQUEST:
        tags = ["Recherche"]
    elif listing.exchange == Exchange.SWAP:
        tags = ["Echange"]
    elif listing.exchange == Exchange.SALE:
        tags = ["Vente"]
    else:
        tags = [_DEFAULT_TAG[(listing.kind, listing.action)]]
    location = listing.location
    if location is not None and (location.locality or location.name):
        tags.append(hashtag_name(location.locality or location.name))
    return list(dict.fromkeys(tag for tag in tags if tag))[:4]


def _wall(moment: datetime | None) -> datetime | None:
    return to_paris(moment) if moment is not None else None


def _unit(listing: Listing) -> str:
    return "hour" if listing.kind == ListingKind.SERVICE else "one"


def _served_label(listing: Listing) -> str:
    names = [place.get("locality") or place["name"] for place in listing.served_places or []]
    return "itinérant : " + ", ".join(names) if names else ""


def _free_terms(listing: Listing) -> str:
    """What an object offered without a price costs: nothing, or another object in exchange."""
    if listing.exchange == Exchange.SWAP:
        return "à échanger"
    return "prêt gratuit" if listing.action == Action.TRANSFER_CUSTODY else "gratuit"


def _conditions_line(listing: Listing) -> str:
    parts = [_served_label(listing) or place_label(listing.location)]
    if listing.kind == ListingKind.REPAIR:
        if listing.next_slot is not None:
            parts.append(f"prochain créneau libre : {format_next_slot(listing.next_slot)}")
        else:
            parts.append("aucun créneau libre pour le moment")
    if listing.deposit:
        parts.append(f"caution {euros(listing.deposit)}")
    if listing.price:
        parts.append(euros(listing.price) + (" de l'heure" if listing.unit_based else ""))
    elif listing.purpose == Purpose.OFFER and listing.kind == ListingKind.OBJECT:
        parts.append(_free_terms(listing))
    if listing.loan_duration:
        parts.append(
            listing.loan_duration if not listing.loan_duration.startswith("P") else _duration(listing)
        )
    if listing.conditions:
        parts.append(listing.conditions)
    return " · ".join(part for part in parts if part)


def _duration(listing: Listing) -> str:
    text = listing.loan_duration or ""
    if text.startswith("P") and text.endswith("D") and text[1:-1].isdigit():
        days = int(text[1:-1])
        return "une semaine" if days == 7 else f"{days} jour" + ("s" if days > 1 else "")
    return text


def _location(listing: Listing, urls: Urls) -> Location | None:
    """One Place, or the blurred Places of an itinerant workshop's communes (wire-format §8)."""
    if listing.served_places:
        return [served_place_document(place) for place in listing.served_places]
    return place_document(listing.location, urls) if listing.location else None


def _link_text(listing: Listing) -> str:
    if listing.kind == ListingKind.REPAIR:
        return "Réserver un créneau"
    if listing.purpose == Purpose.REQUEST:
        return "Répondre à la demande"
    return "Voir l'annonce"


class ListingDocuments:
    """Builds listing Notes for one node."""

    def __init__(self, urls: Urls) -> None:
        self.urls = urls

    def note(self, listing: Listing, *, embedded: bool = False) -> Note:
        """The Note of a live or paused listing (its actor and location must be loaded).

        A top-level document carries the fedicoop context; one embedded in an activity does not.
        """
        urls = self.urls
        listing_id = urls.listing(listing.id)
        actor_id = urls.actor(listing.actor.username)
        page = listing.external_url or listing_id
        tags = [(name, urls.tag(name)) for name in listing_tags(listing)]
        paused = listing.state == ListingState.PAUSED
        title = (PAUSED_PREFIX if paused else "") + listing.title
        content = "".join(
            [
                f"<p><strong>{html.escape(title, quote=False)}</strong></p>",
                text_to_html(listing.description),
                paragraph(_conditions_line(listing)),
                link_paragraph(page, _link_text(listing)),
                hashtag_links(tags),
            ]
        )
        unit = _unit(listing)
        publishes = Intent(
            id=f"{listing_id}#primary",
            action=listing.action.value,
            resource_conforms_to=category_iri(listing.category),
            resource_classified_as=list(listing.classified_as) or None,
            resource_quantity=Quantity(has_unit=unit, has_numerical_value=listing.quantity),
            available_quantity=(
                Quantity(has_unit=unit, has_numerical_value="0" if paused else listing.quantity)
                if listing.kind != ListingKind.REPAIR
                else None
            ),
            has_beginning=_wall(listing.wanted_from),
            has_end=_wall(listing.wanted_until),
        )
        reciprocal = None
        if listing.price:
            reciprocal = Intent(
                id=f"{listing_id}#reciprocal",
                action="transfer",
                resource_conforms_to=EURO_IRI,
                resource_quantity=Quantity(has_unit="one", has_numerical_value=listing.price),
            )
        return Note(
            context=None if embedded else fedicoop_context(),
            id=listing_id,
            kind=listing.kind.value,
            purpose=listing.purpose.value,
            attributed_to=actor_id,
            title=listing.title,
            content=content,
            content_map={"fr": content},
            media_type="text/html",
            url=page,
            published=listing.published,
            updated=listing.updated,
            to=[PUBLIC],
            cc=[urls.actor_collection(actor_id, "followers")],
            tag=[Hashtag(name=f"#{name}", href=href) for name, href in tags],
            attachment=[
                Image(media_type=image["media_type"], url=image["url"], name=image.get("alt") or None)
                for image in listing.images
            ]
            or None,
            location=_location(listing, urls),
            publishes=publishes,
            reciprocal=reciprocal,
            unit_based=listing.unit_based,
            deposit=MonetaryAmount(value=listing.deposit, currency="EUR") if listing.deposit else None,
            loan_duration=listing.loan_duration,
            slots=urls.slots(listing.id) if listing.kind == ListingKind.REPAIR else None,
            next_slot=_wall(listing.next_slot) if listing.kind == ListingKind.REPAIR else None,
        )
