"""Events: times, participation URL, organizers and banner."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.collections import Collection
from schemas.events import BANNER_NAME, EVENT_STATUSES, Event
from schemas.examples import load_example
from schemas.media import Document


def test_event__example_parts() -> None:
    event = Event.model_validate(load_example("event"))
    assert isinstance(event.organizers, Collection)
    assert event.organizers.items == ["https://velo-fives.example/actors/atelier-fives"]
    assert event.attachment is not None
    banner = event.attachment[0]
    assert isinstance(banner, Document)
    assert banner.name == BANNER_NAME
    assert event.event_status in EVENT_STATUSES


def test_event__end_must_follow_start() -> None:
    document = {**load_example("event"), "endTime": "2025-10-18T10:00:00+02:00"}
    with pytest.raises(ValidationError, match="must come after"):
        Event.model_validate(document)


def test_event__start_time_needs_an_offset() -> None:
    with pytest.raises(ValidationError):
        Event.model_validate({**load_example("event"), "startTime": "2025-10-18T10:00:00"})


@pytest.mark.parametrize(
    "url", ["mailto:atelier@velo-fives.example", "https://velo-fives.example/inscription"]
)
def test_event__participation_url_accepted(url: str) -> None:
    event = Event.model_validate({**load_example("event"), "externalParticipationUrl": url})
    assert event.external_participation_url == url


@pytest.mark.parametrize("url", ["javascript:alert(1)", "mailto:nobody", "ftp://x.example/"])
def test_event__participation_url_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        Event.model_validate({**load_example("event"), "externalParticipationUrl": url})


def test_event__status_values() -> None:
    with pytest.raises(ValidationError):
        Event.model_validate({**load_example("event"), "status": "MAYBE"})
    cancelled = Event.model_validate(
        {**load_example("event"), "status": "CANCELLED", "eventStatus": "EventCancelled"}
    )
    assert cancelled.to_wire()["status"] == "CANCELLED"


def test_event__mobilizon_extras_kept() -> None:
    event = Event.model_validate({**load_example("event"), "draft": False, "participantCount": 3})
    assert event.to_wire()["participantCount"] == 3
