"""``fedicoop follow``, ``unfollow``, ``following`` and ``followers``: the social graph from the shell."""

from __future__ import annotations

from typing import Annotated

import typer

from fedicoop.cli.bridge import print_json, run_with_database, run_with_network
from fedicoop.cli.resources import AsJson, print_table
from fedicoop.models.social import Follower, Following
from fedicoop.models.states import FollowState
from fedicoop.network import Network
from fedicoop.node import Node
from fedicoop.services import follows as follow_service

__all__ = ["follow", "followers_app", "following", "unfollow"]

followers_app = typer.Typer(help="Who follows our actors, and pending follow requests.", no_args_is_help=True)

Username = Annotated[str, typer.Argument(help="The local actor's username (relay for the node's own actor).")]
Target = Annotated[str, typer.Argument(help="A handle name@host or an actor URL.")]
StateOption = Annotated[FollowState | None, typer.Option("--state", help="Only relations in this state.")]


def follow(username: Username, target: Target) -> None:
    """Follow a remote actor; the request stays pending until it answers."""

    async def action(network: Network) -> Following:
        return await follow_service.follow(network, username, target)

    following = run_with_network(action)
    typer.echo(f"{username} asked to follow {following.target_iri} (pending until accepted)")


def unfollow(username: Username, target: Target) -> None:
    """Stop following a remote actor (an Undo is sent)."""

    async def action(network: Network) -> None:
        await follow_service.unfollow(network, username, target)

    run_with_network(action)
    typer.echo(f"{username} no longer follows {target}")


def _list_relations(
    model: type[Following] | type[Follower], state: FollowState | None, as_json: bool
) -> None:
    """Print the follow relations stored in ``model`` (whom we follow, or who follows us)."""
    column = "target" if model is Following else "follower"

    async def action(node: Node) -> list[dict[str, str]]:
        query = model.all().prefetch_related("actor").order_by("-created_at", "-id")
        if state is not None:
            query = query.filter(state=state)
        return [
            {
                "actor": row.actor.username,
                column: row.target_iri if isinstance(row, Following) else row.follower_iri,
                "state": row.state.value,
            }
            for row in await query
        ]

    rows = run_with_database(action)
    if as_json:
        print_json(rows)
        return
    print_table(
        ["ACTOR", "STATE", column.upper()], [[row["actor"], row["state"], row[column]] for row in rows]
    )


def following(state: StateOption = None, as_json: AsJson = False) -> None:
    """List the remote actors our actors follow or asked to follow."""
    _list_relations(Following, state, as_json)


@followers_app.command("list")
def followers_list(state: StateOption = None, as_json: AsJson = False) -> None:
    """List the remote actors following ours, and the requests waiting for approval."""
    _list_relations(Follower, state, as_json)


@followers_app.command("approve")
def followers_approve(
    username: Username, follower: Annotated[str, typer.Argument(help="The follower's actor id.")]
) -> None:
    """Accept a pending follow request (actors that approve followers manually)."""

    async def action(network: Network) -> None:
        await follow_service.approve(network, username, follower)

    run_with_network(action)
    typer.echo(f"{follower} now follows {username}")


@followers_app.command("reject")
def followers_reject(
    username: Username, follower: Annotated[str, typer.Argument(help="The follower's actor id.")]
) -> None:
    """Refuse a pending follow request (a Reject is sent)."""

    async def action(network: Network) -> None:
        await follow_service.reject(network, username, follower)

    run_with_network(action)
    typer.echo(f"{follower}'s request to follow {username} was rejected")
