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
from fedicoop.territory import TerritoryHolder
from schemas.examples import load_example

NOW = datetime(2025, 10, 13, 6, 0, tzinfo=UTC)
PARTAGE = "https://partage-lille.example/actors/partage-lille"
FIVES = "https://velo-fives.example/actors/atelier-fives"
Run = Callable[..., Result]


async def _fill(settings: Settings) -> None:
    territory = await TerritoryHolder.from_settings(settings).get()
    async with open_database(settings):
        for name, actor in (("offer-loan", PARTAGE), ("request", PARTAGE), ("repair-offer", FIVES)):
            await store_object(load_example(name), actor_iri=actor, now=NOW, territory=territory)
        await store_object(load_example("event"), actor_iri=FIVES, now=NOW, territory=territory)


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
        "FEDICOOP_CACHE_DIR": str(settings.cache_dir),
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
    assert lines[0].split() == ["PUBLISHED", "KIND", "HOST", "COMMUNE", "NAME", "ID"]
    assert "Recherche : remorque vélo pour enfant" in lines[1] and "partage-lille.example" in lines[1]
    assert lines[-2] == "4 found" and lines[-1].startswith("next: --cursor ")
    cursor = lines[-1].split()[-1]
    rest = as_json(run("--json", "--limit", "3", "--cursor", cursor))
    assert [item["kind"] for item in rest["items"]] == ["repair"] and rest["next_cursor"] is None


OFFER = "https://partage-lille.example/listings/1ed7a2a8-0a77-6dbc-a34f-f3a729006754"
REQUEST = "https://partage-lille.example/listings/0199e0b7-3c4d-7e5f-8a6b-7c8d9e0f1a2b"
REPAIR = "https://velo-fives.example/listings/0199d2a0-5e6f-7a81-92b3-c4d5e6f70812"
EVENT = "https://velo-fives.example/events/0199a8c4-1f2e-7a3b-8c4d-5e6f7a8b9c0d"


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (("--kind", "offer,request"), [REQUEST, OFFER]),
        (("--kind", "repair", "--kind", "event"), [EVENT, REPAIR]),
        (("--category", "velos-accessoires", "--category", "reparation-velo"), [REQUEST, REPAIR]),
        (("--text", "perceuse"), [OFFER]),
        (("--commune", "59512"), [REQUEST, OFFER]),  # the offer's blurred Lille area reaches Roubaix
        (("--epci", "200093201", "--kind", "event"), [EVENT]),
        (("--departement", "59", "--purpose", "request"), [REQUEST]),
        (("--departement", "62"), []),
        (("--region", "32", "--node", "velo-fives.example"), [EVENT, REPAIR]),
        (("--near", "59512", "--radius", "5"), [REQUEST]),
        (("--near", "50.6292,3.0886", "--radius", "2"), [REPAIR, EVENT, OFFER]),
        (("--near", "59512", "--sort", "date"), [REQUEST, OFFER, EVENT, REPAIR]),
        (("--kind", "event", "--from", "2025-10-18", "--to", "2025-10-18"), [EVENT]),
        (("--kind", "event", "--from", "2025-10-19"), []),
    ],
)
def test_list__search_filters(run: Run, args: tuple[str, ...], ids: list[str]) -> None:
    page = as_json(run("--json", *args))
    assert [item["id"] for item in page["items"]] == ids
    assert page["total"] == len(ids)


def test_list__near__nearest_first_with_distances(run: Run) -> None:
    page = as_json(run("--json", "--near", "59512"))
    assert page["items"][0]["id"] == REQUEST
    distances = [item["distance_m"] for item in page["items"]]
    assert distances == sorted(distances) and distances[0] < 100 and 9000 < distances[-1] < 11000
    table = run("--near", "59512", "--radius", "5")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split()[-1] == "KM" and lines[1].split()[-1] == "0.0" and lines[-1] == "1 found"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kind", "listing"), "'listing'"),
        (("--near", "lille"), "near: expected latitude,longitude"),
        (("--radius", "5"), "radius: a radius needs near"),
        (("--near", "59512", "--radius", "500"), "radius: expected a distance in km"),
        (("--departement", "999"), "departement: expected a département code"),
        (("--commune", "lille"), "commune: expected an INSEE commune code"),
        (("--from", "2025-13-01"), "from: expected a date"),
        (("--from", "2025-10-20", "--to", "2025-10-19"), "does not come after from"),
        (("--sort", "distance"), "sort: sort=distance needs near"),
        (("--sort", "price"), "sort: expected one of"),
        (("--category", "a b"), "category: expected a category slug"),
        (("--node", "not a host"), "node: expected the host of a node"),
        (("--near", "99999"), "near: no commune 99999"),
        (("--limit", "0"), "greater than or equal to 1"),
        (("--actor", "partage-lille"), "actor: expected the http(s) URL of an actor"),
        (("--cursor", "garbage"), "cursor: 'garbage' is not a cursor"),
    ],
)
def test_list__bad_options_exit_2(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
