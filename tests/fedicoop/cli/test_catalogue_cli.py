"""``fedicoop catalogue list`` on real SQLite and PostgreSQL databases, through typer's runner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from fedicoop.cli.main import app
from fedicoop.db import open_database
from fedicoop.services.catalogue import store_object
from fedicoop.settings import Settings
from schemas.examples import load_example

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
PARTAGE = "https://partage-lille.example/actors/partage-lille"
FIVES = "https://velo-fives.example/actors/atelier-fives"
Run = Callable[..., Result]


async def _fill(settings: Settings) -> None:
    async with open_database(settings):
        for name, actor in (("offer-loan", PARTAGE), ("request", PARTAGE), ("repair-offer", FIVES)):
            await store_object(load_example(name), actor_iri=actor, now=NOW)
        await store_object(load_example("event"), actor_iri=FIVES, now=NOW)


@pytest.fixture
def run(settings: Settings, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke ``fedicoop`` on the test's database, filled with the four golden objects."""
    asyncio.run(_fill(settings))
    monkeypatch.chdir(tmp_path)
    env = {
        "FEDICOOP_DATABASE_URL": database_url,
        "FEDICOOP_BASE_URL": "https://portail-hdf.example",
        "FEDICOOP_DEMO": "0",
        "FEDICOOP_DATA_DIR": str(tmp_path),
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, ["catalogue", "list", *args], env=env, catch_exceptions=False)

    return invoke


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list__json_and_filters(run: Run) -> None:
    page = as_json(run("--json"))
    assert [item["kind"] for item in page["items"]] == ["request", "offer", "event", "repair"]
    assert page["next_cursor"] is None
    assert [item["name"] for item in as_json(run("--json", "--kind", "event"))["items"]] == [
        "Atelier d'autoréparation vélo"
    ]
    assert [item["kind"] for item in as_json(run("--json", "--purpose", "offer"))["items"]] == [
        "offer",
        "repair",
    ]
    assert [item["actor"] for item in as_json(run("--json", "--actor", FIVES))["items"]] == [FIVES, FIVES]
    assert [item["kind"] for item in as_json(run("--json", "--q", "VÉLOS"))["items"]] == [
        "request",
        "event",
        "repair",
    ]


def test_list__table_and_cursor(run: Run) -> None:
    first = run("--limit", "3")
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0].split() == ["PUBLISHED", "KIND", "HOST", "NAME", "ID"]
    assert "Recherche : remorque vélo pour enfant" in lines[1] and "partage-lille.example" in lines[1]
    assert lines[-1].startswith("next: --cursor ")
    cursor = lines[-1].split()[-1]
    rest = as_json(run("--json", "--limit", "3", "--cursor", cursor))
    assert [item["kind"] for item in rest["items"]] == ["repair"] and rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kind", "listing"), "'listing'"),
        (("--limit", "0"), "greater than or equal to 1"),
        (("--actor", "partage-lille"), "actor: expected the http(s) URL of an actor"),
        (("--cursor", "garbage"), "cursor: 'garbage' is not a cursor"),
    ],
)
def test_list__bad_options_exit_2(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
