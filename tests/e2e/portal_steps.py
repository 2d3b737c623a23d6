"""What the portal end-to-end test does to real nodes: place actors and publications, subscribe, search.

Places are real points inside communes of Hauts-de-France (checked against the territory package), with
their distance to the town hall of Roubaix, the centre of the radius searches. A loopback peer in its own
thread plays the fediverse users: a follower of a feed actor, and a forger of Announces.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import feedparser  # type: ignore[import-untyped]

from federation.auth import HttpSignatureAuth
from tests.e2e.nodes import NodeProcess
from tests.e2e.steps import db_rows, deliveries, followers
from tests.federation.loopback import Hit, Peer, running_peer
from tests.fedicoop.remote import Remote

FINAL_INBOX_STATES = frozenset({"processed", "ignored", "failed"})
PEER_START_TIMEOUT = 30.0


def place(name: str, latitude: float, longitude: float) -> dict[str, Any]:
    """A location as the API takes it: an exact point (no radius) named ``name``."""
    return {"name": name, "latitude": latitude, "longitude": longitude, "locality": name}


# Real points, with the commune the territory finds and the distance to Roubaix's town hall (59512).
ROUBAIX = place("Grand-Place de Roubaix", 50.6905, 3.1817)  # 59512, 0.5 km
CROIX = place("Croix", 50.6780, 3.1500)  # 59163, MEL, 2.2 km
WATTRELOS = place("Wattrelos", 50.7010, 3.2170)  # 59650, MEL, 3.2 km
VILLENEUVE_D_ASCQ = place("Villeneuve-d'Ascq", 50.6233, 3.1450)  # 59009, MEL, 7.8 km
LILLE = place("Lille, porte des Postes", 50.6175, 3.0505)  # 59350, MEL, 12.0 km
VALENCIENNES = place("Valenciennes", 50.3579, 3.5235)  # 59606, not in the MEL
ARRAS = place("Arras, place des Héros", 50.2913, 2.7779)  # 62041, 52.6 km
AMIENS = place("Amiens, cathédrale", 49.8947, 2.3022)  # 80021, 108.1 km

MEL = "200093201"
"""SIREN of the Métropole Européenne de Lille."""


def create_actor_at(
    node: NodeProcess, username: str, location: Mapping[str, Any], kind: str = "cooperative", **fields: Any
) -> str:
    """Create a local actor placed at ``location``; return its id."""
    body = {"username": username, "kind": kind, "name": f"{kind.title()} {username}", "location": location}
    return str(node.api("POST", "/actors", {**body, **fields}, expect=201).json()["id"])


def publish_at(
    node: NodeProcess, actor: str, title: str, location: Mapping[str, Any], **fields: Any
) -> tuple[str, str]:
    """Publish a listing of ``actor`` at ``location`` (an object offer unless ``fields`` say otherwise);
    return its id and uuid."""
    body = {"actor": actor, "kind": "object", "title": title, "location": location, **fields}
    created = node.api("POST", "/listings", body, expect=201).json()
    return str(created["id"]), str(created["api_url"]).rsplit("/", 1)[-1]


def publish_event_at(
    node: NodeProcess, actor: str, name: str, start: str, end: str, location: Mapping[str, Any]
) -> str:
    """Publish an event of ``actor`` at ``location`` from ``start`` to ``end``; return its id."""
    body = {"actor": actor, "name": name, "start_time": start, "end_time": end, "location": location}
    return str(node.api("POST", "/events", body, expect=201).json()["id"])


def subscribe(portal: NodeProcess, targets: Sequence[str]) -> list[dict[str, Any]]:
    """Subscribe the portal to ``targets`` (hosts, handles or actor URLs) in one
    ``POST /api/v1/subscriptions``; fail unless each was subscribed; return the results."""
    response = portal.api("POST", "/subscriptions", {"targets": list(targets)}, expect=200)
    results: list[dict[str, Any]] = response.json()["results"]
    failed = [result for result in results if result["outcome"] != "subscribed"]
    assert not failed, f"subscriptions failed: {failed}"
    return results


def search(node: NodeProcess, **params: str) -> dict[str, Any]:
    """One page (up to 100 items) of ``GET /api/v1/catalogue`` with ``params``."""
    query = urlencode({"limit": "100", **params})
    page: dict[str, Any] = node.api("GET", f"/catalogue?{query}", expect=200).json()
    return page


def search_ids(node: NodeProcess, **params: str) -> list[str]:
    """The ids found by a search, in the order of the results."""
    return [item["id"] for item in search(node, **params)["items"]]


def atom_ids(node: NodeProcess, **params: str) -> set[str]:
    """The entry ids of ``/catalogue.atom`` for a search (the catalogue item ids)."""
    response = node.get(f"/catalogue.atom?{urlencode(params)}", accept="application/atom+xml")
    assert response.status_code == 200, f"{response.status_code}: {response.text[:500]}"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, f"the Atom feed does not parse: {parsed.bozo_exception}"
    return {str(entry.id) for entry in parsed.entries}


def html_page(node: NodeProcess, path: str) -> str:
    """The text of an HTML page of the node; fails unless 200."""
    response = node.get(path, accept="text/html")
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:500]}"
    return response.text


def quiet(portal: NodeProcess, origins: Sequence[NodeProcess]) -> bool:
    """Whether every delivery of ``origins`` to the portal arrived and the portal processed its inbox."""
    for origin in origins:
        if any(row["host"] == portal.host and row["state"] != "delivered" for row in deliveries(origin)):
            return False
    states = {str(state) for (state,) in db_rows(portal, "SELECT DISTINCT state FROM inbox_item")}
    return states <= FINAL_INBOX_STATES


def inbox_states(node: NodeProcess, activities: Sequence[str]) -> dict[str, str | None]:
    """The processing state of each activity in the node's inbox (None when not stored)."""
    found = {
        str(iri): str(state) for iri, state in db_rows(node, "SELECT activity_iri, state FROM inbox_item")
    }
    return {activity: found.get(activity) for activity in activities}


def processed(node: NodeProcess, activities: Sequence[str]) -> dict[str, str]:
    """The states of ``activities`` once the node processed them all; empty while one is not."""
    states = inbox_states(node, activities)
    done = {key: state for key, state in states.items() if state in FINAL_INBOX_STATES}
    return done if len(done) == len(states) else {}


def signed_post(node: NodeProcess, remote: Remote, document: Mapping[str, Any], path: str = "/inbox") -> int:
    """POST ``document`` to the node's ``path``, signed with ``remote``'s key now; return the status."""
    body = json.dumps(document).encode()
    request = node.http.build_request(
        "POST", node.url(path), content=body, headers={"Content-Type": "application/activity+json"}
    )
    HttpSignatureAuth(remote.key_id, remote.key, now=lambda: datetime.now(UTC)).sign(request)
    return node.http.send(request).status_code


def received(peer: Peer, path: str) -> list[dict[str, Any]]:
    """The activities POSTed to ``path`` on the peer, signed, in order of arrival."""
    hits: list[Hit] = list(peer.hits)
    return [json.loads(hit.body) for hit in hits if hit.method == "POST" and hit.path == path and hit.body]


@contextmanager
def loopback_peer() -> Iterator[Peer]:
    """A loopback peer served by an event loop of its own in a thread, so that the test may block."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, Any] = {"stop": None, "peer": None}

    async def serve() -> None:
        box["stop"] = asyncio.Event()
        try:
            async with running_peer() as peer:
                box["peer"] = peer
                started.set()
                await box["stop"].wait()
        finally:
            started.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="portal-peer")
    thread.start()
    started.wait(PEER_START_TIMEOUT)
    try:
        if box["peer"] is None:
            raise RuntimeError("the loopback peer did not start")
        yield box["peer"]
    finally:
        if box["stop"] is not None:
            loop.call_soon_threadsafe(box["stop"].set)
        thread.join(PEER_START_TIMEOUT)
        loop.close()


def far_future() -> dict[str, str]:
    """A date range without any slot (a year from now, three days)."""
    start = date.today() + timedelta(days=365)
    return {"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()}


def announced(activities: list[dict[str, Any]], actor: str) -> set[str]:
    """The objects ``actor`` announced in ``activities``."""
    return {
        str(act["object"]) for act in activities if act.get("type") == "Announce" and act["actor"] == actor
    }


def undone(activities: list[dict[str, Any]], actor: str) -> set[str]:
    """The objects of the Announces ``actor`` undid in ``activities``."""
    return {
        str(act["object"]["object"])
        for act in activities
        if act.get("type") == "Undo" and act["actor"] == actor and isinstance(act.get("object"), dict)
    }


def feed_followers(portal: NodeProcess, feed_actor: str) -> set[str]:
    """The followers of a feed actor (``/api/v1/followers?actor=`` does not know
    feed actors)."""
    return {row["follower"] for row in followers(portal) if row["actor"] == feed_actor}
