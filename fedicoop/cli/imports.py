"""``fedicoop import rustine`` and ``fedicoop import ebs``: keep the node in step with a cooperative's app.

Each run reads the whole source (the connector returns a snapshot, nothing written yet), then applies it
with :func:`fedicoop.connectors.sync.synchronise`. Progress goes to stderr (``--quiet``: none), the
summary to stdout (``--json``: one JSON object; with ``--every``, one line per run). ``--every 15m`` runs
again and again; a failed run prints its error and the loop goes on. Exit codes: 0 when the run
succeeded, 1 when it failed (an unreachable source, a record refused…), 2 for bad options, 5 for bad
settings.

The EBS password never goes on the command line (shell history, process list): ``--database-url`` is
refused when it holds one; it comes from ``FEDICOOP_EBS_DATABASE_URL``, ``PGPASSWORD`` or ``~/.pgpass``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBar
from tortoise.exceptions import BaseORMException

from federation.errors import FederationError
from fedicoop.cli.bridge import EXIT_FAILURE, fail, run_with_database, settings_or_exit
from fedicoop.connectors.ebs import EbsOptions, read_ebs
from fedicoop.connectors.progress import Progress
from fedicoop.connectors.rustine import RustineOptions, read_rustine
from fedicoop.connectors.specs import Snapshot
from fedicoop.connectors.summary import RunSummary
from fedicoop.connectors.sync import synchronise
from fedicoop.errors import FedicoopError
from fedicoop.node import Node
from fedicoop.settings import Settings

__all__ = ["Reader", "check_database_url", "import_app", "parse_every", "run_import"]

import_app = typer.Typer(
    help="Import from the applications cooperatives already run: Rustine Libre, EBS.", no_args_is_help=True
)

Reader = Callable[[Node, Progress | None], Awaitable[Snapshot]]
"""Reads a whole source into a snapshot: a connector's entry point with its options bound."""

Sleep = Callable[[float], Awaitable[None]]

_EVERY = re.compile(r"^([1-9][0-9]{0,5})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_every(text: str | None) -> timedelta | None:
    """The period of ``--every``: a whole number and a unit, ``30s``, ``15m``, ``2h`` or ``1d``.

    >>> parse_every("15m"), parse_every(None)
    (datetime.timedelta(seconds=900), None)
    """
    if text is None:
        return None
    match = _EVERY.match(text.strip().lower())
    if match is None:
        raise typer.BadParameter(
            f"expected a whole number and a unit s, m, h or d, such as 30s, 15m, 2h or 1d; got {text!r}",
            param_hint="--every",
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def check_database_url(url: str) -> str:
    """``url`` unless it carries a password; exit 2 otherwise (the message does not repeat it)."""
    parts = urlsplit(url)
    if parts.password or "password" in {key.lower() for key in parse_qs(parts.query)}:
        raise fail(
            "--database-url must not hold a password (it would stay in the shell history and the process "
            "list): give the URL without it and set FEDICOOP_EBS_DATABASE_URL, PGPASSWORD or ~/.pgpass"
        )
    return url


class ProgressDisplay:
    """Shows ``progress(phase, done, total)`` on stderr: a bar per phase on a terminal, otherwise one line
    when a phase ends (logs of a scheduled run stay short)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.console = Console(stderr=True)
        self.live = enabled and self.console.is_terminal
        self.bar = ProgressBar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            disable=not self.live,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressDisplay:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self.live:
            task = self.tasks.get(phase)
            if task is None:
                task = self.tasks[phase] = self.bar.add_task(phase, total=total)
            self.bar.update(task, completed=done, total=total)
        elif total is not None and done == total:
            typer.echo(f"{phase}: {done}/{total}", err=True)


def _print_summary(summary: RunSummary, *, as_json: bool, stream: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary.to_json(), ensure_ascii=False, indent=None if stream else 2))
    else:
        typer.echo("\n".join(summary.lines()))


def _print_error(message: str, *, as_json: bool, stream: bool) -> None:
    typer.echo(f"error: {message}", err=True)
    if as_json:
        body = {"ok": False, "error": message}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=None if stream else 2))


async def _one_run(reader: Reader, node: Node, display: ProgressDisplay) -> RunSummary:
    with display:
        snapshot = await reader(node, display)
        return await synchronise(snapshot, node, progress=display)


async def run_import(
    reader: Reader,
    node: Node,
    *,
    every: timedelta | None = None,
    as_json: bool = False,
    quiet: bool = False,
    sleep: Sleep = asyncio.sleep,
    runs: int | None = None,
) -> bool:
    """Read and apply the source once, or every ``every`` (``runs`` times at most: tests), printing each
    summary; return whether the last run succeeded. The node's database must be open.

    A run that raises one of our errors, or a database error, prints it and counts as failed; in a loop,
    any other error too (the loop goes on), while a single run lets it propagate."""
    stream = every is not None
    done = 0
    while True:
        display = ProgressDisplay(enabled=not quiet)
        try:
            summary = await _one_run(reader, node, display)
        except (FedicoopError, FederationError) as exc:
            _print_error(str(exc), as_json=as_json, stream=stream)
            ok = False
        except BaseORMException as exc:  # the node's own database (locked too long, unreachable…)
            _print_error(f"the node's database failed: {exc}", as_json=as_json, stream=stream)
            ok = False
        except Exception as exc:
            if every is None:
                raise
            _print_error(f"{type(exc).__name__}: {exc}", as_json=as_json, stream=stream)
            ok = False
        else:
            _print_summary(summary, as_json=as_json, stream=stream)
            ok = not summary.failed
        done += 1
        if every is None or (runs is not None and done >= runs):
            return ok
        sys.stdout.flush()
        await sleep(every.total_seconds())


def _run(reader: Reader, settings: Settings, every: timedelta | None, as_json: bool, quiet: bool) -> None:
    """Open the node's database, run the import(s) and exit 1 when the (last) run failed."""

    async def action(node: Node) -> bool:
        return await run_import(reader, node, every=every, as_json=as_json, quiet=quiet)

    try:
        ok = run_with_database(action, settings)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if not ok:
        raise typer.Exit(EXIT_FAILURE)


Every = Annotated[
    str | None,
    typer.Option("--every", help="Run again and again, waiting this long between runs: 30s, 15m, 2h, 1d."),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print the summary as JSON (one line per run with --every).")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]


def _required(value: Any, option: str, variable: str) -> Any:
    if value is None or value == "":
        raise fail(f"give {option} or set {variable}")
    return value


@import_app.command("rustine")
def import_rustine(
    url: Annotated[
        str | None, typer.Option("--url", help="The Rustine Libre API root (default: FEDICOOP_RUSTINE_URL).")
    ] = None,
    site_url: Annotated[
        str | None,
        typer.Option("--site-url", help="The public site (booking pages), when not on the API's host."),
    ] = None,
    repairers: Annotated[
        list[int] | None,
        typer.Option("--repairer", min=1, help="Import only this repairer id (repeat for more)."),
    ] = None,
    every: Every = None,
    as_json: AsJson = False,
    quiet: Quiet = False,
) -> None:
    """Publish a Rustine Libre instance's enabled repairers (workshops, repair offers, slots, sessions).

    What left the instance since the last run is withdrawn."""
    period = parse_every(every)
    settings = settings_or_exit()
    options = RustineOptions(
        url=_required(url or settings.rustine_url, "--url", "FEDICOOP_RUSTINE_URL"),
        site_url=site_url or settings.rustine_site_url,
        repairers=tuple(repairers or ()),
    )

    async def reader(node: Node, progress: Progress | None) -> Snapshot:
        return await read_rustine(options, node, progress)

    _run(reader, settings, period, as_json, quiet)


@import_app.command("ebs")
def import_ebs(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="postgresql://role@host:port/db, WITHOUT password (default: FEDICOOP_EBS_DATABASE_URL).",
        ),
    ] = None,
    site_url: Annotated[
        str | None, typer.Option("--site-url", help="The EBS public site, for the listings' pages.")
    ] = None,
    media_url: Annotated[
        str | None, typer.Option("--media-url", help="Public prefix of uploaded images (none: no images).")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="The local cooperative actor members' listings go to.")
    ] = None,
    every: Every = None,
    as_json: AsJson = False,
    quiet: Quiet = False,
) -> None:
    """Publish the public products of an EBS database, read-only (members' places blurred).

    Products deleted, restricted or hidden since the last run are withdrawn."""
    period = parse_every(every)
    if database_url is not None:
        check_database_url(database_url)
    settings = settings_or_exit()
    stored = settings.ebs_database_url.get_secret_value() if settings.ebs_database_url else None
    options = EbsOptions(
        database_url=_required(database_url or stored, "--database-url", "FEDICOOP_EBS_DATABASE_URL"),
        site_url=_required(site_url or settings.ebs_site_url, "--site-url", "FEDICOOP_EBS_SITE_URL"),
        actor=_required(actor or settings.ebs_actor, "--actor", "FEDICOOP_EBS_ACTOR"),
        media_url=media_url or settings.ebs_media_url,
        categories=dict(settings.ebs_categories),
    )

    async def reader(node: Node, progress: Progress | None) -> Snapshot:
        return await read_ebs(options, node, progress)

    _run(reader, settings, period, as_json, quiet)
