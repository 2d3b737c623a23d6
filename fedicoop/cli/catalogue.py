"""``fedicoop catalogue``: the remote offers, requests, repair offers and events this node holds."""

from __future__ import annotations

from typing import Annotated

import typer

from fedicoop.cli.bridge import print_json, run_with_database
from fedicoop.cli.resources import AsJson, print_table
from fedicoop.models.states import CatalogueKind, Purpose
from fedicoop.node import Node
from fedicoop.services.catalogue import SEARCH_LIMIT_MAX
from fedicoop.web.catalogue import DEFAULT_LIMIT, catalogue_page_view, parse_catalogue_query
from fedicoop.web.views import stamp
from schemas.api import CataloguePageOut

catalogue_app = typer.Typer(
    help="The catalogue: what the actors this node follows publish.", no_args_is_help=True
)


@catalogue_app.command("list")
def catalogue_list(
    kind: Annotated[CatalogueKind | None, typer.Option("--kind", help="Only this kind.")] = None,
    purpose: Annotated[Purpose | None, typer.Option("--purpose", help="Only offers or requests.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this author (actor URL).")] = None,
    q: Annotated[str | None, typer.Option("--q", help="Words to find, case and accents ignored.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=SEARCH_LIMIT_MAX, help="At most this many.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of a previous page.")] = None,
    as_json: AsJson = False,
) -> None:
    """List the catalogue, newest first; the cursor of the next page is printed last."""
    given = {"kind": kind, "purpose": purpose, "actor": actor, "q": q, "limit": str(limit), "cursor": cursor}

    async def action(node: Node) -> CataloguePageOut:
        query = parse_catalogue_query(given)
        return catalogue_page_view(await query.run(), node.clock())

    page = run_with_database(action)
    if as_json:
        print_json(page)
        return
    print_table(
        ["PUBLISHED", "KIND", "HOST", "NAME", "ID"],
        [[stamp(item.published), item.kind, item.host, item.name, item.id] for item in page.items],
    )
    if page.next_cursor:
        typer.echo(f"next: --cursor {page.next_cursor}")
