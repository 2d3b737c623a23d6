"""``fedicoop deliveries list|retry`` through typer's runner, and ``fedicoop worker`` as a real process.

The worker process is started on the test's database (SQLite and PostgreSQL), delivers a queued
activity to a real loopback peer, and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fedicoop.cli.main import app
from fedicoop.clock import system_clock
from fedicoop.db import open_database
from fedicoop.models.deliveries import Delivery
from fedicoop.models.states import DeliveryState
from fedicoop.services import deliveries
from fedicoop.services.deliveries import Target
from fedicoop.settings import Settings
from tests.federation.loopback import running_peer
from tests.fedicoop.queue_helpers import activity, open_node, organization, trust

BASE_URL = "https://velo-fives.example"
NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
Run = Callable[..., Result]


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "FEDICOOP_DATABASE_URL": database_url,
        "FEDICOOP_BASE_URL": BASE_URL,
        "FEDICOOP_DEMO": "0",
        "FEDICOOP_DATA_DIR": str(tmp_path),
    }


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke the ``fedicoop`` app on the test's database, in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=_env(database_url, tmp_path), catch_exceptions=False)

    return invoke


async def _seed(settings: Settings) -> list[int]:
    """Five rows: one in each state, newest last."""
    async with open_node(settings, system_clock) as node:
        coop = await organization("coop-fives", NOW)
        act = await activity(node, coop, NOW)
        targets = [Target(f"https://h{n}.example/inbox") for n in range(5)]
        await deliveries.enqueue(act, targets, NOW, local_base=BASE_URL)
        rows = await Delivery.all().order_by("id")
        for row, state in zip(rows, ["pending", "delivered", "failed", "dead", "skipped"], strict=True):
            await Delivery.filter(id=row.id).update(state=state, last_status=500 if state == "dead" else None)
        return [row.id for row in rows]


def test_deliveries_list__table_json_and_state_filter(run: Run, settings: Settings) -> None:
    ids = asyncio.run(_seed(settings))
    table = run("deliveries", "list")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "STATE",
        "TYPE",
        "ATTEMPTS",
        "STATUS",
        "NEXT",
        "ATTEMPT",
        "INBOX",
        "LAST",
        "ERROR",
    ]
    assert [line.split()[0] for line in lines[1:]] == [str(i) for i in reversed(ids)]
    rows = json.loads(run("deliveries", "list", "--json", "--limit", "2").stdout)
    assert [row["id"] for row in rows] == [ids[4], ids[3]]
    assert (
        rows[1]["state"] == "dead" and rows[1]["last_status"] == 500 and rows[1]["activity_type"] == "Create"
    )
    assert rows[1]["activity"].startswith(f"{BASE_URL}/activities/")
    dead = json.loads(run("deliveries", "list", "--json", "--state", "dead").stdout)
    assert [row["id"] for row in dead] == [ids[3]]
    assert run("deliveries", "list", "--state", "lost").exit_code == 2


def test_deliveries_retry__ids_all_and_errors(run: Run, settings: Settings) -> None:
    ids = asyncio.run(_seed(settings))
    assert run("deliveries", "retry", str(ids[2])).stdout.strip() == "requeued 1 deliveries"
    assert run("deliveries", "retry", str(ids[0])).stdout.strip() == "requeued 0 deliveries"
    missing = run("deliveries", "retry", "999999")
    assert missing.exit_code == 3 and "there is no delivery 999999" in missing.stderr
    assert run("deliveries", "retry", "--all").stdout.strip() == "requeued 2 deliveries"
    states = [row["state"] for row in json.loads(run("deliveries", "list", "--json").stdout)]
    assert states == ["pending", "pending", "pending", "delivered", "pending"]
    neither = run("deliveries", "retry")
    assert neither.exit_code == 2 and "give delivery ids, or --all" in neither.stderr
    assert run("deliveries", "retry", "--all", str(ids[0])).exit_code == 2


@pytest.mark.anyio
async def test_worker_process__delivers_then_stops_on_sigterm(
    database_url: str, settings: Settings, tmp_path: Path
) -> None:
    live = settings.model_copy(update={"insecure_peers": True})
    async with running_peer() as peer:
        peer.serve("/inbox", b"", status=202, method="POST")
        async with open_node(live, system_clock) as node:
            coop = await organization("coop-fives", node.clock())
            await trust(peer, node, coop)
            act = await activity(node, coop, node.clock())
            await deliveries.enqueue(act, [Target(peer.url("/inbox"))], node.clock(), local_base=BASE_URL)
        env = {**os.environ, **_env(database_url, tmp_path), "FEDICOOP_INSECURE_PEERS": "true"}
        command = Path(sys.executable).parent / "fedicoop"
        process = await asyncio.create_subprocess_exec(
            str(command),
            "worker",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            for _ in range(300):
                if peer.requests_to("/inbox", "POST"):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, stderr.decode()
        output = stdout.decode()
        assert "running on velo-fives.example" in output and output.rstrip().endswith("stopped")
        (hit,) = peer.requests_to("/inbox", "POST")
        assert hit.signer == f"{BASE_URL}/actors/coop-fives"
    async with open_database(live):
        row = await Delivery.get()
        assert (row.state, row.attempts, row.locked_by) == (DeliveryState.DELIVERED, 1, None)
