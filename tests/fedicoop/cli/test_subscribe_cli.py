"""``fedicoop subscribe``, ``unsubscribe`` and ``subscriptions`` against real loopback nodes.

The commands run in a thread (typer's runner) on the database of a node served on loopback with its
worker, while another real node answers: the Follow the command queues is delivered and accepted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from fedicoop.cli import resources
from fedicoop.cli.main import app
from fedicoop.cli.subscriptions import read_targets
from fedicoop.errors import BadRequestError
from fedicoop.services.subscriptions import Entry
from tests.federation.loopback import free_port
from tests.fedicoop.test_subscriptions import eventually, served_node

pytestmark = pytest.mark.anyio

Run = Callable[..., Result]


def runner_for(database_url: str, base_url: str, data_dir: Path, *, insecure: bool = True) -> Run:
    """Invoke the CLI on a node's database and settings."""
    resources.register(app)
    env = {
        "FEDICOOP_DATABASE_URL": database_url,
        "FEDICOOP_BASE_URL": base_url,
        "FEDICOOP_DEMO": "0",
        "FEDICOOP_DATA_DIR": str(data_dir),
        "FEDICOOP_INSECURE_PEERS": "1" if insecure else "0",
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)

    return invoke


async def cli(run: Run, *args: str) -> Result:
    """Run a command in a thread: the loopback nodes answer on this test's event loop."""
    return await asyncio.to_thread(run, *args)


def rows_of(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def summary_lines(result: Result) -> dict[str, str]:
    """The summary table's lines by their first column (``line 3``)."""
    return {line.split("  ")[0]: line for line in result.stdout.splitlines() if line.startswith("line ")}


async def test_from_file__summary_progress_exit_1_then_already_subscribed(
    database_url: str, second_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with (
        served_node(second_database_url, tmp_path / "remote") as remote,
        served_node(database_url, tmp_path / "ours") as ours,
    ):
        run = runner_for(database_url, ours.base, tmp_path / "ours")
        unreachable = f"127.0.0.1:{free_port()}"
        nodes = tmp_path / "nodes.txt"
        nodes.write_text(
            "# the nodes of the test\n"
            f"{remote.host}\n"
            "\n"
            f"http://{remote.host}/   # the same, as a URL\n"
            f"{unreachable}\n"
            "pas un hôte\n",
            encoding="utf-8",
        )
        result = await cli(run, "subscribe", "--from-file", str(nodes), "--concurrency", "2")
        assert result.exit_code == 1, result.output
        lines = summary_lines(result)
        assert sorted(lines) == ["line 2", "line 4", "line 5", "line 6"]
        assert "subscribed" in lines["line 2"] and f"Follow sent to {remote.base}/actor" in lines["line 2"]
        assert "duplicate" in lines["line 4"] and "same target as line 2" in lines["line 4"]
        assert "failed: unreachable" in lines["line 5"] and unreachable in lines["line 5"]
        assert "failed: not a host or an actor URL" in lines["line 6"]
        assert result.stdout.splitlines()[-1] == (
            "1 subscribed, 0 already subscribed, 0 pending, 1 duplicate, 2 failed"
        )
        assert "subscribing" in result.stderr and "4/4" in result.stderr

        async def accepted() -> bool:
            rows = rows_of(await cli(run, "subscriptions", "--json"))
            return [row["state"] for row in rows] == ["accepted"]

        await eventually(accepted, "the remote node's Accept")
        again = await cli(run, "subscribe", remote.host, "--json")
        assert again.exit_code == 0, again.output
        assert [r["outcome"] for r in json.loads(again.stdout)["results"]] == ["already_subscribed"]
        table = await cli(run, "subscriptions")
        assert table.stdout.split()[:6] == ["ID", "STATE", "HOST", "TYPE", "NAME", "ACTOR"]
        assert "accepted" in table.stdout and f"{remote.base}/actor" in table.stdout

        gone = await cli(run, "unsubscribe", f"http://{remote.host}")
        assert gone.exit_code == 0, gone.output
        assert gone.stdout.startswith(f"unsubscribed from {remote.base}/actor")
        assert rows_of(await cli(run, "subscriptions", "--json")) == []
        missing = await cli(run, "unsubscribe", remote.host)
        assert missing.exit_code == 3 and "no subscription matches" in missing.output


async def test_strict_policy__private_addresses_refused_nothing_sent(
    database_url: str, tmp_path: Path
) -> None:
    run = runner_for(database_url, "https://portail-hdf.example", tmp_path, insecure=False)
    nodes = tmp_path / "private.txt"
    nodes.write_text("10.0.0.1\n192.168.1.20:8080\nhttp://169.254.169.254/actor\n[::1]\n127.0.0.1:8000\n")
    result = await cli(run, "subscribe", "--from-file", str(nodes), "--json")
    assert result.exit_code == 1, result.output
    results = json.loads(result.stdout)["results"]
    assert [(r["label"], r["reason"]) for r in results] == [
        (f"line {number}", "address_refused") for number in range(1, 6)
    ]
    assert "10.0.0.1" in results[0]["detail"] and "private" in results[0]["detail"]
    assert rows_of(await cli(run, "subscriptions", "--json")) == []
    assert rows_of(await cli(run, "deliveries", "list", "--json")) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give one target, or --from-file FILE"),
        (("a.example", "--from-file", "nodes.txt"), "give one target, or --from-file FILE"),
        (("--from-file", "missing.txt"), "cannot read missing.txt"),
        (("--from-file", "comments.txt"), "no target in it"),
        (("--from-file", "latin1.txt"), "not UTF-8 text"),
        (("--concurrency", "0", "a.example"), "Invalid value for '--concurrency'"),
    ],
)
async def test_subscribe__bad_arguments_exit_2(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nodes.txt").write_text("a.example\n")
    (tmp_path / "comments.txt").write_text("# nothing yet\n\n   \n")
    (tmp_path / "latin1.txt").write_bytes("hôte.example\n".encode("latin-1"))
    run = runner_for(database_url, "https://portail-hdf.example", tmp_path)
    result = await cli(run, "subscribe", *args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert rows_of(await cli(run, "subscriptions", "--json")) == []


async def test_single_target_failure__exit_1_with_the_reason(database_url: str, tmp_path: Path) -> None:
    run = runner_for(database_url, "https://portail-hdf.example", tmp_path)
    result = await cli(run, "subscribe", "portail-hdf.example")
    assert result.exit_code == 1
    assert "failed: this node" in result.stdout and "portail-hdf.example is this node" in result.stdout
    bad = await cli(run, "unsubscribe", "pas un hôte")
    assert bad.exit_code == 2 and "is not a host" in bad.output


def test_read_targets__comments_blanks_and_labels() -> None:
    text = "# nodes of the Nord\n\nvelo-fives.example   # Fives\n  https://a.example/actor \n#x.example\n"
    assert read_targets(text) == [
        Entry("line 3", "velo-fives.example"),
        Entry("line 4", "https://a.example/actor"),
    ]
    with pytest.raises(BadRequestError, match="at most 10000 targets"):
        read_targets("a.example\n" * 10_001)
