"""The servers of the inbox benchmark, each a process: the real node, and a bare verifying endpoint.

``python -m bench.servers node PORT DATABASE_URL DATA_DIR`` serves ``create_app`` (worker off) at
``http://127.0.0.1:PORT``; ``python -m bench.servers bare PORT KEY_FILE`` serves a starlette app whose
``POST /inbox`` only checks the HTTP signature with :class:`SignatureChecker` and a key held in memory
(``KEY_FILE``: JSON ``{"key_id", "owner", "pem"}``). Both run on uvicorn (uvloop and httptools when
installed, or as ``--loop``/``--http`` say) and print ``BENCH-READY`` once they accept connections.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
from pathlib import Path
from typing import Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from bench.common import READY, fast_http, fast_loop, run_async
from federation.errors import KeyUnavailableError, SignatureError
from federation.keys import load_public_key_pem
from federation.verifier import SignatureChecker, VerificationKey
from fedicoop.app import create_app
from fedicoop.clock import system_clock
from fedicoop.settings import Settings, load_settings


def node_settings(port: int, database_url: str, data_dir: str, *, worker: bool = False) -> Settings:
    """The settings of the benchmarked node: loopback peers allowed, the worker in the web process or not."""
    return load_settings(
        toml_file=None,
        env_file=None,
        base_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        data_dir=data_dir,
        insecure_peers=True,
        worker_in_serve=worker,
        demo=False,
    )


def bare_app(port: int, key: VerificationKey) -> Starlette:
    """``POST /inbox`` that reads the body, verifies the signature against ``key`` and answers 202."""

    async def retrieve(key_id: str, bypass_cache: bool) -> VerificationKey:
        if key_id != key.key_id:
            raise KeyUnavailableError(f"unknown key {key_id}")
        return key

    authority = f"127.0.0.1:{port}"
    checker = SignatureChecker(key_retriever=retrieve, hosts=[authority], now=system_clock)

    async def inbox(request: Request) -> Response:
        body = await request.body()
        pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]
        try:
            signer = await checker.verify("POST", f"http://{authority}/inbox", pairs, body)
        except SignatureError as exc:
            return Response(json.dumps({"error": str(exc)}), status_code=401, media_type="application/json")
        return Response(
            json.dumps({"status": "verified", "signer": signer}), 202, media_type="application/json"
        )

    return Starlette(routes=[Route("/inbox", inbox, methods=["POST"])])


async def serve(app: ASGIApp, port: int, http: str, *, lifespan: Literal["on", "off"]) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` and print the READY line once it listens."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=http, lifespan=lifespan, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    print(READY, port, flush=True)
    await task


def main() -> None:
    """Parse the arguments and serve until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("--loop", default=fast_loop(), choices=["uvloop", "asyncio"])
    parser.add_argument("--http", default=fast_http(), choices=["httptools", "h11"])
    commands = parser.add_subparsers(dest="command", required=True)
    node = commands.add_parser("node")
    node.add_argument("port", type=int)
    node.add_argument("database_url")
    node.add_argument("data_dir")
    node.add_argument("--worker", action="store_true", help="run the worker in the web process too")
    bare = commands.add_parser("bare")
    bare.add_argument("port", type=int)
    bare.add_argument("key_file", type=Path)
    options = parser.parse_args()
    if options.command == "node":
        settings = node_settings(options.port, options.database_url, options.data_dir, worker=options.worker)
        app = create_app(settings)
        gc.freeze()  # as `fedicoop serve` does once its app is built
        run_async(lambda: serve(app, options.port, options.http, lifespan="on"), options.loop)
        return
    data = json.loads(options.key_file.read_text())
    key = VerificationKey(data["key_id"], data["owner"], load_public_key_pem(data["pem"]))
    app = bare_app(options.port, key)
    gc.freeze()  # the same for the bare endpoint
    run_async(lambda: serve(app, options.port, options.http, lifespan="off"), options.loop)


if __name__ == "__main__":
    main()
