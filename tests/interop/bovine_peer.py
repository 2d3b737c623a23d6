"""bovine-herd 0.5.19 as a real, independent peer: installed from PyPI, run as a process on 127.0.0.1.

bovine pins versions that conflict with ours, so :func:`install_bovine` makes a virtualenv of its own
(``python -m venv --without-pip``, then our pip installs into it with ``pip --python``). A
:class:`BovinePeer` is one bovine-herd server (hypercorn serving a Quart app with ``BovineHerd``, as
bovine-herd's README shows) on a free loopback port with its own SQLite database, and one actor:

- the actor is created before the server starts, in one process of bovine's venv calling the functions
  behind bovine-store's CLI (``create``, ``register --domain http://127.0.0.1:PORT``, ``key --add``,
  ``actor --name``). A ``http://`` domain gives ``http://`` ids, which bovine supports for tests;
- the test drives the actor as bovine's own clients do: POSTs to its outbox signed with Moo-Auth-1 (an
  Ed25519 key whose ``did:key`` is registered on the actor). bovine assigns the ids, stores the activity,
  signs and delivers it (its background tasks fetch each recipient with a signed GET first);
- what the actor received is read from bovine's database (its inbox collection and the stored
  objects), as bovine stored them: compacted against its internal ``about:bovine`` context.

bovine loads JSON-LD contexts over the network with ``requests`` and caches them in
``bovine_jsonld_cache.sqlite`` in its working directory. The peer seeds that cache with the contexts
bundled in :mod:`schemas.contexts` (byte copies of the published ones; bovine's built-in
ActivityStreams context is left to bovine), and points ``HTTP(S)_PROXY`` at a closed loopback port so
that any other fetch fails at once instead of leaving the machine. :meth:`BovinePeer.context_misses`
lists the contexts bovine could not load.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.auth import http_date
from federation.keys import ed25519_to_multibase
from schemas.contexts import context_files, read_context_text

BOVINE_REQUIREMENT = "bovine-herd==0.5.19"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS_JSON = "application/activity+json"
PIP_TIMEOUT = 600.0
SETUP_TIMEOUT = 60.0
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
WAIT_SECONDS = 15.0
BIND_ATTEMPTS = 3
LOG_TAIL_LINES = 60
BIND_FAILURE = re.compile(r"address already in use|error while attempting to bind", re.IGNORECASE)
CONTEXT_MISS = re.compile(r"Failed to load (\S+) with")
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")

APP_SOURCE = """\
import logging
import os

from quart import Quart

from bovine_herd import BovineHerd

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = Quart(__name__)
BovineHerd(app, db_url=os.environ["BOVINE_DB_URL"])
"""
"""The server: bovine-herd's documented minimal app, on the database named by ``BOVINE_DB_URL``."""

SETUP_SOURCE = """\
import asyncio
import json
import os
import sys

from bovine_store.utils.cli import create_tables, handle_actor_profile, handle_keys, register_new_user


async def main(domain, handle, did_key):
    db_url = os.environ["BOVINE_DB_URL"]
    await create_tables(db_url)
    name = await register_new_user(db_url, domain, handle)
    await handle_keys(db_url, name, False, False, did_key)
    print(json.dumps(await handle_actor_profile(db_url, name)))


asyncio.run(main(*sys.argv[1:]))
"""
"""bovine-store's CLI commands ``create``, ``register``, ``key --add`` and ``actor --name`` in one process."""


class BovinePeerError(Exception):
    """bovine could not be installed, started or driven; the message says why (with logs)."""


@dataclass(frozen=True, slots=True)
class BovineInstall:
    """A virtualenv holding bovine-herd, and how long installing it took."""

    root: Path
    seconds: float

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.root / "bin" / "python"

    @property
    def hypercorn(self) -> Path:
        """The ASGI server installed with bovine-herd (through Quart)."""
        return self.root / "bin" / "hypercorn"


def install_bovine(root: Path) -> BovineInstall:
    """Create a virtualenv at ``root`` and install :data:`BOVINE_REQUIREMENT` from PyPI into it.

    The venv is made without pip (saves bootstrapping it); the pip of the running interpreter installs
    into it through ``--python``. Raises :class:`BovinePeerError` with pip's output on any failure.
    """
    started = time.monotonic()
    commands = [
        [sys.executable, "-m", "venv", "--without-pip", str(root)],
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(root / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            BOVINE_REQUIREMENT,
        ],
    ]
    for command in commands:
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise BovinePeerError(f"{' '.join(command)} did not finish in {PIP_TIMEOUT:.0f} s") from exc
        if result.returncode != 0:
            raise BovinePeerError(
                f"installing {BOVINE_REQUIREMENT} failed: {' '.join(command)} exited {result.returncode}\n"
                f"{_last_lines(result.stdout + result.stderr)}"
            )
    install = BovineInstall(root=root, seconds=time.monotonic() - started)
    if not install.hypercorn.exists():
        raise BovinePeerError(f"{BOVINE_REQUIREMENT} installed but {install.hypercorn} is missing")
    return install


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (another process may take it: starts retry on a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def base58btc(data: bytes) -> str:
    """Base58 (bitcoin alphabet) of ``data``, leading zero bytes kept as ``1``.

    >>> base58btc(b"hello world")
    'StV1DL6CwTryKyV'
    """
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, remainder = divmod(number, 58)
        digits = _BASE58_ALPHABET[remainder] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def seed_jsonld_cache(path: Path) -> list[str]:
    """Write bovine's JSON-LD context cache: every bundled context but ActivityStreams; return the URLs."""
    rows = []
    for url in sorted(context_files()):
        if url.rstrip("/").removesuffix(".jsonld") in {AS_CONTEXT, AS_CONTEXT.replace("https:", "http:")}:
            continue
        rows.append((url, json.dumps(json.loads(read_context_text(url))["@context"])))
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS jsonld (url TEXT PRIMARY KEY, context TEXT)")
        connection.executemany("INSERT OR REPLACE INTO jsonld VALUES (?, ?)", rows)
    connection.close()
    return [url for url, _ in rows]


class MooAuth(httpx.Auth):
    """bovine's client authentication, Moo-Auth-1, with an Ed25519 key registered on the actor.

    The signed string is draft-cavage's: ``(request-target)`` (method and path, no query, as bovine
    checks it), ``host``, ``date`` and, for a POST, ``digest`` (bovine compares ``sha-256=…`` as a
    string, lowercase). The signature is a base58btc multibase string, the key a ``did:key``.
    """

    requires_request_body = True

    def __init__(self, key: ed25519.Ed25519PrivateKey, *, now: Callable[[], datetime]) -> None:
        self._key = key
        self._now = now
        self.did_key = "did:key:" + ed25519_to_multibase(key.public_key())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add ``Host``, ``Date``, ``Digest`` (POST), ``Authorization`` and ``X-Moo-Signature``."""
        host = request.url.netloc.decode("ascii")
        date = http_date(self._now())
        fields = [("(request-target)", f"{request.method.lower()} {request.url.path}"), ("host", host)]
        fields.append(("date", date))
        request.headers["Host"] = host
        request.headers["Date"] = date
        if request.method.upper() == "POST":
            digest = "sha-256=" + base64.b64encode(hashlib.sha256(request.content).digest()).decode("ascii")
            request.headers["Digest"] = digest
            fields.append(("digest", digest))
        message = "\n".join(f"{name}: {value}" for name, value in fields).encode("utf-8")
        request.headers["Authorization"] = f"Moo-Auth-1 {self.did_key}"
        request.headers["X-Moo-Signature"] = "z" + base58btc(self._key.sign(message))
        yield request


class BovinePeer:
    """One running bovine-herd server with one actor, driven through its outbox; see the module docstring.

    Build it with ``await BovinePeer.start(install, directory)`` and always ``await peer.stop()``.
    """

    def __init__(self, install: BovineInstall, directory: Path, handle: str) -> None:
        self.install = install
        self.directory = directory
        self.handle = handle
        self.port = 0
        self.actor: dict[str, Any] = {}
        self.start_seconds = 0.0
        self.log_path = directory / "bovine.log"
        self.database = directory / "bovine.sqlite3"
        self._key = ed25519.Ed25519PrivateKey.generate()
        self._auth = MooAuth(self._key, now=lambda: datetime.now(UTC))
        self._process: asyncio.subprocess.Process | None = None
        self._client: httpx.AsyncClient | None = None

    @classmethod
    async def start(cls, install: BovineInstall, directory: Path, *, handle: str = "moocow") -> BovinePeer:
        """Create the actor and start the server on a free port (retried if the port was taken)."""
        peer = cls(install, directory, handle)
        started = time.monotonic()
        for attempt in range(1, BIND_ATTEMPTS + 1):
            try:
                await peer._launch(free_port())
            except BovinePeerError:
                await peer.stop()
                if attempt == BIND_ATTEMPTS or not BIND_FAILURE.search(peer.log()):
                    raise
                continue
            break
        peer.start_seconds = time.monotonic() - started
        return peer

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def actor_id(self) -> str:
        """The id of the bovine actor (``http://127.0.0.1:<port>/endpoints/<token>``)."""
        value: str = self.actor["id"]
        return value

    @property
    def key_id(self) -> str:
        """The keyId bovine signs this actor's requests with (``<actor id>#serverKey``)."""
        value: str = self.actor["publicKey"]["id"]
        return value

    @property
    def public_key_pem(self) -> str:
        """The actor's RSA public key, as its actor document publishes it."""
        value: str = self.actor["publicKey"]["publicKeyPem"]
        return value

    @property
    def application_actor_id(self) -> str:
        """bovine's application actor, which signs the GETs that fetch keys."""
        return f"{self.base_url}/activitypub/bovine"

    def _environment(self) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARIABLES}
        dead_proxy = f"http://127.0.0.1:{free_port()}"
        environment.update(
            BOVINE_DB_URL=f"sqlite://{self.database}",
            HTTP_PROXY=dead_proxy,
            HTTPS_PROXY=dead_proxy,
            NO_PROXY="127.0.0.1,localhost",
            PYTHONUNBUFFERED="1",
        )
        return environment

    def _prepare(self) -> None:
        """Write the app, the actor setup script and the seeded context cache; drop an older database."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.database.unlink(missing_ok=True)
        (self.directory / "bovine_app.py").write_text(APP_SOURCE, encoding="utf-8")
        (self.directory / "setup_actor.py").write_text(SETUP_SOURCE, encoding="utf-8")
        seed_jsonld_cache(self.directory / "bovine_jsonld_cache.sqlite")

    async def _launch(self, port: int) -> None:
        self.port = port
        await asyncio.to_thread(self._prepare)
        environment = self._environment()
        self.actor = await self._create_actor(environment)
        log = await asyncio.to_thread(self.log_path.open, "ab")
        try:
            self._process = await asyncio.create_subprocess_exec(
                str(self.install.hypercorn),
                *("--bind", f"127.0.0.1:{port}", "--access-logfile", "-", "--error-logfile", "-"),
                "bovine_app:app",
                cwd=self.directory,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        self._client = httpx.AsyncClient(timeout=10.0, trust_env=False)
        await self._wait_ready()

    async def _create_actor(self, environment: dict[str, str]) -> dict[str, Any]:
        process = await asyncio.create_subprocess_exec(
            str(self.install.python),
            "setup_actor.py",
            self.base_url,
            self.handle,
            self._auth.did_key,
            cwd=self.directory,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), SETUP_TIMEOUT)
        except TimeoutError as exc:
            process.kill()
            await process.wait()
            raise BovinePeerError(f"creating the bovine actor took more than {SETUP_TIMEOUT:.0f} s") from exc
        text = out.decode("utf-8", "replace").strip()
        if process.returncode != 0 or not text:
            raise BovinePeerError(
                f"creating the bovine actor failed (exit {process.returncode}):\n"
                f"{_last_lines(text + err.decode('utf-8', 'replace'))}"
            )
        document: dict[str, Any] = json.loads(text.splitlines()[-1])
        return document

    async def _wait_ready(self) -> None:
        assert self._process is not None and self._client is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise BovinePeerError(f"bovine exited with {self._process.returncode}:\n{self.log()}")
            try:
                response = await self._client.get(f"{self.base_url}/.well-known/nodeinfo")
            except httpx.TransportError:
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 200:
                return
            raise BovinePeerError(f"bovine answered {response.status_code} to its nodeinfo:\n{self.log()}")
        raise BovinePeerError(f"bovine did not answer within {STARTUP_TIMEOUT:.0f} s:\n{self.log()}")

    async def post_outbox(self, activity: dict[str, Any]) -> str:
        """POST ``activity`` to the actor's outbox as its client; return the id bovine gave it."""
        assert self._client is not None, "the peer is not running"
        body = json.dumps({"@context": AS_CONTEXT, **activity}).encode("utf-8")
        response = await self._client.post(
            self.actor["outbox"], content=body, headers={"Content-Type": AS_JSON}, auth=self._auth
        )
        if response.status_code != 201 or "location" not in response.headers:
            raise BovinePeerError(f"bovine's outbox answered {response.status_code}: {response.text}")
        return response.headers["location"]

    async def follow(self, target_actor_id: str) -> str:
        """Make the actor follow ``target_actor_id``; return the id of the Follow."""
        return await self.post_outbox(
            {"type": "Follow", "actor": self.actor_id, "object": target_actor_id, "to": [target_actor_id]}
        )

    async def accept(self, follow: dict[str, Any]) -> str:
        """Accept a Follow the actor received (bovine never accepts by itself); return the Accept's id."""
        return await self.post_outbox(
            {"type": "Accept", "actor": self.actor_id, "object": follow, "to": [follow["actor"]]}
        )

    async def send_create_note(self, content: str, *, to: Iterable[str], cc: Iterable[str] = ()) -> str:
        """Publish a Note addressed to ``to``/``cc`` (actor ids or collections); return the Create's id."""
        to_list, cc_list = list(to), list(cc)
        note = {
            "type": "Note",
            "attributedTo": self.actor_id,
            "content": content,
            "to": to_list,
            "cc": cc_list,
            "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return await self.post_outbox(
            {"type": "Create", "actor": self.actor_id, "object": note, "to": to_list, "cc": cc_list}
        )

    def _query(self, sql: str, parameters: tuple[str, ...]) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5.0)
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()

    async def collection(self, collection_id: str) -> list[str]:
        """The item ids of one of the actor's collections (``actor["followers"]``…), oldest first."""
        sql = "SELECT object_id FROM collectionitem WHERE part_of = ? ORDER BY id"
        rows = await asyncio.to_thread(self._query, sql, (collection_id,))
        return [row[0] for row in rows]

    async def stored(self, object_id: str) -> dict[str, Any] | None:
        """An object as bovine stored it (embedded objects are stored apart and referenced by id)."""
        sql = "SELECT content FROM storedjsonobject WHERE id = ?"
        rows = await asyncio.to_thread(self._query, sql, (object_id,))
        return _json(rows[0][0]) if rows else None

    async def inbox_items(self) -> list[dict[str, Any]]:
        """Everything in the actor's inbox, oldest first, as bovine stored it."""
        rows = await asyncio.to_thread(
            self._query,
            "SELECT o.content FROM collectionitem c JOIN storedjsonobject o ON o.id = c.object_id "
            "WHERE c.part_of = ? ORDER BY c.id",
            (self.actor["inbox"],),
        )
        return [_json(row[0]) for row in rows]

    async def wait_for_inbox(
        self, predicate: Callable[[dict[str, Any]], bool], *, seconds: float = WAIT_SECONDS
    ) -> dict[str, Any]:
        """The first inbox item matching ``predicate``, waiting for bovine's background processing."""
        deadline = time.monotonic() + seconds
        while True:
            for item in await self.inbox_items():
                if predicate(item):
                    return item
            if time.monotonic() > deadline:
                raise BovinePeerError(f"no matching inbox item after {seconds:.0f} s:\n{self.log()}")
            await asyncio.sleep(0.1)

    async def wait_for_collection(
        self, collection_id: str, item: str, *, seconds: float = WAIT_SECONDS
    ) -> None:
        """Wait until ``item`` is in ``collection_id`` (e.g. an actor in ``actor["following"]``)."""
        deadline = time.monotonic() + seconds
        while item not in await self.collection(collection_id):
            if time.monotonic() > deadline:
                raise BovinePeerError(f"{item} not in {collection_id} after {seconds:.0f} s:\n{self.log()}")
            await asyncio.sleep(0.1)

    def context_misses(self) -> list[str]:
        """JSON-LD context URLs bovine failed to load (it then uses an empty context): should be none."""
        return CONTEXT_MISS.findall(self.log(lines=None))

    def log(self, lines: int | None = LOG_TAIL_LINES) -> str:
        """The server's log (its last ``lines`` lines; all of it with ``None``)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return text if lines is None else "\n".join(text.splitlines()[-lines:])

    async def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT`) and close the client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
        await process.wait()


def _json(value: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(value) if isinstance(value, str | bytes) else value
    return document


def _last_lines(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
