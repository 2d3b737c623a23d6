"""The frames the signing pool and its child process exchange over a pair of pipes.

Every frame is a kind byte, a 4-byte little-endian body length and the body. The parent sends:

- ``K`` handle, key: a private key (PKCS#8 DER) the child keeps under ``handle``;
- ``F`` handle: forget that key;
- ``S`` batch, items: sign each item's data with the key of its handle.

The child answers each ``S`` frame, in order, with one ``R`` frame: the batch number and, per item, a
status (``OK`` and the signature, or ``FAILED`` and the error text). Everything here is pure: it builds
and parses bytes.

>>> kind, body = split_frame(sign_frame(7, [(1, b"abc")]))
>>> kind, parse_sign(body)
(b'S', (7, [(1, b'abc')]))
>>> parse_results(split_frame(results_frame(7, [(OK, b"sig"), (FAILED, b"no key 3")]))[1])
(7, [(0, b'sig'), (1, b'no key 3')])
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from federation.errors import SigningProtocolError

__all__ = [
    "FAILED",
    "FORGET",
    "HEADER",
    "KEY",
    "MAX_FRAME",
    "OK",
    "RESULTS",
    "SIGN",
    "forget_frame",
    "frame",
    "key_frame",
    "parse_forget",
    "parse_key",
    "parse_results",
    "parse_sign",
    "results_frame",
    "sign_frame",
    "split_frame",
]

KEY = b"K"
FORGET = b"F"
SIGN = b"S"
RESULTS = b"R"
OK = 0
FAILED = 1

HEADER = struct.Struct("<cI")
"""A frame's kind and body length."""

MAX_FRAME = 16 * 1024 * 1024
"""The largest frame body either side accepts."""

_U32 = struct.Struct("<I")
_PAIR = struct.Struct("<II")
_ITEM = struct.Struct("<BI")


def frame(kind: bytes, body: bytes) -> bytes:
    """One frame: ``kind``, the body's length and the body."""
    if len(body) > MAX_FRAME:
        raise SigningProtocolError(f"a {kind!r} frame of {len(body)} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(kind, len(body)) + body


def split_frame(data: bytes) -> tuple[bytes, bytes]:
    """The kind and body of one whole frame (used by tests and doctests; the pipes read the header first)."""
    if len(data) < HEADER.size:
        raise SigningProtocolError(f"a frame of {len(data)} bytes has no header")
    kind, length = HEADER.unpack_from(data)
    if len(data) != HEADER.size + length:
        raise SigningProtocolError(f"a frame announces {length} bytes and holds {len(data) - HEADER.size}")
    return kind, data[HEADER.size :]


def key_frame(handle: int, der: bytes) -> bytes:
    """Ask the child to keep the PKCS#8 DER private key ``der`` under ``handle``."""
    return frame(KEY, _U32.pack(handle) + der)


def parse_key(body: bytes) -> tuple[int, bytes]:
    """The handle and DER key of a ``K`` body."""
    _check(body, _U32.size, "K")
    return _U32.unpack_from(body)[0], body[_U32.size :]


def forget_frame(handle: int) -> bytes:
    """Ask the child to forget the key under ``handle``."""
    return frame(FORGET, _U32.pack(handle))


def parse_forget(body: bytes) -> int:
    """The handle of an ``F`` body."""
    if len(body) != _U32.size:
        raise SigningProtocolError(f"an F frame holds {len(body)} bytes, not {_U32.size}")
    return int(_U32.unpack(body)[0])


def sign_frame(batch: int, items: Sequence[tuple[int, bytes]]) -> bytes:
    """Ask the child to sign each ``(handle, data)`` of ``items``, answering with batch number ``batch``."""
    return frame(SIGN, _pack_items(batch, items, _PAIR))


def parse_sign(body: bytes) -> tuple[int, list[tuple[int, bytes]]]:
    """The batch number and ``(handle, data)`` items of an ``S`` body."""
    return _unpack_items(body, _PAIR, "S")


def results_frame(batch: int, results: Sequence[tuple[int, bytes]]) -> bytes:
    """The child's answer to batch ``batch``: per item, ``OK`` and a signature or ``FAILED`` and a text."""
    return frame(RESULTS, _pack_items(batch, results, _ITEM))


def parse_results(body: bytes) -> tuple[int, list[tuple[int, bytes]]]:
    """The batch number and ``(status, bytes)`` results of an ``R`` body."""
    batch, results = _unpack_items(body, _ITEM, "R")
    for status, _ in results:
        if status not in (OK, FAILED):
            raise SigningProtocolError(f"an R frame holds the unknown status {status}")
    return batch, results


def _pack_items(batch: int, items: Sequence[tuple[int, bytes]], header: struct.Struct) -> bytes:
    """A batch number, a count, then per item ``header`` (a number and a length) and the bytes."""
    parts = [_PAIR.pack(batch, len(items))]
    for number, data in items:
        parts.append(header.pack(number, len(data)))
        parts.append(data)
    return b"".join(parts)


def _unpack_items(body: bytes, header: struct.Struct, kind: str) -> tuple[int, list[tuple[int, bytes]]]:
    _check(body, _PAIR.size, kind)
    batch, count = _PAIR.unpack_from(body)
    items: list[tuple[int, bytes]] = []
    offset = _PAIR.size
    for _ in range(count):
        _check(body, offset + header.size, kind)
        number, length = header.unpack_from(body, offset)
        offset += header.size
        _check(body, offset + length, kind)
        items.append((number, body[offset : offset + length]))
        offset += length
    _exact(body, offset, kind)
    return batch, items


def _check(body: bytes, needed: int, kind: str) -> None:
    if len(body) < needed:
        raise SigningProtocolError(f"a {kind} frame is truncated: {len(body)} bytes, {needed} needed")


def _exact(body: bytes, used: int, kind: str) -> None:
    if used != len(body):
        raise SigningProtocolError(f"a {kind} frame has {len(body) - used} bytes after its last item")
