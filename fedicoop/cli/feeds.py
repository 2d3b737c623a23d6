"""``fedicoop feed``: the feed actors of a portal, saved searches that fediverse users follow.

``feed create velo-roubaix --kind repair --near 59512 --radius 10`` takes the filters of ``catalogue
list`` (same names, same checks: a bad value exits 2 with the message naming it, and nothing is
created); ``feed list`` shows each feed's handle, followers and search; ``feed delete`` removes one.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fedicoop.cli.bridge import print_json, run_with_database
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
from fedicoop.feeds.actors import FeedView, create_feed, delete_feed, list_feeds
from fedicoop.node import Node

__all__ = ["feed_app"]

feed_app = typer.Typer(
    help="Feed actors: saved searches that Mastodon or GoToSocial users follow (@name@this-node).",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The feed's name: its handle is @name@this-node (velo-roubaix).")]


@feed_app.command("create")
def feed_create(
    name: Name,
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
    purpose: Annotated[str | None, typer.Option("--purpose", help="offer or request.")] = None,
    actor: ActorOption = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Display name (by default, the search said in French).")
    ] = None,
) -> None:
    """Create a feed actor that announces every new catalogue item its search finds."""
    params = {
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
        "purpose": purpose,
        "actor": actor,
    }

    async def action(node: Node) -> tuple[str, str, str]:
        feed = await create_feed(node, name, params, title=title)
        actor = feed.actor
        return actor.name, f"@{actor.username}@{node.urls.host}", node.urls.actor(actor.username)

    display, handle, actor_id = run_with_database(action)
    typer.echo(f"created feed {handle} ({actor_id})")
    typer.echo(f"  {display}")


@feed_app.command("list")
def feed_list(as_json: AsJson = False) -> None:
    """List the feeds: handle, followers, items announced so far, saved search."""

    async def action(node: Node) -> list[FeedView]:
        return await list_feeds(node)

    feeds = run_with_database(action)
    if as_json:
        print_json(
            [
                {
                    "name": feed.username,
                    "handle": feed.handle,
                    "id": feed.actor_id,
                    "title": feed.name,
                    "search": feed.params,
                    "followers": feed.followers,
                    "announced": feed.announced,
                    "created_at": feed.created_at.isoformat(),
                }
                for feed in feeds
            ]
        )
        return
    print_table(
        ["HANDLE", "FOLLOWERS", "ANNOUNCED", "SEARCH"],
        [
            [
                feed.handle,
                str(feed.followers),
                str(feed.announced),
                " ".join(f"--{key} {value}" for key, value in feed.params.items()) or "(everything)",
            ]
            for feed in feeds
        ],
    )


@feed_app.command("delete")
def feed_delete(name: Name) -> None:
    """Delete a feed: its followers are told (Delete of the actor); its name is not reused."""

    async def action(node: Node) -> str:
        actor = await delete_feed(node, name)
        return f"@{actor.username}@{node.urls.host}"

    typer.echo(f"deleted feed {run_with_database(action)}")
