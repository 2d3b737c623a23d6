"""``fedicoop catalogue``: the remote offers, requests, repair offers and events this node holds.

``catalogue list`` takes the search's filters, with the meaning and checks of the API's query
parameters (``GET /api/v1/catalogue``): the same parser reads them, so a bad value exits 2 with the
API's message naming the parameter.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fedicoop.cli.bridge import fail, print_json, run_with_database
from fedicoop.cli.resources import AsJson, print_table
from fedicoop.errors import BadRequestError
from fedicoop.models.states import Purpose
from fedicoop.node import Node
from fedicoop.services.search import SEARCH_LIMIT_MAX
from fedicoop.web.catalogue import DEFAULT_LIMIT, CatalogueQuery, catalogue_page_view, parse_catalogue_query
from fedicoop.web.views import stamp
from schemas.api import CataloguePageOut

catalogue_app = typer.Typer(
    help="The catalogue: what the actors this node follows publish.", no_args_is_help=True
)


@catalogue_app.command("list")
def catalogue_list(
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="offer, request, repair or event (repeat, or separate by commas)."),
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="A category slug (repeat, or separate by commas).")
    ] = None,
    q: Annotated[
        str | None, typer.Option("--q", "--text", help="Words to find; accents, case and plurals ignored.")
    ] = None,
    commune: Annotated[str | None, typer.Option("--commune", help="INSEE commune code (59350).")] = None,
    epci: Annotated[str | None, typer.Option("--epci", help="SIREN of an EPCI (200093201).")] = None,
    departement: Annotated[str | None, typer.Option("--departement", help="Département code (59).")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Région code (32).")] = None,
    near: Annotated[
        str | None, typer.Option("--near", help="latitude,longitude or a commune code (its town hall).")
    ] = None,
    radius: Annotated[str | None, typer.Option("--radius", help="Kilometres around --near (10).")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="From this date (2025-10-14) or date and time, Paris time.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Until this date (included) or date and time.")
    ] = None,
    node_host: Annotated[
        str | None, typer.Option("--node", help="Only what this origin host publishes.")
    ] = None,
    sort: Annotated[
        str | None, typer.Option("--sort", help="date (newest), distance (nearest) or start (soonest).")
    ] = None,
    purpose: Annotated[Purpose | None, typer.Option("--purpose", help="Only offers or requests.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this author (actor URL).")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=SEARCH_LIMIT_MAX, help="At most this many.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of a previous page.")] = None,
    as_json: AsJson = False,
) -> None:
    """Search the catalogue (newest first, nearest first with --near); the next page's cursor comes last."""
    given = {
        "kind": kind,
        "category": category,
        "q": q,
        "commune": commune,
        "epci": epci,
        "departement": departement,
        "region": region,
        "near": near,
        "radius": radius,
        "from": date_from,
        "to": date_to,
        "node": node_host,
        "sort": sort,
        "purpose": purpose.value if purpose else None,
        "actor": actor,
        "limit": str(limit),
        "cursor": cursor,
    }
    try:
        query: CatalogueQuery = parse_catalogue_query(given)
    except BadRequestError as exc:
        raise fail(f"invalid input: {exc}") from None

    async def action(node: Node) -> CataloguePageOut:
        territory = await node.territory.get() if query.needs_territory else None
        now = node.clock()
        return catalogue_page_view(await query.run(now=now, territory=territory), now)

    page = run_with_database(action)
    if as_json:
        print_json(page)
        return
    near_given = query.search.near is not None or query.near_commune is not None
    headers = ["PUBLISHED", "KIND", "HOST", "COMMUNE", "NAME", "ID"] + (["KM"] if near_given else [])
    rows = []
    for item in page.items:
        row = [stamp(item.published), item.kind, item.host, item.commune_code or "-", item.name, item.id]
        if near_given:
            row.append(f"{item.distance_m / 1000:.1f}" if item.distance_m is not None else "-")
        rows.append(row)
    print_table(headers, rows)
    typer.echo(f"{page.total} found")
    if page.next_cursor:
        typer.echo(f"next: --cursor {page.next_cursor}")
