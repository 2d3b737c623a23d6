"""``fedicoop event``: publish, list, show, change, cancel and delete events."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fedicoop.cli.bridge import print_json, run_with_database, validate
from fedicoop.cli.resources import (
    AsJson,
    FromJson,
    Tags,
    command_body,
    print_summary,
    print_table,
    with_place_options,
)
from fedicoop.node import Node
from fedicoop.services import events as event_service
from fedicoop.web.views import event_view, stamp
from schemas.api import EventCreate, EventOut, EventStatusInput, EventUpdate

event_app = typer.Typer(help="Events: repair cafés, workshops and meetings.", no_args_is_help=True)

EventId = Annotated[str, typer.Argument(help="The event's UUID or full URL.")]
Name = Annotated[str | None, typer.Option("--name", help="Name of the event.")]
Description = Annotated[str | None, typer.Option("--description", help="Plain-text description.")]
Start = Annotated[str | None, typer.Option("--start", help="Start, such as 2025-10-18T10:00:00+02:00.")]
End = Annotated[str | None, typer.Option("--end", help="End, with an offset.")]
Price = Annotated[str | None, typer.Option("--price", help="Price as text (default: gratuit).")]
RegistrationUrl = Annotated[str | None, typer.Option("--registration-url", help="https:// or mailto: link.")]
Capacity = Annotated[int | None, typer.Option("--capacity", help="Number of places.")]
Status = Annotated[EventStatusInput | None, typer.Option("--status", help="Status of the event.")]
Online = Annotated[bool | None, typer.Option("--online/--in-person", help="Whether it happens online.")]
BannerUrl = Annotated[str | None, typer.Option("--banner-url", help="Banner image URL.")]


EVENT_FIELDS = {
    "name": "name",
    "description": "description",
    "start": "start_time",
    "end": "end_time",
    "price": "price_text",
    "registration_url": "registration_url",
    "capacity": "capacity",
    "status": "status",
    "online": "is_online",
    "banner_url": "banner_url",
    "tag": "tags",
}
"""Command parameters and the API fields they set."""


def _show(event: EventOut, as_json: bool, verb: str | None = None) -> None:
    if as_json:
        print_json(event)
    elif verb is not None:
        typer.echo(f"{verb} {event.id}")
    else:
        print_summary(event.model_dump(mode="json"))


def _update(event_id: str, data: EventUpdate) -> EventOut:
    async def action(node: Node) -> EventOut:
        parsed = event_service.parse_event_id(event_id)
        return event_view(
            await event_service.update_event(parsed, data, node.publisher, node.clock()), node.urls
        )

    return run_with_database(action)


@event_app.command("create")
@with_place_options
def event_create(
    from_json: FromJson = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Username of the organiser.")] = None,
    name: Name = None,
    description: Description = None,
    start: Start = None,
    end: End = None,
    price: Price = None,
    registration_url: RegistrationUrl = None,
    capacity: Capacity = None,
    status: Status = None,
    online: Online = None,
    banner_url: BannerUrl = None,
    tag: Tags = None,
    place: dict[str, Any] | None = None,
) -> None:
    """Publish an event and print its ActivityPub id (its place defaults to the organiser's)."""
    body = command_body(
        from_json, locals(), {"actor": "actor", **EVENT_FIELDS}, place=place, place_default_name=name
    )
    data: EventCreate = validate(EventCreate, body)

    async def action(node: Node) -> str:
        event = await event_service.create_event(data, node.publisher, node.clock())
        return node.urls.event(event.id)

    typer.echo(run_with_database(action))


@event_app.command("list")
def event_list(
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor's events.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many.")] = 0,
    as_json: AsJson = False,
) -> None:
    """List the live events by start time."""

    async def action(node: Node) -> list[EventOut]:
        rows = await event_service.list_events(actor=actor, limit=limit, offset=offset)
        return [event_view(row, node.urls) for row in rows]

    events = run_with_database(action)
    if as_json:
        print_json(events)
        return
    print_table(
        ["UUID", "ACTOR", "START", "STATUS", "NAME"],
        [[item.uuid, item.actor, stamp(item.start_time), item.status.value, item.name] for item in events],
    )


@event_app.command("show")
def event_show(event_id: EventId, as_json: AsJson = False) -> None:
    """Show one event."""

    async def action(node: Node) -> EventOut:
        return event_view(await event_service.get_event(event_service.parse_event_id(event_id)), node.urls)

    _show(run_with_database(action), as_json)


@event_app.command("update")
@with_place_options
def event_update(
    event_id: EventId,
    from_json: FromJson = None,
    name: Name = None,
    description: Description = None,
    start: Start = None,
    end: End = None,
    price: Price = None,
    registration_url: RegistrationUrl = None,
    capacity: Capacity = None,
    status: Status = None,
    online: Online = None,
    banner_url: BannerUrl = None,
    tag: Tags = None,
    place: dict[str, Any] | None = None,
    as_json: AsJson = False,
) -> None:
    """Change some of an event and publish its ``Update``."""
    body = command_body(from_json, locals(), EVENT_FIELDS, place=place, place_default_name=name)
    data: EventUpdate = validate(EventUpdate, body)
    _show(_update(event_id, data), as_json, "updated")


@event_app.command("cancel")
def event_cancel(event_id: EventId, as_json: AsJson = False) -> None:
    """Cancel an event: an ``Update`` with status CANCELLED (it stays visible, marked cancelled)."""
    _show(_update(event_id, EventUpdate(status=EventStatusInput.CANCELLED)), as_json, "cancelled")


@event_app.command("delete")
def event_delete(event_id: EventId) -> None:
    """Delete an event published by mistake (to call it off, cancel it instead)."""

    async def action(node: Node) -> str:
        event = await event_service.delete_event(
            event_service.parse_event_id(event_id), node.publisher, node.clock()
        )
        return node.urls.event(event.id)

    typer.echo(f"deleted {run_with_database(action)}")
