"""Request and response models of the JSON API (``/api/v1``), kept apart from the wire models.

The same models validate API bodies and CLI options, and generate the OpenAPI document. Every model
forbids unknown fields, so a typo is a 422 naming the field instead of a silently ignored value.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas import limits
from schemas.base import IRI, is_decimal_string
from schemas.context import CATEGORIES

_TAG_PATTERN = re.compile(r"^[^\W_][\w]*$")


def _check_decimal(value: str) -> str:
    if not is_decimal_string(value):
        raise ValueError(
            "must be a non-negative decimal number written with a point such as '30.00', "
            f"at most {limits.NUMERICAL_VALUE_MAX} characters, got {value!r}"
        )
    return value


def _check_username(value: str) -> str:
    if value in limits.RESERVED_USERNAMES:
        raise ValueError(f"{value!r} is reserved (reserved: {', '.join(sorted(limits.RESERVED_USERNAMES))})")
    return value


def _check_tag(value: str) -> str:
    bare = value.removeprefix("#")
    if not _TAG_PATTERN.match(bare) or len(bare) > 64:
        raise ValueError(f"a hashtag is letters and digits only, at most 64, got {value!r}")
    return bare


HttpUrl = IRI
DecimalString = Annotated[str, AfterValidator(_check_decimal)]
Username = Annotated[str, Field(pattern=limits.LOCAL_USERNAME_PATTERN), AfterValidator(_check_username)]
Tag = Annotated[str, AfterValidator(_check_tag)]


class StrictModel(BaseModel):
    """Base of every API model: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: object) -> object:
        """PostgreSQL text cannot hold U+0000: refuse it here rather than fail at the database."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain the NUL character (U+0000)")
        if isinstance(value, list) and any(isinstance(item, str) and "\x00" in item for item in value):
            raise ValueError("must not contain the NUL character (U+0000)")
        return value


class OrganizationKind(StrEnum):
    """The sort of Organization actor a node hosts."""

    COOPERATIVE = "cooperative"
    WORKSHOP = "workshop"
    PLACE = "place"


class PlaceInput(StrictModel):
    """A location: coordinates in WGS 84 and an optional postal address."""

    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius: float | None = Field(default=None, gt=0, le=100_000, description="metres, for a blurred place")
    street_address: str | None = Field(default=None, max_length=500)
    postal_code: str | None = Field(default=None, pattern=r"^[0-9]{5}$")
    locality: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    commune_code: str | None = Field(default=None, pattern=r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$")
    departement_code: str | None = Field(default=None, pattern=r"^(?:[0-9]{2}|2A|2B|97[0-9])$")
    region_code: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    epci_code: str | None = Field(default=None, pattern=r"^[0-9]{9}$")
    cog_year: int | None = Field(default=None, ge=1943, le=2100)


class ProfileField(StrictModel):
    """A name/value profile field shown by Mastodon under the bio."""

    name: str = Field(min_length=1, max_length=255)
    value: str = Field(min_length=1, max_length=2048)


class ActorCreate(StrictModel):
    """Create an Organization actor (cooperative, workshop or place)."""

    username: Username
    kind: OrganizationKind
    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    summary: str = Field(
        default="", max_length=limits.SUMMARY_MAX, description="plain text, paragraphs on blank lines"
    )
    website: HttpUrl | None = None
    icon_url: HttpUrl | None = None
    manually_approves_followers: bool = False
    discoverable: bool = True
    indexable: bool = True
    fields: list[ProfileField] = Field(default_factory=list, max_length=limits.LOCAL_ACTOR_FIELDS_MAX - 2)
    location: PlaceInput | None = None


class ActorUpdate(StrictModel):
    """Change some of an actor's profile; absent fields keep their value."""

    name: str | None = Field(default=None, min_length=1, max_length=limits.NAME_MAX)
    summary: str | None = Field(default=None, max_length=limits.SUMMARY_MAX)
    website: HttpUrl | None = None
    icon_url: HttpUrl | None = None
    manually_approves_followers: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    fields: list[ProfileField] | None = Field(default=None, max_length=limits.LOCAL_ACTOR_FIELDS_MAX - 2)
    location: PlaceInput | None = None


class Exchange(StrEnum):
    """How an object changes hands: given, lent, sold or swapped."""

    GIFT = "gift"
    LOAN = "loan"
    SALE = "sale"
    SWAP = "swap"


class ImageInput(StrictModel):
    """An image attached to a listing, with its alternative text."""

    url: HttpUrl
    media_type: Literal["image/jpeg", "image/png", "image/webp", "image/gif"]
    alt: str = Field(default="", max_length=1500)


def _check_category(value: str) -> str:
    if value not in CATEGORIES:
        raise ValueError(f"unknown category {value!r}; known: {', '.join(sorted(CATEGORIES))}")
    return value


Category = Annotated[str, AfterValidator(_check_category)]


class ListingCreate(StrictModel):
    """Publish an offer or a request of an object or a service, or a workshop's repair offer."""

    actor: Username
    kind: Literal["object", "service", "repair"]
    purpose: Literal["offer", "request"] = "offer"
    title: str = Field(min_length=1, max_length=limits.TITLE_MAX)
    description: str = Field(default="", max_length=limits.DESCRIPTION_MAX)
    category: Category | None = Field(default=None, description="fedicoop category slug")
    exchange: Exchange | None = Field(default=None, description="objects only: gift, loan, sale or swap")
    price: DecimalString | None = Field(default=None, description="euros; per hour when unit_based")
    unit_based: bool = False
    deposit: DecimalString | None = Field(default=None, description="loans only: euros")
    loan_duration: str | None = Field(default=None, max_length=100, description="loans only: P7D or words")
    quantity: DecimalString = "1"
    wanted_from: datetime | None = Field(default=None, description="requests: start of the period wanted")
    wanted_until: datetime | None = None
    conditions: str = Field(default="", max_length=500, description="one line: price, deposit, terms")
    external_url: HttpUrl | None = Field(default=None, description="the human page, when elsewhere")
    tags: list[Tag] = Field(default_factory=list, max_length=limits.LISTING_TAGS_MAX)
    images: list[ImageInput] = Field(default_factory=list, max_length=limits.LISTING_IMAGES_MAX)
    location: PlaceInput | None = Field(default=None, description="default: the actor's location")

    @model_validator(mode="after")
    def _check_coherence(self) -> ListingCreate:
        _check_listing_coherence(
            self.kind, self.purpose, self.category, self.exchange, self.deposit, self.loan_duration
        )
        if self.wanted_from and self.wanted_until and self.wanted_until <= self.wanted_from:
            raise ValueError("wanted_until must be after wanted_from")
        for stamp in (self.wanted_from, self.wanted_until):
            if stamp is not None and stamp.tzinfo is None:
                raise ValueError(
                    "wanted_from and wanted_until need an offset, such as 2025-10-25T09:00:00+02:00"
                )
        return self


def _check_listing_coherence(
    kind: str,
    purpose: str,
    category: str | None,
    exchange: Exchange | None,
    deposit: str | None,
    loan_duration: str | None,
) -> None:
    if category is not None:
        expected = CATEGORIES[category].kind
        if expected != kind:
            raise ValueError(f"category {category!r} is for kind {expected!r}, not {kind!r}")
    if kind != "object" and exchange is not None:
        raise ValueError(f"exchange applies to objects only, not to kind {kind!r}")
    if kind == "repair" and purpose != "offer":
        raise ValueError("a repair listing is always an offer")
    is_loan = kind == "object" and exchange == Exchange.LOAN
    if (deposit is not None or loan_duration is not None) and not is_loan:
        raise ValueError("deposit and loan_duration apply to loans only (kind object, exchange loan)")


class ListingUpdate(StrictModel):
    """Change some of a listing; ``paused`` pauses or resumes it (availableQuantity 0)."""

    title: str | None = Field(default=None, min_length=1, max_length=limits.TITLE_MAX)
    description: str | None = Field(default=None, max_length=limits.DESCRIPTION_MAX)
    category: Category | None = None
    price: DecimalString | None = None
    deposit: DecimalString | None = None
    loan_duration: str | None = Field(default=None, max_length=100)
    quantity: DecimalString | None = None
    wanted_from: datetime | None = None
    wanted_until: datetime | None = None
    conditions: str | None = Field(default=None, max_length=500)
    external_url: HttpUrl | None = None
    tags: list[Tag] | None = Field(default=None, max_length=limits.LISTING_TAGS_MAX)
    images: list[ImageInput] | None = Field(default=None, max_length=limits.LISTING_IMAGES_MAX)
    location: PlaceInput | None = None
    paused: bool | None = None


class EventStatusInput(StrEnum):
    """The status of an event as entered: tentative, confirmed or cancelled."""

    TENTATIVE = "TENTATIVE"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


def _require_offset(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("needs an offset, such as 2025-10-18T10:00:00+02:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_offset)]


class EventCreate(StrictModel):
    """Publish an event (repair café, workshop, meeting)."""

    actor: Username
    name: str = Field(min_length=1, max_length=limits.EVENT_NAME_MAX)
    description: str = Field(default="", max_length=limits.DESCRIPTION_MAX)
    start_time: AwareDatetime
    end_time: AwareDatetime
    price_text: str = Field(default="gratuit", max_length=200)
    registration_url: str | None = Field(
        default=None, max_length=limits.IRI_MAX, pattern=r"^(https?://\S+|mailto:\S+@\S+)$"
    )
    capacity: int | None = Field(default=None, ge=1, le=limits.EVENT_CAPACITY_MAX)
    status: EventStatusInput = EventStatusInput.CONFIRMED
    is_online: bool = False
    banner_url: HttpUrl | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=limits.LISTING_TAGS_MAX)
    location: PlaceInput | None = Field(default=None, description="default: the actor's location")

    @model_validator(mode="after")
    def _check_times(self) -> EventCreate:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class EventUpdate(StrictModel):
    """Change some of an event; status CANCELLED cancels it (an Update, not a Delete)."""

    name: str | None = Field(default=None, min_length=1, max_length=limits.EVENT_NAME_MAX)
    description: str | None = Field(default=None, max_length=limits.DESCRIPTION_MAX)
    start_time: AwareDatetime | None = None
    end_time: AwareDatetime | None = None
    price_text: str | None = Field(default=None, max_length=200)
    registration_url: str | None = Field(
        default=None, max_length=limits.IRI_MAX, pattern=r"^(https?://\S+|mailto:\S+@\S+)$"
    )
    capacity: int | None = Field(default=None, ge=1, le=limits.EVENT_CAPACITY_MAX)
    status: EventStatusInput | None = None
    is_online: bool | None = None
    banner_url: HttpUrl | None = None
    tags: list[Tag] | None = Field(default=None, max_length=limits.LISTING_TAGS_MAX)
    location: PlaceInput | None = None


class OpeningRangeInput(StrictModel):
    """One weekly opening range of a workshop."""

    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    opens: time
    closes: time

    @model_validator(mode="after")
    def _check_order(self) -> OpeningRangeInput:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self


class ClosureInput(StrictModel):
    """An exceptional closure, whole days from ``start`` to ``end`` inclusive."""

    start: date
    end: date

    @model_validator(mode="after")
    def _check_order(self) -> ClosureInput:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        return self


class AvailabilityInput(StrictModel):
    """A workshop's opening hours, closures, slot length and capacity per slot."""

    hours: list[OpeningRangeInput] = Field(default_factory=list, max_length=limits.OPENING_RANGES_MAX)
    closures: list[ClosureInput] = Field(default_factory=list, max_length=limits.CLOSURES_MAX)
    slot_minutes: int = Field(default=60, ge=limits.SLOT_MINUTES_MIN, le=limits.SLOT_MINUTES_MAX)
    capacity: int = Field(default=1, ge=limits.SLOT_CAPACITY_MIN, le=limits.SLOT_CAPACITY_MAX)


class TokenCreate(StrictModel):
    """Name of a new API token."""

    name: str = Field(min_length=1, max_length=limits.TOKEN_NAME_MAX, pattern=limits.TOKEN_NAME_PATTERN)


class Created(BaseModel):
    """The answer to a successful create: the ActivityPub id of the new object and its API path."""

    id: str
    api_url: str


class ErrorBody(BaseModel):
    """Every API error: a stable code, a precise human message, and the field at fault when known."""

    error: str
    detail: str
    field: str | None = None


class ActorOut(BaseModel):
    """An Organization actor as the API shows it."""

    id: str
    username: str
    kind: OrganizationKind
    name: str
    summary: str
    website: str | None
    icon_url: str | None
    manually_approves_followers: bool
    discoverable: bool
    indexable: bool
    fields: list[ProfileField]
    location: PlaceInput | None
    handle: str
    published: datetime
    updated: datetime


class ListingOut(BaseModel):
    """A listing as the API shows it; ``state`` is published, paused or withdrawn."""

    id: str
    uuid: str
    actor: str
    kind: Literal["object", "service", "repair"]
    purpose: Literal["offer", "request"]
    action: str
    state: Literal["published", "paused", "withdrawn"]
    title: str
    description: str
    category: str
    price: str | None
    unit_based: bool
    deposit: str | None
    loan_duration: str | None
    quantity: str
    wanted_from: datetime | None
    wanted_until: datetime | None
    conditions: str
    external_url: str | None
    tags: list[str]
    images: list[ImageInput]
    location: PlaceInput | None
    slots: str | None
    next_slot: datetime | None
    published: datetime
    updated: datetime


class EventOut(BaseModel):
    """An event as the API shows it."""

    id: str
    uuid: str
    actor: str
    name: str
    description: str
    start_time: datetime
    end_time: datetime
    price_text: str
    registration_url: str | None
    capacity: int | None
    status: EventStatusInput
    is_online: bool
    banner_url: str | None
    tags: list[str]
    location: PlaceInput | None
    published: datetime
    updated: datetime


class SlotOut(BaseModel):
    """One free slot of a workshop."""

    id: str
    start: datetime
    end: datetime
    available: int


class AvailabilityOut(AvailabilityInput):
    """A workshop's availability with its repair offer and the next free slots."""

    actor: str
    repair_offer: str | None
    next_slots: list[SlotOut]


class DeliveryOut(BaseModel):
    """One row of the delivery queue: an activity on its way to one inbox, and how it went so far."""

    id: int
    activity: str
    activity_type: str
    inbox: str
    host: str
    recipient: str | None
    state: Literal["pending", "delivered", "failed", "dead", "skipped"]
    attempts: int
    first_attempt_at: datetime | None
    next_attempt_at: datetime
    last_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class CatalogueSlotOut(BaseModel):
    """One free slot of a remote repair offer; ``available`` is None when the workshop does not say."""

    id: str
    start: datetime
    end: datetime
    available: int | None


class CatalogueItemOut(BaseModel):
    """A remote offer, request, repair offer or event held in the catalogue.

    ``id`` is the object's ActivityPub id, ``actor`` its author's; ``content`` and ``summary`` are HTML
    sanitised to the allow-list of wire-format §13.4; ``url`` is the human page at the origin.
    ``next_slots`` are the first upcoming slots of a repair offer as last fetched. ``radius`` (metres)
    marks a blurred place. The territory codes are those of the commune this node computed from the
    coordinates; ``territory_flags`` say where the sender's codes disagreed. ``distance_m`` is the
    distance from the ``near`` point of the search, when it had one.
    """

    id: str
    actor: str
    host: str
    kind: Literal["offer", "request", "repair", "event"]
    purpose: Literal["offer", "request"] | None
    category: str | None
    name: str
    content: str
    summary: str
    url: str | None
    available: bool
    published: datetime | None
    updated: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    location_name: str | None
    latitude: float | None
    longitude: float | None
    radius: float | None
    commune_code: str | None
    epci_code: str | None
    departement_code: str | None
    region_code: str | None
    territory_flags: list[str]
    distance_m: int | None
    received_at: datetime
    slots_url: str | None
    slots_fetched_at: datetime | None
    next_slots: list[CatalogueSlotOut]


class CatalogueFacetsOut(BaseModel):
    """Items of the filtered set per kind, category and département code, most first."""

    kind: dict[str, int]
    category: dict[str, int]
    departement: dict[str, int]


class CataloguePageOut(BaseModel):
    """One page of the catalogue in the order asked; pass ``next_cursor`` as ``cursor`` for the next one.

    ``total`` counts every item the filters match, and ``facets`` splits them.
    """

    items: list[CatalogueItemOut]
    next_cursor: str | None
    total: int
    facets: CatalogueFacetsOut
