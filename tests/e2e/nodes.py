"""Real fedicoop nodes as separate processes: the harness of the end-to-end tests.

A :class:`NodeProcess` runs ``fedicoop migrate`` then ``fedicoop serve`` (the venv's console script) on
127.0.0.1 with a free port and its own database: a SQLite file in the node's directory, or a fresh
PostgreSQL database (:class:`PostgresDatabases`). Its output goes to one pair of log files per run,
shown in every error. A :class:`NodeFactory` starts several nodes in parallel threads and always stops
them and drops their databases, whatever happened in the test::

    a, b = node_factory.start("a", "b")              # the pytest fixture of tests/e2e/conftest.py
    actor = a.api("POST", "/actors", {...}, expect=201).json()["id"]
    b.get_json(actor)                                # GET as application/activity+json
    b.cli("following", "--json", check=True)         # any CLI command on b's settings and database
    b.kill(); b.restart()                            # SIGKILL, then the same port and database
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

import asyncpg
import httpx

from tests.conftest import SHARED_CACHE

FEDICOOP = Path(sys.executable).parent / "fedicoop"
AS_JSON = "application/activity+json"
JRD_JSON = "application/jrd+json"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 120.0
LOG_TAIL_LINES = 40
BIND_ATTEMPTS = 3
READY_LINE = "Uvicorn running on"
BIND_FAILURE = re.compile(r"error while attempting to bind|address already in use", re.IGNORECASE)

Backend = Literal["sqlite", "postgres"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgres")


class NodeError(Exception):
    """A node process did not start, stop or answer as expected; the message carries its log tails."""


@dataclass(frozen=True, slots=True)
class StartTiming:
    """How long one start took, in seconds: the ``migrate`` command, then ``serve`` until ready."""

    node: str
    migrate: float
    serve: float

    @property
    def total(self) -> float:
        """Migrate plus serve."""
        return self.migrate + self.serve


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (another process may take it: starts retry on a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file (empty when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class NodeProcess:
    """One ``fedicoop serve`` process with its settings, database, log files and HTTP client.

    ``directory`` holds the data directory, the SQLite file (when ``database_url`` is None) and the
    logs; the processes run in it, so no ``fedicoop.toml`` or ``.env`` of the caller is read. The port
    is chosen at the first start and kept by :meth:`restart`.
    """

    def __init__(
        self,
        name: str,
        directory: Path,
        *,
        database_url: str | None = None,
        port: int | None = None,
        token: str | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.name = name
        self.directory = directory
        self.database_url = database_url or f"sqlite://{directory / 'node.sqlite3'}"
        self.token = token or secrets.token_urlsafe(24)
        self.startup_timeout = startup_timeout
        self.timings: list[StartTiming] = []
        self._extra_env = dict(env or {})
        self._port = port
        self._port_fixed = port is not None
        self._process: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []
        self._runs = 0
        self._http: httpx.Client | None = None
        directory.mkdir(parents=True, exist_ok=True)

    # -- identity -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The node's port (chosen on first use)."""
        if self._port is None:
            self._port = free_port()
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, the node's FEDICOOP_BASE_URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``, the host part of the node's handles."""
        return f"127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """The environment of the node's processes (``serve`` and :meth:`cli` alike)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("FEDICOOP_")}
        env.update(
            {
                "FEDICOOP_BASE_URL": self.base_url,
                "FEDICOOP_INSECURE_PEERS": "1",
                "FEDICOOP_DEMO": "0",
                "FEDICOOP_ADMIN_TOKEN": self.token,
                "FEDICOOP_DATA_DIR": str(self.directory),
                "FEDICOOP_CACHE_DIR": str(SHARED_CACHE),
                "FEDICOOP_DATABASE_URL": self.database_url,
                "FEDICOOP_NODE_NAME": self.name,
                "FEDICOOP_LOG_LEVEL": "info",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self._extra_env)
        return env

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this node."""
        return f"{self.base_url}{path}"

    def handle(self, username: str) -> str:
        """``acct:username@127.0.0.1:<port>``, the WebFinger resource of a local actor."""
        return f"acct:{username}@{self.host}"

    # -- process --------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The ``serve`` process id, or None when it is not running."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def running(self) -> bool:
        """Whether the ``serve`` process is alive."""
        return self.pid is not None

    @property
    def stdout_path(self) -> Path:
        """The stdout log of the current (or last) run."""
        return self.directory / f"serve.{self._runs}.stdout.log"

    @property
    def stderr_path(self) -> Path:
        """The stderr log of the current (or last) run (uvicorn logs there)."""
        return self.directory / f"serve.{self._runs}.stderr.log"

    def logs(self, lines: int = LOG_TAIL_LINES) -> str:
        """The tails of the current run's stdout and stderr, labelled, for error messages."""
        stdout, stderr = self.stdout_path, self.stderr_path
        return (
            f"--- {self.name} ({self.base_url}) {stdout.name} ---\n{tail(stdout, lines)}\n"
            f"--- {self.name} {stderr.name} ---\n{tail(stderr, lines)}"
        )

    def start(self) -> StartTiming:
        """Migrate, start ``serve`` and wait until it answers ``/healthz``; raise NodeError otherwise.

        An automatically chosen port that another process took meanwhile is replaced by a new one (at
        most :data:`BIND_ATTEMPTS` tries); a fixed port (given, or kept after a first start) is not.
        """
        if self.running:
            raise NodeError(f"{self.name} is already running (pid {self.pid})")
        began = time.monotonic()
        self.cli("migrate", check=True)
        migrated = time.monotonic()
        for attempt in range(1, BIND_ATTEMPTS + 1):
            try:
                self._spawn_and_wait()
                break
            except NodeError:
                clash = BIND_FAILURE.search(tail(self.stderr_path))
                if self._port_fixed or not clash or attempt == BIND_ATTEMPTS:
                    raise
                self._port = free_port()
        self._port_fixed = True
        timing = StartTiming(self.name, migrated - began, time.monotonic() - migrated)
        self.timings.append(timing)
        return timing

    def _spawn_and_wait(self) -> None:
        self._runs += 1
        self._close_logs()
        stdout = self.stdout_path.open("wb")
        stderr = self.stderr_path.open("wb")
        self._logs = [stdout, stderr]
        self._process = subprocess.Popen(
            [str(FEDICOOP), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.directory,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self.startup_timeout
        last_error = f"no {READY_LINE!r} line on stderr yet"
        with httpx.Client(trust_env=False, timeout=2.0) as probe:
            while time.monotonic() < deadline:
                code = process.poll()
                if code is not None:
                    self._reap()
                    raise NodeError(f"{self.name}: `fedicoop serve` exited with code {code}\n{self.logs()}")
                if READY_LINE in tail(self.stderr_path, 200):
                    try:
                        response = probe.get(self.url("/healthz"))
                        if response.status_code == 200:
                            return
                        last_error = f"/healthz answered {response.status_code}"
                    except httpx.TransportError as exc:
                        last_error = f"/healthz: {exc!r}"
                time.sleep(0.05)
        self._signal(signal.SIGKILL)
        raise NodeError(
            f"{self.name}: not ready within {self.startup_timeout:.0f} s ({last_error})\n{self.logs()}"
        )

    def _signal(self, signum: int) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            self._reap()
            return
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass
        if signum == signal.SIGKILL:
            process.wait()
            self._reap()

    def _reap(self) -> None:
        self._process = None
        self._close_logs()

    def _close_logs(self) -> None:
        for log in self._logs:
            log.close()
        self._logs = []

    def kill(self) -> None:
        """SIGKILL the node (its whole process group) and wait for it: no shutdown, no cleanup."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM the node and wait for it; SIGKILL and raise NodeError when it outlives ``timeout``.

        Returns the exit code, or None when the node was not running.
        """
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                message = f"{self.name}: still running {timeout:.0f} s after SIGTERM\n{self.logs()}"
                raise NodeError(message) from None
        code = process.returncode
        self._reap()
        return code

    def restart(self) -> StartTiming:
        """Stop the node if it runs (SIGTERM), then start it again on the same port and database."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the node (SIGKILL if SIGTERM is not enough) and close its HTTP client; never raises."""
        try:
            self.stop()
        except NodeError:
            pass
        finally:
            self.kill()
            if self._http is not None:
                self._http.close()
                self._http = None

    def __enter__(self) -> NodeProcess:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # -- commands -------------------------------------------------------------------------------

    def cli(
        self, *args: str, input: str | None = None, check: bool = False, timeout: float = CLI_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run ``fedicoop *args`` with the node's settings and database; ``check`` raises NodeError."""
        completed = subprocess.run(
            [str(FEDICOOP), *args],
            cwd=self.directory,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise NodeError(
                f"{self.name}: `fedicoop {' '.join(args)}` exited with {completed.returncode}\n"
                f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
            )
        return completed

    # -- HTTP -----------------------------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        """A plain HTTP client of the test process (no proxies from the environment, 10 s timeout)."""
        if self._http is None:
            self._http = httpx.Client(trust_env=False, timeout=10.0)
        return self._http

    def _absolute(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else self.url(path_or_url)

    def api(self, method: str, path: str, json: Any = None, *, expect: int | None = None) -> httpx.Response:
        """Call ``/api/v1{path}`` with the admin bearer token; ``expect`` checks the status code."""
        response = self.http.request(
            method,
            self.url(f"/api/v1{path}"),
            json=json,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
        )
        if expect is not None and response.status_code != expect:
            raise NodeError(
                f"{self.name}: {method} /api/v1{path} answered {response.status_code}, expected {expect}: "
                f"{response.text[:2000]}"
            )
        return response

    def get(self, path_or_url: str, *, accept: str = AS_JSON) -> httpx.Response:
        """GET a path of this node, or any absolute URL, with ``Accept: accept``."""
        return self.http.get(self._absolute(path_or_url), headers={"Accept": accept})

    def get_json(self, path_or_url: str, *, accept: str = AS_JSON) -> dict[str, Any]:
        """GET a JSON object (ActivityStreams by default); raise NodeError unless 200 and a JSON object."""
        response = self.get(path_or_url, accept=accept)
        if response.status_code != 200:
            raise NodeError(f"GET {response.url} answered {response.status_code}: {response.text[:2000]}")
        document = response.json()
        if not isinstance(document, dict):
            raise NodeError(f"GET {response.url}: expected a JSON object, got {type(document).__name__}")
        return document

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<NodeProcess {self.name} {self.base_url} {state}>"


class PostgresDatabases:
    """Creates empty PostgreSQL databases on the test server and drops them (``WITH (FORCE)``)."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn

    def _execute(self, statement: str) -> None:
        async def run() -> None:
            connection = await asyncpg.connect(self.admin_dsn, timeout=10)
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        asyncio.run(run())

    def url(self, name: str) -> str:
        """The URL of database ``name`` on the admin DSN's server."""
        base, _, _ = self.admin_dsn.rpartition("/")
        return f"{base}/{name}"

    def create(self) -> str:
        """Create a fresh empty database and return its name."""
        name = f"fc_e2e_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}"')
        return name

    def drop(self, name: str) -> None:
        """Drop database ``name``, closing any connection left to it."""
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class NodeFactory:
    """Starts nodes on one backend, in parallel, and cleans them all up in :meth:`close`."""

    def __init__(
        self, backend: Backend, directory: Path, *, postgres: PostgresDatabases | None = None
    ) -> None:
        if backend == "postgres" and postgres is None:
            raise ValueError("the postgres backend needs a PostgresDatabases")
        self.backend = backend
        self.directory = directory
        self.postgres = postgres
        self.nodes: list[NodeProcess] = []
        self._databases: list[str] = []

    def node(self, name: str, **options: Any) -> NodeProcess:
        """A new node named ``name`` with its own database, not started yet."""
        if any(node.name == name for node in self.nodes):
            raise ValueError(f"there is already a node named {name!r}")
        database_url = None
        if self.postgres is not None and self.backend == "postgres":
            database = self.postgres.create()
            self._databases.append(database)
            database_url = self.postgres.url(database)
        node = NodeProcess(name, self.directory / name, database_url=database_url, **options)
        self.nodes.append(node)
        return node

    def start(self, *names: str, **options: Any) -> list[NodeProcess]:
        """Create and start one node per name, all at once; raise the first NodeError, if any."""
        nodes = [self.node(name, **options) for name in names]
        start_all(nodes)
        return nodes

    @property
    def timings(self) -> list[StartTiming]:
        """Every start of every node of this factory, in order."""
        return [timing for node in self.nodes for timing in node.timings]

    def logs(self) -> str:
        """The log tails of every node."""
        return "\n".join(node.logs() for node in self.nodes)

    def close(self) -> None:
        """Stop every node, then drop their databases."""
        for node in self.nodes:
            node.close()
        if self.postgres is not None:
            for database in self._databases:
                self.postgres.drop(database)
        self._databases = []


def start_all(nodes: Sequence[NodeProcess], start: Callable[[NodeProcess], object] | None = None) -> None:
    """Start ``nodes`` in parallel threads (``start`` defaults to :meth:`NodeProcess.start`).

    Waits for all of them; if any failed, raises the first failure's NodeError with the others' too.
    """
    action = start or NodeProcess.start
    with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as pool:
        futures = [pool.submit(action, node) for node in nodes]
        errors = [error for future in futures if (error := future.exception()) is not None]
    if errors:
        raise NodeError("\n\n".join(str(error) for error in errors)) from errors[0]


@contextmanager
def running_nodes(
    backend: Backend, directory: Path, *names: str, postgres: PostgresDatabases | None = None
) -> Iterator[list[NodeProcess]]:
    """Start ``names`` on ``backend`` for the ``with`` block, then stop them and drop their databases."""
    factory = NodeFactory(backend, directory, postgres=postgres)
    try:
        yield factory.start(*names)
    finally:
        factory.close()
