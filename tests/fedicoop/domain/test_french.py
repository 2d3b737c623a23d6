"""Tests of ``fedicoop.domain.french``: known answers from wire-format.md, Paris time, and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedicoop.domain.french import (
    DAY_ABBREVIATIONS,
    DAY_NAMES,
    MONTH_NAMES,
    FrenchFormatError,
    format_date_short,
    format_euros,
    format_event_when,
    format_hour,
    format_next_slot,
    paris_zone,
    to_paris,
)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=paris_zone())


def test_constants__seven_days_twelve_months_lowercase() -> None:
    assert len(DAY_NAMES) == len(DAY_ABBREVIATIONS) == 7
    assert len(MONTH_NAMES) == 12
    assert all(name == name.lower() for name in (*DAY_NAMES, *MONTH_NAMES))
    assert DAY_NAMES[date(2025, 10, 18).weekday()] == "samedi"
    assert MONTH_NAMES[7] == "août"


def test_paris_zone__dst_offsets() -> None:
    assert paris(2025, 10, 14, 14).utcoffset() == timedelta(hours=2)
    assert paris(2025, 11, 4, 14).utcoffset() == timedelta(hours=1)


def test_format_event_when__wire_format_summary_example() -> None:
    when = format_event_when(paris(2025, 10, 18, 10), paris(2025, 10, 18, 13))
    assert when == "Samedi 18 octobre 2025, 10h–13h"
    summary = "Samedi 18 octobre 2025, 10h–13h · Atelier vélo de Fives, 12 rue de l'Exemple, 59800 Lille"
    assert summary.startswith(when)


def test_format_event_when__multi_day() -> None:
    text = format_event_when(paris(2025, 10, 18, 10), paris(2025, 10, 19, 18))
    assert text == "du samedi 18 octobre 2025 à 10h au dimanche 19 octobre 2025 à 18h"


def test_format_event_when__minutes_shown() -> None:
    assert format_event_when(paris(2025, 10, 18, 10, 30), paris(2025, 10, 18, 12, 45)) == (
        "Samedi 18 octobre 2025, 10h30–12h45"
    )


def test_format_event_when__utc_input_shown_in_paris() -> None:
    start = datetime(2025, 10, 18, 8, 0, tzinfo=UTC)
    end = datetime(2025, 10, 18, 11, 0, tzinfo=UTC)
    assert format_event_when(start, end) == "Samedi 18 octobre 2025, 10h–13h"


def test_format_event_when__utc_days_differ_from_paris_days() -> None:
    # 22:30 UTC on Friday is 00:30 on Saturday in Paris: one Paris day, not two.
    start = datetime(2025, 10, 17, 22, 30, tzinfo=UTC)
    assert format_event_when(start, start + timedelta(hours=2)) == "Samedi 18 octobre 2025, 0h30–2h30"


def test_format_event_when__first_of_month_is_1er() -> None:
    assert format_event_when(paris(2025, 11, 1, 14), paris(2025, 11, 1, 17)) == (
        "Samedi 1er novembre 2025, 14h–17h"
    )


def test_format_event_when__end_not_after_start__raises() -> None:
    with pytest.raises(FrenchFormatError, match="expected end after start"):
        format_event_when(paris(2025, 10, 18, 13), paris(2025, 10, 18, 10))
    with pytest.raises(FrenchFormatError, match="expected end after start"):
        format_event_when(paris(2025, 10, 18, 13), paris(2025, 10, 18, 13))


def test_format_event_when__naive__raises() -> None:
    with pytest.raises(FrenchFormatError, match=r"format_event_when\(start\).*naive"):
        format_event_when(datetime(2025, 10, 18, 10), paris(2025, 10, 18, 13))


def test_format_next_slot__wire_format_example() -> None:
    assert format_next_slot(paris(2025, 10, 14, 14)) == "mardi 14 octobre à 14h"
    assert format_next_slot(datetime.fromisoformat("2025-10-14T14:00:00+02:00")) == "mardi 14 octobre à 14h"


def test_format_next_slot__winter_time_and_minutes() -> None:
    assert format_next_slot(datetime(2025, 12, 2, 13, 30, tzinfo=UTC)) == "mardi 2 décembre à 14h30"


def test_format_next_slot__naive__raises() -> None:
    with pytest.raises(FrenchFormatError, match="naive"):
        format_next_slot(datetime(2025, 10, 14, 14))


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (0, "0 €"),
        (5, "0,05 €"),
        (1250, "12,50 €"),
        (1500, "15 €"),
        (3000, "30 €"),
        (99999, "999,99 €"),
        (100000, "1 000 €"),
        (123456789, "1 234 567,89 €"),
    ],
)
def test_format_euros__known_answers(cents: int, expected: str) -> None:
    assert format_euros(cents) == expected


@pytest.mark.parametrize("cents", [-1, 12.5, "30", True])
def test_format_euros__invalid__raises(cents: object) -> None:
    with pytest.raises(FrenchFormatError, match=r"format_euros\(cents\)"):
        format_euros(cents)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**12))
def test_format_euros__round_trips(cents: int) -> None:
    text = format_euros(cents)
    assert text.endswith(" €")
    number = text.removesuffix(" €").replace(" ", "")
    euros, _, rest = number.partition(",")
    assert int(euros) * 100 + (int(rest) if rest else 0) == cents
    assert len(rest) in (0, 2)


def test_format_hour__known_answers() -> None:
    assert [format_hour(time(h, m)) for h, m in [(14, 0), (9, 30), (0, 0), (23, 5)]] == [
        "14h",
        "9h30",
        "0h",
        "23h05",
    ]


def test_format_date_short__known_answers() -> None:
    assert format_date_short(date(2025, 12, 24)) == "24/12"
    assert format_date_short(date(2026, 1, 2)) == "02/01"


def test_format_date_short__aware_datetime_uses_paris_date() -> None:
    assert format_date_short(datetime(2025, 12, 23, 23, 30, tzinfo=UTC)) == "24/12"


def test_format_date_short__naive_datetime__raises() -> None:
    with pytest.raises(FrenchFormatError, match="format_date_short"):
        format_date_short(datetime(2025, 12, 24, 10))


def test_to_paris__other_offsets() -> None:
    moment = datetime(2025, 10, 14, 8, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert to_paris(moment).isoformat() == "2025-10-14T14:00:00+02:00"


def test_to_paris__not_a_datetime__raises() -> None:
    with pytest.raises(FrenchFormatError, match="expected an aware datetime, got date"):
        to_paris(date(2025, 10, 14))  # type: ignore[arg-type]
