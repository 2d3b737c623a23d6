"""The ``fedicoop`` command end to end, on real SQLite and PostgreSQL databases, through typer's runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from fedicoop.cli import resources
from fedicoop.cli.main import app

BASE_URL = "https://velo-fives.example"
Run = Callable[..., Result]

WORKSHOP = [
    "actor",
    "create",
    "atelier-fives",
    "--kind",
    "workshop",
    "--name",
    "Atelier vélo",
    "--summary",
    "Atelier d'autoréparation",
    "--lat",
    "50.6292",
    "--lon",
    "3.0886",
    "--street",
    "12 rue Pierre Legrand",
    "--postal-code",
    "59800",
    "--locality",
    "Lille",
    "--commune-code",
    "59350",
    "--departement-code",
    "59",
    "--region-code",
    "32",
]
LOAN = [
    "listing",
    "create",
    "--actor",
    "atelier-fives",
    "--kind",
    "object",
    "--exchange",
    "loan",
    "--title",
    "Perceuse à percussion",
    "--description",
    "Avec un jeu de forets.",
    "--category",
    "travaux-outillage",
    "--deposit",
    "30.00",
    "--loan-duration",
    "P7D",
    "--tag",
    "Pret",
]


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke the ``fedicoop`` app (resource groups registered) on the test's database, in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    resources.register(app)
    runner = CliRunner()
    env = {
        "FEDICOOP_DATABASE_URL": database_url,
        "FEDICOOP_BASE_URL": BASE_URL,
        "FEDICOOP_DEMO": "0",
        "FEDICOOP_DATA_DIR": str(tmp_path),
    }

    def invoke(*args: str, stdin: str | None = None, **overrides: str) -> Result:
        return runner.invoke(app, list(args), input=stdin, env={**env, **overrides}, catch_exceptions=False)

    return invoke


def ok(result: Result) -> str:
    """The standard output of a command that must have succeeded."""
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(result: Result) -> Any:
    """The JSON printed by a ``--json`` command that must have succeeded."""
    return json.loads(ok(result))


def test_register_is_idempotent() -> None:
    resources.register(app)
    resources.register(app)
    names = [group.name or "" for group in app.registered_groups]
    assert sorted(names) == sorted(set(names))
    assert {"actor", "listing", "event", "availability", "token"} <= set(names)


def test_walkthrough(run: Run) -> None:
    assert "up to date" in ok(run("migrate"))
    assert ok(run("token", "create", "laptop")).strip().startswith("fc_")

    actor_id = ok(run(*WORKSHOP)).strip()
    assert actor_id == f"{BASE_URL}/actors/atelier-fives"
    actors = as_json(run("actor", "list", "--json"))
    assert [(item["username"], item["kind"], item["id"]) for item in actors] == [
        ("atelier-fives", "workshop", actor_id)
    ]
    assert actors[0]["location"]["commune_code"] == "59350"
    assert "atelier-fives" in ok(run("actor", "list"))
    ok(run("actor", "update", "atelier-fives", "--summary", "Ouvert à toutes et tous"))
    assert as_json(run("actor", "show", "atelier-fives", "--json"))["summary"] == "Ouvert à toutes et tous"

    listing_id = ok(run(*LOAN)).strip()
    assert listing_id.startswith(f"{BASE_URL}/listings/")
    uuid = listing_id.rsplit("/", 1)[-1]
    (listing,) = as_json(run("listing", "list", "--json"))
    assert (listing["id"], listing["action"], listing["deposit"], listing["tags"]) == (
        listing_id,
        "transferCustody",
        "30.00",
        ["Pret"],
    )
    assert "Perceuse" in ok(run("listing", "list"))
    ok(run("listing", "update", uuid, "--title", "Perceuse sans fil"))
    assert as_json(run("listing", "show", listing_id, "--json"))["title"] == "Perceuse sans fil"
    assert as_json(run("listing", "pause", uuid, "--json"))["state"] == "paused"
    assert as_json(run("listing", "show", uuid, "--json"))["state"] == "paused"
    assert as_json(run("listing", "resume", listing_id, "--json"))["state"] == "published"
    ok(run("listing", "delete", uuid))
    assert as_json(run("listing", "list", "--json")) == []
    assert run("listing", "show", uuid).exit_code == 3

    repair_id = ok(
        run("listing", "create", "--actor", "atelier-fives", "--kind", "repair", "--title", "Réparation vélo")
    ).strip()
    shown = ok(
        run(
            "availability",
            "set",
            "atelier-fives",
            "--hours",
            "tuesday 14:00-19:00",
            "--hours",
            "saturday 10:00-13:00",
            "--closure",
            "2025-12-24:2026-01-02",
            "--slot-minutes",
            "60",
            "--capacity",
            "2",
        )
    )
    assert "tuesday 14:00-19:00" in shown
    availability = as_json(run("availability", "show", "atelier-fives", "--json"))
    assert availability["repair_offer"] == repair_id
    assert availability["capacity"] == 2
    assert availability["closures"] == [{"start": "2025-12-24", "end": "2026-01-02"}]
    assert availability["next_slots"], availability
    assert all(slot["available"] == 2 for slot in availability["next_slots"])
    assert as_json(run("listing", "show", repair_id, "--json"))["next_slot"] is not None

    event_id = ok(
        run(
            "event",
            "create",
            "--actor",
            "atelier-fives",
            "--name",
            "Repair café de Fives",
            "--start",
            "2025-10-18T10:00:00+02:00",
            "--end",
            "2025-10-18T13:00:00+02:00",
            "--price",
            "prix libre",
        )
    ).strip()
    assert event_id.startswith(f"{BASE_URL}/events/")
    (event,) = as_json(run("event", "list", "--json"))
    assert (event["id"], event["price_text"], event["location"]["locality"]) == (
        event_id,
        "prix libre",
        "Lille",
    )
    assert "Repair café de Fives" in ok(run("event", "list"))
    ok(run("event", "cancel", event_id))
    assert as_json(run("event", "show", event_id, "--json"))["status"] == "CANCELLED"
    ok(run("event", "delete", event_id))
    assert as_json(run("event", "list", "--json")) == []


def test_from_json_with_options_overriding(run: Run, tmp_path: Path) -> None:
    body = {"username": "partage-lille", "kind": "cooperative", "name": "Partage Lille", "summary": "json"}
    (tmp_path / "actor.json").write_text(json.dumps(body), encoding="utf-8")
    ok(run("actor", "create", "--from-json", "actor.json", "--summary", "option"))
    listing = {
        "actor": "partage-lille",
        "kind": "service",
        "title": "Aide au déménagement",
        "category": "autres-services",
    }
    ok(run("listing", "create", "--from-json", "-", "--title", "Coup de main", stdin=json.dumps(listing)))
    (actor,) = as_json(run("actor", "list", "--json"))
    assert (actor["username"], actor["summary"]) == ("partage-lille", "option")
    (stored,) = as_json(run("listing", "list", "--json"))
    assert (stored["kind"], stored["title"]) == ("service", "Coup de main")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (["atelier", "--kind", "garage", "--name", "Atelier"], "kind"),
        (["Bad Name", "--kind", "workshop", "--name", "Atelier"], "username"),
        (["relay", "--kind", "workshop", "--name", "Atelier"], "reserved"),
        (["atelier", "--kind", "workshop"], "name"),
    ],
)
def test_bad_actor_input_stores_nothing(run: Run, arguments: list[str], field: str) -> None:
    result = run("actor", "create", *arguments)
    assert result.exit_code == 2, result.output
    assert field in result.stderr
    assert as_json(run("actor", "list", "--json")) == []


def test_duplicate_username_is_a_conflict(run: Run) -> None:
    ok(run(*WORKSHOP))
    result = run("actor", "create", "atelier-fives", "--kind", "place", "--name", "Autre")
    assert result.exit_code == 4, result.output
    assert "already taken" in result.stderr
    (actor,) = as_json(run("actor", "list", "--json"))
    assert actor["kind"] == "workshop"


def _with(option: str, value: str) -> list[str]:
    arguments = list(LOAN)
    arguments[arguments.index(option) + 1] = value
    return arguments


@pytest.mark.parametrize(
    ("arguments", "files", "message"),
    [
        (_with("--title", "x" * 121), {}, "title"),
        (_with("--category", "fusees"), {}, "category"),
        (_with("--actor", "Bad Name"), {}, "actor"),
        (
            ["listing", "create", "--from-json", "body.json"],
            {"body.json": '{"actor": "atelier-fives",'},
            "malformed",
        ),
        (["listing", "create", "--from-json", "body.json"], {"body.json": "[1, 2]"}, "JSON object"),
        (["listing", "create", "--from-json", "missing.json"], {}, "cannot read missing.json"),
        (["listing", "create", "--from-json", "body.json"], {"body.json": "\udcff"}, "not UTF-8"),
        (
            ["listing", "create", "--from-json", "body.json"],
            {
                "body.json": json.dumps(
                    {"actor": "atelier-fives", "kind": "service", "title": "T", "colour": "red"}
                )
            },
            "colour: unknown field",
        ),
        (
            [
                "listing",
                "create",
                "--actor",
                "atelier-fives",
                "--kind",
                "service",
                "--title",
                "T",
                "--deposit",
                "3",
            ],
            {},
            "loans only",
        ),
    ],
)
def test_bad_listing_input_stores_nothing(
    run: Run, tmp_path: Path, arguments: list[str], files: dict[str, str], message: str
) -> None:
    ok(run(*WORKSHOP))
    for name, text in files.items():
        (tmp_path / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    result = run(*arguments)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert as_json(run("listing", "list", "--json")) == []


def test_unknown_ids(run: Run) -> None:
    missing = "01a2223c-e605-72fc-ab00-342f124370ad"
    for command in ("show", "pause", "resume", "delete"):
        result = run("listing", command, missing)
        assert result.exit_code == 3, result.output
        assert f"no listing {missing}" in result.stderr
    result = run("event", "cancel", f"{BASE_URL}/events/{missing}")
    assert result.exit_code == 3, result.output
    result = run("listing", "show", "not-a-uuid")
    assert result.exit_code == 2, result.output
    assert "not a listing id" in result.stderr
    assert run("actor", "show", "nobody").exit_code == 3
    assert run("availability", "show", "nobody").exit_code == 3


def test_bad_availability_input(run: Run) -> None:
    ok(run(*WORKSHOP))
    result = run("availability", "set", "atelier-fives", "--hours", "mardi 14h")
    assert result.exit_code == 2, result.output
    assert "hours" in result.stderr
    result = run("availability", "set", "atelier-fives", "--hours", "tuesday 19:00-14:00")
    assert result.exit_code == 2, result.output
    assert "hours.0" in result.stderr
    assert run("availability", "show", "atelier-fives").exit_code == 3


def test_invalid_base_url_names_the_variable(run: Run) -> None:
    result = run("actor", "list", FEDICOOP_BASE_URL="ftp://velo-fives.example")
    assert result.exit_code == 5, result.output
    assert "FEDICOOP_BASE_URL" in result.stderr
