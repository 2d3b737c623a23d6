"""The delivery sinks of the fan-out benchmark: many loopback hosts served by one process.

``python -m bench.sinks KEY_FILE COUNT`` binds ``COUNT`` sockets on 127.0.0.1 (each port a distinct
host for the worker's per-host limit and connection pool) and serves them with a minimal HTTP/1.1
server: an asyncio protocol parsing with httptools, no web framework. It checks the draft-cavage
signature of every POST with :class:`SignatureChecker` and the key of ``KEY_FILE`` (held in memory, as
a cache would), answers 202 (401 when the signature fails, 400 on a request it cannot parse) and counts
what it received per ``(host, path, Digest)``. ``GET /__stats`` answers the counts as JSON. Prints
``BENCH-READY port…`` once it serves.

The sinks share the machine's two CPUs with the worker they measure, so they are kept as small as a
signature-checking endpoint can be: each cycle spent here is a cycle the worker does not get.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from collections import Counter
from typing import Any

import httptools

from bench.common import READY, fast_loop, run_async
from federation.errors import KeyUnavailableError, SignatureError
from federation.keys import load_public_key_pem
from federation.verifier import SignatureChecker, VerificationKey
from fedicoop.clock import system_clock

_ACCEPTED = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"
_REFUSED = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 13\r\n\r\nbad signature"
_MALFORMED = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Sink:
    """The counters of every sink host, and the signature check."""

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

    async def inbox(self, path: str, pairs: list[tuple[str, str]], body: bytes) -> bytes:
        """Check the signature, count the delivery; the raw response."""
        headers = dict(pairs)
        host = headers.get("host", "")
        try:
            await self.checker.verify("POST", f"http://{host}{path}", pairs, body)
        except SignatureError as exc:
            self.invalid[f"{type(exc).__name__}: {exc}"] += 1
            return _REFUSED
        self.received[(host, path, headers.get("digest", ""))] += 1
        return _ACCEPTED

    def stats(self) -> bytes:
        """Per Digest: deliveries received (distinct host and path) and duplicates; invalid ones."""
        per_digest: dict[str, dict[str, int]] = {}
        for (_, _, digest), count in self.received.items():
            entry = per_digest.setdefault(digest, {"deliveries": 0, "duplicates": 0, "hosts": 0})
            entry["deliveries"] += 1
            entry["duplicates"] += count - 1
        for digest, entry in per_digest.items():
            entry["hosts"] = len({host for host, _, seen in self.received if seen == digest})
        body = json.dumps({"digests": per_digest, "invalid": dict(self.invalid)}).encode()
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        return head.encode("ascii") + body


class SinkConnection(asyncio.Protocol):
    """One keep-alive connection: requests parsed by httptools, answered one after the other."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.url = b""
        self.pairs: list[tuple[str, str]] = []
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(_MALFORMED)
            self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.pairs = []
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.pairs.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        path = self.url.decode("ascii", "replace")
        if self.parser.get_method() == b"GET" and path == "/__stats":
            self._answer(self.sink.stats())
            return
        # The key is in memory: the check never waits, so it runs to completion right here.
        coroutine = self.sink.inbox(path, self.pairs, b"".join(self.body))
        try:
            coroutine.send(None)
        except StopIteration as done:
            self._answer(done.value)
        else:  # pragma: no cover - the in-memory key retriever never suspends
            coroutine.close()
            raise RuntimeError("the sink's signature check suspended")

    def _answer(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)


def main() -> None:
    """Bind the sockets, print their ports, serve until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.sinks")
    parser.add_argument("key_file")
    parser.add_argument("count", type=int)
    parser.add_argument("--loop", default=fast_loop(), choices=["uvloop", "asyncio"])
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

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        servers: list[Any] = []
        for sock in sockets:
            servers.append(await loop.create_server(lambda: SinkConnection(sink), sock=sock, backlog=4096))
        print(READY, *ports, flush=True)
        await asyncio.gather(*(server.serve_forever() for server in servers))

    run_async(serve, options.loop)


if __name__ == "__main__":
    main()
