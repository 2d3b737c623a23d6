"""The resource command groups (actor, listing, event, availability) and the helpers they share.

Every create and update reads an optional API body (``--from-json FILE`` or ``-`` for stdin), lets the
options given on the command line override its fields, validates the result with the API's own model
and calls the same service as the API route.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from fedicoop.cli.bridge import fail, print_json, read_json_argument, run_with_database, validate
from fedicoop.node import Node
from fedicoop.services import actors as actor_service
from fedicoop.services import availability as availability_service
from fedicoop.services import listings as listing_service
from fedicoop.web.views import availability_view, stamp
from schemas.api import AvailabilityInput, AvailabilityOut

FromJson = Annotated[
    str | None, typer.Option("--from-json", help="An API body as a JSON file, or - for stdin.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (the API's response model).")]
PlaceName = Annotated[str | None, typer.Option("--place-name", help="Name of the place.")]
Lat = Annotated[float | None, typer.Option("--lat", help="Latitude (WGS 84).")]
Lon = Annotated[float | None, typer.Option("--lon", help="Longitude (WGS 84).")]
Street = Annotated[str | None, typer.Option("--street", help="Street address.")]
PostalCode = Annotated[str | None, typer.Option("--postal-code", help="Five-digit postal code.")]
Locality = Annotated[str | None, typer.Option("--locality", help="Town or city.")]
CommuneCode = Annotated[str | None, typer.Option("--commune-code", help="INSEE commune code.")]
DepartementCode = Annotated[str | None, typer.Option("--departement-code", help="INSEE département code.")]
RegionCode = Annotated[str | None, typer.Option("--region-code", help="INSEE region code.")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="A hashtag (repeat the option for more).")]

_HOURS = re.compile(r"^\s*([a-z]+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def body_from(source: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """The API body read from ``source`` (if any) with every option that was given laid over it.

    Options whose value is ``None`` (or an empty list) were not given and leave the JSON field alone;
    a ``location`` option is merged into the JSON body's location rather than replacing it.
    """
    body = read_json_argument(source) if source is not None else {}
    for key, value in options.items():
        if value is None or value == []:
            continue
        if key == "location" and isinstance(body.get("location"), dict):
            body["location"] = {**body["location"], **value}
        else:
            body[key] = value
    return body


def place_options(
    default_name: str | None,
    *,
    name: str | None,
    lat: float | None,
    lon: float | None,
    street: str | None,
    postal_code: str | None,
    locality: str | None,
    commune_code: str | None,
    departement_code: str | None,
    region_code: str | None,
) -> dict[str, Any] | None:
    """The location fields given as options, or ``None`` when no location option was given.

    The place's name defaults to ``default_name`` (the actor, listing or event name) when the
    ``--place-name`` option is absent; the API model then checks the whole location.
    """
    given = {
        "name": name,
        "latitude": lat,
        "longitude": lon,
        "street_address": street,
        "postal_code": postal_code,
        "locality": locality,
        "commune_code": commune_code,
        "departement_code": departement_code,
        "region_code": region_code,
    }
    fields = {key: value for key, value in given.items() if value is not None}
    if not fields:
        return None
    if "name" not in fields and default_name is not None:
        fields["name"] = default_name
    return fields


def parse_hours(values: Sequence[str]) -> list[dict[str, str]]:
    """Parse ``--hours`` values such as ``tuesday 14:00-19:00``; exit 2 naming ``hours`` otherwise."""
    ranges = []
    for value in values:
        match = _HOURS.match(value.lower())
        if match is None:
            raise fail(
                f"invalid input: hours: expected 'DAY HH:MM-HH:MM' (tuesday 14:00-19:00), got {value!r}"
            )
        day, opens, closes = match.groups()
        ranges.append({"day": day, "opens": opens.zfill(5), "closes": closes.zfill(5)})
    return ranges


def parse_closures(values: Sequence[str]) -> list[dict[str, str]]:
    """Parse ``--closure`` values, ``START:END`` or a single day, into the API's closure objects."""
    closures = []
    for value in values:
        start, _, end = value.strip().partition(":")
        closures.append({"start": start, "end": end or start})
    return closures


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print rows as plain aligned columns under a header line (or a note when there are none)."""
    if not rows:
        typer.echo("(none)")
        return
    widths = [max(len(headers[index]), *(len(row[index]) for row in rows)) for index in range(len(headers))]
    for line in (headers, *rows):
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def print_summary(data: dict[str, Any]) -> None:
    """Print a model dump as ``key: value`` lines, skipping the empty values."""
    for key, value in data.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        typer.echo(f"{key}: {value}")


availability_app = typer.Typer(help="A workshop's repair opening hours and free slots.", no_args_is_help=True)


async def _availability_out(node: Node, username: str) -> AvailabilityOut:
    actor = await actor_service.get_actor(username)
    availability = await availability_service.get_availability(username)
    offer = await listing_service.live_repair_offer(actor)
    slots = await availability_service.free_slots(offer, node.clock()) if offer is not None else []
    return availability_view(actor, availability, offer, slots, node.urls)


def _print_availability(out: AvailabilityOut, as_json: bool) -> None:
    if as_json:
        print_json(out)
        return
    typer.echo(f"actor: {out.actor}")
    typer.echo("hours: " + (", ".join(f"{h.day} {h.opens:%H:%M}-{h.closes:%H:%M}" for h in out.hours) or "-"))
    typer.echo("closures: " + (", ".join(f"{c.start}:{c.end}" for c in out.closures) or "-"))
    typer.echo(f"slot minutes: {out.slot_minutes}")
    typer.echo(f"capacity: {out.capacity}")
    typer.echo(f"repair offer: {out.repair_offer or '-'}")
    typer.echo("next slots:")
    print_table(
        ["START", "END", "AVAILABLE"],
        [[stamp(s.start), stamp(s.end), str(s.available)] for s in out.next_slots],
    )


@availability_app.command("set")
def availability_set(
    username: Annotated[str, typer.Argument(help="The workshop's username.")],
    from_json: FromJson = None,
    hours: Annotated[
        list[str] | None, typer.Option("--hours", help="An opening range, 'tuesday 14:00-19:00' (repeat).")
    ] = None,
    closure: Annotated[
        list[str] | None, typer.Option("--closure", help="A closure, START:END or one day (repeat).")
    ] = None,
    slot_minutes: Annotated[int | None, typer.Option("--slot-minutes", help="Length of a slot.")] = None,
    capacity: Annotated[int | None, typer.Option("--capacity", help="Bookings per slot.")] = None,
    as_json: AsJson = False,
) -> None:
    """Replace a workshop's availability (as the API's PUT does) and show its next free slots."""
    body = body_from(
        from_json,
        {
            "hours": parse_hours(hours or []),
            "closures": parse_closures(closure or []),
            "slot_minutes": slot_minutes,
            "capacity": capacity,
        },
    )
    data: AvailabilityInput = validate(AvailabilityInput, body)

    async def action(node: Node) -> AvailabilityOut:
        await availability_service.set_availability(username, data, node.publisher, node.clock())
        return await _availability_out(node, username)

    _print_availability(run_with_database(action), as_json)


@availability_app.command("show")
def availability_show(
    username: Annotated[str, typer.Argument(help="The workshop's username.")], as_json: AsJson = False
) -> None:
    """Show a workshop's hours, closures and next free slots."""

    async def action(node: Node) -> AvailabilityOut:
        return await _availability_out(node, username)

    _print_availability(run_with_database(action), as_json)


def register(app: typer.Typer) -> None:
    """Add the actor, listing, event and availability groups to ``app`` (a second call does nothing)."""
    from fedicoop.cli import actors, events, listings

    if any(group.name == "actor" for group in app.registered_groups):
        return
    app.add_typer(actors.actor_app, name="actor")
    app.add_typer(listings.listing_app, name="listing")
    app.add_typer(events.event_app, name="event")
    app.add_typer(availability_app, name="availability")
