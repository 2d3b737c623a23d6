"""Tests of ``fedicoop.domain.slots``: the wire-format §6 known answers, daylight-saving changes,
closures, capacity, the 60-day horizon, slot fragments, and properties of the algorithm."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedicoop.domain.french import format_next_slot, paris_zone
from fedicoop.domain.hours import Closure, OpeningRange, Weekday, WeeklyHours
from fedicoop.domain.slots import (
    DEFAULT_HORIZON_DAYS,
    Slot,
    SlotError,
    SlotFragmentError,
    compute_slots,
    next_free_slot,
    parse_slot_fragment,
    slot_fragment,
)

MON, TUE, WED, THU, FRI, SAT, SUN = tuple(Weekday)
COLLECTION = "https://velo-fives.example/listings/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812/slots"


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=paris_zone())


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def r(day: Weekday, opens: str, closes: str) -> OpeningRange:
    return OpeningRange(day, time.fromisoformat(opens), time.fromisoformat(closes))


def fives_hours() -> WeeklyHours:
    return WeeklyHours(
        [*(r(day, "14:00", "19:00") for day in (TUE, WED, THU, FRI)), r(SAT, "10:00", "13:00")]
    )


def every_day(opens: str, closes: str) -> WeeklyHours:
    return WeeklyHours([r(day, opens, closes) for day in Weekday])


def starts(slots: list[Slot]) -> list[str]:
    return [slot.start.isoformat() for slot in slots]


# --- known answers -----------------------------------------------------------------------------------


def test_compute_slots__wire_format_collection_page() -> None:
    # wire-format §6.1/§6.2: on Monday 13 October 2025 (updated 06:00Z), the first two slots of the
    # Atelier de Fives are Tuesday 14 October 14:00 and 15:00, with 2 and 1 places left.
    slots = compute_slots(fives_hours(), [], 60, 2, {utc(2025, 10, 14, 13): 1}, utc(2025, 10, 13, 6))
    first, second = slots[:2]
    assert (first.start.isoformat(), first.end.isoformat(), first.available) == (
        "2025-10-14T14:00:00+02:00",
        "2025-10-14T15:00:00+02:00",
        2,
    )
    assert (second.start.isoformat(), second.end.isoformat(), second.available) == (
        "2025-10-14T15:00:00+02:00",
        "2025-10-14T16:00:00+02:00",
        1,
    )
    assert f"{COLLECTION}#{first.fragment}" == f"{COLLECTION}#2025-10-14T12:00Z"
    assert second.fragment == "2025-10-14T13:00Z"
    assert [slot.start.hour for slot in slots[:6]] == [14, 15, 16, 17, 18, 14]
    best = next_free_slot(slots)
    assert best is not None
    assert best.start.isoformat() == "2025-10-14T14:00:00+02:00"
    assert f"prochain créneau libre : {format_next_slot(best.start)}" == (
        "prochain créneau libre : mardi 14 octobre à 14h"
    )


def test_compute_slots__start_times_are_paris_wall_times() -> None:
    slots = compute_slots(fives_hours(), [], 60, 1, {}, utc(2025, 10, 13, 6), horizon_days=7)
    assert all(slot.start.tzinfo == paris_zone() for slot in slots)
    assert {slot.start.time() for slot in slots if slot.start.weekday() == SAT.position} == {
        time(10),
        time(11),
        time(12),
    }
    assert len(slots) == 4 * 5 + 3


# --- daylight saving ---------------------------------------------------------------------------------


def test_compute_slots__october_dst_change_tuesday_offsets() -> None:
    # The last Sunday of October 2025 is the 26th: Tuesday the 21st is summer time, the 28th winter time.
    hours = WeeklyHours([r(TUE, "14:00", "15:00")])
    slots = compute_slots(hours, [], 60, 1, {}, utc(2025, 10, 20, 12), horizon_days=10)
    assert starts(slots) == ["2025-10-21T14:00:00+02:00", "2025-10-28T14:00:00+01:00"]
    assert [slot.fragment for slot in slots] == ["2025-10-21T12:00Z", "2025-10-28T13:00Z"]
    assert all(slot.end - slot.start == timedelta(hours=1) for slot in slots)


def test_compute_slots__march_dst_change_tuesday_offsets() -> None:
    # The last Sunday of March 2026 is the 29th.
    hours = WeeklyHours([r(TUE, "14:00", "15:00")])
    slots = compute_slots(hours, [], 60, 1, {}, utc(2026, 3, 23, 12), horizon_days=10)
    assert starts(slots) == ["2026-03-24T14:00:00+01:00", "2026-03-31T14:00:00+02:00"]
    assert [slot.fragment for slot in slots] == ["2026-03-24T13:00Z", "2026-03-31T12:00Z"]


def test_compute_slots__november_is_winter_time() -> None:
    slots = compute_slots(fives_hours(), [], 60, 1, {}, utc(2025, 11, 3, 6), horizon_days=2)
    assert slots[0].start.isoformat() == "2025-11-04T14:00:00+01:00"
    assert slots[0].fragment == "2025-11-04T13:00Z"


def test_compute_slots__spring_gap_slots_skipped() -> None:
    # Sunday 29 March 2026: 02:00–02:59 does not exist. A slot whose start or end falls there is skipped.
    hours = WeeklyHours([r(SUN, "01:00", "04:00")])
    slots = compute_slots(hours, [], 30, 1, {}, utc(2026, 3, 28, 12), horizon_days=2)
    assert starts(slots) == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:30:00+02:00",
    ]
    assert [slot.fragment for slot in slots] == [
        "2026-03-29T00:00Z",
        "2026-03-29T01:00Z",
        "2026-03-29T01:30Z",
    ]


def test_compute_slots__autumn_overlap_uses_first_occurrence() -> None:
    # Sunday 26 October 2025: 02:00–02:59 happens twice; fold=0 picks the first (summer time, +02:00).
    hours = WeeklyHours([r(SUN, "01:00", "04:00")])
    slots = compute_slots(hours, [], 30, 1, {}, utc(2025, 10, 25, 12), horizon_days=2)
    assert [slot.fragment for slot in slots] == [
        "2025-10-25T23:00Z",
        "2025-10-25T23:30Z",
        "2025-10-26T00:00Z",
        "2025-10-26T00:30Z",
        "2025-10-26T02:00Z",
        "2025-10-26T02:30Z",
    ]
    assert [slot.start.utcoffset() for slot in slots] == [timedelta(hours=2)] * 4 + [timedelta(hours=1)] * 2
    assert len({slot.fragment for slot in slots}) == len(slots)


def test_compute_slots__booking_on_ambiguous_slot_counted() -> None:
    hours = WeeklyHours([r(SUN, "02:00", "02:30")])
    booked = {parse_slot_fragment("2025-10-26T00:00Z"): 1}
    assert compute_slots(hours, [], 30, 1, booked, utc(2025, 10, 25, 12), horizon_days=2) == []
    assert len(compute_slots(hours, [], 30, 2, booked, utc(2025, 10, 25, 12), horizon_days=2)) == 1


# --- closures, capacity, horizon, now ------------------------------------------------------------------


def test_compute_slots__closure_days_dropped_inclusive() -> None:
    closure = Closure(date(2025, 12, 24), date(2026, 1, 2))
    slots = compute_slots(every_day("10:00", "11:00"), [closure], 60, 1, {}, utc(2025, 12, 22, 12), 14)
    days = [slot.start.date() for slot in slots]
    assert days == [date(2025, 12, 23), *(date(2026, 1, day) for day in range(3, 5))]


def test_compute_slots__single_day_closure() -> None:
    closure = Closure(date(2025, 10, 15), date(2025, 10, 15))
    slots = compute_slots(fives_hours(), [closure], 60, 1, {}, utc(2025, 10, 13, 6), horizon_days=4)
    assert {slot.start.date() for slot in slots} == {date(2025, 10, 14), date(2025, 10, 16)}


def test_compute_slots__full_slots_dropped_and_overbooking_tolerated() -> None:
    booked = {utc(2025, 10, 14, 12): 2, utc(2025, 10, 14, 13): 5, utc(2025, 10, 14, 14): 1}
    slots = compute_slots(fives_hours(), [], 60, 2, booked, utc(2025, 10, 13, 6), horizon_days=2)
    assert [(slot.fragment, slot.available) for slot in slots] == [
        ("2025-10-14T14:00Z", 1),
        ("2025-10-14T15:00Z", 2),
        ("2025-10-14T16:00Z", 2),
    ]


def test_compute_slots__bookings_keyed_by_any_aware_spelling() -> None:
    keys = [
        paris(2025, 10, 14, 14),
        utc(2025, 10, 14, 12),
        datetime(2025, 10, 14, 7, tzinfo=timezone(-timedelta(hours=5))),
    ]
    for key in keys:
        slots = compute_slots(fives_hours(), [], 60, 1, {key: 1}, utc(2025, 10, 13, 6), horizon_days=2)
        assert slots[0].fragment == "2025-10-14T13:00Z"


def test_compute_slots__booking_outside_any_slot_ignored() -> None:
    slots = compute_slots(fives_hours(), [], 60, 1, {utc(2025, 10, 14, 12, 30): 1}, utc(2025, 10, 13, 6), 2)
    assert len(slots) == 5


def test_compute_slots__horizon_is_sixty_days_from_today() -> None:
    now = paris(2025, 10, 13, 8)
    slots = compute_slots(every_day("10:00", "11:00"), [], 60, 1, {}, now)
    assert DEFAULT_HORIZON_DAYS == 60
    assert len(slots) == 60
    assert slots[0].start == paris(2025, 10, 13, 10)
    assert slots[-1].start == paris(2025, 12, 11, 10)
    assert len(compute_slots(every_day("10:00", "11:00"), [], 60, 1, {}, now, horizon_days=1)) == 1


def test_compute_slots__today_is_paris_today() -> None:
    # 23:30 UTC on Monday 13 October is already Tuesday in Paris: Monday is not part of the horizon.
    slots = compute_slots(
        every_day("10:00", "11:00"), [], 60, 1, {}, utc(2025, 10, 13, 23, 30), horizon_days=2
    )
    assert [slot.start.date() for slot in slots] == [date(2025, 10, 14), date(2025, 10, 15)]


def test_compute_slots__now_in_the_middle_of_a_slot() -> None:
    slots = compute_slots(fives_hours(), [], 60, 1, {}, paris(2025, 10, 14, 14, 30), horizon_days=1)
    assert [slot.start.hour for slot in slots] == [15, 16, 17, 18]


def test_compute_slots__slot_starting_exactly_now_is_dropped() -> None:
    slots = compute_slots(fives_hours(), [], 60, 1, {}, paris(2025, 10, 14, 15), horizon_days=1)
    assert [slot.start.hour for slot in slots] == [16, 17, 18]


def test_compute_slots__trailing_piece_dropped() -> None:
    hours = WeeklyHours([r(TUE, "14:00", "16:30"), r(WED, "14:00", "14:45")])
    slots = compute_slots(hours, [], 60, 1, {}, utc(2025, 10, 13, 6), horizon_days=3)
    assert starts(slots) == ["2025-10-14T14:00:00+02:00", "2025-10-14T15:00:00+02:00"]


def test_compute_slots__merged_ranges_cut_as_one() -> None:
    hours = WeeklyHours([r(TUE, "09:00", "12:30"), r(TUE, "12:30", "14:00")])
    slots = compute_slots(hours, [], 90, 1, {}, utc(2025, 10, 13, 6), horizon_days=3)
    assert [slot.start.strftime("%H:%M") for slot in slots] == ["09:00", "10:30", "12:00"]


def test_compute_slots__no_hours__no_slots() -> None:
    assert compute_slots(WeeklyHours(), [], 60, 1, {}, utc(2025, 10, 13, 6)) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"slot_minutes": 0}, r"compute_slots\(slot_minutes\): expected an integer of at least 1, got 0"),
        ({"slot_minutes": True}, r"slot_minutes"),
        ({"capacity": 0}, r"compute_slots\(capacity\): expected an integer of at least 1, got 0"),
        ({"horizon_days": -3}, r"compute_slots\(horizon_days\)"),
        ({"now": datetime(2025, 10, 13, 8)}, r"compute_slots\(now\): expected an aware datetime"),
        ({"booked": {datetime(2025, 10, 14, 14): 1}}, r"compute_slots\(booked\) key: expected an aware"),
        (
            {"booked": {utc(2025, 10, 14, 12): -1}},
            r"non-negative integer count for 2025-10-14T12:00:00\+00:00",
        ),
    ],
)
def test_compute_slots__bad_parameters__raise(arguments: dict[str, object], message: str) -> None:
    parameters: dict[str, object] = {
        "hours": fives_hours(),
        "closures": [],
        "slot_minutes": 60,
        "capacity": 1,
        "booked": {},
        "now": utc(2025, 10, 13, 6),
        "horizon_days": 60,
    }
    parameters.update(arguments)
    with pytest.raises(SlotError, match=message):
        compute_slots(**parameters)  # type: ignore[arg-type]


# --- Slot, next_free_slot ----------------------------------------------------------------------------


def test_slot__validation() -> None:
    with pytest.raises(SlotError, match=r"Slot\.start: expected an aware datetime"):
        Slot(datetime(2025, 10, 14, 14), paris(2025, 10, 14, 15), 1)
    with pytest.raises(SlotError, match="Slot: expected end after start"):
        Slot(paris(2025, 10, 14, 15), paris(2025, 10, 14, 14), 1)
    with pytest.raises(SlotError, match=r"Slot\.available: expected a non-negative integer, got -1"):
        Slot(paris(2025, 10, 14, 14), paris(2025, 10, 14, 15), -1)


def test_next_free_slot__earliest_free_whatever_the_order() -> None:
    full = Slot(paris(2025, 10, 14, 14), paris(2025, 10, 14, 15), 0)
    later = Slot(paris(2025, 10, 15, 14), paris(2025, 10, 15, 15), 1)
    sooner = Slot(paris(2025, 10, 14, 15), paris(2025, 10, 14, 16), 3)
    assert next_free_slot([later, full, sooner]) == sooner
    assert next_free_slot([full]) is None
    assert next_free_slot(iter([later])) == later


# --- fragments ---------------------------------------------------------------------------------------


def test_slot_fragment__known_answers() -> None:
    assert slot_fragment(paris(2025, 10, 14, 14)) == "2025-10-14T12:00Z"
    assert slot_fragment(paris(2025, 11, 4, 14)) == "2025-11-04T13:00Z"
    assert slot_fragment(utc(2025, 12, 31, 23, 30)) == "2025-12-31T23:30Z"


def test_slot_fragment__naive_or_seconds__raise() -> None:
    with pytest.raises(SlotFragmentError, match=r"slot_fragment\(start\): expected an aware datetime"):
        slot_fragment(datetime(2025, 10, 14, 14))
    with pytest.raises(SlotFragmentError, match="whole minute"):
        slot_fragment(utc(2025, 10, 14, 12).replace(second=1))


def test_parse_slot_fragment__known_answer() -> None:
    moment = parse_slot_fragment("2025-10-14T12:00Z")
    assert moment == paris(2025, 10, 14, 14)
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    "fragment",
    [
        "",
        "#2025-10-14T12:00Z",
        f"{COLLECTION}#2025-10-14T12:00Z",
        "2025-10-14T12:00",
        "2025-10-14T12:00:00Z",
        "2025-10-14T12:00z",
        "2025-10-14 12:00Z",
        "2025-10-14T12:00+00:00",
        " 2025-10-14T12:00Z",
        "2025-10-14T12:00Z\n",
        "2025-1-14T12:00Z",
        "２０２５-10-14T12:00Z",
        "2025-13-01T12:00Z",
        "2025-02-29T12:00Z",
        "2025-10-14T24:00Z",
        "2025-10-14T12:60Z",
        "0000-01-01T00:00Z",
        "garbage",
    ],
)
def test_parse_slot_fragment__garbage__raises(fragment: str) -> None:
    with pytest.raises(SlotFragmentError, match="slot fragment: expected"):
        parse_slot_fragment(fragment)


def test_parse_slot_fragment__not_a_string__raises() -> None:
    with pytest.raises(SlotFragmentError, match="got None"):
        parse_slot_fragment(None)  # type: ignore[arg-type]


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_slot_fragment__round_trip(moment: datetime) -> None:
    start = moment.replace(second=0, microsecond=0)
    fragment = slot_fragment(start)
    assert parse_slot_fragment(fragment) == start
    assert slot_fragment(parse_slot_fragment(fragment)) == fragment


@given(st.text(max_size=30))
def test_parse_slot_fragment__never_crashes_otherwise(text: str) -> None:
    try:
        moment = parse_slot_fragment(text)
    except SlotFragmentError:
        return
    assert slot_fragment(moment) == text


# --- properties ------------------------------------------------------------------------------------


@st.composite
def opening_ranges(draw: st.DrawFn) -> OpeningRange:
    day = draw(st.sampled_from(list(Weekday)))
    opens = draw(st.integers(min_value=0, max_value=23 * 4 + 2)) * 15
    closes = draw(st.integers(min_value=opens // 15 + 1, max_value=23 * 4 + 3)) * 15
    return OpeningRange(day, time(opens // 60, opens % 60), time(closes // 60, closes % 60))


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[WeeklyHours, list[Closure], int, int, datetime, int]:
    hours = WeeklyHours(draw(st.lists(opening_ranges(), max_size=8)))
    now = draw(
        st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
    )
    today = now.astimezone(paris_zone()).date()
    closures = [
        Closure(today + timedelta(days=offset), today + timedelta(days=offset + length))
        for offset, length in draw(st.lists(st.tuples(st.integers(-5, 70), st.integers(0, 10)), max_size=3))
    ]
    slot_minutes = draw(st.sampled_from([15, 20, 30, 45, 60, 90, 120]))
    capacity = draw(st.integers(1, 4))
    horizon = draw(st.integers(1, 70))
    return hours, closures, slot_minutes, capacity, now, horizon


def minutes(value: time) -> int:
    return value.hour * 60 + value.minute


@given(scenarios(), st.data())
def test_compute_slots__properties(
    scenario: tuple[WeeklyHours, list[Closure], int, int, datetime, int], data: st.DataObject
) -> None:
    hours, closures, slot_minutes, capacity, now, horizon = scenario
    free = compute_slots(hours, closures, slot_minutes, capacity, {}, now, horizon)
    chosen = data.draw(st.lists(st.sampled_from(free), unique=True, max_size=10)) if free else []
    booked = {slot.start.astimezone(UTC): data.draw(st.integers(0, capacity + 1)) for slot in chosen}
    slots = compute_slots(hours, closures, slot_minutes, capacity, booked, now, horizon)
    today = now.astimezone(paris_zone()).date()

    # sorted, unique, all after now, within the horizon
    utc_starts = [slot.start.astimezone(UTC) for slot in slots]
    assert utc_starts == sorted(utc_starts)
    assert all(earlier < later for earlier, later in itertools.pairwise(utc_starts))
    assert all(slot.start > now for slot in slots)
    assert all(today <= slot.start.date() < today + timedelta(days=horizon) for slot in slots)
    for slot in slots:
        local_start, local_end = slot.start.astimezone(paris_zone()), slot.end.astimezone(paris_zone())
        # inside one opening range of that weekday, exactly slot_minutes of wall-clock time long
        assert local_start.date() == local_end.date()
        assert minutes(local_end.time()) - minutes(local_start.time()) == slot_minutes
        assert any(
            minutes(item.opens) <= minutes(local_start.time())
            and minutes(local_end.time()) <= minutes(item.closes)
            and (minutes(local_start.time()) - minutes(item.opens)) % slot_minutes == 0
            for item in hours.for_day(Weekday.from_date(local_start.date()))
        )
        # never in a closure, never more than capacity, bookings subtracted
        assert not any(closure.covers(local_start.date()) for closure in closures)
        assert 1 <= slot.available <= capacity
        assert slot.available == capacity - booked.get(slot.start.astimezone(UTC), 0)
    # bookings only remove places: every slot of the booked run is a free slot of the unbooked run
    assert {slot.start for slot in slots} <= {slot.start for slot in free}
    assert {slot.start for slot in free} - {slot.start for slot in slots} == {
        start for start, count in booked.items() if count >= capacity
    }
    best = next_free_slot(slots)
    assert best == (slots[0] if slots else None)
