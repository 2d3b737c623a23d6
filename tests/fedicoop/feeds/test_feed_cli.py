"""``fedicoop feed create``, ``list`` and ``delete`` from the shell, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fedicoop.cli import resources
from fedicoop.cli.main import app
from tests.conftest import SHARED_CACHE

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke the CLI on the test's database (territory from the suite's shared cache)."""
    monkeypatch.chdir(tmp_path)
    resources.register(app)
    runner = CliRunner()
    env = {
        "FEDICOOP_DATABASE_URL": database_url,
        "FEDICOOP_BASE_URL": "https://portal.example",
        "FEDICOOP_DEMO": "0",
        "FEDICOOP_DATA_DIR": str(tmp_path),
        "FEDICOOP_CACHE_DIR": str(SHARED_CACHE),
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    return invoke


def _feeds(run: Run) -> list[dict[str, object]]:
    result = run("feed", "list", "--json")
    assert result.exit_code == 0, result.output
    listed: list[dict[str, object]] = json.loads(result.output)
    return listed


def test_feed_create_list_delete(run: Run) -> None:
    created = run("feed", "create", "velo-roubaix", "--kind", "repair", "--near", "59512", "--radius", "10")
    assert created.exit_code == 0, created.output
    assert (
        "created feed @velo-roubaix@portal.example (https://portal.example/actors/velo-roubaix)"
        in created.output
    )
    assert "Réparations · à 10 km de Roubaix" in created.output
    agenda = run(
        "feed", "create", "agenda-mel", "--kind", "event", "--epci", "200093201", "--title", "Agenda MEL"
    )
    assert agenda.exit_code == 0, agenda.output
    assert _feeds(run) == [
        {
            "name": "agenda-mel",
            "handle": "@agenda-mel@portal.example",
            "id": "https://portal.example/actors/agenda-mel",
            "title": "Agenda MEL",
            "search": {"kind": "event", "epci": "200093201"},
            "followers": 0,
            "announced": 0,
            "created_at": _feeds(run)[0]["created_at"],
        },
        {
            "name": "velo-roubaix",
            "handle": "@velo-roubaix@portal.example",
            "id": "https://portal.example/actors/velo-roubaix",
            "title": "Réparations · à 10 km de Roubaix",
            "search": {"kind": "repair", "near": "59512", "radius": "10"},
            "followers": 0,
            "announced": 0,
            "created_at": _feeds(run)[1]["created_at"],
        },
    ]
    table = run("feed", "list")
    assert (
        "@velo-roubaix@portal.example  0          0          --kind repair --near 59512 --radius 10"
        in table.output
    )
    again = run("feed", "create", "velo-roubaix", "--kind", "offer")
    assert again.exit_code == 4 and "already taken" in again.output
    deleted = run("feed", "delete", "velo-roubaix")
    assert deleted.exit_code == 0 and "deleted feed @velo-roubaix@portal.example" in deleted.output
    assert [feed["name"] for feed in _feeds(run)] == ["agenda-mel"]
    missing = run("feed", "delete", "velo-roubaix")
    assert missing.exit_code == 3 and "no feed named 'velo-roubaix'" in missing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Vélo Roubaix", "--kind", "repair"], "error: name: expected 1 to 64 lowercase letters"),
        (["relay"], "error: name: 'relay' is reserved"),
        (["velo", "--near", "99999"], "error: near: no commune 99999 with a town hall"),
        (["velo", "--near", "59512", "--radius", "-3"], "error: radius: expected a distance in km"),
        (["velo", "--radius", "3"], "error: radius: a radius needs near"),
        (["velo", "--kind", "concert"], "error: kind: expected one of offer, request, repair, event"),
        (["velo", "--from", "demain"], "error: from: expected a date"),
        (["velo", "--q", "'; -- \"* ()"], "has no word to look for"),
        (["velo", "--departement", "999"], "error: departement: "),
        (["velo", "--title", "two\nlines"], "error: title: control characters"),
    ],
)
def test_feed_create__refused_nothing_created(run: Run, args: list[str], message: str) -> None:
    result = run("feed", "create", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert _feeds(run) == []
