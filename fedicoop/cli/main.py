"""The ``fedicoop`` command: set-up, server and token commands, and the resource command groups."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from fedicoop.app import create_app
from fedicoop.cli.bridge import EXIT_FAILURE, fail, print_json, run_with_database, settings_or_exit, validate
from fedicoop.cli.catalogue import catalogue_app
from fedicoop.cli.deliveries import deliveries_app, worker
from fedicoop.cli.feeds import feed_app
from fedicoop.cli.follows import follow, followers_app, following, unfollow
from fedicoop.cli.imports import import_app
from fedicoop.cli.subscriptions import subscribe, subscriptions, unsubscribe
from fedicoop.db import describe_database, migrate_database
from fedicoop.demo import seed_demo
from fedicoop.node import Node
from fedicoop.services import tokens as token_service
from schemas.api import TokenCreate

app = typer.Typer(help="fedicoop: a federated ActivityPub node for cooperatives.", no_args_is_help=True)
token_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(deliveries_app, name="deliveries")
app.add_typer(feed_app, name="feed")
app.add_typer(followers_app, name="followers")
app.add_typer(import_app, name="import")
app.command()(follow)
app.command()(unfollow)
app.command()(following)
app.command()(worker)
app.command()(subscribe)
app.command()(unsubscribe)
app.command()(subscriptions)

TOML_TEMPLATE = """# fedicoop settings (FEDICOOP_* environment variables override them)
base_url = "{base_url}"
# database_url = "postgres://user@127.0.0.1:5432/fedicoop"
data_dir = "{data_dir}"
demo = false
"""


@app.command()
def init(
    base_url: Annotated[
        str, typer.Option(help="Public URL of the node, https in production.")
    ] = "http://127.0.0.1:8000",
    data_dir: Annotated[Path, typer.Option(help="Where the SQLite file lives.")] = Path("data"),
    config: Annotated[Path, typer.Option(help="The settings file to write.")] = Path("fedicoop.toml"),
) -> None:
    """Write a settings file (if there is none), migrate the database and create the application actor."""
    if config.exists():
        typer.echo(f"{config} exists: left as it is")
    else:
        config.write_text(TOML_TEMPLATE.format(base_url=base_url, data_dir=data_dir), encoding="utf-8")
        typer.echo(f"wrote {config}")
    settings = settings_or_exit(toml_file=config)
    applied = asyncio.run(migrate_database(settings))
    typer.echo(f"{describe_database(settings.effective_database_url)}: {len(applied)} migration(s) applied")

    async def ready(node: Node) -> None:
        typer.echo(
            f"node ready at {node.settings.base_url} (application actor {node.urls.application_actor})"
        )

    run_with_database(ready, settings)


@app.command()
def migrate() -> None:
    """Apply every pending database migration."""
    settings = settings_or_exit()
    try:
        applied = asyncio.run(migrate_database(settings))
    except OSError as exc:
        raise fail(
            f"cannot reach {describe_database(settings.effective_database_url)}: {exc}", EXIT_FAILURE
        ) from None
    where = describe_database(settings.effective_database_url)
    typer.echo(f"{where}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 8000,
) -> None:
    """Start the node (seeding the labelled demo on an empty database unless FEDICOOP_DEMO=0)."""
    settings = settings_or_exit()
    if settings.demo:

        async def demo(node: Node) -> bool:
            return await seed_demo(node)

        if run_with_database(demo, settings):
            typer.echo("empty database: seeded the demo (set FEDICOOP_DEMO=0 to start empty)")
    base = settings.base_url
    typer.echo(
        f"fedicoop node {settings.display_name} on {describe_database(settings.effective_database_url)}"
    )
    typer.echo(f"  home page      {base}/")
    typer.echo(f"  API (OpenAPI)  {base}/api/v1/openapi.json")
    typer.echo(f"  NodeInfo       {base}/nodeinfo/2.1")
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=True,
        log_level=settings.log_level,
        lifespan="on",
    )
    # The modules, schemas and models loaded so far live as long as the process: leave them out of the
    # cyclic garbage collector's scans (a full scan of them cost the inbox ~5 %; bench/README.md).
    gc.freeze()
    uvicorn.Server(config).run()


@token_app.command("create")
def token_create(name: Annotated[str, typer.Argument(help="A name to recognise the token by.")]) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    data = validate(TokenCreate, {"name": name})

    async def create(node: Node) -> str:
        return await token_service.create_token(data.name, node.clock())

    typer.echo(run_with_database(create))


@token_app.command("list")
def token_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the tokens (names and dates; the tokens themselves are never shown again)."""

    async def rows(node: Node) -> list[dict[str, str | None]]:
        return [
            {
                "name": row.name,
                "created_at": row.created_at.isoformat(),
                "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
                "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
            }
            for row in await token_service.list_tokens()
        ]

    result = run_with_database(rows)
    if as_json:
        print_json(result)
        return
    for row in result:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        typer.echo(f"{row['name']}\tcreated {row['created_at']}\t{state}")


@token_app.command("revoke")
def token_revoke(name: str) -> None:
    """Revoke a token: it stops working at once."""

    async def revoke(node: Node) -> None:
        await token_service.revoke_token(name, node.clock())

    run_with_database(revoke)
    typer.echo(f"revoked {name}")


def main() -> None:
    """Entry point of the ``fedicoop`` console script."""
    from fedicoop.cli import resources

    resources.register(app)
    app()
