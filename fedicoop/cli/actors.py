"""``fedicoop actor``: create, list, show, update and delete the node's Organization actors."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fedicoop.cli.bridge import print_json, run_with_database, validate
from fedicoop.cli.resources import (
    AsJson,
    FromJson,
    command_body,
    print_summary,
    print_table,
    with_place_options,
)
from fedicoop.node import Node
from fedicoop.services import actors as actor_service
from fedicoop.web.views import actor_view
from schemas.api import ActorCreate, ActorOut, ActorUpdate

actor_app = typer.Typer(help="Organization actors: cooperatives, workshops and places.", no_args_is_help=True)

Name = Annotated[str | None, typer.Option("--name", help="Display name.")]
Summary = Annotated[str | None, typer.Option("--summary", help="Plain-text bio.")]
Website = Annotated[str | None, typer.Option("--website", help="Website URL.")]
IconUrl = Annotated[str | None, typer.Option("--icon-url", help="Avatar image URL.")]


ACTOR_FIELDS = {name: name for name in ("username", "kind", "name", "summary", "website", "icon_url")}
"""Command parameters that are API fields of the same name."""


@actor_app.command("create")
@with_place_options
def actor_create(
    username: Annotated[str | None, typer.Argument(help="The new actor's username.")] = None,
    from_json: FromJson = None,
    kind: Annotated[str | None, typer.Option("--kind", help="cooperative, workshop or place.")] = None,
    name: Name = None,
    summary: Summary = None,
    website: Website = None,
    icon_url: IconUrl = None,
    place: dict[str, Any] | None = None,
) -> None:
    """Create an Organization actor (with its key pair) and print its ActivityPub id."""
    body = command_body(from_json, locals(), ACTOR_FIELDS, place=place, place_default_name=name)
    data: ActorCreate = validate(ActorCreate, body)

    async def action(node: Node) -> str:
        actor = await actor_service.create_actor(data, node.clock())
        return node.urls.actor(actor.username)

    typer.echo(run_with_database(action))


@actor_app.command("list")
def actor_list(as_json: AsJson = False) -> None:
    """List the node's Organization actors."""

    async def action(node: Node) -> list[ActorOut]:
        return [actor_view(actor, node.urls) for actor in await actor_service.list_actors()]

    actors = run_with_database(action)
    if as_json:
        print_json(actors)
        return
    print_table(
        ["USERNAME", "KIND", "NAME", "HANDLE"], [[a.username, a.kind.value, a.name, a.handle] for a in actors]
    )


@actor_app.command("show")
def actor_show(username: str, as_json: AsJson = False) -> None:
    """Show one actor's profile."""

    async def action(node: Node) -> ActorOut:
        return actor_view(await actor_service.get_actor(username), node.urls)

    actor = run_with_database(action)
    if as_json:
        print_json(actor)
    else:
        print_summary(actor.model_dump(mode="json"))


@actor_app.command("update")
@with_place_options
def actor_update(
    username: str,
    from_json: FromJson = None,
    name: Name = None,
    summary: Summary = None,
    website: Website = None,
    icon_url: IconUrl = None,
    place: dict[str, Any] | None = None,
    as_json: AsJson = False,
) -> None:
    """Change some of an actor's profile and publish the ``Update`` to its followers, as the API does."""
    fields = {key: value for key, value in ACTOR_FIELDS.items() if key not in ("username", "kind")}
    body = command_body(from_json, locals(), fields, place=place, place_default_name=name)
    data: ActorUpdate = validate(ActorUpdate, body)

    async def action(node: Node) -> ActorOut:
        await actor_service.update_actor(username, data, node.publisher, node.clock())
        return actor_view(await actor_service.get_actor(username), node.urls)

    actor = run_with_database(action)
    if as_json:
        print_json(actor)
    else:
        typer.echo(f"updated {actor.id}")


@actor_app.command("delete")
def actor_delete(username: str) -> None:
    """Delete an actor with its listings and events (its id answers 410 from now on)."""

    async def action(node: Node) -> str:
        actor = await actor_service.delete_actor(username, node.publisher, node.clock())
        return node.urls.actor(actor.username)

    typer.echo(f"deleted {run_with_database(action)}")
