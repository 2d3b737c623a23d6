"""What both benchmarks share: subprocesses that report ready, ports, keys, signed requests, statistics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from federation.auth import HttpSignatureAuth
from federation.http import Request
from federation.keys import generate_rsa_keypair, load_private_key

PG_ADMIN_DSN = os.environ.get("FEDICOOP_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
READY = "BENCH-READY"
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rsa_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key."""
    key = load_private_key(generate_rsa_keypair().private_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def fast_loop() -> str:
    """``uvloop`` when installed, else ``asyncio`` (uvicorn's ``loop`` option)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def fast_http() -> str:
    """``httptools`` when installed, else ``h11`` (uvicorn's ``http`` option)."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def run_async(main: Callable[[], Any], loop: str) -> Any:
    """Run a coroutine function on uvloop (when ``loop`` says so) or the default asyncio loop."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main())
    return asyncio.run(main())


def signed_post(url: str, body: bytes, key_id: str, key: rsa.RSAPrivateKey, now: datetime) -> bytes:
    """The raw bytes of an HTTP/1.1 keep-alive POST of ``body`` to ``url``, signed by the real signer."""
    request = Request("POST", url, content=body, headers={"Content-Type": "application/activity+json"})
    HttpSignatureAuth(key_id, key, now=lambda: now).sign(request)
    lines = [f"POST {request.url.raw_path.decode('ascii')} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in request.headers.multi_items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_signing_rate(seconds: float = 2.0) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second, one process, one thread (``cryptography``).

    The signed strings have the size of a cavage signing string of a delivery (about 250 bytes).
    """
    key = rsa_key()
    message = b"(request-target): post /users/1/inbox\nhost: 127.0.0.1:40000\n" + b"x" * 190
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for index in range(20):
            key.sign(message + str(index).encode(), padding.PKCS1v15(), hashes.SHA256())
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


@dataclass(frozen=True, slots=True)
class Summary:
    """The median, lowest and highest of some figures."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        """Summarise ``values`` (at least one)."""
        return cls(statistics.median(values), min(values), max(values))

    def show(self, digits: int = 0) -> str:
        """``median (low–high)``."""
        return f"{self.median:.{digits}f} ({self.low:.{digits}f}-{self.high:.{digits}f})"


class Process:
    """A benchmark subprocess (``python -m bench.<module> …``) that prints a READY line when it serves."""

    def __init__(self, process: asyncio.subprocess.Process, name: str, log: Path) -> None:
        self.process = process
        self.name = name
        self.log = log
        self.ready: list[str] = []

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@contextlib.asynccontextmanager
async def started(module: str, args: Sequence[str], log_dir: Path) -> AsyncIterator[Process]:
    """Run ``python -m bench.<module> args`` until the block ends; wait for its READY line first."""
    name = f"{module}-{uuid.uuid4().hex[:6]}"
    log = log_dir / f"{name}.log"
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"bench.{module}", *args, stdout=asyncio.subprocess.PIPE, stderr=errors
        )
    handle = Process(process, name, log)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        text = line.decode().strip()
        if not text.startswith(READY):
            raise RuntimeError(f"{module} did not start: {text!r}\n{log.read_text(errors='replace')[-3000:]}")
        handle.ready = text.split()[1:]
        yield handle
    finally:
        await handle.stop()


async def run_json(module: str, args: Sequence[str], log_dir: Path) -> dict[str, Any]:
    """Run ``python -m bench.<module> args`` to completion and return the JSON it prints."""
    log = log_dir / f"{module}-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"bench.{module}", *args, stdout=asyncio.subprocess.PIPE, stderr=errors
        )
        output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(
            f"{module} failed ({process.returncode}): {log.read_text(errors='replace')[-3000:]}"
        )
    result: dict[str, Any] = json.loads(output)
    return result


async def _pg_admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def database_url(kind: str, directory: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file in ``directory``, or a new PostgreSQL one (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite://{directory / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    name = f"fc_bench_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        base, _, _ = PG_ADMIN_DSN.rpartition("/")
        yield f"{base}/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
