"""``fedicoop listing``: publish, list, show, change, pause, resume and withdraw listings."""

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
from fedicoop.models.states import ListingKind, Purpose
from fedicoop.node import Node
from fedicoop.services import listings as listing_service
from fedicoop.web.views import listing_view
from schemas.api import ListingCreate, ListingOut, ListingUpdate

listing_app = typer.Typer(
    help="Offers and requests of objects and services, and repair offers.", no_args_is_help=True
)

ListingId = Annotated[str, typer.Argument(help="The listing's UUID or full URL.")]
Title = Annotated[str | None, typer.Option("--title", help="Short title (at most 120 characters).")]
Description = Annotated[str | None, typer.Option("--description", help="Plain-text description.")]
Category = Annotated[str | None, typer.Option("--category", help="fedicoop category slug.")]
Price = Annotated[str | None, typer.Option("--price", help="Price in euros, such as 5.00.")]
Deposit = Annotated[str | None, typer.Option("--deposit", help="Loans: deposit in euros.")]
LoanDuration = Annotated[str | None, typer.Option("--loan-duration", help="Loans: P7D or words.")]
Quantity = Annotated[str | None, typer.Option("--quantity", help="Quantity offered or wanted.")]
Conditions = Annotated[str | None, typer.Option("--conditions", help="One line of terms.")]
ExternalUrl = Annotated[str | None, typer.Option("--external-url", help="The human page, when elsewhere.")]
WantedFrom = Annotated[str | None, typer.Option("--wanted-from", help="Requests: start, with an offset.")]
Exchange = Annotated[str | None, typer.Option("--exchange", help="Objects: gift, loan, sale, swap.")]
UnitBased = Annotated[bool | None, typer.Option("--unit-based/--flat-price", help="Price per hour.")]
WantedUntil = Annotated[str | None, typer.Option("--wanted-until", help="Requests: end, with an offset.")]


def _show(listing: ListingOut, as_json: bool, verb: str | None = None) -> None:
    if as_json:
        print_json(listing)
    elif verb is not None:
        typer.echo(f"{verb} {listing.id}")
    else:
        print_summary(listing.model_dump(mode="json"))


def _update(listing_id: str, data: ListingUpdate) -> ListingOut:
    async def action(node: Node) -> ListingOut:
        parsed = listing_service.parse_listing_id(listing_id)
        listing = await listing_service.update_listing(parsed, data, node.publisher, node.clock())
        return listing_view(listing, node.urls)

    return run_with_database(action)


_UPDATED = (
    "title description category price deposit loan_duration quantity wanted_from wanted_until conditions"
)
UPDATE_FIELDS = {name: name for name in (*_UPDATED.split(), "conditions", "external_url")} | {"tag": "tags"}
CREATE_FIELDS = {name: name for name in ("actor", "kind", "purpose", "exchange", "unit_based")}
CREATE_FIELDS |= UPDATE_FIELDS
"""Command parameters and the API fields they set."""


@listing_app.command("create")
@with_place_options
def listing_create(
    from_json: FromJson = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Username of the publishing actor.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="object, service or repair.")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="offer (default) or request.")] = None,
    exchange: Exchange = None,
    title: Title = None,
    description: Description = None,
    category: Category = None,
    price: Price = None,
    unit_based: UnitBased = None,
    deposit: Deposit = None,
    loan_duration: LoanDuration = None,
    quantity: Quantity = None,
    wanted_from: WantedFrom = None,
    wanted_until: WantedUntil = None,
    conditions: Conditions = None,
    external_url: ExternalUrl = None,
    tag: Tags = None,
    place: dict[str, Any] | None = None,
) -> None:
    """Publish a listing and print its ActivityPub id (a repair offer gets its next slot at once)."""
    options = command_body(from_json, locals(), CREATE_FIELDS, place=place, place_default_name=title)
    data: ListingCreate = validate(ListingCreate, options)

    async def action(node: Node) -> str:
        listing = await listing_service.create_listing(data, node.publisher, node.clock())
        return node.urls.listing(listing.id)

    typer.echo(run_with_database(action))


@listing_app.command("list")
def listing_list(
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor's listings.")] = None,
    kind: Annotated[ListingKind | None, typer.Option("--kind", help="Only this kind.")] = None,
    purpose: Annotated[Purpose | None, typer.Option("--purpose", help="Only offers or requests.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many.")] = 0,
    as_json: AsJson = False,
) -> None:
    """List the live listings, newest first."""

    async def action(node: Node) -> list[ListingOut]:
        rows = await listing_service.list_listings(
            actor=actor, kind=kind, purpose=purpose, limit=limit, offset=offset
        )
        return [listing_view(row, node.urls) for row in rows]

    listings = run_with_database(action)
    if as_json:
        print_json(listings)
        return
    print_table(
        ["UUID", "ACTOR", "KIND", "PURPOSE", "STATE", "TITLE"],
        [[item.uuid, item.actor, item.kind, item.purpose, item.state, item.title] for item in listings],
    )


@listing_app.command("show")
def listing_show(listing_id: ListingId, as_json: AsJson = False) -> None:
    """Show one listing."""

    async def action(node: Node) -> ListingOut:
        parsed = listing_service.parse_listing_id(listing_id)
        return listing_view(await listing_service.get_listing(parsed), node.urls)

    _show(run_with_database(action), as_json)


@listing_app.command("update")
@with_place_options
def listing_update(
    listing_id: ListingId,
    from_json: FromJson = None,
    title: Title = None,
    description: Description = None,
    category: Category = None,
    price: Price = None,
    deposit: Deposit = None,
    loan_duration: LoanDuration = None,
    quantity: Quantity = None,
    wanted_from: WantedFrom = None,
    wanted_until: WantedUntil = None,
    conditions: Conditions = None,
    external_url: ExternalUrl = None,
    tag: Tags = None,
    place: dict[str, Any] | None = None,
    as_json: AsJson = False,
) -> None:
    """Change some of a listing and publish its ``Update``."""
    options = command_body(from_json, locals(), UPDATE_FIELDS, place=place, place_default_name=title)
    data: ListingUpdate = validate(ListingUpdate, options)
    _show(_update(listing_id, data), as_json, "updated")


@listing_app.command("pause")
def listing_pause(listing_id: ListingId, as_json: AsJson = False) -> None:
    """Pause a listing (it stays visible with no quantity available)."""
    _show(_update(listing_id, ListingUpdate(paused=True)), as_json, "paused")


@listing_app.command("resume")
def listing_resume(listing_id: ListingId, as_json: AsJson = False) -> None:
    """Resume a paused listing."""
    _show(_update(listing_id, ListingUpdate(paused=False)), as_json, "resumed")


@listing_app.command("delete")
def listing_delete(listing_id: ListingId) -> None:
    """Withdraw a listing: its id answers 410 with a Tombstone and a ``Delete`` is published."""

    async def action(node: Node) -> str:
        parsed = listing_service.parse_listing_id(listing_id)
        listing = await listing_service.withdraw_listing(parsed, node.publisher, node.clock())
        return node.urls.listing(listing.id)

    typer.echo(f"withdrew {run_with_database(action)}")
