"""Place documents (wire-format §8): exact for organisations, blurred to the commune otherwise."""

from __future__ import annotations

from typing import Any

from fedicoop.models.places import Place
from fedicoop.urls import Urls
from schemas.places import Place as PlaceDocument
from schemas.places import PostalAddress


def place_document(place: Place, urls: Urls) -> PlaceDocument:
    """The wire Place of a stored place; a blurred one has no id and no street or postal code."""
    if place.blurred:
        address = PostalAddress(address_locality=place.locality or place.name, address_country=place.country)
    else:
        address = PostalAddress(
            street_address=place.street_address,
            postal_code=place.postal_code,
            address_locality=place.locality,
            address_region=place.region,
            address_country=place.country,
        )
    return PlaceDocument(
        id=None if place.blurred else urls.place(place.id),
        name=place.name,
        latitude=float(place.latitude),
        longitude=float(place.longitude),
        radius=float(place.radius) if place.radius is not None else None,
        units="m" if place.radius is not None else None,
        address=address,
        commune_code=place.commune_code,
        departement_code=place.departement_code,
        region_code=place.region_code,
        epci_code=place.epci_code,
        cog_year=place.cog_year,
    )


def served_place_document(place: dict[str, Any]) -> PlaceDocument:
    """The wire Place of one commune an itinerant workshop serves (stored as an API place): blurred, so
    without id, street or postal code; a radius when the place has one."""
    radius = place.get("radius")
    return PlaceDocument(
        name=place["name"],
        latitude=float(place["latitude"]),
        longitude=float(place["longitude"]),
        radius=float(radius) if radius is not None else None,
        units="m" if radius is not None else None,
        address=PostalAddress(
            address_locality=place.get("locality") or place["name"],
            address_country=place.get("country") or "FR",
        ),
        commune_code=place.get("commune_code"),
        departement_code=place.get("departement_code"),
        region_code=place.get("region_code"),
        epci_code=place.get("epci_code"),
        cog_year=place.get("cog_year"),
    )
