"""Three real nodes federate: follows by handle, a catalogue kept current, unfollow, and a relay follow.

A's cooperative follows B's cooperative and B's workshop; B publishes an offer, a request, a repair
offer with open slots and an event; A's catalogue holds them, follows B's Update and Delete, and drops
B's cooperative once A unfollows it, after which B sends A nothing more. C's application actor follows
B's (``relay@B``) and so receives every public activity of B's actors, originals and Announces.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.nodes import NodeFactory, NodeProcess
from tests.e2e.steps import (
    catalogue,
    catalogue_ids,
    create_actor,
    deliveries,
    followers,
    inbox_of,
    open_workshop,
    publish_listing,
    wait_accepted,
    wait_until,
)


def by_id(node: NodeProcess, **filters: str) -> dict[str, dict[str, Any]]:
    """The node's catalogue items by id."""
    return {item["id"]: item for item in catalogue(node, **filters)}


def test_three_nodes_follow_publish_update_delete_unfollow_and_relay(node_factory: NodeFactory) -> None:
    a, b, c = node_factory.start("a", "b", "c")
    nodes = [a, b, c]
    coop_a = create_actor(a, "coop-a")
    coop_b = create_actor(b, "coop-b")
    atelier_b = create_actor(b, "atelier-b", kind="workshop")
    open_workshop(b, "atelier-b")

    # A's cooperative follows B's cooperative (API) and B's workshop (CLI), by handle; C follows relay@B.
    a.api("POST", "/follows", {"actor": "coop-a", "target": f"coop-b@{b.host}"}, expect=202)
    a.cli("follow", "coop-a", f"atelier-b@{b.host}", check=True)
    c.cli("follow", "relay", f"relay@{b.host}", check=True)
    wait_accepted(a, [(coop_a, coop_b), (coop_a, atelier_b)], nodes)
    wait_accepted(c, [(c.url("/actor"), b.url("/actor"))], nodes)
    assert {row["follower"] for row in followers(b, "coop-b")} == {coop_a}
    assert {row["follower"] for row in followers(b, "relay")} == {c.url("/actor")}

    # B publishes an offer, a request, a repair offer and an event.
    offer, offer_uuid = publish_listing(b, "coop-b", "Prêt : perceuse à percussion", exchange="loan")
    request, request_uuid = publish_listing(b, "coop-b", "Cherche un escabeau", purpose="request")
    repair, _ = publish_listing(
        b, "atelier-b", "Réparation de vélos", kind="repair", category="reparation-velo"
    )
    event = b.api(
        "POST",
        "/events",
        {
            "actor": "coop-b",
            "name": "Repair café de janvier",
            "start_time": "2031-01-11T10:00:00+01:00",
            "end_time": "2031-01-11T12:00:00+01:00",
        },
        expect=201,
    ).json()["id"]
    published = {offer, request, repair, event}

    def all_in_a_with_slots() -> dict[str, dict[str, Any]] | None:
        items = by_id(a)
        if set(items) != published or not items[repair]["next_slots"]:
            return None
        return items

    items = wait_until(
        all_in_a_with_slots, "B's four publications (and the slots) in A's catalogue", nodes=nodes
    )
    expected = {
        offer: ("offer", "offer", "Prêt : perceuse à percussion", coop_b),
        request: ("request", "request", "Cherche un escabeau", coop_b),
        repair: ("repair", "offer", "Réparation de vélos", atelier_b),
        event: ("event", None, "Repair café de janvier", coop_b),
    }
    assert {key: (i["kind"], i["purpose"], i["name"], i["actor"]) for key, i in items.items()} == expected
    slots = items[repair]["next_slots"]
    assert items[repair]["slots_url"] == f"{repair}/slots"
    assert items[repair]["slots_fetched_at"] is not None
    assert all(slot["id"].startswith(f"{repair}/slots") and slot["available"] == 2 for slot in slots)
    assert all(slot["start"] < slot["end"] for slot in slots)
    assert items[event]["starts_at"] == "2031-01-11T09:00:00Z"
    assert catalogue_ids(a, kind="repair") == [repair]
    assert catalogue_ids(a, purpose="request") == [request]
    assert set(catalogue_ids(a, actor=coop_b)) == {offer, request, event}
    assert catalogue_ids(a, q="perceuse") == [offer]

    # B updates the offer and deletes the request: A's catalogue follows.
    b.api("PATCH", f"/listings/{offer_uuid}", {"title": "Prêt : perceuse sans fil"}, expect=200)
    b.api("DELETE", f"/listings/{request_uuid}", expect=204)

    def updated_and_deleted() -> bool:
        items = by_id(a)
        return request not in items and items.get(offer, {}).get("name") == "Prêt : perceuse sans fil"

    wait_until(updated_and_deleted, "B's Update and Delete applied in A's catalogue", nodes=nodes)
    assert set(catalogue_ids(a)) == {offer, repair, event}
    assert catalogue_ids(a, q="perceuse sans fil") == [offer]

    # A unfollows B's cooperative: B's followers no longer list A, and B's next publication skips A.
    a.api("DELETE", f"/follows?actor=coop-a&target=coop-b@{b.host}", expect=204)
    wait_until(lambda: not followers(b, "coop-b"), "coop-a gone from coop-b's followers on B", nodes=nodes)
    assert {row["follower"] for row in followers(b, "atelier-b")} == {coop_a}
    wait_until(
        lambda: set(catalogue_ids(a)) == {repair}, "coop-b's items dropped from A's catalogue", nodes=nodes
    )
    before = {row["id"] for row in deliveries(b)}
    later, _ = publish_listing(b, "coop-b", "Don : scie égoïne", exchange="gift")
    new_rows = [row for row in deliveries(b) if row["id"] not in before]
    assert [row["inbox"] for row in new_rows if row["inbox"] == inbox_of(a)] == []
    assert {row["inbox"] for row in new_rows} == {inbox_of(c)}
    assert sorted(row["activity_type"] for row in new_rows) == ["Announce", "Create"]

    # C, following relay@B, holds every public publication of B's actors, current.
    def c_current() -> dict[str, dict[str, Any]] | None:
        items = by_id(c)
        return items if set(items) == {offer, repair, event, later} else None

    c_items = wait_until(c_current, "all of B's public publications in C's catalogue", nodes=nodes)
    assert c_items[offer]["name"] == "Prêt : perceuse sans fil"
    assert c_items[repair]["actor"] == atelier_b
    wait_until(
        lambda: by_id(c)[repair]["next_slots"], "the repair offer's slots in C's catalogue", nodes=nodes
    )
    assert catalogue_ids(a) == [repair]

    def delivered_to_c() -> list[dict[str, Any]] | None:
        rows = [
            row for row in deliveries(b) if row["inbox"] == inbox_of(c) and row["activity_type"] != "Accept"
        ]
        return rows if rows and all(row["state"] == "delivered" for row in rows) else None

    to_c = wait_until(delivered_to_c, "B's deliveries to C all delivered", nodes=nodes)
    count = {
        kind: sum(row["activity_type"] == kind for row in to_c) for kind in ("Create", "Update", "Delete")
    }
    assert count["Create"] == 5  # offer, request, repair offer, event, the gift after the unfollow
    assert count["Update"] >= 1 and count["Delete"] == 1
    announces = sum(row["activity_type"] == "Announce" for row in to_c)
    assert announces >= count["Create"] + count["Delete"] + 1  # each public Create, Update and Delete
    assert {row["recipient"] for row in to_c} == {c.url("/actor")}
