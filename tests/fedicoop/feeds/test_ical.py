"""The iCalendar writer (fedicoop.feeds.ical), checked line by line and read back with ``icalendar``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from fedicoop.feeds.ical import LINE_OCTETS, CalendarEvent, calendar, escape_text, fold

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
START = datetime(2025, 10, 18, 14, 0, tzinfo=timezone(timedelta(hours=2)))
HOSTILE = (
    "Atelier; vélo, pneus\\chambre\r\nDeuxième ligne\rTroisième\nEND:VEVENT\nBEGIN:VALARM ]]> "
    "\x00\x07\x1b\x7f\t☃ 🚲 <script>alert(1)</script> & " + "é" * 100
)
CLEAN = HOSTILE.replace("\r\n", "\n").replace("\r", "\n").translate(dict.fromkeys([0, 7, 0x1B, 0x7F]))


def _event(text: str, **changes: object) -> CalendarEvent:
    fields: dict[str, object] = {
        "uid": "https://velo-fives.example/events/1;a,b",
        "summary": text,
        "description": text,
        "location": text,
        "starts_at": START,
        "ends_at": START + timedelta(hours=2),
        "geo": (50.6292, 3.0886),
        "url": "https://velo-fives.example/events/1?a=1&b=2",
        "categories": ("Vélo, réparation",),
        "created": NOW - timedelta(days=3),
        "last_modified": NOW - timedelta(days=1),
    }
    fields.update(changes)
    return CalendarEvent(**fields)  # type: ignore[arg-type]


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda match: "\n" if match[1] in "nN" else match[1], text)


def _lines(body: bytes) -> list[bytes]:
    assert body.endswith(b"\r\n")
    lines = body[:-2].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    return lines


def test_calendar__lines_end_in_crlf_and_fold_at_75_octets() -> None:
    body = calendar([_event(HOSTILE)], name=HOSTILE, product="-//fedicoop//test//FR", stamp=NOW)
    lines = _lines(body)
    assert max(len(line) for line in lines) == LINE_OCTETS
    for line in lines:
        assert len(line) <= LINE_OCTETS
        line.decode("utf-8")  # a fold never splits a character
    unfolded = body.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-2] == "END:VCALENDAR"
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in unfolded if line]
    assert names.count("BEGIN") == 2 and names.count("END") == 2  # the text's END:VEVENT stayed text
    assert not any(re.match(r"BEGIN:VALARM", line) for line in unfolded)


def test_calendar__hostile_text_reads_back_with_icalendar() -> None:
    body = calendar(
        [_event(HOSTILE)],
        name=HOSTILE,
        product="-//fedicoop//test//FR",
        stamp=NOW,
        url="https://portal.example/catalogue.ics?kind=event&epci=200093201",
    )
    parsed = icalendar.Calendar.from_ical(body)
    assert [component.name for component in parsed.walk()] == ["VCALENDAR", "VEVENT"]
    # icalendar leaves NAME (RFC 7986 TEXT) escaped: unescape it as RFC 5545 §3.3.11 says
    assert _unescape(str(parsed["NAME"])) == CLEAN
    [event] = parsed.walk("VEVENT")
    for name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
        assert str(event[name]) == CLEAN
    assert str(event["UID"]) == "https://velo-fives.example/events/1;a,b"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(hours=2)
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("LAST-MODIFIED") == NOW - timedelta(days=1)
    assert (event["GEO"].latitude, event["GEO"].longitude) == (50.6292, 3.0886)
    assert str(event["URL"]) == "https://velo-fives.example/events/1?a=1&b=2"
    assert [str(category) for category in event["CATEGORIES"].cats] == ["Vélo, réparation"]
    assert str(event["STATUS"]) == "CONFIRMED"
    assert b"DTSTART:20251018T120000Z\r\n" in body  # UTC


def test_calendar__cancelled_without_end_or_place() -> None:
    body = calendar(
        [_event("Fête", ends_at=None, location=None, geo=None, cancelled=True, description="")],
        name="x",
        product="p",
        stamp=NOW,
    )
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert "DTEND" not in event and "LOCATION" not in event and "GEO" not in event
    assert "DESCRIPTION" not in event


def test_calendar__empty() -> None:
    parsed = icalendar.Calendar.from_ical(calendar([], name="Rien", product="p", stamp=NOW))
    assert parsed.walk("VEVENT") == []
    assert str(parsed["VERSION"]) == "2.0"


def test_escape_text__every_special_character() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf\rg") == "a\\\\b\\;c\\,d\\ne\\nf\\ng"
    assert escape_text("\x00\x01\x1f\x7ftab\there") == "tab\there"
    assert escape_text("\ud800x") == "x"  # a lone surrogate cannot be written: dropped


def test_fold__never_splits_a_character() -> None:
    line = "DESCRIPTION:" + "🚲" * 40
    folded = fold(line).encode("utf-8").split(b"\r\n")
    assert all(len(part) <= LINE_OCTETS for part in folded)
    assert b"".join(part[1:] if index else part for index, part in enumerate(folded)).decode() == line


@given(st.text(alphabet=st.characters(), max_size=300))
def test_calendar__any_text_round_trips(text: str) -> None:
    body = calendar([_event(text or "x")], name=text, product="p", stamp=NOW)
    assert all(len(line) <= LINE_OCTETS for line in _lines(body))
    expected = "".join(
        char
        for char in (text or "x").replace("\r\n", "\n").replace("\r", "\n")
        if not (ord(char) < 0x20 and char not in "\n\t")
        and char != "\x7f"
        and not 0xD800 <= ord(char) < 0xE000
    )
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == expected
