"""The browser tests' world: a portal with the demo data that follows a second real node, the origin.

Both are ``fedicoop serve`` processes on loopback (the harness of tests/e2e/nodes.py). The portal runs
with ``FEDICOOP_ROLE=portal`` and ``FEDICOOP_DEMO=1``; its application actor follows the origin's
(``relay@origin``), then the origin publishes, in Roubaix (Nord) and Arras (Pas-de-Calais), an offer, a
request, a workshop's repair offer with free slots and an event. :func:`start_portal` returns once the
portal's catalogue holds all of them, slots included, so every link the tests follow leads to a real page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.e2e.nodes import NodeFactory, NodeProcess, start_all
from tests.e2e.steps import wait_until

CATALOGUE_TIMEOUT = 60.0
ROUBAIX = {
    "name": "Roubaix",
    "latitude": 50.6912,
    "longitude": 3.174,
    "radius": 3000.0,
    "locality": "Roubaix",
}
ROUBAIX_WORKSHOP = {
    "name": "Local du Pile",
    "latitude": 50.6841,
    "longitude": 3.1787,
    "street_address": "3 rue de l'Essai",
    "postal_code": "59100",
    "locality": "Roubaix",
}
ARRAS = {"name": "Arras", "latitude": 50.2910, "longitude": 2.7775, "radius": 2000.0, "locality": "Arras"}
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class PortalWorld:
    """The two running nodes and the ids of what the origin published (as the portal's catalogue has them)."""

    portal: NodeProcess
    origin: NodeProcess
    offer: str
    request: str
    repair: str
    event: str
    cooperative: str
    workshop: str

    @property
    def published(self) -> frozenset[str]:
        """The ids of the origin's four publications."""
        return frozenset({self.offer, self.request, self.repair, self.event})


def _catalogue(on: NodeProcess, **filters: str) -> dict[str, dict[str, Any]]:
    response = on.api("GET", f"/catalogue?{urlencode({'limit': '100', **filters})}", expect=200)
    return {item["id"]: item for item in response.json()["items"]}


def _publish(origin: NodeProcess) -> dict[str, str]:
    """Create the origin's actors and publications through its API; return their ids by role."""
    ids: dict[str, str] = {}
    for username, kind, name, place in (
        ("recyclerie-roubaix", "cooperative", "La Recyclerie de Roubaix", ROUBAIX),
        ("atelier-pile", "workshop", "Atelier vélo du Pile", ROUBAIX_WORKSHOP),
    ):
        body = {"username": username, "kind": kind, "name": name, "location": place}
        ids[username] = str(origin.api("POST", "/actors", body, expect=201).json()["id"])
    hours = [{"day": day, "opens": "09:00", "closes": "18:00"} for day in WEEK]
    opening: dict[str, Any] = {"hours": hours, "slot_minutes": 60, "capacity": 2}
    origin.api("PUT", "/availability/atelier-pile", opening, expect=200)
    listings = {
        "offer": {
            "actor": "recyclerie-roubaix",
            "kind": "object",
            "exchange": "gift",
            "title": "Don : vélo de ville à remettre en état",
            "description": "Cadre acier, dérailleur à régler. À prendre sur place à Roubaix.",
            "category": "velos-accessoires",
            "location": ROUBAIX,
        },
        "request": {
            "actor": "recyclerie-roubaix",
            "kind": "object",
            "purpose": "request",
            "exchange": "loan",
            "title": "Recherche : scie circulaire pour un week-end",
            "description": "Pour découper des planches de chêne, à Arras.",
            "category": "travaux-outillage",
            "location": ARRAS,
        },
        "repair": {
            "actor": "atelier-pile",
            "kind": "repair",
            "title": "Réparation de vélos au Pile",
            "description": "Crevaisons, freins, dérailleurs : sur rendez-vous.",
            "category": "reparation-velo",
        },
    }
    for role, listing in listings.items():
        ids[role] = str(origin.api("POST", "/listings", listing, expect=201).json()["id"])
    start = (datetime.now(UTC) + timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)
    event = {
        "actor": "recyclerie-roubaix",
        "name": "Bourse aux vélos de Roubaix",
        "description": "Achat, vente et troc de vélos d'occasion, marquage contre le vol.",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=5)).isoformat(),
        "location": ROUBAIX,
    }
    ids["event"] = str(origin.api("POST", "/events", event, expect=201).json()["id"])
    return ids


def start_portal(directory: Path) -> tuple[NodeFactory, PortalWorld]:
    """Start the portal and the origin on SQLite, federate them and wait for the portal's catalogue.

    The caller closes the returned factory (it stops both nodes), also when this raises.
    """
    factory = NodeFactory("sqlite", directory)
    portal = factory.node("portal", env={"FEDICOOP_ROLE": "portal", "FEDICOOP_DEMO": "1"})
    origin = factory.node("origin")
    try:
        start_all([portal, origin])
        portal.cli("follow", "relay", f"relay@{origin.host}", check=True)

        def accepted() -> bool:
            rows = portal.api("GET", "/follows?state=accepted", expect=200).json()
            return any(row["target"] == origin.url("/actor") for row in rows)

        wait_until(accepted, "the portal's follow of relay@origin accepted", nodes=[portal, origin])
        ids = _publish(origin)
        wanted = {ids["offer"], ids["request"], ids["repair"], ids["event"]}

        def arrived() -> bool:
            items = _catalogue(portal)
            return wanted <= set(items) and bool(items[ids["repair"]].get("next_slots"))

        wait_until(
            arrived,
            "the origin's four publications (and the slots) in the portal's catalogue",
            timeout=CATALOGUE_TIMEOUT,
            nodes=[portal, origin],
        )
    except BaseException:
        factory.close()
        raise
    world = PortalWorld(
        portal=portal,
        origin=origin,
        offer=ids["offer"],
        request=ids["request"],
        repair=ids["repair"],
        event=ids["event"],
        cooperative=ids["recyclerie-roubaix"],
        workshop=ids["atelier-pile"],
    )
    return factory, world
