"""``fedicoop import rustine`` and ``fedicoop import ebs`` through typer's runner, on real databases.

The connectors' readers are replaced by a stand-in returning a hand-made snapshot (their own tests cover
reading the sources); the options they receive, the engine, the database and the output are real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from tortoise.exceptions import OperationalError
from typer.testing import CliRunner, Result

from fedicoop.cli import imports
from fedicoop.cli.imports import check_database_url, parse_every, run_import
from fedicoop.cli.main import app
from fedicoop.connectors.ebs import EbsOptions
from fedicoop.connectors.errors import SourceUnreachableError
from fedicoop.connectors.progress import Progress
from fedicoop.connectors.rustine import RustineOptions
from fedicoop.connectors.specs import ActorSpec, ImportedSlot, ListingSpec, Snapshot, SourceKey
from fedicoop.domain.french import paris_zone
from fedicoop.models.connectors import SourceLink
from fedicoop.node import Node
from fedicoop.settings import Settings
from schemas.api import ActorCreate, AvailabilityInput, ListingCreate, OpeningRangeInput
from tests.conftest import SHARED_CACHE, Clock
from tests.fedicoop.queue_helpers import open_node

SOURCE = "rustine https://rustine.example"
WORKSHOP = SourceKey("repairer", "1")
Run = Callable[..., Result]


def rustine_snapshot(source: str = SOURCE, *, title: str = "Réparation de vélo") -> Snapshot:
    start = datetime(2025, 10, 14, 14, tzinfo=paris_zone())
    workshop = ActorSpec(
        WORKSHOP,
        ActorCreate(username="atelier-fives", kind="workshop", name="Atelier vélo de Fives"),
        availability=AvailabilityInput(
            hours=[OpeningRangeInput(day="tuesday", opens=time(14), closes=time(19))]
        ),
        booking_url="https://rustine.example/reparateur/1/creneaux",
    )
    offer = ListingSpec(
        SourceKey("offer", "1"),
        WORKSHOP,
        ListingCreate(actor="x", kind="repair", title=title),
        slots=(ImportedSlot(start, start + timedelta(hours=1)),),
    )
    return Snapshot(source, actors=[workshop], listings=[offer])


class FakeReader:
    """Stands in for a connector's entry point: records its options, returns or raises what it is told."""

    def __init__(self) -> None:
        self.options: list[Any] = []
        self.outcomes: list[Snapshot | Exception] = []

    async def __call__(self, options: Any, node: Node, progress: Progress | None) -> Snapshot:
        self.options.append(options)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        if progress is not None:
            progress("rustine: repairers", 1, 1)
        return outcome


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeReader:
    reader = FakeReader()
    reader.outcomes.append(rustine_snapshot())
    monkeypatch.setattr(imports, "read_rustine", reader)
    monkeypatch.setattr(imports, "read_ebs", reader)
    return reader


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke ``fedicoop`` on the test's database, in ``tmp_path``, with the shared territory cache."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    env = {
        "FEDICOOP_DATABASE_URL": database_url,
        "FEDICOOP_BASE_URL": "https://velo-fives.example",
        "FEDICOOP_DEMO": "0",
        "FEDICOOP_DATA_DIR": str(tmp_path),
        "FEDICOOP_CACHE_DIR": str(SHARED_CACHE),
    }

    def invoke(*args: str, **overrides: str) -> Result:
        return runner.invoke(app, list(args), env={**env, **overrides}, catch_exceptions=False)

    return invoke


# Options -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2H", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
    ],
)
def test_parse_every__units(text: str, expected: timedelta) -> None:
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "0m", "-5m", "1.5h", "15 minutes", "1w", "9999999s"])
def test_parse_every__refuses_anything_else(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="such as 30s, 15m, 2h or 1d"):
        parse_every(text)


def test_import__a_bad_every_exits_2_before_anything_runs(run: Run, fake: FakeReader) -> None:
    result = run("import", "rustine", "--url", "https://rustine.example", "--every", "15x")
    assert result.exit_code == 2
    assert "--every" in result.stderr and "such as 30s" in result.stderr
    assert fake.options == []


@pytest.mark.parametrize(
    "url",
    ["postgresql://ebs:s3cr3t-pw@db.example:5432/ebs", "postgres://ebs@db.example/ebs?password=s3cr3t-pw"],
)
def test_import_ebs__a_password_on_the_command_line_is_refused(run: Run, fake: FakeReader, url: str) -> None:
    result = run(
        "import", "ebs", "--database-url", url, "--site-url", "https://ebs.example", "--actor", "coop"
    )
    assert result.exit_code == 2
    assert "must not hold a password" in result.stderr
    assert "FEDICOOP_EBS_DATABASE_URL, PGPASSWORD or ~/.pgpass" in result.stderr
    assert "s3cr3t-pw" not in result.output + result.stderr
    assert fake.options == []


def test_check_database_url__without_password_passes() -> None:
    assert (
        check_database_url("postgresql://ebs@db.example:5432/ebs") == "postgresql://ebs@db.example:5432/ebs"
    )


def test_import_ebs__the_password_may_come_from_the_settings(run: Run, fake: FakeReader) -> None:
    fake.outcomes[:] = [Snapshot("ebs ebs@db.example:5432/ebs")]
    result = run(
        "import",
        "ebs",
        "--quiet",
        FEDICOOP_EBS_DATABASE_URL="postgresql://ebs:s3cr3t-pw@db.example:5432/ebs",
        FEDICOOP_EBS_SITE_URL="https://ebs.example/",
        FEDICOOP_EBS_ACTOR="partage-lille",
        FEDICOOP_EBS_MEDIA_URL="https://ebs.example/media",
        FEDICOOP_EBS_CATEGORIES='{"bricolage": "travaux-outillage"}',
    )
    assert result.exit_code == 0, result.output
    assert fake.options == [
        EbsOptions(
            database_url="postgresql://ebs:s3cr3t-pw@db.example:5432/ebs",
            site_url="https://ebs.example",
            actor="partage-lille",
            media_url="https://ebs.example/media",
            categories={"bricolage": "travaux-outillage"},
        )
    ]
    assert "s3cr3t-pw" not in result.output + result.stderr


def test_import_ebs__options_override_the_settings(run: Run, fake: FakeReader) -> None:
    fake.outcomes[:] = [Snapshot("ebs ebs@db.example:5432/ebs")]
    result = run(
        "import",
        "ebs",
        "--database-url",
        "postgresql://ebs_reader@db.example/ebs",
        "--site-url",
        "https://ebs.example",
        "--actor",
        "coop",
        "--quiet",
        FEDICOOP_EBS_ACTOR="partage-lille",
    )
    assert result.exit_code == 0, result.output
    (options,) = fake.options
    assert (options.database_url, options.actor, options.media_url) == (
        "postgresql://ebs_reader@db.example/ebs",
        "coop",
        None,
    )


def test_import_ebs__a_bad_database_url_setting_exits_5_without_showing_it(
    run: Run, fake: FakeReader
) -> None:
    result = run("import", "ebs", FEDICOOP_EBS_DATABASE_URL="mysql://ebs:s3cr3t-pw@db.example/ebs")
    assert result.exit_code == 5
    assert "FEDICOOP_EBS_DATABASE_URL" in result.stderr
    assert "s3cr3t-pw" not in result.output + result.stderr


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["import", "rustine"], "give --url or set FEDICOOP_RUSTINE_URL"),
        (
            ["import", "ebs", "--site-url", "https://ebs.example"],
            "give --database-url or set FEDICOOP_EBS_DATABASE_URL",
        ),
        (["import", "ebs", "--database-url", "postgresql://ebs@db.example/ebs"], "give --site-url or set"),
    ],
)
def test_import__a_missing_option_exits_2(run: Run, fake: FakeReader, args: list[str], missing: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert missing in result.stderr


def test_import_rustine__options_reach_the_connector(run: Run, fake: FakeReader) -> None:
    result = run(
        "import",
        "rustine",
        "--site-url",
        "https://www.rustine.example",
        "--repairer",
        "3",
        "--repairer",
        "12",
        "--quiet",
        FEDICOOP_RUSTINE_URL="https://api.rustine.example",
    )
    assert result.exit_code == 0, result.output
    assert fake.options == [
        RustineOptions(
            url="https://api.rustine.example", site_url="https://www.rustine.example", repairers=(3, 12)
        )
    ]


def test_import_rustine__a_repairer_id_must_be_a_positive_number(run: Run, fake: FakeReader) -> None:
    for value in ("abc", "0"):
        result = run("import", "rustine", "--url", "https://rustine.example", "--repairer", value)
        assert result.exit_code == 2
        assert "--repairer" in result.stderr
    assert fake.options == []


# Runs and their output ----------------------------------------------------------------------------------


def test_import_rustine__summary_then_an_idempotent_second_run(run: Run, fake: FakeReader) -> None:
    first = run("import", "rustine", "--url", "https://rustine.example")
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == f"{SOURCE}: 2 created, 0 updated, 0 withdrawn, 0 unchanged, 0 skipped, 0 failed"
    assert "  actors    1 created, 0 updated, 0 withdrawn, 0 unchanged" in lines
    assert "  listings  1 created, 0 updated, 0 withdrawn, 0 unchanged" in lines
    assert "actors: 1/1" in first.stderr and "rustine: repairers: 1/1" in first.stderr
    second = run("import", "rustine", "--url", "https://rustine.example", "--json", "--quiet")
    assert second.exit_code == 0, second.output
    assert second.stderr == ""
    body = json.loads(second.stdout)
    assert body["ok"] is True and body["source"] == SOURCE
    assert body["actors"] == {"created": 0, "updated": 0, "withdrawn": 0, "unchanged": 1}
    assert body["listings"]["unchanged"] == 1 and body["failed"] == [] and body["skipped"] == []


def test_import_rustine__an_unreachable_source_exits_1(run: Run, fake: FakeReader) -> None:
    fake.outcomes[:] = [SourceUnreachableError(SOURCE, "connection refused (127.0.0.1:9)")]
    result = run("import", "rustine", "--url", "https://rustine.example", "--json")
    assert result.exit_code == 1
    assert f"error: {SOURCE}: connection refused (127.0.0.1:9)" in result.stderr
    assert json.loads(result.stdout) == {"ok": False, "error": f"{SOURCE}: connection refused (127.0.0.1:9)"}


def test_import_rustine__a_record_the_node_refuses_exits_1_with_the_summary(
    run: Run, fake: FakeReader
) -> None:
    assert run("import", "rustine", "--url", "https://rustine.example", "-q").exit_code == 0
    # A second repair offer for the workshop now published as a local actor: one repair offer each.
    snapshot = rustine_snapshot()
    snapshot.listings.append(ListingSpec(SourceKey("offer", "2"), "atelier-fives", snapshot.listings[0].data))
    fake.outcomes[:] = [snapshot]
    result = run("import", "rustine", "--url", "https://rustine.example", "-q")
    assert result.exit_code == 1
    assert any(line.startswith("  FAILED listing offer 2: ") for line in result.stdout.splitlines())


# The loop -----------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_run_import__every_keeps_going_after_a_failed_run(
    settings: Settings, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes: list[Snapshot | Exception] = [
        rustine_snapshot(),
        SourceUnreachableError(SOURCE, "timed out after 30 s"),
        RuntimeError("the database went away"),
        rustine_snapshot(title="Réparation et entretien"),
    ]
    slept: list[float] = []

    async def reader(node: Node, progress: Progress | None) -> Snapshot:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with open_node(settings, clock) as node:
        ok = await run_import(
            reader, node, every=timedelta(minutes=15), as_json=True, quiet=True, sleep=sleep, runs=4
        )
        links = await SourceLink.filter(source=SOURCE).count()
    assert ok is True and slept == [900.0, 900.0, 900.0] and outcomes == []
    assert links == 2
    captured = capsys.readouterr()
    runs = [json.loads(line) for line in captured.out.splitlines()]
    assert [body["ok"] for body in runs] == [True, False, False, True]
    assert runs[0]["listings"]["created"] == 1 and runs[3]["listings"]["updated"] == 1
    assert runs[2]["error"] == "RuntimeError: the database went away"
    assert f"error: {SOURCE}: timed out after 30 s" in captured.err


@pytest.mark.anyio
async def test_run_import__a_single_run_lets_an_unexpected_error_through(
    settings: Settings, clock: Clock
) -> None:
    async def reader(node: Node, progress: Progress | None) -> Snapshot:
        raise RuntimeError("a bug")

    async with open_node(settings, clock) as node:
        with pytest.raises(RuntimeError, match="a bug"):
            await run_import(reader, node, quiet=True)


@pytest.mark.anyio
async def test_run_import__a_database_error_is_a_failed_run_with_its_message(
    settings: Settings, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    async def reader(node: Node, progress: Progress | None) -> Snapshot:
        raise OperationalError("database is locked")

    async with open_node(settings, clock) as node:
        assert await run_import(reader, node, quiet=True) is False
    assert "error: the node's database failed: database is locked" in capsys.readouterr().err
