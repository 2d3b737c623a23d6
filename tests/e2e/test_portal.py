"""A portal and three nodes in three départements: subscriptions, search, moves, deletes and forgeries.

Node A publishes in the Nord (59: Roubaix, Croix, Wattrelos, Villeneuve-d'Ascq and Lille in the
Métropole Européenne de Lille, Valenciennes outside it), node B in the Pas-de-Calais (62: Arras), node C
in the Somme (80: Amiens). The portal (``FEDICOOP_ROLE=portal``) subscribes to the three nodes'
application actors and must then find exactly the expected items by text (accents, plurals, case),
territory (département, EPCI, commune), radius (10 km around Roubaix, nearest first) and date (events in
a range; a repair slot in the next 3 days within 10 km of Roubaix). An Update that moves an offer to
Arras moves it in the results; a Delete removes an offer from the results, the Atom feed and the view of
a feed actor's follower (``Undo`` of the ``Announce``); Announces forged by a stranger are not shown; an
author that is not indexable is not searchable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.nodes import NodeFactory, start_all
from tests.e2e.portal_steps import (
    AMIENS,
    ARRAS,
    CROIX,
    LILLE,
    MEL,
    ROUBAIX,
    VALENCIENNES,
    VILLENEUVE_D_ASCQ,
    WATTRELOS,
    announced,
    atom_ids,
    create_actor_at,
    far_future,
    feed_followers,
    html_page,
    loopback_peer,
    processed,
    publish_at,
    publish_event_at,
    quiet,
    received,
    search,
    search_ids,
    signed_post,
    subscribe,
    undone,
)
from tests.e2e.steps import open_workshop, wait_until
from tests.fedicoop.remote import PUBLIC, Remote

PARIS = ZoneInfo("Europe/Paris")
FEED = "dons-62"
"""The portal's feed actor: offers in the Pas-de-Calais."""

LISTINGS: dict[str, tuple[str, str, str, dict[str, Any], dict[str, str]]] = {
    "drill": ("a", "coop-roubaix", "Prêt de perceuses à percussion", ROUBAIX, {"exchange": "loan"}),
    "ladder": ("a", "coop-roubaix", "Cherche un escabeau", LILLE, {"purpose": "request"}),
    "cargo": (
        "a",
        "coop-roubaix",
        "Vélo cargo à prêter",
        VILLENEUVE_D_ASCQ,
        {"category": "velos-accessoires"},
    ),
    "bike-repair": (
        "a",
        "atelier-croix",
        "Réparation de vélos et de trottinettes",
        CROIX,
        {"kind": "repair"},
    ),
    "pc-repair": ("a", "atelier-wattrelos", "Réparation d'ordinateurs", WATTRELOS, {"kind": "repair"}),
    "chairs": ("b", "coop-arras", "Don de chaises en bois", ARRAS, {"exchange": "gift"}),
    "appliance-repair": (
        "b",
        "atelier-arras",
        "Réparation de petit électroménager",
        ARRAS,
        {"kind": "repair"},
    ),
    "mower": ("c", "coop-amiens", "Recherche d'une tondeuse", AMIENS, {"purpose": "request"}),
    "books": ("c", "coop-amiens", "Échange de livres anciens", AMIENS, {"exchange": "swap"}),
}
"""Listings by label: node, author, title, place, other fields."""

EVENTS: dict[str, tuple[str, str, str, str, dict[str, Any]]] = {
    "cafe": ("a", "coop-roubaix", "Repair café de Valenciennes", "2031-01-11", VALENCIENNES),
    "fete": ("b", "coop-arras", "Fête de la réparation", "2031-03-15", ARRAS),
    "sewing": ("c", "coop-amiens", "Atelier couture et tricot", "2031-01-18", AMIENS),
}
"""Events by label: node, organiser, name, day (10:00 to 12:00, Paris), place."""


class Published:
    """The catalogue items of the test by label, and back: assertions speak in labels."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def add(self, label: str, iri: str) -> str:
        """Remember ``iri`` as ``label``; return the iri."""
        self.ids[label] = iri
        return iri

    def labels(self, iris: Sequence[str]) -> list[str]:
        """The labels of ``iris`` in order (an unknown iri stays as it is)."""
        back = {iri: label for label, iri in self.ids.items()}
        return [back.get(iri, iri) for iri in iris]


def test_portal_subscribes_searches_and_follows_updates_deletes_and_forgeries(
    node_factory: NodeFactory,
) -> None:
    portal = node_factory.node("portal", env={"FEDICOOP_ROLE": "portal"})
    a, b, c = (node_factory.node(name) for name in ("a", "b", "c"))
    start_all([portal, a, b, c])
    nodes = [portal, a, b, c]
    items = Published()

    def found(**params: str) -> list[str]:
        return items.labels(search_ids(portal, **params))

    # The cooperatives and workshops of the three départements; one cooperative not indexable.
    create_actor_at(a, "coop-roubaix", ROUBAIX)
    create_actor_at(a, "atelier-croix", CROIX, kind="workshop")
    create_actor_at(a, "atelier-wattrelos", WATTRELOS, kind="workshop")  # no opening hours: no slot
    coop_arras = create_actor_at(b, "coop-arras", ARRAS)
    create_actor_at(b, "atelier-arras", ARRAS, kind="workshop")
    create_actor_at(c, "coop-amiens", AMIENS)
    create_actor_at(c, "coop-discrete", AMIENS, indexable=False)
    open_workshop(a, "atelier-croix")
    open_workshop(b, "atelier-arras")

    with loopback_peer() as peer:
        # A feed actor on the portal (offers in the Pas-de-Calais), followed by a fediverse user.
        portal.cli("feed", "create", FEED, "--kind", "offer", "--departement", "62", check=True)
        feed_actor = portal.url(f"/actors/{FEED}")
        reader = Remote.on(peer, "lectrice")
        mallory = Remote.on(peer, "mallory")
        reader_inbox = "/users/lectrice/inbox"
        peer.serve(reader_inbox, b"", status=202, method="POST")
        follow = reader.activity("Follow", 1, object=feed_actor)
        assert signed_post(portal, reader, follow) == 202

        # The portal subscribes to the three nodes: by host, by handle and by actor URL.
        results = subscribe(portal, [a.host, f"relay@{b.host}", c.url("/actor")])
        assert [result["subscription"]["actor"] for result in results] == [
            node.url("/actor") for node in (a, b, c)
        ]

        def subscribed() -> bool:
            rows = portal.api("GET", "/subscriptions?state=accepted", expect=200).json()
            return {row["actor"] for row in rows} == {node.url("/actor") for node in (a, b, c)}

        wait_until(subscribed, "the portal's three subscriptions accepted", nodes=nodes)
        wait_until(
            lambda: feed_followers(portal, feed_actor) == {reader.actor_id},
            "the reader follows the feed actor",
            nodes=nodes,
        )
        wait_until(
            lambda: [act["type"] for act in received(peer, reader_inbox)] == ["Accept"],
            "the feed actor's Accept at the reader",
            nodes=nodes,
        )

        # A publishes in the Nord, B in the Pas-de-Calais, C in the Somme.
        by_name = {"a": a, "b": b, "c": c}
        uuids = {}
        for label, (name, actor, title, where, fields) in LISTINGS.items():
            iri, uuids[label] = publish_at(by_name[name], actor, title, where, **fields)
            items.add(label, iri)
        for label, (name, actor, title, day, where) in EVENTS.items():
            start, end = f"{day}T10:00:00+01:00", f"{day}T12:00:00+01:00"
            items.add(label, publish_event_at(by_name[name], actor, title, start, end, where))
        chairs, cargo = items.ids["chairs"], items.ids["cargo"]
        everything = set(items.ids)

        def all_arrived() -> bool:
            page = search(portal)
            shown = set(items.labels([item["id"] for item in page["items"]]))
            slots = {item["id"]: item["next_slots"] for item in page["items"] if item["kind"] == "repair"}
            with_slots = {items.ids["bike-repair"], items.ids["appliance-repair"]}
            return (
                shown >= everything and all(slots.get(iri) for iri in with_slots) and quiet(portal, nodes[1:])
            )

        wait_until(all_arrived, "every publication (with the slots) in the portal's catalogue", nodes=nodes)

        # Everything, each placed in its commune (computed by the portal, no flag).
        page = search(portal)
        assert set(items.labels([item["id"] for item in page["items"]])) == everything
        assert page["total"] == len(everything)
        assert page["facets"]["departement"] == {"59": 6, "62": 3, "80": 3}
        placed = {items.labels([item["id"]])[0]: item for item in page["items"]}
        assert {label: item["commune_code"] for label, item in placed.items()} == {
            "drill": "59512",
            "ladder": "59350",
            "cargo": "59009",
            "bike-repair": "59163",
            "pc-repair": "59650",
            "cafe": "59606",
            "chairs": "62041",
            "appliance-repair": "62041",
            "fete": "62041",
            "mower": "80021",
            "books": "80021",
            "sewing": "80021",
        }
        assert all(item["territory_flags"] == [] for item in placed.values())

        # Text: accents, plurals, case and French stop words do not matter.
        assert found(q="perceuse") == ["drill"]
        assert found(q="VÉLOS cargos") == ["cargo"]
        # Every repair offer is in the category "Réparation de vélo" (the default of kind repair).
        assert set(found(q="vélos")) == {"cargo", "bike-repair", "pc-repair", "appliance-repair"}
        assert found(q="electromenager") == ["appliance-repair"]
        assert found(q="chaise bois") == ["chairs"]
        assert found(q="echanges de livres") == ["books"]
        assert found(q="tondeuse") == ["mower"]
        assert set(found(q="reparations")) == {"bike-repair", "pc-repair", "appliance-repair", "fete"}
        assert found(q="trottinette", departement="62") == []

        # Territory: département, EPCI (the MEL), commune.
        assert set(found(departement="59")) == {
            "drill",
            "ladder",
            "cargo",
            "bike-repair",
            "pc-repair",
            "cafe",
        }
        assert set(found(departement="62")) == {"chairs", "appliance-repair", "fete"}
        assert set(found(departement="80")) == {"mower", "books", "sewing"}
        assert set(found(epci=MEL)) == {"drill", "ladder", "cargo", "bike-repair", "pc-repair"}
        assert found(commune="59512") == ["drill"]
        assert set(found(commune="62041", kind="repair")) == {"appliance-repair"}

        # Radius: 10 km around Roubaix's town hall, nearest first (Lille's point is 12 km away).
        near = search(portal, near="59512", radius="10")
        assert items.labels([item["id"] for item in near["items"]]) == [
            "drill",
            "bike-repair",
            "pc-repair",
            "cargo",
        ]
        distances = [item["distance_m"] for item in near["items"]]
        assert distances == sorted(distances) and 7_000 < distances[-1] < 8_500 and distances[0] < 1_000

        # Dates: events in January 2031; a repair slot in the next 3 days within 10 km of Roubaix.
        assert set(found(kind="event", **{"from": "2031-01-01", "to": "2031-01-31"})) == {"cafe", "sewing"}
        today = datetime.now(PARIS).date()
        soon = {"from": today.isoformat(), "to": (today + timedelta(days=2)).isoformat()}
        assert found(kind="repair", near="59512", radius="10", **soon) == ["bike-repair"]
        assert set(found(kind="repair", **soon)) == {"bike-repair", "appliance-repair"}
        assert found(kind="repair", near="59512", radius="10", **far_future()) == []

        # The Atom feed and the results page show the Pas-de-Calais offer; the feed actor announced it.
        assert atom_ids(portal, departement="62", kind="offer") == {chairs}
        assert "Don de chaises en bois" in html_page(portal, "/catalogue?departement=62")
        wait_until(
            lambda: announced(received(peer, reader_inbox), feed_actor) == {chairs},
            "the feed actor's Announce of the chairs at the reader",
            nodes=nodes,
        )

        # Forged Announces by a stranger: an object B does not serve, an object on the stranger's host
        # claiming B's author, and B's real event with a forged name (the origin's version wins).
        forged_on_b = chairs.rsplit("/", 1)[0] + "/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
        forged_here = peer.url("/notes/faux-don")
        fake = {"type": "Note", "name": "Faux don de vélo", "attributedTo": coop_arras, "to": [PUBLIC]}
        peer.serve(
            "/notes/faux-don",
            {"@context": "https://www.w3.org/ns/activitystreams", "id": forged_here, **fake},
        )
        forgeries = [
            mallory.activity("Announce", 1, object={"id": forged_on_b, **fake}, to=[PUBLIC]),
            mallory.activity("Announce", 2, object=forged_here, to=[PUBLIC]),
            mallory.activity(
                "Announce",
                3,
                object={"id": items.ids["fete"], "type": "Event", "name": "Fête annulée", "to": [PUBLIC]},
                to=[PUBLIC],
            ),
        ]
        assert [signed_post(portal, mallory, forgery) for forgery in forgeries] == [202, 202, 202]
        forgery_ids = [forgery["id"] for forgery in forgeries]
        states = wait_until(
            lambda: processed(portal, forgery_ids), "the forged Announces processed", nodes=nodes
        )
        assert list(states.values()) == ["ignored", "ignored", "processed"]  # the last: B's own version
        assert peer.requests_to("/notes/faux-don"), "the portal never fetched the stranger's object"
        assert set(search_ids(portal)) == {items.ids[label] for label in everything}
        assert found(q="faux") == [] and found(q="annulee") == []
        fete = next(item for item in search(portal, q="fete")["items"] if item["id"] == items.ids["fete"])
        assert fete["name"] == "Fête de la réparation"
        assert "Faux don" not in html_page(portal, "/catalogue?q=don")

        # An Update moves the cargo bike from Villeneuve-d'Ascq (MEL, 7.8 km) to Arras.
        a.api("PATCH", f"/listings/{uuids['cargo']}", {"location": ARRAS}, expect=200)
        wait_until(
            lambda: cargo in search_ids(portal, commune="62041"), "the cargo bike moved to Arras", nodes=nodes
        )
        assert found(near="59512", radius="10") == ["drill", "bike-repair", "pc-repair"]
        assert set(found(epci=MEL)) == {"drill", "ladder", "bike-repair", "pc-repair"}
        assert set(found(departement="62")) == {"chairs", "appliance-repair", "fete", "cargo"}
        assert found(commune="59009") == []
        assert atom_ids(portal, departement="62", kind="offer") == {chairs, cargo}

        # A Delete of the chairs: gone from the results, the Atom feed, the page and the reader's view.
        b.api("DELETE", f"/listings/{uuids['chairs']}", expect=204)
        wait_until(lambda: chairs not in search_ids(portal), "the chairs gone from the portal", nodes=nodes)
        assert found(q="chaise") == []
        assert set(found(departement="62")) == {"appliance-repair", "fete", "cargo"}
        assert atom_ids(portal, departement="62", kind="offer") == {cargo}
        assert "Don de chaises en bois" not in html_page(portal, "/catalogue?departement=62")
        wait_until(
            lambda: undone(received(peer, reader_inbox), feed_actor) == {chairs},
            "the feed actor's Undo of its Announce of the chairs at the reader",
            nodes=nodes,
        )
        assert announced(received(peer, reader_inbox), feed_actor) == {chairs, cargo}

    # An author that is not indexable: its offer reaches the portal, which neither lists nor finds it.
    hidden, _ = publish_at(c, "coop-discrete", "Prêt d'une tondeuse discrète", AMIENS, exchange="loan")
    items.add("hidden", hidden)
    wait_until(lambda: quiet(portal, nodes[1:]), "the portal processed C's last publication", nodes=nodes)
    assert found(q="tondeuse") == ["mower"]
    assert set(found(departement="80")) == {"mower", "books", "sewing"}
    assert "discrète" not in html_page(portal, "/catalogue?q=tondeuse")

    # The commonest French article is no word to find.
    assert found(q="les échanges de livres") == ["books"]
    assert found(q="les vélos cargos") == ["cargo"]
