"""Tests of ``fedicoop.domain.hours``: the Atelier de Fives known answers of wire-format §3.1,
normalisation, the ``Horaires`` text, and the tolerant schema.org reader."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedicoop.domain.hours import (
    APPOINTMENT_ONLY_TEXT,
    Closure,
    ClosureError,
    OpeningHoursError,
    OpeningRange,
    OpeningRangeError,
    SpecificationError,
    Weekday,
    WeeklyHours,
    horaires_text,
    opening_hours_specification,
    parse_opening_hours_specification,
)

MON, TUE, WED, THU, FRI, SAT, SUN = tuple(Weekday)

# wire-format §3.1, the Atelier vélo de Fives actor.
FIVES_SPECIFICATION: list[dict[str, str | list[str]]] = [
    {
        "type": "OpeningHoursSpecification",
        "dayOfWeek": [
            "https://schema.org/Tuesday",
            "https://schema.org/Wednesday",
            "https://schema.org/Thursday",
            "https://schema.org/Friday",
        ],
        "opens": "14:00",
        "closes": "19:00",
    },
    {
        "type": "OpeningHoursSpecification",
        "dayOfWeek": ["https://schema.org/Saturday"],
        "opens": "10:00",
        "closes": "13:00",
    },
    {
        "type": "OpeningHoursSpecification",
        "opens": "00:00",
        "closes": "00:00",
        "validFrom": "2025-12-24",
        "validThrough": "2026-01-02",
    },
]
FIVES_HORAIRES = "mar.–ven. 14h–19h · sam. 10h–13h · fermé du 24/12 au 02/01"


def r(day: Weekday, opens: str, closes: str) -> OpeningRange:
    return OpeningRange(day, time.fromisoformat(opens), time.fromisoformat(closes))


def fives_hours() -> WeeklyHours:
    return WeeklyHours(
        [*(r(day, "14:00", "19:00") for day in (TUE, WED, THU, FRI)), r(SAT, "10:00", "13:00")]
    )


def fives_closures() -> list[Closure]:
    return [Closure(date(2025, 12, 24), date(2026, 1, 2))]


# --- Weekday ---------------------------------------------------------------------------------------


def test_weekday__iri_abbreviation_position() -> None:
    assert [day.iri for day in (MON, SUN)] == ["https://schema.org/Monday", "https://schema.org/Sunday"]
    assert [day.abbreviation for day in Weekday] == ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]
    assert [day.position for day in Weekday] == list(range(7))
    assert str(TUE) == "tuesday"


def test_weekday__from_date() -> None:
    assert Weekday.from_date(date(2025, 10, 14)) is TUE
    assert Weekday.from_date(date(2025, 10, 19)) is SUN


@pytest.mark.parametrize(
    "value",
    ["https://schema.org/Monday", "http://schema.org/Monday", "schema:Monday", "Monday", "monday", "MONDAY"],
)
def test_weekday_from_iri__spellings(value: str) -> None:
    assert Weekday.from_iri(value) is MON


@pytest.mark.parametrize("value", ["", "Mon", "https://schema.org/Mondays", "https://example.org/Monday/x"])
def test_weekday_from_iri__garbage__raises(value: str) -> None:
    with pytest.raises(SpecificationError, match=r"dayOfWeek: expected a schema\.org day"):
        Weekday.from_iri(value)


# --- OpeningRange, Closure ---------------------------------------------------------------------------


def test_opening_range__any_minute_accepted() -> None:
    assert r(MON, "09:15", "11:45").closes == time(11, 45)


@pytest.mark.parametrize(("opens", "closes"), [("14:00", "14:00"), ("19:00", "14:00")])
def test_opening_range__not_before__raises(opens: str, closes: str) -> None:
    with pytest.raises(OpeningRangeError, match=r"OpeningRange \(monday\): expected opens before closes"):
        r(MON, opens, closes)


def test_opening_range__seconds__raises() -> None:
    with pytest.raises(OpeningRangeError, match="whole minute"):
        OpeningRange(MON, time(9, 0, 30), time(12))


def test_opening_range__tzinfo__raises() -> None:
    with pytest.raises(OpeningRangeError, match="without time zone"):
        OpeningRange(MON, time(9, tzinfo=UTC), time(12))


def test_opening_range__wrong_types__raise() -> None:
    with pytest.raises(OpeningRangeError, match="expected a Weekday"):
        OpeningRange("monday", time(9), time(12))  # type: ignore[arg-type]
    with pytest.raises(OpeningRangeError, match=r"expected a datetime\.time, got str"):
        OpeningRange(MON, "09:00", time(12))  # type: ignore[arg-type]


def test_opening_range_from_strings__rustine_rows() -> None:
    assert OpeningRange.from_strings("tuesday", "14:00", "19:00") == r(TUE, "14:00", "19:00")
    assert OpeningRange.from_strings(" Saturday ", "10:30", "13:00") == r(SAT, "10:30", "13:00")


@pytest.mark.parametrize(
    ("day", "opens", "closes", "message"),
    [
        ("mardi", "14:00", "19:00", "OpeningRange day: expected one of monday"),
        ("tuesday", "14h", "19:00", "expected a time written HH:MM, got '14h'"),
        ("tuesday", "14:00", "24:00", "got '24:00'"),
        ("tuesday", "19:00", "14:00", "expected opens before closes"),
    ],
)
def test_opening_range_from_strings__garbage__raises(day: str, opens: str, closes: str, message: str) -> None:
    with pytest.raises(OpeningRangeError, match=message):
        OpeningRange.from_strings(day, opens, closes)


def test_closure__single_day_and_covers() -> None:
    closure = Closure(date(2025, 12, 24), date(2025, 12, 24))
    assert closure.covers(date(2025, 12, 24))
    assert not closure.covers(date(2025, 12, 25))
    assert closure.text() == "fermé le 24/12"


def test_closure__end_before_start__raises() -> None:
    with pytest.raises(ClosureError, match="expected start on or before end, got start 2026-01-02"):
        Closure(date(2026, 1, 2), date(2025, 12, 24))


def test_closure__datetime__raises() -> None:
    with pytest.raises(ClosureError, match=r"Closure.start: expected a datetime.date, got datetime"):
        Closure(datetime(2025, 12, 24), date(2025, 12, 25))


def test_errors__are_value_errors() -> None:
    for error in (OpeningRangeError, ClosureError, SpecificationError):
        assert issubclass(error, OpeningHoursError)
    assert issubclass(OpeningHoursError, ValueError)


# --- WeeklyHours -------------------------------------------------------------------------------------


def test_weekly_hours__overlapping_and_touching_ranges_merged() -> None:
    hours = WeeklyHours(
        [
            r(MON, "11:00", "13:00"),
            r(MON, "09:00", "12:00"),
            r(MON, "13:00", "14:00"),
            r(MON, "15:00", "16:00"),
        ]
    )
    assert hours.for_day(MON) == (r(MON, "09:00", "14:00"), r(MON, "15:00", "16:00"))


def test_weekly_hours__contained_range_merged() -> None:
    assert WeeklyHours([r(MON, "09:00", "18:00"), r(MON, "10:00", "11:00")]).ranges == (
        r(MON, "09:00", "18:00"),
    )


def test_weekly_hours__sorted_by_weekday_then_time() -> None:
    hours = WeeklyHours([r(SUN, "10:00", "11:00"), r(MON, "14:00", "15:00"), r(MON, "09:00", "10:00")])
    assert hours.ranges == (r(MON, "09:00", "10:00"), r(MON, "14:00", "15:00"), r(SUN, "10:00", "11:00"))
    assert hours.for_day(TUE) == ()
    assert len(hours) == 3
    assert list(hours) == list(hours.ranges)


def test_weekly_hours__equality_after_normalisation() -> None:
    assert WeeklyHours([r(MON, "09:00", "12:00"), r(MON, "12:00", "13:00")]) == WeeklyHours(
        [r(MON, "09:00", "13:00")]
    )
    assert hash(WeeklyHours([r(MON, "09:00", "13:00")])) == hash(WeeklyHours([r(MON, "09:00", "13:00")]))
    assert WeeklyHours() != WeeklyHours([r(MON, "09:00", "13:00")])
    assert not WeeklyHours()
    assert "WeeklyHours([OpeningRange(" in repr(fives_hours())


def test_weekly_hours__non_range_item__raises() -> None:
    with pytest.raises(OpeningRangeError, match="expected OpeningRange items"):
        WeeklyHours([("monday", "09:00", "12:00")])  # type: ignore[list-item]


# --- horaires_text -----------------------------------------------------------------------------------


def test_horaires_text__atelier_de_fives_known_answer() -> None:
    assert horaires_text(fives_hours(), fives_closures(), date(2025, 12, 1)) == FIVES_HORAIRES


def test_horaires_text__closure_over__left_out() -> None:
    assert (
        horaires_text(fives_hours(), fives_closures(), date(2026, 1, 3)) == "mar.–ven. 14h–19h · sam. 10h–13h"
    )


def test_horaires_text__closure_ending_today_or_ongoing__kept() -> None:
    assert horaires_text(fives_hours(), fives_closures(), date(2026, 1, 2)) == FIVES_HORAIRES
    assert horaires_text(fives_hours(), fives_closures(), date(2025, 12, 28)) == FIVES_HORAIRES


def test_horaires_text__single_day_closures_sorted_and_deduplicated() -> None:
    closures = [Closure(date(2026, 5, 1), date(2026, 5, 1)), Closure(date(2025, 12, 25), date(2025, 12, 25))]
    text = horaires_text(WeeklyHours([r(SAT, "10:00", "13:00")]), [*closures, *closures], date(2025, 12, 1))
    assert text == "sam. 10h–13h · fermé le 25/12 · fermé le 01/05"


def test_horaires_text__several_ranges_and_minutes() -> None:
    hours = WeeklyHours(
        [r(day, "09:00", "12:00") for day in (MON, TUE)]
        + [r(day, "14:00", "18:30") for day in (MON, TUE)]
        + [r(THU, "09:30", "12:00"), r(SAT, "10:00", "13:00"), r(SUN, "10:00", "13:00")]
    )
    assert horaires_text(hours, [], date(2025, 12, 1)) == (
        "lun.–mar. 9h–12h, 14h–18h30 · jeu. 9h30–12h · sam.–dim. 10h–13h"
    )


def test_horaires_text__gap_day_breaks_group() -> None:
    hours = WeeklyHours([r(day, "14:00", "19:00") for day in (MON, TUE, THU, FRI)])
    assert horaires_text(hours, [], date(2025, 12, 1)) == "lun.–mar. 14h–19h · jeu.–ven. 14h–19h"


def test_horaires_text__different_times_break_group() -> None:
    hours = WeeklyHours([r(TUE, "14:00", "19:00"), r(WED, "14:00", "18:00"), r(THU, "14:00", "18:00")])
    assert horaires_text(hours, [], date(2025, 12, 1)) == "mar. 14h–19h · mer.–jeu. 14h–18h"


def test_horaires_text__every_day() -> None:
    hours = WeeklyHours([r(day, "08:00", "20:00") for day in Weekday])
    assert horaires_text(hours, [], date(2025, 12, 1)) == "lun.–dim. 8h–20h"


def test_horaires_text__no_hours__appointment_only() -> None:
    assert horaires_text(WeeklyHours(), [], date(2025, 12, 1)) == APPOINTMENT_ONLY_TEXT
    assert horaires_text(WeeklyHours(), fives_closures(), date(2025, 12, 1)) == (
        "sur rendez-vous uniquement · fermé du 24/12 au 02/01"
    )


# --- opening_hours_specification ----------------------------------------------------------------------


def test_opening_hours_specification__atelier_de_fives_known_answer() -> None:
    assert opening_hours_specification(fives_hours(), fives_closures()) == FIVES_SPECIFICATION


def test_opening_hours_specification__key_order_matches_wire_example() -> None:
    entries = opening_hours_specification(fives_hours(), fives_closures())
    assert [list(entry) for entry in entries] == [list(entry) for entry in FIVES_SPECIFICATION]


def test_opening_hours_specification__one_entry_per_distinct_range() -> None:
    hours = WeeklyHours(
        [
            r(MON, "14:00", "18:00"),
            r(MON, "09:00", "12:00"),
            r(WED, "09:00", "12:00"),
            r(SUN, "09:00", "12:00"),
        ]
    )
    assert opening_hours_specification(hours, []) == [
        {
            "type": "OpeningHoursSpecification",
            "dayOfWeek": [
                "https://schema.org/Monday",
                "https://schema.org/Wednesday",
                "https://schema.org/Sunday",
            ],
            "opens": "09:00",
            "closes": "12:00",
        },
        {
            "type": "OpeningHoursSpecification",
            "dayOfWeek": ["https://schema.org/Monday"],
            "opens": "14:00",
            "closes": "18:00",
        },
    ]


def test_opening_hours_specification__today_filters_ended_closures() -> None:
    closures = [Closure(date(2025, 11, 1), date(2025, 11, 1)), *fives_closures()]
    assert (
        opening_hours_specification(WeeklyHours(), closures, today=date(2025, 12, 1))
        == FIVES_SPECIFICATION[2:]
    )
    assert len(opening_hours_specification(WeeklyHours(), closures)) == 2


# --- parse_opening_hours_specification ----------------------------------------------------------------


def test_parse__atelier_de_fives_round_trip() -> None:
    assert parse_opening_hours_specification(FIVES_SPECIFICATION) == (fives_hours(), fives_closures())


def test_parse__tolerant_spellings() -> None:
    hours, closures = parse_opening_hours_specification(
        [
            {"dayOfWeek": "http://schema.org/Tuesday", "opens": "14:00:00", "closes": "19:00:00"},
            {"type": "OpeningHoursSpecification", "dayOfWeek": ["schema:Wednesday", "Thursday"],
             "opens": "14:00", "closes": "19:00"},
            {"dayOfWeek": {"id": "https://schema.org/Friday"}, "opens": "14:00", "closes": "19:00"},
            {"dayOfWeek": ["https://schema.org/Saturday", "https://schema.org/PublicHolidays"],
             "opens": "10:00", "closes": "13:00"},
            {"opens": "00:00", "closes": "00:00", "validFrom": "2025-12-24T00:00:00+01:00",
             "validThrough": "2026-01-02"},
            {"opens": "00:00", "closes": "00:00", "validFrom": "2025-12-24", "validThrough": "2026-01-02"},
            {"opens": "00:00", "closes": "00:00", "validFrom": "2026-05-01"},
        ]
    )  # fmt: skip
    assert hours == fives_hours()
    assert closures == [*fives_closures(), Closure(date(2026, 5, 1), date(2026, 5, 1))]


def test_parse__inexpressible_entries__ignored() -> None:
    hours, closures = parse_opening_hours_specification(
        [
            {"dayOfWeek": "https://schema.org/Monday", "opens": "09:00", "closes": "12:00",
             "validFrom": "2026-07-01", "validThrough": "2026-08-31"},
            {"dayOfWeek": "https://schema.org/Sunday", "opens": "00:00", "closes": "00:00"},
            {"dayOfWeek": "https://schema.org/Monday", "opens": "00:00", "closes": "00:00",
             "validFrom": "2026-07-01", "validThrough": "2026-08-31"},
            {"dayOfWeek": "https://schema.org/PublicHolidays", "opens": "10:00", "closes": "12:00"},
        ]
    )  # fmt: skip
    assert (hours, closures) == (WeeklyHours(), [])


MON_9_12 = {"dayOfWeek": "Monday", "opens": "09:00", "closes": "12:00"}
CLOSED = {"opens": "00:00", "closes": "00:00"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("not an object", r"openingHoursSpecification\[0\]: expected an object, got str"),
        (
            {"dayOfWeek": "Monday", "closes": "12:00"},
            r"\[0\]\.opens: expected a time written HH:MM, got None",
        ),
        ({**MON_9_12, "opens": "9h"}, r"\.opens: expected a time written HH:MM, got '9h'"),
        ({**MON_9_12, "opens": "09:00:30"}, r"\.opens: expected a time"),
        ({**MON_9_12, "opens": "٠٩:00"}, r"\.opens: expected a time"),
        ({**MON_9_12, "closes": 12}, r"\.closes: expected a time written HH:MM, got 12"),
        ({"opens": "09:00", "closes": "12:00"}, r"\[0\]: expected a dayOfWeek on a weekly entry"),
        ({**MON_9_12, "dayOfWeek": "Lundi"}, r"\[0\]\.dayOfWeek: expected a schema\.org day"),
        ({**MON_9_12, "dayOfWeek": [3]}, r"\.dayOfWeek: expected a day IRI string, got 3"),
        ({**MON_9_12, "opens": "12:00", "closes": "09:00"}, r"\[0\]: OpeningRange \(monday\)"),
        ({**CLOSED, "validFrom": "24/12/2025"}, r"\.validFrom: expected a date written YYYY-MM-DD"),
        ({**CLOSED, "validFrom": "2025-02-30"}, r"\.validFrom: expected an existing calendar date"),
        (
            {**CLOSED, "validFrom": "2026-01-02", "validThrough": "2025-12-24"},
            r"\[0\]: Closure: expected start on or before end",
        ),
    ],
)
def test_parse__garbage__raises(entry: object, message: str) -> None:
    with pytest.raises(SpecificationError, match=message):
        parse_opening_hours_specification([entry])


# --- properties ------------------------------------------------------------------------------------


@st.composite
def opening_ranges(draw: st.DrawFn) -> OpeningRange:
    day = draw(st.sampled_from(list(Weekday)))
    opens = draw(st.integers(min_value=0, max_value=23 * 60 + 58))
    closes = draw(st.integers(min_value=opens + 1, max_value=23 * 60 + 59))
    return OpeningRange(day, time(opens // 60, opens % 60), time(closes // 60, closes % 60))


closures_strategy = st.builds(
    lambda start, length: Closure(start, date.fromordinal(start.toordinal() + length)),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=40),
)


def minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def covered_minutes(ranges: Iterable[OpeningRange]) -> set[tuple[int, int]]:
    return {
        (item.day.position, minute)
        for item in ranges
        for minute in range(minutes(item.opens), minutes(item.closes))
    }


@given(st.lists(opening_ranges(), max_size=12))
def test_weekly_hours__normalisation_properties(ranges: list[OpeningRange]) -> None:
    hours = WeeklyHours(ranges)
    assert covered_minutes(hours) == covered_minutes(ranges)
    for day in Weekday:
        day_ranges = hours.for_day(day)
        assert all(earlier.closes < later.opens for earlier, later in itertools.pairwise(day_ranges))
    assert WeeklyHours(reversed(ranges)) == hours
    assert WeeklyHours(hours.ranges) == hours


@given(st.lists(opening_ranges(), max_size=12), st.lists(closures_strategy, max_size=4))
def test_specification__round_trip(ranges: list[OpeningRange], closures: list[Closure]) -> None:
    hours = WeeklyHours(ranges)
    entries = opening_hours_specification(hours, closures)
    assert parse_opening_hours_specification(entries) == (hours, sorted(set(closures)))
    pairs = [(entry["opens"], entry["closes"]) for entry in entries if "dayOfWeek" in entry]
    assert len(pairs) == len(set(pairs))


@given(st.lists(opening_ranges(), max_size=12), st.lists(closures_strategy, max_size=4), st.dates())
def test_horaires_text__properties(ranges: list[OpeningRange], closures: list[Closure], today: date) -> None:
    text = horaires_text(WeeklyHours(ranges), closures, today)
    upcoming = {closure for closure in closures if closure.end >= today}
    assert text.count("fermé") == len(upcoming)
    assert (text.startswith(APPOINTMENT_ONLY_TEXT)) == (not ranges)
    for day in {item.day for item in ranges}:
        assert day.abbreviation in text or any(
            f"{first.abbreviation}–" in text for first in Weekday if first.position < day.position
        )
