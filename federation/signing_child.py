"""The signing process (``python -m federation.signing_child``): frames in on stdin, signatures out on stdout.

:class:`~federation.signing_pool.SigningPool` starts it and is its only peer (:mod:`federation.signing_wire`
has the frames). It keeps the keys it is sent in memory only, answers every ``S`` frame in order, and
exits when stdin closes: when the pool closes it, or when the parent process dies. It ignores SIGINT and
SIGTERM, which a terminal or a service manager sends to the whole process group: the parent decides when
it stops, after the signatures of the deliveries in flight. A malformed frame stops it with status 2.
"""

from __future__ import annotations

import signal
import sys
from typing import BinaryIO

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from federation.errors import SigningProtocolError
from federation.keys import PrivateKey, sign_bytes
from federation.signing_wire import (
    FAILED,
    FORGET,
    HEADER,
    KEY,
    MAX_FRAME,
    OK,
    SIGN,
    parse_forget,
    parse_key,
    parse_sign,
    results_frame,
)

__all__ = ["Child", "main"]


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes, or None at end of stream before the first byte; raises when it ends midway."""
    data = stream.read(size)
    if not data:
        return None
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise SigningProtocolError(f"stdin closed after {len(data)} of {size} bytes")
        data += more
    return data


class Child:
    """The signing loop over a pair of binary streams, with the keys it was given."""

    def __init__(self, requests: BinaryIO, answers: BinaryIO) -> None:
        self._requests = requests
        self._answers = answers
        self._keys: dict[int, PrivateKey] = {}

    def run(self) -> None:
        """Handle frames until the requests stream ends."""
        while True:
            header = _read_exactly(self._requests, HEADER.size)
            if header is None:
                return
            kind, length = HEADER.unpack(header)
            if length > MAX_FRAME:
                raise SigningProtocolError(f"a {kind!r} frame announces {length} bytes, over {MAX_FRAME}")
            body = _read_exactly(self._requests, length) if length else b""
            if body is None:
                raise SigningProtocolError(f"stdin closed before the body of a {kind!r} frame")
            self.handle(kind, body)

    def handle(self, kind: bytes, body: bytes) -> None:
        """Apply one frame: keep or forget a key, or sign a batch and answer it."""
        if kind == KEY:
            handle, der = parse_key(body)
            try:
                key = serialization.load_der_private_key(der, password=None)
            except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
                raise SigningProtocolError(f"key {handle} does not load: {exc}") from exc
            if not isinstance(key, PrivateKey):
                raise SigningProtocolError(f"key {handle} is a {type(key).__name__}, which cannot sign here")
            self._keys[handle] = key
        elif kind == FORGET:
            self._keys.pop(parse_forget(body), None)
        elif kind == SIGN:
            batch, items = parse_sign(body)
            results = [self._sign(handle, data) for handle, data in items]
            self._answers.write(results_frame(batch, results))
            self._answers.flush()
        else:
            raise SigningProtocolError(f"unknown frame kind {kind!r}")

    def _sign(self, handle: int, data: bytes) -> tuple[int, bytes]:
        key = self._keys.get(handle)
        if key is None:
            return FAILED, f"no key under handle {handle}".encode()
        try:
            return OK, sign_bytes(key, data)[0]
        except Exception as exc:  # reported to the caller of this one signature
            return FAILED, f"{type(exc).__name__}: {exc}".encode()


def main() -> int:
    """Run the signing loop on stdin and stdout; anything printed goes to stderr, never into the frames."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        Child(requests, answers).run()
    except SigningProtocolError as exc:
        print(f"fedicoop signing process: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the parent is gone
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
