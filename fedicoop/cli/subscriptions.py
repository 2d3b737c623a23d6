"""``fedicoop subscribe``, ``unsubscribe`` and ``subscriptions``: the nodes this node follows.

``subscribe`` takes one target (a host, ``relay@host`` or an actor URL) or ``--from-file`` (one a line,
``#`` comments), shows a progress bar on stderr while the targets are resolved a few at once, then a
summary table and the count of each outcome; it exits 1 when any target failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fedicoop.cli.bridge import EXIT_FAILURE, fail, print_json, run_with_database, run_with_network
from fedicoop.cli.resources import AsJson, print_table
from fedicoop.errors import BadRequestError
from fedicoop.models.states import FollowState
from fedicoop.network import Network
from fedicoop.node import Node
from fedicoop.services import subscriptions as service
from fedicoop.services.subscriptions import (
    CONCURRENCY_DEFAULT,
    CONCURRENCY_MAX,
    Entry,
    FailureReason,
    Outcome,
    Subscription,
    SubscriptionResult,
)
from fedicoop.web.api_subscriptions import batch_view, subscription_view

__all__ = ["read_targets", "subscribe", "subscriptions", "unsubscribe"]

FILE_BYTES_MAX = 1024 * 1024
"""The largest subscription file read."""

REASON_TEXT = {
    FailureReason.MALFORMED: "not a host or an actor URL",
    FailureReason.UNREACHABLE: "unreachable",
    FailureReason.NOT_ACTIVITYPUB: "not ActivityPub",
    FailureReason.ADDRESS_REFUSED: "refused by the address policy",
    FailureReason.BLOCKED: "blocked",
    FailureReason.GONE: "gone",
    FailureReason.OWN_NODE: "this node",
}
"""Each reason in words, as the summary shows it."""

FILE_TARGETS_MAX = 10_000
"""Targets in one file."""

OUTCOME_TEXT = {
    Outcome.SUBSCRIBED: "subscribed",
    Outcome.ALREADY: "already subscribed",
    Outcome.PENDING: "pending",
    Outcome.DUPLICATE: "duplicate",
    Outcome.FAILED: "failed",
}


def read_targets(text: str) -> list[Entry]:
    """The entries of a subscription file: one target a line; blank lines and ``#`` comments skipped.

    A comment starts a line or follows a space (``host.example  # a note``). More than
    :data:`FILE_TARGETS_MAX` targets raises BadRequestError.
    """
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        kept = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if kept and not kept.startswith("#"):
            entries.append(Entry(label=f"line {number}", text=kept))
    if len(entries) > FILE_TARGETS_MAX:
        raise BadRequestError(
            f"at most {FILE_TARGETS_MAX} targets in one file, got {len(entries)}", field="file"
        )
    return entries


def _read_file(path: Path | None) -> list[Entry]:
    """The entries of a subscription file; exit 2 when it cannot be read."""
    if path is None:
        raise fail("--from-file: no file given")
    try:
        if path.stat().st_size > FILE_BYTES_MAX:
            raise fail(f"{path}: larger than {FILE_BYTES_MAX} bytes")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise fail(f"{path}: not UTF-8 text") from None
    try:
        entries = read_targets(text)
    except BadRequestError as exc:
        raise fail(f"{path}: {exc}") from None
    if not entries:
        raise fail(f"{path}: no target in it (one host or URL a line; # starts a comment)")
    return entries


def _status(result: SubscriptionResult) -> str:
    if result.reason is not None:
        return f"failed: {REASON_TEXT[result.reason]}"
    return OUTCOME_TEXT[result.outcome]


def _print_summary(results: Sequence[SubscriptionResult]) -> None:
    print_table(
        ["WHERE", "TARGET", "RESULT", "DETAIL"],
        [[result.label, result.target, _status(result), result.detail] for result in results],
    )
    counts = {outcome: sum(result.outcome is outcome for result in results) for outcome in Outcome}
    typer.echo(", ".join(f"{counts[outcome]} {OUTCOME_TEXT[outcome]}" for outcome in Outcome))


def _run(entries: list[Entry], concurrency: int, show_progress: bool) -> list[SubscriptionResult]:
    """Subscribe to ``entries`` with the node's network, a progress bar on stderr when asked."""
    progress = Progress(
        TextColumn("subscribing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        disable=not show_progress,
        transient=False,
    )

    async def action(network: Network) -> list[SubscriptionResult]:
        with progress:
            task = progress.add_task("", total=len(entries))

            def advance(entry: Entry) -> None:
                progress.update(task, advance=1, description=entry.text[:60])

            return await service.subscribe_all(network, entries, concurrency=concurrency, progress=advance)

    return run_with_network(action)


def subscribe(
    target: Annotated[
        str | None, typer.Argument(help="A host (velo-fives.example), relay@host or an actor URL.")
    ] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="A file of targets, one a line; # starts a comment.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=CONCURRENCY_MAX, help="Targets resolved at once.")
    ] = CONCURRENCY_DEFAULT,
    as_json: AsJson = False,
) -> None:
    """Subscribe to nodes (follow their application actor); exits 1 when any target failed."""
    if (target is None) == (from_file is None):
        raise fail("give one target, or --from-file FILE (not both)")
    entries = [Entry(label="argument", text=target)] if target is not None else _read_file(from_file)
    results = _run(entries, concurrency, show_progress=from_file is not None)
    if as_json:
        print_json(batch_view(results))
    else:
        _print_summary(results)
    if any(result.outcome is Outcome.FAILED for result in results):
        raise typer.Exit(EXIT_FAILURE)


def unsubscribe(
    target: Annotated[str, typer.Argument(help="A subscription id, a host or the actor URL followed.")],
) -> None:
    """Unsubscribe from a node: an Undo of the Follow is sent and its catalogue items are dropped."""

    async def action(network: Network) -> list[Subscription]:
        return await service.unsubscribe(network, target)

    for row in run_with_network(action):
        typer.echo(f"unsubscribed from {row.actor} (subscription {row.id})")


def subscriptions(
    state: Annotated[
        FollowState | None, typer.Option("--state", help="Only subscriptions in this state.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List the nodes this node follows or asked to follow, newest first."""

    async def action(node: Node) -> list[Subscription]:
        return await service.list_subscriptions(state)

    rows = run_with_database(action)
    if as_json:
        print_json([subscription_view(row) for row in rows])
        return
    print_table(
        ["ID", "STATE", "HOST", "TYPE", "NAME", "ACTOR"],
        [[str(row.id), row.state.value, row.host, row.type, row.name, row.actor] for row in rows],
    )
