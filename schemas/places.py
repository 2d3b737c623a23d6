"""Places and territories (wire-format §8): ``Place`` with float coordinates, ``PostalAddress``, INSEE codes.

Coordinates and radius are JSON floats (Mobilizon drops integers and strings); territory codes are
strings (``"02"`` keeps its zero, ``"2A"`` stays valid); ``cogYear`` is the vintage of the codes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.base import IRI, ASModel
from schemas.limits import CODE_MAX, NAME_MAX

Latitude = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
"""WGS 84 latitude in degrees, a float."""

Longitude = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
"""WGS 84 longitude in degrees, a float."""

CommuneCode = Annotated[str, Field(pattern=r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$")]
"""An INSEE COG commune code, five characters (``"59350"``, ``"2A004"``, ``"97411"``)."""

DepartementCode = Annotated[str, Field(pattern=r"^(?:[0-9]{2}|2A|2B|97[0-9])$")]
"""A département code (``"59"``, ``"2A"``, ``"974"``)."""

RegionCode = Annotated[str, Field(pattern=r"^[0-9]{2}$")]
"""A région code, two digits (``"32"``)."""

EpciCode = Annotated[str, Field(pattern=r"^[0-9]{9}$")]
"""The SIREN of an intercommunality, nine digits (``"200093201"``)."""


class PostalAddress(ASModel):
    """A schema.org ``PostalAddress``; a blurred place has ``addressLocality`` and ``addressCountry`` only."""

    type: Literal["PostalAddress"] = "PostalAddress"
    street_address: str | None = Field(default=None, max_length=NAME_MAX)
    postal_code: str | None = Field(default=None, max_length=CODE_MAX)
    address_locality: str | None = Field(default=None, max_length=NAME_MAX)
    address_region: str | None = Field(default=None, max_length=NAME_MAX)
    address_country: str | None = Field(default=None, max_length=NAME_MAX)


class Place(ASModel):
    """An ActivityStreams ``Place`` with fedicoop territory codes (§8).

    ``radius`` (with ``units: "m"``) marks a place blurred to its commune. ``address`` is a
    :class:`PostalAddress`; a bare string is accepted on input only because some peers send one.
    """

    type: Literal["Place"] = "Place"
    id: IRI | None = None
    name: str | None = Field(default=None, max_length=NAME_MAX)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    radius: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    units: str | None = None
    address: PostalAddress | str | None = None
    commune_code: CommuneCode | None = None
    departement_code: DepartementCode | None = None
    region_code: RegionCode | None = None
    epci_code: EpciCode | None = None
    cog_year: Annotated[int, Field(ge=1943, le=2100)] | None = None


Location = Place | list[Place]
"""A ``location``: one Place, or a list of blurred Places for an itinerant workshop (§8)."""
