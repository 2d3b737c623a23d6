"""The delivery sinks of the fan-out benchmark: many loopback hosts served by one process.

``python -m bench.sinks KEY_FILE COUNT`` binds ``COUNT`` sockets on 127.0.0.1 (each port a distinct
host for the worker's per-host limit and connection pool), serves them all with one starlette app on
uvicorn, checks the draft-cavage signature of every POST with :class:`SignatureChecker` and the key of
``KEY_FILE`` (held in memory, as a cache would), answers 202 (401 when the signature fails) and counts
what it received per ``(host, path, Digest)``. ``GET /__stats`` answers the counts as JSON. Prints
``BENCH-READY port…`` once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from collections import Counter

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.common import READY, fast_http, fast_loop, run_async
from federation.errors import KeyUnavailableError, SignatureError
from federation.keys import load_public_key_pem
from federation.verifier import SignatureChecker, VerificationKey
from fedicoop.clock import system_clock


class Sink:
    """The counters of every sink host."""

    def __init__(self, keys: dict[str, VerificationKey], authorities: list[str]) -> None:
        self.keys = keys
        self.checker = SignatureChecker(key_retriever=self._retrieve, hosts=authorities, now=system_clock)
        self.received: Counter[tuple[str, str, str]] = Counter()
        self.invalid: Counter[str] = Counter()

    async def _retrieve(self, key_id: str, bypass_cache: bool) -> VerificationKey:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyUnavailableError(f"unknown key {key_id}") from None

    async def inbox(self, request: Request) -> Response:
        """Check the signature, count the delivery, answer 202."""
        body = await request.body()
        pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]
        host = request.headers.get("host", "")
        path = request.scope["raw_path"].decode("ascii")
        try:
            await self.checker.verify("POST", f"http://{host}{path}", pairs, body)
        except SignatureError as exc:
            self.invalid[f"{type(exc).__name__}: {exc}"] += 1
            return Response(b"bad signature", status_code=401)
        self.received[(host, path, request.headers.get("digest", ""))] += 1
        return Response(status_code=202)

    async def stats(self, request: Request) -> Response:
        """Per Digest: deliveries received (distinct host and path) and duplicates; invalid ones."""
        per_digest: dict[str, dict[str, int]] = {}
        for (_, _, digest), count in self.received.items():
            entry = per_digest.setdefault(digest, {"deliveries": 0, "duplicates": 0, "hosts": 0})
            entry["deliveries"] += 1
            entry["duplicates"] += count - 1
        for digest, entry in per_digest.items():
            entry["hosts"] = len({host for host, _, seen in self.received if seen == digest})
        return JSONResponse({"digests": per_digest, "invalid": dict(self.invalid)})


def main() -> None:
    """Bind the sockets, print their ports, serve until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.sinks")
    parser.add_argument("key_file")
    parser.add_argument("count", type=int)
    parser.add_argument("--loop", default=fast_loop(), choices=["uvloop", "asyncio"])
    parser.add_argument("--http", default=fast_http(), choices=["httptools", "h11"])
    options = parser.parse_args()
    data = json.loads(open(options.key_file).read())
    key = VerificationKey(data["key_id"], data["owner"], load_public_key_pem(data["pem"]))
    sockets = []
    for _ in range(options.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    ports = [sock.getsockname()[1] for sock in sockets]
    sink = Sink({key.key_id: key}, [f"127.0.0.1:{port}" for port in ports])
    app = Starlette(
        routes=[Route("/__stats", sink.stats), Route("/{path:path}", sink.inbox, methods=["POST"])]
    )
    config = uvicorn.Config(
        app, http=options.http, lifespan="off", log_level="warning", access_log=False, backlog=4096
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=sockets))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        print(READY, *ports, flush=True)
        await task

    run_async(serve, options.loop)


if __name__ == "__main__":
    main()
