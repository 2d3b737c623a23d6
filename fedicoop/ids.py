"""Identifiers: UUIDv7 values, time-ordered so that ids sort by creation."""

from __future__ import annotations

import os
import time
import uuid

from fedicoop.errors import ValidationError


def uuid7(unix_ms: int | None = None, random_bytes: bytes | None = None) -> uuid.UUID:
    """Return a UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    Both inputs may be given for a reproducible value:

    >>> str(uuid7(0x0199D1F02B3C, bytes(10)))
    '0199d1f0-2b3c-7000-8000-000000000000'
    """
    millis = time.time_ns() // 1_000_000 if unix_ms is None else unix_ms
    if not 0 <= millis < 1 << 48:
        raise ValueError(f"uuid7 needs 0 <= unix_ms < 2**48, got {millis}")
    rand = os.urandom(10) if random_bytes is None else random_bytes
    if len(rand) != 10:
        raise ValueError(f"uuid7 needs 10 random bytes, got {len(rand)}")
    value = int.from_bytes(millis.to_bytes(6, "big") + rand, "big")
    value &= ~(0xF << 76)
    value |= 0x7 << 76
    value &= ~(0x3 << 62)
    value |= 0x2 << 62
    return uuid.UUID(int=value)


def parse_object_id(value: str, what: str) -> uuid.UUID:
    """Parse the id of ``what`` ("a listing", "an event") given as a UUID or as its full URL.

    >>> parse_object_id("https://coop.example/listings/0199d1f0-2b3c-7000-8000-000000000000", "a listing")
    UUID('0199d1f0-2b3c-7000-8000-000000000000')
    """
    candidate = value.rstrip("/").rsplit("/", 1)[-1]
    try:
        return uuid.UUID(candidate)
    except ValueError:
        raise ValidationError(f"not {what} id: {value!r} (expected a UUID or URL)", field="id") from None
