"""Places: stored from API input, minted anew whenever the address or the coordinates change."""

from __future__ import annotations

from datetime import datetime

from fedicoop.ids import uuid7
from fedicoop.models.places import Place
from schemas.api import PlaceInput

_COMPARED = (
    "name",
    "latitude",
    "longitude",
    "radius",
    "street_address",
    "postal_code",
    "locality",
    "region",
    "country",
    "commune_code",
    "departement_code",
    "region_code",
    "epci_code",
    "cog_year",
)


def _rounded(value: float) -> float:
    return round(value, 4)


async def store_place(data: PlaceInput, now: datetime, *, current: Place | None = None) -> Place:
    """Return a Place for ``data``: ``current`` when nothing changed, else a new row with a new id.

    Coordinates are rounded to 4 decimals (about 10 m), the precision of the wire format.
    """
    values = data.model_dump()
    values["latitude"] = _rounded(data.latitude)
    values["longitude"] = _rounded(data.longitude)
    if current is not None and all(getattr(current, key) == values[key] for key in _COMPARED):
        return current
    return await Place.create(id=uuid7(), blurred=data.radius is not None, created_at=now, **values)


def place_input(place: Place) -> PlaceInput:
    """The API form of a stored place (to show it, or to copy an actor's place onto a listing)."""
    return PlaceInput.model_validate({key: getattr(place, key) for key in _COMPARED})
