"""Events (wire-format §7): a Mobilizon-compatible ``Event`` with FEP-8a8e fields.

``summary`` is plain text carrying date, time, place and price (Mastodon shows title + summary);
``startTime``/``endTime`` carry the Paris offset; ``organizers`` is a ``Collection`` of actors; the
banner is the first ``attachment``, a ``Document`` named ``"Banner"``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from schemas.base import (
    IRI,
    ASModel,
    OneOrMany,
    Recipients,
    Ref,
    UtcDateTime,
    WallDateTime,
)
from schemas.collections import Collection
from schemas.limits import ATTACHMENT_MAX, CODE_MAX, CONTENT_MAX, IRI_MAX, NAME_MAX, SUMMARY_MAX, TAG_MAX
from schemas.media import AttachmentItem, TagItem, UrlValue
from schemas.places import Location

EventStatus = Literal["TENTATIVE", "CONFIRMED", "CANCELLED"]
"""iCalendar ``status`` of an event, as Mobilizon sends it."""

EVENT_STATUSES: frozenset[str] = frozenset(
    {
        "EventScheduled",
        "EventCancelled",
        "EventPostponed",
        "EventRescheduled",
        "EventMovedOnline",
        "EventTentative",
    }
)
"""The FEP-8a8e ``eventStatus`` values."""

CATEGORY_WORKSHOPS = "WORKSHOPS_SKILL_SHARING"
JOIN_MODE_EXTERNAL = "external"
TIMEZONE_PARIS = "Europe/Paris"
BANNER_NAME = "Banner"


def _check_participation_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname:
        return value
    if parts.scheme == "mailto" and "@" in parts.path:
        return value
    raise ValueError(f"expected an http(s) URL or a mailto: address, got {value!r}")


ParticipationUrl = Annotated[
    str, StringConstraints(max_length=IRI_MAX), AfterValidator(_check_participation_url)
]
"""``externalParticipationUrl``: an http(s) URL, or ``mailto:`` (the one place §13.9 allows it)."""


class Event(ASModel):
    """An ``Event`` (§7); ``end_time`` must come after ``start_time``.

    ``status`` (iCalendar) and ``event_status`` (FEP-8a8e, see :data:`EVENT_STATUSES`) travel together;
    ``category``, ``join_mode`` and ``event_status`` are open strings on input.
    """

    id: IRI
    type: Literal["Event"] = "Event"
    name: str = Field(min_length=1, max_length=NAME_MAX)
    summary: str | None = Field(default=None, max_length=SUMMARY_MAX)
    content: str | None = Field(default=None, max_length=CONTENT_MAX)
    content_map: dict[str, Annotated[str, Field(max_length=CONTENT_MAX)]] | None = None
    media_type: str | None = None
    url: UrlValue | None = None
    attributed_to: Ref | None = None
    organizers: Collection | None = None
    published: UtcDateTime | None = None
    updated: UtcDateTime | None = None
    start_time: WallDateTime
    end_time: WallDateTime | None = None
    timezone: str | None = Field(default=None, max_length=CODE_MAX)
    category: str | None = Field(default=None, max_length=CODE_MAX)
    join_mode: str | None = Field(default=None, max_length=CODE_MAX)
    external_participation_url: ParticipationUrl | None = None
    maximum_attendee_capacity: Annotated[int, Field(ge=0)] | None = None
    remaining_attendee_capacity: Annotated[int, Field(ge=0)] | None = None
    status: EventStatus | None = None
    event_status: str | None = Field(default=None, max_length=CODE_MAX)
    is_online: bool | None = None
    anonymous_participation_enabled: bool | None = None
    in_language: str | None = Field(default=None, max_length=CODE_MAX)
    to: Recipients | None = None
    cc: Recipients | None = None
    tag: Annotated[OneOrMany[TagItem], Field(max_length=TAG_MAX)] | None = None
    attachment: Annotated[OneOrMany[AttachmentItem], Field(max_length=ATTACHMENT_MAX)] | None = None
    location: Location | None = None

    @model_validator(mode="after")
    def _check_times(self) -> Event:
        if self.end_time is not None and self.end_time <= self.start_time:
            raise ValueError(
                f"endTime ({self.end_time.isoformat()}) must come after "
                f"startTime ({self.start_time.isoformat()})"
            )
        return self
