"""``fedicoop worker`` and ``fedicoop deliveries``: run the worker, show and requeue deliveries."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from fedicoop.cli.bridge import fail, print_json, run_with_database
from fedicoop.cli.resources import AsJson, print_table
from fedicoop.jobs import background_jobs
from fedicoop.models.states import DeliveryState
from fedicoop.network import open_network
from fedicoop.node import Node
from fedicoop.services import deliveries as delivery_service
from fedicoop.worker import running_worker, worker_id
from schemas.api import DeliveryOut

__all__ = ["deliveries_app", "worker"]

deliveries_app = typer.Typer(help="The queue of outgoing deliveries.", no_args_is_help=True)


def worker() -> None:
    """Run the delivery and inbox worker until SIGTERM or Ctrl-C (several may run at once on PostgreSQL)."""
    name = worker_id()

    async def action(node: Node) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with (
            open_network(node) as network,
            running_worker(network, extra_jobs=background_jobs(network, name), name=name),
        ):
            typer.echo(
                f"worker {name} running on {node.settings.display_name} "
                f"({node.settings.worker_concurrency} deliveries at once); stop with Ctrl-C or SIGTERM"
            )
            await stop.wait()
            typer.echo("stopping: finishing the deliveries in flight")
        typer.echo(f"worker {name} stopped")

    run_with_database(action)


@deliveries_app.command("list")
def deliveries_list(
    state: Annotated[DeliveryState | None, typer.Option("--state", help="Only rows in this state.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")] = 100,
    as_json: AsJson = False,
) -> None:
    """List the newest deliveries: activity, inbox, state, attempts and the last answer."""

    async def action(node: Node) -> list[DeliveryOut]:
        rows = await delivery_service.list_deliveries(state, limit)
        return await delivery_service.delivery_views(rows, node.urls)

    rows = run_with_database(action)
    if as_json:
        print_json(rows)
        return
    print_table(
        ["ID", "STATE", "TYPE", "ATTEMPTS", "STATUS", "NEXT ATTEMPT", "INBOX", "LAST ERROR"],
        [
            [
                str(row.id),
                row.state,
                row.activity_type,
                str(row.attempts),
                "" if row.last_status is None else str(row.last_status),
                row.next_attempt_at.isoformat() if row.state == "pending" else "",
                row.inbox,
                row.last_error[:60],
            ]
            for row in rows
        ],
    )


@deliveries_app.command("retry")
def deliveries_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Ids of the deliveries to requeue.", min=1)] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Requeue all failed, dead, skipped.")] = False,
) -> None:
    """Send failed, dead or skipped deliveries back to the queue, due now, with a fresh backoff."""
    if bool(ids) == all_rows:
        raise fail("give delivery ids, or --all (not both)")

    async def action(node: Node) -> int:
        if all_rows:
            return await delivery_service.retry_deliveries(None, node.clock())
        for delivery_id in ids or []:
            await delivery_service.get_delivery(delivery_id)
        return await delivery_service.retry_deliveries(ids, node.clock())

    count = run_with_database(action)
    typer.echo(f"requeued {count} deliveries")
