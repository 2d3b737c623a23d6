"""A Rustine Libre instance imported by `fedicoop import rustine` federates to a following node.

The stand-in Rustine Libre API (``tests/fedicoop/connectors/rustine_standin.py``) runs in this test's
process, in a thread of its own, on the real clock. Node A imports it with its CLI, as an operator
would; node B's cooperative follows A's imported workshop. Then every change made at the source and
imported again reaches B: a new price (the repair offer's Update lands in B's catalogue), a changed
opening hour and a new closure (Updates of the actor, whose document B fetches again), and finally the
repairer's removal (Delete: the offer leaves B's catalogue and B forgets the actor).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.nodes import NodeFactory, NodeProcess
from tests.e2e.steps import catalogue, create_actor, db_rows, deliveries, wait_accepted, wait_until
from tests.fedicoop.connectors.rustine_standin import RustineStandIn, running_standin

SERVE_TIMEOUT = 30.0


@contextmanager
def standin_thread(standin: RustineStandIn) -> Iterator[str]:
    """Serve ``standin`` from a thread with its own event loop (the nodes' tests are synchronous)."""
    ready = threading.Event()
    failures: list[BaseException] = []
    control: dict[str, Any] = {}

    async def serve() -> None:
        control["loop"], control["stop"] = asyncio.get_running_loop(), asyncio.Event()
        async with running_standin(standin):
            ready.set()
            await control["stop"].wait()

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported to the test below
            failures.append(exc)
            ready.set()

    thread = threading.Thread(target=main, name="rustine-standin", daemon=True)
    thread.start()
    if not ready.wait(SERVE_TIMEOUT) or failures:
        raise RuntimeError(f"the Rustine stand-in did not start: {failures!r}")
    try:
        yield standin.base_url
    finally:
        control["loop"].call_soon_threadsafe(control["stop"].set)
        thread.join(SERVE_TIMEOUT)


def import_rustine(node: NodeProcess, url: str) -> dict[str, Any]:
    """Run ``fedicoop import rustine --url URL --json`` on ``node``; return its summary."""
    completed = node.cli("import", "rustine", "--url", url, "--json", check=True)
    summary: dict[str, Any] = json.loads(completed.stdout)
    assert summary["ok"] is True, summary
    return summary


def changes(summary: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    """(created, updated, withdrawn) per type of a run summary."""
    return {
        kind: (summary[kind]["created"], summary[kind]["updated"], summary[kind]["withdrawn"])
        for kind in ("actors", "listings", "events")
    }


def remote_document(node: NodeProcess, actor: str) -> dict[str, Any] | None:
    """The node's copy of a remote actor's document (None while it has none)."""
    rows = db_rows(node, f"SELECT document FROM remote_actor WHERE iri = '{actor}'")  # noqa: S608 - test URL
    if not rows:
        return None
    document = rows[0][0]
    parsed: dict[str, Any] = json.loads(document) if isinstance(document, str) else document
    return parsed


def is_gone(node: NodeProcess, actor: str) -> bool:
    """Whether the node marked a remote actor gone (its origin deleted it)."""
    rows = db_rows(node, f"SELECT gone FROM remote_actor WHERE iri = '{actor}'")  # noqa: S608 - test URL
    return bool(rows) and bool(rows[0][0])


def hours_of(document: dict[str, Any] | None) -> list[tuple[tuple[str, ...], str, str]]:
    """The weekly ranges of an actor document's ``openingHoursSpecification``."""
    entries = (document or {}).get("openingHoursSpecification") or []
    return [
        (tuple(day.rsplit("/", 1)[-1] for day in entry["dayOfWeek"]), entry["opens"], entry["closes"])
        for entry in entries
        if "dayOfWeek" in entry
    ]


def closures_of(document: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The closures of an actor document's ``openingHoursSpecification``."""
    entries = (document or {}).get("openingHoursSpecification") or []
    return [(entry["validFrom"], entry["validThrough"]) for entry in entries if "validFrom" in entry]


def offers_of(node: NodeProcess, actor: str) -> list[dict[str, Any]]:
    """The repair offers of ``actor`` in the node's catalogue."""
    return [item for item in catalogue(node, kind="repair") if item["actor"] == actor]


def test_rustine_import_federates_changes_to_a_follower(node_factory: NodeFactory) -> None:
    a, b = node_factory.start("a", "b")
    nodes = [a, b]
    standin = RustineStandIn.from_fixtures()
    with standin_thread(standin) as url:
        first = import_rustine(a, url)
        assert changes(first)["actors"] == (3, 0, 0)
        assert changes(first)["listings"] == (3, 0, 0)
        assert first["events"]["created"] >= 16  # four weeks of Tuesday–Saturday sessions, minus closures
        assert {(item["kind"], item["id"]) for item in first["skipped"]} == {("served-commune", "2 Mouscron")}

        # A second run with no change sends nothing.
        queued = {row["id"] for row in deliveries(a)}
        again = import_rustine(a, url)
        assert set(changes(again).values()) == {(0, 0, 0)}
        assert again["actors"]["unchanged"] == 3
        assert {row["id"] for row in deliveries(a)} == queued

        workshop = a.url("/actors/atelier-velo-de-fives")
        document = a.get_json(workshop)
        assert document["type"] == "Organization" and document["name"] == "Atelier vélo de Fives"
        assert hours_of(document)[0] == (("Tuesday", "Wednesday", "Thursday", "Friday"), "14:00", "19:00")
        text = json.dumps(document, ensure_ascii=False)
        assert "06 12 34 56 78" not in text and "jeanne.martin" not in text

        coop_b = create_actor(b, "coop-b")
        b.cli("follow", "coop-b", f"atelier-velo-de-fives@{a.host}", check=True)
        wait_accepted(b, [(coop_b, workshop)], nodes)

        # A new price at the source: the repair offer's Update puts it in B's catalogue.
        standin.interventions[1][0]["price"] = 5500
        summary = import_rustine(a, url)
        assert changes(summary)["listings"] == (0, 1, 0)
        offers = wait_until(
            lambda: [
                item
                for item in offers_of(b, workshop)
                if "Révision 55 €" in item["content"] and item["next_slots"]
            ],
            "the repair offer's Update with the new price, and its slots, in B's catalogue",
            nodes=nodes,
        )
        assert offers[0]["slots_url"] == f"{offers[0]['id']}/slots"
        assert all(slot["available"] is None for slot in offers[0]["next_slots"])  # capacity unknown

        # A changed opening hour: the actor's Update reaches B, which fetches the new document.
        standin.set_hours(1, [("tuesday", "14:00", "20:00"), ("saturday", "10:00", "13:00")])
        summary = import_rustine(a, url)
        assert changes(summary)["actors"] == (0, 1, 0)
        wait_until(
            lambda: (
                hours_of(remote_document(b, workshop))
                == [(("Tuesday",), "14:00", "20:00"), (("Saturday",), "10:00", "13:00")]
            ),
            "the workshop's new hours in B's copy of its document",
            nodes=nodes,
        )

        # A new closure: another Update.
        today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).date()
        start, end = today + timedelta(days=40), today + timedelta(days=41)
        standin.add_closure(1, start, end)
        summary = import_rustine(a, url)
        assert changes(summary)["actors"] == (0, 1, 0)
        wait_until(
            lambda: (start.isoformat(), end.isoformat()) in closures_of(remote_document(b, workshop)),
            "the new closure in B's copy of the workshop's document",
            nodes=nodes,
        )

        # The repairer leaves the source: its offer is withdrawn and the actor deleted, on B too.
        standin.remove(1)
        summary = import_rustine(a, url)
        assert changes(summary)["actors"] == (0, 0, 1)
        assert changes(summary)["listings"] == (0, 0, 1)
        assert a.get(workshop).status_code == 410
        wait_until(lambda: not offers_of(b, workshop), "the offer gone from B's catalogue", nodes=nodes)
        wait_until(lambda: is_gone(b, workshop), "B marks the deleted workshop gone", nodes=nodes)
    assert not standin.requested("/appointments")
