"""From Rustine Libre records to specs: one workshop actor, one repair offer, self-repair sessions.

The mapping of domain.md §3. A repairer becomes a workshop actor (exact address, commune codes from the
node's territory), with its structured opening hours, upcoming closures, slot length and capacity as its
availability, read-only: bookings are taken on ``{site}/reparateur/{id}/creneaux``. When the repairer has
no structured hours, its free-text ``openingHours`` becomes the ``Horaires`` field. Its one repair offer
lists the supported bike types and the price list, and carries the slots the instance computed (naive
Paris times made aware, each ``durationSlot`` long). An itinerant repairer ("Réparateur itinérant")
publishes the communes it serves, each blurred (domain.md §6.4). A self-repair workshop ("Auto
réparation") gets one event per opening range over the next four weeks, closures left out.

Values that our rules refuse (a slot length out of bounds, too many ranges) raise
:class:`~fedicoop.connectors.errors.SourceFormatError` naming the repairer and the field: a run never
publishes half a repairer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urljoin

from pydantic import ValidationError as PydanticValidationError

from fedicoop.connectors.errors import SourceFormatError
from fedicoop.connectors.rustine.records import PriceLine, Repairer, SlotTime
from fedicoop.connectors.specs import ActorSpec, EventSpec, ImportedSlot, ListingSpec, Skip, SourceKey
from fedicoop.domain.french import format_euros, paris_zone
from fedicoop.domain.hours import Closure, OpeningRange, Weekday, WeeklyHours
from fedicoop.territory import Territory
from fedicoop.territory.names import fold_name
from schemas import limits
from schemas.api import (
    ActorCreate,
    AvailabilityInput,
    ClosureInput,
    EventCreate,
    ListingCreate,
    OpeningRangeInput,
    OrganizationKind,
    PlaceInput,
    ProfileField,
)

__all__ = [
    "REPAIR_CATEGORY",
    "SESSION_HORIZON_DAYS",
    "Mapped",
    "MappingContext",
    "RepairerData",
    "booking_url",
    "map_repairer",
    "username_for",
]

REPAIR_CATEGORY = "reparation-velo"
"""The fedicoop category of every repair offer (domain.md §4)."""

SESSION_HORIZON_DAYS = 28
"""Days ahead, today included, over which a self-repair workshop's sessions are published as events."""

ITINERANT = "reparateur itinerant"
SELF_REPAIR = ("auto reparation", "autoreparation")
USERNAME_ROOM = 60
"""Longest username we ask for, leaving room for the engine's ``-2``, ``-3`` suffixes (64 at most)."""

_WORDS = re.compile(r"[^\W_]+")
_POSTAL_CODE = re.compile(r"[0-9]{5}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")


@dataclass(frozen=True, slots=True)
class RepairerData:
    """Everything read about one repairer: its document, weekly ranges, closures, prices and slots."""

    repairer: Repairer
    hours: list[OpeningRange]
    closures: list[Closure]
    prices: list[PriceLine]
    slots: list[SlotTime]


@dataclass(frozen=True, slots=True)
class MappingContext:
    """What the mapping needs besides the records: the source's name, the API root (for relative
    media URLs), the public site (for booking pages), the node's territory and the current time."""

    source: str
    api_url: str
    site_url: str
    territory: Territory
    now: datetime


@dataclass(slots=True)
class Mapped:
    """The specs of one repairer, and the records of it left out (served communes off the territory)."""

    actor: ActorSpec
    offer: ListingSpec
    sessions: list[EventSpec] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def booking_url(site_url: str, repairer_id: int) -> str:
    """The public page where a repairer's appointments are booked.

    >>> booking_url("https://rustine.example", 7)
    'https://rustine.example/reparateur/7/creneaux'
    """
    return f"{site_url}/reparateur/{repairer_id}/creneaux"


def username_for(name: str, repairer_id: int) -> str:
    """The username we ask for: the repairer's name folded to lowercase ASCII words joined by hyphens,
    or ``atelier-{id}`` when nothing usable is left (the engine makes it unique).

    >>> username_for("Atelier vélo de Fives", 1)
    'atelier-velo-de-fives'
    >>> username_for("★", 9), username_for("Admin", 3)
    ('atelier-9', 'atelier-3')
    """
    slug = "-".join(fold_name(name).split())[:USERNAME_ROOM].strip("-")
    if not slug or slug in limits.RESERVED_USERNAMES:
        return f"atelier-{repairer_id}"
    return slug


def plain_text(value: str | None) -> str:
    """Rustine's rich text as plain paragraphs: line breaks and block ends kept, tags dropped.

    >>> plain_text("<p>Atelier <b>associatif</b></p><p>Lille&nbsp;Fives</p>")
    'Atelier associatif\\n\\nLille\\xa0Fives'
    """
    if not value:
        return ""
    text = value
    if "<" in text:
        text = re.sub(r"(?i)<br\s*/?>", "\n", text)
        text = re.sub(r"(?i)</(?:p|div|li|h[1-6]|ul|ol)\s*>", "\n\n", text)
        text = re.sub(r"<[^>]*>", "", text)
    text = html.unescape(text)
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut.

    >>> clip("Réparation", 6)
    'Répar…'
    """
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hashtag(name: str) -> str | None:
    """A bike type as a hashtag: its words capitalised and joined (``Vélo électrique`` → ``VéloÉlectrique``).

    >>> hashtag("Vélo électrique"), hashtag("VTT"), hashtag("—")
    ('VéloÉlectrique', 'VTT', None)
    """
    words = _WORDS.findall(name)
    tag = "".join(word[:1].upper() + word[1:] for word in words)
    return tag[:64] if tag else None


def _has_type(repairer: Repairer, *names: str) -> bool:
    return any(fold_name(kind) in names for kind in repairer.types)


def _local(day: date, wall: time) -> datetime | None:
    """The aware Paris instant of a wall-clock time (first one when ambiguous), ``None`` in a DST gap."""
    naive = datetime.combine(day, wall)
    aware = naive.replace(tzinfo=paris_zone())
    if aware.astimezone(UTC).astimezone(paris_zone()).replace(tzinfo=None) != naive:
        return None
    return aware


class _Mapper:
    """Maps one repairer; every validation failure becomes a SourceFormatError naming the repairer."""

    def __init__(self, data: RepairerData, context: MappingContext) -> None:
        self.data = data
        self.repairer = data.repairer
        self.context = context
        self.where = f"repairer {self.repairer.id} ({context.api_url}/repairers/{self.repairer.id})"
        self.key = SourceKey("repairer", str(self.repairer.id))
        # Names are plain text: markup at the source is dropped, never published as such.
        self.name = " ".join(plain_text(self.repairer.name).split()) or f"Atelier {self.repairer.id}"
        self.username = username_for(self.name, self.repairer.id)
        self.today = self.context.now.astimezone(paris_zone()).date()

    def fail(self, problem: str) -> SourceFormatError:
        return SourceFormatError(self.context.source, f"{self.where}: {problem}")

    def _invalid(self, what: str, error: PydanticValidationError) -> SourceFormatError:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or what
        return self.fail(f"its {what} breaks our rules at {location!r}: {first['msg']}")

    # Places ------------------------------------------------------------------------------------

    def _codes(self, latitude: float, longitude: float) -> dict[str, object]:
        territory = self.context.territory
        commune = territory.commune_at(latitude, longitude)
        if commune is None:
            return {}
        vintage = territory.vintage
        return {
            "commune_code": commune.code,
            "departement_code": commune.departement,
            "region_code": commune.region,
            "epci_code": commune.epci,
            "region": territory.region_name(commune.region),
            "cog_year": int(vintage) if vintage.isdigit() else None,
        }

    def exact_place(self, latitude: float, longitude: float) -> PlaceInput:
        repairer = self.repairer
        street = " ".join(part for part in (repairer.street_number, repairer.street) if part) or None
        postcode = (
            repairer.postcode if repairer.postcode and _POSTAL_CODE.fullmatch(repairer.postcode) else None
        )
        country = (
            repairer.country.upper() if repairer.country and _COUNTRY.fullmatch(repairer.country) else "FR"
        )
        try:
            return PlaceInput.model_validate(
                {
                    "name": clip(self.name, limits.NAME_MAX),
                    "latitude": latitude,
                    "longitude": longitude,
                    "street_address": clip(street, 500) if street else None,
                    "postal_code": postcode,
                    "locality": clip(repairer.city, 200),
                    "country": country,
                    **self._codes(latitude, longitude),
                }
            )
        except PydanticValidationError as exc:
            raise self._invalid("address", exc) from None

    def served_places(self) -> tuple[list[PlaceInput], list[Skip]]:
        territory = self.context.territory
        places: list[PlaceInput] = []
        skipped: list[Skip] = []
        seen: set[str] = set()
        for city in self.repairer.cities:
            commune = territory.commune_at(city.latitude, city.longitude)
            blurred = territory.blur(commune) if commune is not None else None
            if commune is None or blurred is None:
                key = SourceKey("served-commune", f"{self.repairer.id} {city.name}")
                regions = ", ".join(territory.region_codes)
                skipped.append(Skip(key, f"outside the node's territory (régions {regions})"))
                continue
            if commune.code in seen:
                continue
            seen.add(commune.code)
            latitude, longitude, radius = blurred
            vintage = territory.vintage
            places.append(
                PlaceInput(
                    name=commune.name,
                    latitude=latitude,
                    longitude=longitude,
                    radius=radius,
                    locality=commune.name,
                    commune_code=commune.code,
                    departement_code=commune.departement,
                    region_code=commune.region,
                    epci_code=commune.epci,
                    cog_year=int(vintage) if vintage.isdigit() else None,
                )
            )
        return places, skipped

    # Actor -------------------------------------------------------------------------------------

    def availability(self) -> AvailabilityInput:
        repairer = self.repairer
        ranges = WeeklyHours(self.data.hours).ranges
        upcoming = sorted({closure for closure in self.data.closures if closure.end >= self.today})
        if not limits.SLOT_MINUTES_MIN <= repairer.duration_slot <= limits.SLOT_MINUTES_MAX:
            raise self.fail(
                f"durationSlot must be from {limits.SLOT_MINUTES_MIN} to {limits.SLOT_MINUTES_MAX} minutes, "
                f"got {repairer.duration_slot}"
            )
        if not limits.SLOT_CAPACITY_MIN <= repairer.number_of_slots <= limits.SLOT_CAPACITY_MAX:
            raise self.fail(
                f"numberOfSlots must be from {limits.SLOT_CAPACITY_MIN} to {limits.SLOT_CAPACITY_MAX}, "
                f"got {repairer.number_of_slots}"
            )
        if len(ranges) > limits.OPENING_RANGES_MAX:
            raise self.fail(
                f"its opening hours hold {len(ranges)} weekly ranges once merged; "
                f"we publish at most {limits.OPENING_RANGES_MAX}"
            )
        return AvailabilityInput(
            hours=[
                OpeningRangeInput(day=item.day.value, opens=item.opens, closes=item.closes) for item in ranges
            ],
            closures=[
                ClosureInput(start=item.start, end=item.end) for item in upcoming[: limits.CLOSURES_MAX]
            ],
            slot_minutes=repairer.duration_slot,
            capacity=repairer.number_of_slots,
        )

    def actor(self, location: PlaceInput) -> ActorSpec:
        repairer = self.repairer
        fields: list[ProfileField] = []
        if not self.data.hours and repairer.opening_hours_text:
            text = plain_text(repairer.opening_hours_text).replace("\n\n", " · ").replace("\n", " · ")
            if text:
                fields.append(ProfileField(name="Horaires", value=clip(text, 2048)))
        icon = urljoin(self.context.api_url + "/", repairer.thumbnail) if repairer.thumbnail else None
        try:
            profile = ActorCreate.model_validate(
                {
                    "username": self.username,
                    "kind": OrganizationKind.WORKSHOP,
                    "name": clip(self.name, limits.NAME_MAX),
                    "summary": clip(plain_text(repairer.description), limits.SUMMARY_MAX),
                    "website": f"{self.context.site_url}/reparateur/{repairer.id}",
                    "icon_url": icon if icon and icon.startswith(("https://", "http://")) else None,
                    "fields": fields,
                    "location": location,
                }
            )
        except PydanticValidationError as exc:
            raise self._invalid("profile", exc) from None
        return ActorSpec(
            key=self.key,
            profile=profile,
            availability=self.availability(),
            booking_url=booking_url(self.context.site_url, repairer.id),
        )

    # Repair offer -------------------------------------------------------------------------------

    def description(self, served: list[PlaceInput]) -> str:
        repairer = self.repairer
        paragraphs = []
        if repairer.bike_types:
            paragraphs.append(f"Vélos pris en charge : {', '.join(repairer.bike_types)}.")
        if served:
            paragraphs.append(f"Se déplace à : {', '.join(place.name for place in served)}.")
        if self.data.prices:
            lines = [f"{line.description} {format_euros(line.price_cents)}" for line in self.data.prices]
            paragraphs.append("Tarifs : " + ", ".join(lines) + ".")
        paragraphs.append("Rendez-vous à prendre sur la page de l'atelier.")
        return clip("\n\n".join(paragraphs), limits.DESCRIPTION_MAX)

    def tags(self) -> list[str]:
        tags = ["ReparationVelo"]
        for name in self.repairer.bike_types:
            tag = hashtag(name)
            if tag and tag.casefold() not in {each.casefold() for each in tags}:
                tags.append(tag)
        return tags[: limits.LISTING_TAGS_MAX]

    def slots(self) -> tuple[ImportedSlot, ...]:
        length = timedelta(minutes=self.repairer.duration_slot)
        found = []
        for slot in self.data.slots:
            start = _local(slot.day, slot.start)
            if start is None or start <= self.context.now:
                continue
            end = (start.astimezone(UTC) + length).astimezone(paris_zone())
            found.append(ImportedSlot(start=start, end=end))
        return tuple(found)

    def offer(self) -> tuple[ListingSpec, list[Skip]]:
        itinerant = _has_type(self.repairer, ITINERANT)
        served, skipped = self.served_places() if itinerant else ([], [])
        title = (
            "Réparation de vélo itinérante sur rendez-vous"
            if itinerant
            else "Réparation de vélo sur rendez-vous"
        )
        try:
            data = ListingCreate(
                actor=self.username,
                kind="repair",
                title=title,
                description=self.description(served),
                category=REPAIR_CATEGORY,
                external_url=booking_url(self.context.site_url, self.repairer.id),
                tags=self.tags(),
            )
        except PydanticValidationError as exc:
            raise self._invalid("repair offer", exc) from None
        spec = ListingSpec(
            key=SourceKey("repair-offer", str(self.repairer.id)),
            owner=self.key,
            data=data,
            served_places=tuple(served),
            slots=self.slots(),
        )
        return spec, skipped

    # Self-repair sessions -----------------------------------------------------------------------

    def occurrences(self) -> Iterator[tuple[date, datetime, datetime]]:
        hours = WeeklyHours(self.data.hours)
        for offset in range(SESSION_HORIZON_DAYS):
            day = self.today + timedelta(days=offset)
            if any(closure.covers(day) for closure in self.data.closures):
                continue
            for opening in hours.for_day(Weekday.from_date(day)):
                start, end = _local(day, opening.opens), _local(day, opening.closes)
                if start is not None and end is not None and end > self.context.now:
                    yield day, start, end

    def sessions(self) -> list[EventSpec]:
        if not _has_type(self.repairer, *SELF_REPAIR):
            return []
        repairer = self.repairer
        name = clip(f"Atelier d'autoréparation vélo – {self.name}", limits.EVENT_NAME_MAX)
        description = (
            "Réparez votre vélo vous-même, avec les outils et les conseils de l'atelier. "
            "Conditions et renseignements sur la page de l'atelier."
        )
        sessions = []
        for day, start, end in self.occurrences():
            try:
                data = EventCreate(
                    actor=self.username,
                    name=name,
                    description=description,
                    start_time=start,
                    end_time=end,
                    price_text="renseignements auprès de l'atelier",
                    registration_url=f"{self.context.site_url}/reparateur/{repairer.id}",
                    tags=["Autoreparation", "ReparationVelo"],
                )
            except PydanticValidationError as exc:
                raise self._invalid("self-repair session", exc) from None
            key = SourceKey("session", f"{repairer.id}-{day.isoformat()}-{start:%H:%M}")
            sessions.append(EventSpec(key=key, owner=self.key, data=data))
        return sessions


def map_repairer(data: RepairerData, context: MappingContext) -> Mapped | Skip:
    """The specs of one enabled repairer, or a :class:`Skip` when it cannot be placed (no coordinates)."""
    mapper = _Mapper(data, context)
    repairer = data.repairer
    if repairer.latitude is None or repairer.longitude is None:
        return Skip(mapper.key, "no latitude and longitude at the source")
    actor = mapper.actor(mapper.exact_place(repairer.latitude, repairer.longitude))
    offer, skipped = mapper.offer()
    return Mapped(actor=actor, offer=offer, sessions=mapper.sessions(), skipped=skipped)
