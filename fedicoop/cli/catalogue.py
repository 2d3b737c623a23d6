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
from fedicoop.cli.search_options import (
    ActorOption,
    CategoryOption,
    CommuneOption,
    DepartementOption,
    EpciOption,
    FromOption,
    KindOption,
    NearOption,
    NodeOption,
    RadiusOption,
    RegionOption,
    TextOption,
    ToOption,
)
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
    kind: KindOption = None,
    category: CategoryOption = None,
    q: TextOption = None,
    commune: CommuneOption = None,
    epci: EpciOption = None,
    departement: DepartementOption = None,
    region: RegionOption = None,
    near: NearOption = None,
    radius: RadiusOption = None,
    date_from: FromOption = None,
    date_to: ToOption = None,
    node_host: NodeOption = None,
    sort: Annotated[
        str | None, typer.Option("--sort", help="date (newest), distance (nearest) or start (soonest).")
    ] = None,
    purpose: Annotated[Purpose | None, typer.Option("--purpose", help="Only offers or requests.")] = None,
    actor: ActorOption = None,
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
