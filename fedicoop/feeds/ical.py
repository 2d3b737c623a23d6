"""An iCalendar writer (RFC 5545): a ``VCALENDAR`` of ``VEVENT`` s, as bytes ready to serve.

Lines end in CRLF and are folded at 75 octets (a continuation line starts with one space; a UTF-8
character is never split). TEXT values are escaped (backslash, semicolon, comma, newline) and rid of the
control characters the grammar forbids; times are written in UTC (``20251014T120000Z``). Properties
written per event: ``UID``, ``DTSTAMP``, ``DTSTART``, ``DTEND``, ``SUMMARY``, ``DESCRIPTION``,
``LOCATION``, ``GEO``, ``URL``, ``CATEGORIES``, ``STATUS``, ``CREATED``, ``LAST-MODIFIED``; the calendar
gets a ``NAME`` (RFC 7986) and its ``X-WR-CALNAME`` twin.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["LINE_OCTETS", "CalendarEvent", "calendar", "escape_text", "fold", "utc_stamp"]

LINE_OCTETS = 75
"""The most octets of a content line, CRLF excluded (RFC 5545 §3.1)."""

_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""CONTROL characters of RFC 5545 §3.3.11 (horizontal tab is allowed), once newlines are escaped."""

_URI_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]")


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One ``VEVENT``: ``uid`` identifies it across downloads; the texts are plain (not HTML)."""

    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime | None = None
    description: str = ""
    location: str | None = None
    geo: tuple[float, float] | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()
    cancelled: bool = False
    created: datetime | None = None
    last_modified: datetime | None = None


def _clean(value: str) -> str:
    """``value`` without lone surrogates (they cannot be encoded) and with newlines made ``\\n``."""
    text = "".join(char for char in value if unicodedata.category(char) != "Cs")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def escape_text(value: str) -> str:
    """Return ``value`` as an iCalendar TEXT value: ``\\``, ``;``, ``,`` and newlines escaped, controls
    dropped.

    >>> escape_text("Réparation; vélos, pneus\\\\chambres\\r\\nLigne 2\\x07")
    'Réparation\\\\; vélos\\\\, pneus\\\\\\\\chambres\\\\nLigne 2'
    """
    text = _clean(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _FORBIDDEN.sub("", text.replace("\n", "\\n"))


def _uri(value: str) -> str:
    """A URI value: characters a URI cannot hold (controls, spaces, quotes…) percent-encoded."""
    return _URI_FORBIDDEN.sub(lambda match: "".join(f"%{byte:02X}" for byte in match[0].encode()), value)


def utc_stamp(moment: datetime) -> str:
    """Return an aware ``moment`` as an iCalendar UTC DATE-TIME.

    >>> from datetime import timezone, timedelta
    >>> utc_stamp(datetime(2025, 10, 14, 14, 30, 5, 900, tzinfo=timezone(timedelta(hours=2))))
    '20251014T123005Z'
    """
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Return a content line folded at :data:`LINE_OCTETS` octets, joined by CRLF and a space.

    >>> fold("SUMMARY:" + "é" * 40).split("\\r\\n")
    ['SUMMARY:ééééééééééééééééééééééééééééééééé', ' ééééééé']
    """
    lines: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > LINE_OCTETS:
            lines.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += width
    lines.append("".join(current))
    return "\r\n".join(lines)


def _event_lines(event: CalendarEvent, stamp: datetime) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
    ]
    if event.ends_at is not None and event.ends_at > event.starts_at:
        lines.append(f"DTEND:{utc_stamp(event.ends_at)}")
    lines.append(f"SUMMARY:{escape_text(event.summary)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.geo is not None:
        latitude, longitude = event.geo
        lines.append(f"GEO:{latitude:.6f};{longitude:.6f}")
    if event.url:
        lines.append(f"URL:{_uri(event.url)}")
    if event.categories:
        lines.append("CATEGORIES:" + ",".join(escape_text(category) for category in event.categories))
    lines.append("STATUS:CANCELLED" if event.cancelled else "STATUS:CONFIRMED")
    if event.created is not None:
        lines.append(f"CREATED:{utc_stamp(event.created)}")
    if event.last_modified is not None:
        lines.append(f"LAST-MODIFIED:{utc_stamp(event.last_modified)}")
    lines.append("END:VEVENT")
    return lines


def calendar(
    events: Iterable[CalendarEvent], *, name: str, product: str, stamp: datetime, url: str | None = None
) -> bytes:
    """Return the ``VCALENDAR`` of ``events`` as UTF-8 bytes; ``stamp`` is every event's ``DTSTAMP``
    (when this calendar was made), ``product`` the ``PRODID`` and ``url`` where it is served."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(product)}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    if url is not None:
        lines.append(f"SOURCE;VALUE=URI:{_uri(url)}")
        lines.append("REFRESH-INTERVAL;VALUE=DURATION:PT1H")
    for event in events:
        lines.extend(_event_lines(event, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")
