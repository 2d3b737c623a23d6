"""The load generator, a process of its own: pre-signed POSTs over keep-alive connections.

``python -m bench.loadgen PORT FILE --concurrency C --warmup W`` reads the raw requests of ``FILE``
(each a 4-byte big-endian length and the bytes), opens ``C`` HTTP/1.1 connections to 127.0.0.1:PORT,
sends the first ``W`` requests untimed, then the rest timed, each connection taking the next request
when its previous answer is read. Prints JSON: requests timed, seconds, statuses, answers that say
``"stored"``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench.common import fast_loop, run_async


def write_requests(path: Path, requests: list[bytes]) -> None:
    """Store raw requests in the file format :func:`read_requests` reads."""
    with path.open("wb") as out:
        for request in requests:
            out.write(struct.pack(">I", len(request)))
            out.write(request)


def read_requests(path: Path) -> list[bytes]:
    """The raw requests stored by :func:`write_requests`."""
    data = path.read_bytes()
    requests, offset = [], 0
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        requests.append(data[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return requests


async def _connection(
    port: int, requests: Iterator[bytes], statuses: Counter[int], stored: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            statuses[status] += 1
            if b'"stored"' in body:
                stored[0] += 1
    finally:
        writer.close()


async def _send(port: int, requests: list[bytes], concurrency: int) -> tuple[float, Counter[int], int]:
    statuses: Counter[int] = Counter()
    stored = [0]
    shared = iter(requests)
    start = time.perf_counter()
    await asyncio.gather(*(_connection(port, shared, statuses, stored) for _ in range(concurrency)))
    return time.perf_counter() - start, statuses, stored[0]


def main() -> None:
    """Parse the arguments, send the requests, print the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("port", type=int)
    parser.add_argument("file", type=Path)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=0)
    options = parser.parse_args()
    requests = read_requests(options.file)
    warmup, timed = requests[: options.warmup], requests[options.warmup :]

    async def run() -> dict[str, object]:
        if warmup:
            await _send(options.port, warmup, min(options.concurrency, len(warmup)))
        elapsed, statuses, stored = await _send(options.port, timed, options.concurrency)
        return {
            "requests": len(timed),
            "seconds": elapsed,
            "rate": len(timed) / elapsed,
            "statuses": {str(status): count for status, count in statuses.items()},
            "stored": stored,
        }

    json.dump(run_async(run, fast_loop()), sys.stdout)


if __name__ == "__main__":
    main()
