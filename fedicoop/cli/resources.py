"""The resource command groups (actor, listing, event, availability) and the helpers they share.

Every create and update reads an optional API body (``--from-json FILE`` or ``-`` for stdin), lets the
options given on the command line override its fields, validates the result with the API's own model
and calls the same service as the API route.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Annotated, Any

import typer

from fedicoop.cli.bridge import fail, print_json, read_json_argument, run_with_database, validate
from fedicoop.node import Node
from fedicoop.services import availability as availability_service
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


PLACE_OPTIONS: tuple[tuple[str, str, Any], ...] = (
    ("place_name", "name", PlaceName),
    ("lat", "latitude", Lat),
    ("lon", "longitude", Lon),
    ("street", "street_address", Street),
    ("postal_code", "postal_code", PostalCode),
    ("locality", "locality", Locality),
    ("commune_code", "commune_code", CommuneCode),
    ("departement_code", "departement_code", DepartementCode),
    ("region_code", "region_code", RegionCode),
)
"""The location options every create and update command takes: (parameter, API field, option type)."""

Command = Callable[..., None]


def with_place_options(command: Command) -> Command:
    """Give ``command`` the location options; it receives them as ``place``, the API fields given or None.

    The options are added to the signature typer reads, so each command declares one ``place``
    parameter instead of nine.
    """
    signature = inspect.signature(command, eval_str=True)
    kept = [parameter for parameter in signature.parameters.values() if parameter.name != "place"]
    added = [
        inspect.Parameter(option, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for option, _, annotation in PLACE_OPTIONS
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        given = {field: kwargs.pop(option) for option, field, _ in PLACE_OPTIONS}
        place = {field: value for field, value in given.items() if value is not None}
        command(*args, place=place or None, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    return wrapper


def command_body(
    source: str | None,
    values: Mapping[str, Any],
    fields: Mapping[str, str],
    *,
    place: dict[str, Any] | None = None,
    place_default_name: str | None = None,
) -> dict[str, Any]:
    """The API body of a command: the JSON read from ``source`` (if any) with the options laid over it.

    ``fields`` maps a command parameter to its API field; a parameter whose value is ``None`` (or an
    empty list) was not given and leaves the JSON alone. ``place`` is merged into the JSON body's
    location, its name defaulting to ``place_default_name`` (the actor, listing or event name).
    """
    body = read_json_argument(source) if source is not None else {}
    for parameter, field in fields.items():
        value = values[parameter]
        if value is None or value == []:
            continue
        body[field] = value.value if isinstance(value, Enum) else value
    if place is not None:
        location = body.get("location")
        merged = {**(location if isinstance(location, dict) else {}), **place}
        if "name" not in merged and place_default_name is not None:
            merged["name"] = place_default_name
        body["location"] = merged
    return body


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
    snapshot = await availability_service.availability_snapshot(username, node.clock())
    return availability_view(*snapshot, node.urls)


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
    values: dict[str, Any] = {"hours": parse_hours(hours or []), "closures": parse_closures(closure or [])}
    values |= {"slot_minutes": slot_minutes, "capacity": capacity}
    body = command_body(from_json, values, {name: name for name in values})
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
