"""The inbox benchmark: signed Creates verified and persisted per second, against a verify-only endpoint.

The real node (``create_app`` on uvicorn, its own process, SQLite or PostgreSQL) and the bare endpoint
(same stack, signature check only, key in memory) each get the same kind of load from
:mod:`bench.loadgen` in another process: pre-signed Creates with distinct ids, over ``concurrency``
keep-alive connections. The remote actor's key is served by a loopback server in this process; the
node fetches it once (during the untimed warm-up) and caches it, as it does in production. After the
runs every activity sent to the node must be in ``inbox_item`` exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.common import Summary, database_url, free_port, rsa_key, run_json, signed_post, started
from bench.loadgen import write_requests
from bench.servers import node_settings
from federation.keys import public_key_to_pem
from fedicoop.db import migrate_database, open_database
from fedicoop.models.inbox import InboxItem

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
CONTENT = "Vélo de ville à donner, bon état, pneus neufs ; à retirer à l'atelier le samedi matin. " * 3


@dataclass
class InboxResult:
    """The figures of the inbox benchmark: one rate per run for each server, and the checks."""

    node_rates: list[float] = field(default_factory=list)
    bare_rates: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    persisted: int = 0
    expected: int = 0

    def lines(self) -> list[str]:
        """The report printed by ``python -m bench``."""
        return [
            f"inbox: node {Summary.of(self.node_rates).show()} activities/s "
            f"(runs: {', '.join(f'{rate:.0f}' for rate in self.node_rates)})",
            f"inbox: bare verify-only endpoint {Summary.of(self.bare_rates).show()} requests/s "
            f"(runs: {', '.join(f'{rate:.0f}' for rate in self.bare_rates)})",
            f"inbox: ratio {Summary.of(self.ratios).show(2)} "
            f"(runs: {', '.join(f'{r:.2f}' for r in self.ratios)}); target >= 0.5",
            f"inbox: persisted exactly once: {self.persisted}/{self.expected}",
        ]


def actor_document(actor_id: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The remote actor publishing the key that signs the Creates."""
    return {
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": "Person",
        "preferredUsername": "bench",
        "inbox": f"{actor_id}/inbox",
        "publicKey": {
            "id": f"{actor_id}#main-key",
            "owner": actor_id,
            "publicKeyPem": public_key_to_pem(key.public_key()),
        },
    }


def create(actor_id: str, label: str) -> bytes:
    """A public Create of a Note with ids ending in ``label``."""
    document = {
        "@context": AS,
        "id": f"{actor_id}/activities/{label}",
        "type": "Create",
        "actor": actor_id,
        "published": "2025-10-13T06:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{actor_id}/followers"],
        "object": {
            "id": f"{actor_id}/notes/{label}",
            "type": "Note",
            "attributedTo": actor_id,
            "content": CONTENT,
            "published": "2025-10-13T06:00:00Z",
            "to": [PUBLIC],
            "cc": [f"{actor_id}/followers"],
        },
    }
    return json.dumps(document).encode()


async def run_inbox(
    *, database: str, runs: int, requests: int, warmup: int, concurrency: int, work: Path
) -> InboxResult:
    """Measure ``runs`` times the node and the bare endpoint; check what the node stored."""
    key = rsa_key()
    key_port = free_port()
    actor_id = f"http://127.0.0.1:{key_port}/users/bench"
    key_id = f"{actor_id}#main-key"
    key_file = work / "bench-key.json"
    key_file.write_text(
        json.dumps({"key_id": key_id, "owner": actor_id, "pem": public_key_to_pem(key.public_key())})
    )
    result = InboxResult()
    expected: set[str] = set()
    node_port, bare_port = free_port(), free_port()
    bare_file = work / "bare-requests.bin"
    now = datetime.now(UTC)
    write_requests(
        bare_file,
        [
            signed_post(
                f"http://127.0.0.1:{bare_port}/inbox", create(actor_id, f"bare-{index}"), key_id, key, now
            )
            for index in range(warmup + requests)
        ],
    )
    document = actor_document(actor_id, key)
    async with database_url(database, work) as url:
        settings = node_settings(node_port, url, str(work))
        await migrate_database(settings)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(_serving_key(document, key_port))
            await stack.enter_async_context(started("servers", ["bare", str(bare_port), str(key_file)], work))
            node = await stack.enter_async_context(
                started("servers", ["node", str(node_port), url, str(work)], work)
            )
            for run in range(runs):
                labels = [f"run{run}-{index}" for index in range(warmup + requests)]
                expected.update(f"{actor_id}/activities/{label}" for label in labels)
                node_file = work / f"node-requests-{run}.bin"
                now = datetime.now(UTC)
                write_requests(
                    node_file,
                    [
                        signed_post(
                            f"http://127.0.0.1:{node_port}/inbox", create(actor_id, label), key_id, key, now
                        )
                        for label in labels
                    ],
                )
                order = [("node", node_port, node_file), ("bare", bare_port, bare_file)]
                if run % 2:
                    order.reverse()
                rates: dict[str, float] = {}
                for name, port, path in order:
                    answer = await run_json(
                        "loadgen",
                        [str(port), str(path), "--concurrency", str(concurrency), "--warmup", str(warmup)],
                        work,
                    )
                    if answer["statuses"] != {"202": requests}:
                        raise RuntimeError(f"{name} answered {answer['statuses']} (log: {node.log})")
                    if name == "node" and answer["stored"] != requests:
                        raise RuntimeError(
                            f"node stored {answer['stored']} of {requests} (others duplicates?)"
                        )
                    rates[name] = float(answer["rate"])
                result.node_rates.append(rates["node"])
                result.bare_rates.append(rates["bare"])
                result.ratios.append(rates["node"] / rates["bare"])
        async with open_database(settings):
            stored = [str(iri) for iri in await InboxItem.all().values_list("activity_iri", flat=True)]
    result.expected = len(expected)
    if len(stored) != len(set(stored)) or set(stored) != expected:
        raise RuntimeError(
            f"inbox_item holds {len(stored)} rows ({len(set(stored))} distinct) "
            f"for {len(expected)} activities sent"
        )
    result.persisted = len(stored)
    return result


@contextlib.asynccontextmanager
async def _serving_key(document: dict[str, Any], port: int) -> AsyncIterator[None]:
    body = json.dumps(document).encode()

    async def actor(request: Request) -> Response:
        return Response(body, media_type="application/activity+json")

    path = "/" + document["id"].split("/", 3)[3]
    app = Starlette(routes=[Route(path, actor)])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
