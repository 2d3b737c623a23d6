"""An EBS import between real nodes: node A imports an EBS database with `fedicoop import ebs`, node B
follows A's cooperative and A's imported place, and B's catalogue follows every change of the source.

The EBS database is the fixture one (tests/fixtures/ebs), read by a role that may only SELECT what the
connector needs. A run creates the place actors and the offers; B gets the members' offers, attributed
to A's cooperative and blurred to their communes; a renamed product arrives as an Update, a deleted one
as a Delete, a place removed from EBS as the Delete of its actor; a run with no change sends nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import postgres_enabled
from tests.e2e.nodes import NodeFactory, NodeProcess
from tests.e2e.steps import catalogue, create_actor, deliveries, wait_accepted, wait_until
from tests.fedicoop.connectors.ebs_database import EbsDatabase, ebs_database

SITE = "https://ebs-lille.example"
DRILL = "1ed7a2a8-0a77-6dbc-a34f-f3a729006754"
PLACE = "1ef00000-0000-6000-8000-e50000000003"
PERSONAL = (
    "Camille",
    "Martin",
    "Leroy",
    "camille.martin@",
    "+33612345678",
    "Secret Bien Gardé",
    "Confidences",
)


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not postgres_enabled(), reason="an EBS database is a PostgreSQL one"),
]


def product(number: int) -> str:
    """The id of fixture product ``number`` (1 is the drill)."""
    return DRILL if number == 1 else f"1ef00000-0000-6000-8000-b000000000{number:02d}"


def import_ebs(node: NodeProcess, ebs: EbsDatabase) -> dict[str, Any]:
    """Run ``fedicoop import ebs --json`` on ``node``; its summary."""
    completed = node.cli(
        "import",
        "ebs",
        "--database-url",
        ebs.reader_dsn,
        "--site-url",
        SITE,
        "--actor",
        "partage-lille",
        "--json",
        check=True,
    )
    summary: dict[str, Any] = json.loads(completed.stdout)
    return summary


def by_id(node: NodeProcess, **filters: str) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in catalogue(node, **filters)}


def test_ebs_import__a_following_node_sees_creates_updates_and_deletes(node_factory: NodeFactory) -> None:
    a, b = node_factory.start("a", "b")
    nodes = [a, b]
    coop_a = create_actor(a, "partage-lille")
    coop_b = create_actor(b, "coop-b")
    b.cli("follow", "coop-b", f"partage-lille@{a.host}", check=True)
    wait_accepted(b, [(coop_b, coop_a)], nodes)
    with ebs_database() as ebs:
        # The nodes run on the real clock: the trailer is lent out around today.
        ebs.execute(
            "UPDATE product_availability SET start_at = CURRENT_DATE - 2, end_at = CURRENT_DATE + 7 "
            "WHERE product_id = $1 AND type = 'unavailable'",
            product(2),
        )
        # The first run publishes the places and the offers; B gets the members' ones.
        first = import_ebs(a, ebs)
        assert first["ok"] is True
        assert (first["actors"]["created"], first["listings"]["created"], len(first["skipped"])) == (2, 8, 5)
        members = {a.url(f"/listings/{product(number)}") for number in (1, 2, 3, 5, 9, 10)}
        items = wait_until(
            lambda: (found := by_id(b, actor=coop_a)) and set(found) == members and found,
            "the members' six offers in B's catalogue",
            nodes=nodes,
        )
        drill = items[a.url(f"/listings/{DRILL}")]
        assert (drill["name"], drill["location_name"], drill["radius"], drill["commune_code"]) == (
            "Perceuse-visseuse 18 V",
            "Lille",
            7800,
            "59350",
        )
        assert drill["url"] == f"{SITE}/fr/produits/perceuse-visseuse-18-v/{DRILL}"
        assert drill["available"] is True
        unavailable = {key for key, item in items.items() if not item["available"]}
        assert unavailable == {a.url(f"/listings/{product(number)}") for number in (2, 5, 9, 10)}
        assert [text for text in PERSONAL if text in json.dumps(items, ensure_ascii=False)] == []

        # B follows the imported place too.
        place = a.url("/actors/objetotheque-de-fives")
        b.cli("follow", "coop-b", f"objetotheque-de-fives@{a.host}", check=True)
        wait_accepted(b, [(coop_b, coop_a), (coop_b, place)], nodes)

        # Changes at the source: a renamed drill, a deleted mower, a renamed raclette set (the place's).
        ebs.execute("UPDATE product SET name = 'Perceuse-visseuse sans fil' WHERE id = $1", DRILL)
        ebs.execute("UPDATE product SET status = 'deleted' WHERE id = $1", product(5))
        ebs.execute("UPDATE product SET name = 'Raclette pour huit' WHERE id = $1", product(4))
        second = import_ebs(a, ebs)
        assert (second["listings"]["updated"], second["listings"]["withdrawn"]) == (2, 1)

        def changed() -> bool:
            mine, theirs = by_id(b, actor=coop_a), by_id(b, actor=place)
            drill = mine.get(a.url(f"/listings/{DRILL}"), {})
            raclette = theirs.get(a.url(f"/listings/{product(4)}"), {})
            return (
                drill.get("name") == "Perceuse-visseuse sans fil"
                and a.url(f"/listings/{product(5)}") not in mine
                and raclette.get("name") == "Raclette pour huit"
            )

        wait_until(changed, "B's catalogue with the Update and the Delete", nodes=nodes)

        # A run with no change sends nothing.
        before = {row["id"] for row in deliveries(a)}
        third = import_ebs(a, ebs)
        assert third["listings"] == {"created": 0, "updated": 0, "withdrawn": 0, "unchanged": 7}
        assert {row["id"] for row in deliveries(a)} == before

        # The place leaves EBS: its actor is deleted, and its offers leave B's catalogue.
        ebs.execute('DELETE FROM "user" WHERE id = $1', PLACE)
        fourth = import_ebs(a, ebs)
        assert (fourth["actors"]["withdrawn"], fourth["listings"]["withdrawn"]) == (1, 2)
        wait_until(
            lambda: not by_id(b, actor=place), "the place's offers gone from B's catalogue", nodes=nodes
        )
        assert a.get(place).status_code == 410
