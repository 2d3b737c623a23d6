"""Real nodes as separate processes: each publishes, serves the others over HTTP and survives SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.nodes import AS_JSON, JRD_JSON, NodeError, NodeFactory, NodeProcess


def publish_cooperative(node: NodeProcess, username: str) -> tuple[str, str]:
    """Create a cooperative and its loan offer through the node's API; return their ids."""
    actor = node.api(
        "POST",
        "/actors",
        {
            "username": username,
            "kind": "cooperative",
            "name": f"Coopérative {username}",
            "summary": "Coopérative d'échange de biens et de services.",
            "location": {"name": "Lille", "latitude": 50.6309, "longitude": 3.0709, "locality": "Lille"},
        },
        expect=201,
    ).json()
    offer = node.api(
        "POST",
        "/listings",
        {
            "actor": username,
            "kind": "object",
            "title": f"Prêt : perceuse de {username}",
            "category": "travaux-outillage",
            "exchange": "loan",
            "deposit": "30.00",
            "loan_duration": "P7D",
        },
        expect=201,
    ).json()
    return str(actor["id"]), str(offer["id"])


def fetch_activity(reader: NodeProcess, url: str) -> dict[str, Any]:
    """GET ``url`` (on another node) as ActivityStreams and check the media type of the answer."""
    response = reader.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(AS_JSON), response.headers["content-type"]
    document: dict[str, Any] = response.json()
    return document


def test_three_nodes_publish_and_serve_each_other(node_factory: NodeFactory) -> None:
    nodes = node_factory.start("a", "b", "c")
    assert len({node.port for node in nodes}) == 3
    published = {node.name: publish_cooperative(node, f"coop-{node.name}") for node in nodes}
    a, b, _ = nodes
    b_actor, b_offer = published["b"]
    assert b_actor == b.url("/actors/coop-b")

    for node in nodes:
        listed = node.api("GET", "/actors", expect=200).json()
        assert [actor["username"] for actor in listed] == [f"coop-{node.name}"]
        nodeinfo = node.get_json("/nodeinfo/2.1", accept="application/json")
        assert nodeinfo["usage"]["users"]["total"] == 1
        assert nodeinfo["usage"]["localPosts"] == 1
        assert nodeinfo["metadata"]["nodeName"] == node.name

    actor = fetch_activity(a, b_actor)
    assert actor["id"] == b_actor
    assert actor["type"] == "Organization"
    assert actor["preferredUsername"] == "coop-b"
    assert actor["inbox"].startswith(b.base_url + "/")
    assert actor["publicKey"]["owner"] == b_actor
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]

    offer = fetch_activity(a, b_offer)
    assert offer["id"] == b_offer
    assert offer["type"] == "Note"
    assert offer["attributedTo"] == b_actor
    assert offer["title"] == "Prêt : perceuse de coop-b"
    assert offer["publishes"]["resourceConformsTo"].endswith("/categories/travaux-outillage")

    finger = a.get(b.url(f"/.well-known/webfinger?resource={b.handle('coop-b')}"), accept=JRD_JSON)
    assert finger.status_code == 200, finger.text
    assert finger.headers["content-type"].startswith(JRD_JSON)
    jrd = finger.json()
    assert jrd["subject"] == b.handle("coop-b")
    assert [link["href"] for link in jrd["links"] if link["rel"] == "self"] == [b_actor]
    elsewhere = a.get(a.url(f"/.well-known/webfinger?resource={b.handle('coop-b')}"), accept=JRD_JSON)
    assert elsewhere.status_code == 404


def test_killed_node_restarts_with_its_data_on_the_same_port(node_factory: NodeFactory) -> None:
    a, b = node_factory.start("a", "b")
    b_actor, b_offer = publish_cooperative(b, "coop-b")
    before = (fetch_activity(a, b_actor), fetch_activity(a, b_offer))
    port, pid = b.port, b.pid
    assert pid is not None

    b.kill()
    assert not b.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(httpx.ConnectError):
        a.get(b_actor)

    b.restart()
    assert b.port == port
    assert b.pid != pid
    assert (fetch_activity(a, b_actor), fetch_activity(a, b_offer)) == before
    assert [row["id"] for row in b.api("GET", "/listings", expect=200).json()] == [b_offer]
    listed = b.cli("actor", "list", "--json", check=True)
    assert "coop-b" in listed.stdout
    assert b.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a clean shutdown
    assert "Application shutdown complete" in b.stderr_path.read_text(encoding="utf-8")
    assert a.get_json("/healthz", accept="application/json") == {"status": "ok"}


def test_start_failure_shows_the_node_log(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        node = NodeProcess("busy", tmp_path / "busy", port=taken.getsockname()[1])
        with pytest.raises(NodeError) as failure, node:
            pass
    message = str(failure.value)
    assert "`fedicoop serve` exited with code" in message
    assert "address already in use" in message
    assert not node.running


def test_a_port_taken_before_the_first_start_is_replaced(tmp_path: Path) -> None:
    node = NodeProcess("moved", tmp_path / "moved")
    clashing = node.port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", clashing))
        taken.listen()
        with node:
            assert node.port != clashing
            assert node.get_json("/healthz", accept="application/json") == {"status": "ok"}
            assert node.get_json("/actor")["id"] == f"http://127.0.0.1:{node.port}/actor"
    assert "address already in use" in (tmp_path / "moved" / "serve.1.stderr.log").read_text(encoding="utf-8")


def test_invalid_settings_stop_the_start_at_migrate(tmp_path: Path) -> None:
    node = NodeProcess("bad", tmp_path / "bad", env={"FEDICOOP_REGION_CODES": '["x"]'})
    with pytest.raises(NodeError, match="FEDICOOP_REGION_CODES"):
        node.start()
    assert not node.running
