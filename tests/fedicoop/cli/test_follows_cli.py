"""``fedicoop follow``, ``unfollow``, ``following`` and ``followers``: against a real loopback peer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fedicoop.cli import resources
from fedicoop.cli.main import app
from tests.federation.loopback import Peer, running_peer
from tests.fedicoop.remote import Remote

pytestmark = pytest.mark.anyio

Run = Callable[..., Result]


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with running_peer() as server:
        yield server


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke the CLI on the test's database, allowed to reach loopback peers."""
    monkeypatch.chdir(tmp_path)
    resources.register(app)
    runner = CliRunner()
    env = {
        "FEDICOOP_DATABASE_URL": database_url,
        "FEDICOOP_BASE_URL": "https://velo-fives.example",
        "FEDICOOP_DEMO": "0",
        "FEDICOOP_DATA_DIR": str(tmp_path),
        "FEDICOOP_INSECURE_PEERS": "1",
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    return invoke


async def cli(run: Run, *args: str) -> Result:
    """Run a command in a thread: the loopback peer answers on this test's event loop."""
    return await asyncio.to_thread(run, *args)


def serve_webfinger(remote: Remote) -> str:
    handle = f"camille@{remote.peer.authority}"
    jrd = {
        "subject": f"acct:{handle}",
        "links": [{"rel": "self", "type": "application/activity+json", "href": remote.actor_id}],
    }
    remote.peer.serve("/.well-known/webfinger", jrd, content_type="application/jrd+json")
    return handle


async def test_follow_by_handle__pending_follow_queued(run: Run, peer: Peer) -> None:
    remote = Remote.on(peer, "camille")
    handle = serve_webfinger(remote)
    assert (
        await cli(run, "actor", "create", "atelier-fives", "--kind", "workshop", "--name", "Atelier")
    ).exit_code == 0
    result = await cli(run, "follow", "atelier-fives", handle)
    assert result.exit_code == 0, result.output
    assert f"asked to follow {remote.actor_id}" in result.output
    following = json.loads((await cli(run, "following", "--json")).output)
    assert following == [{"actor": "atelier-fives", "target": remote.actor_id, "state": "pending"}]
    queued = json.loads((await cli(run, "deliveries", "list", "--json")).output)
    assert [(row["activity_type"], row["inbox"]) for row in queued] == [
        ("Follow", f"{remote.actor_id}/inbox")
    ]
    again = await cli(run, "follow", "atelier-fives", remote.actor_id)
    assert again.exit_code == 4 and "already follows" in again.output
    gone = await cli(run, "unfollow", "atelier-fives", remote.actor_id)
    assert gone.exit_code == 0, gone.output
    assert json.loads((await cli(run, "following", "--json")).output) == []


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("not a handle", 2, "neither a handle"),
        ("camille@", 2, "handle"),
        ("http://127.0.0.1:9/users/nobody", 1, "127.0.0.1:9"),
    ],
)
async def test_follow_refusals__clear_error_nothing_stored(
    run: Run, peer: Peer, target: str, code: int, message: str
) -> None:
    await cli(run, "actor", "create", "atelier-fives", "--kind", "workshop", "--name", "Atelier")
    result = await cli(run, "follow", "atelier-fives", target)
    assert result.exit_code != 0 and message in result.output, result.output
    assert json.loads((await cli(run, "following", "--json")).output) == []
    assert json.loads((await cli(run, "deliveries", "list", "--json")).output) == []


async def test_followers_decisions_for_unknown_requests__not_found(run: Run, peer: Peer) -> None:
    await cli(run, "actor", "create", "atelier-fives", "--kind", "workshop", "--name", "Atelier")
    assert json.loads((await cli(run, "followers", "list", "--json")).output) == []
    result = await cli(run, "followers", "approve", "atelier-fives", "https://mastodon.example/users/x")
    assert result.exit_code == 3 and "has not asked" in result.output
