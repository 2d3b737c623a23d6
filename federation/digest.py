"""Body digests: the legacy ``Digest`` header (RFC 3230) and RFC 9530 ``Content-Digest``.

Outbound POSTs carry ``Digest: SHA-256=<base64>`` with ``SHA-256`` in uppercase (Activity-Relay compares
the exact string). Inbound, the ``Digest`` header is split on commas and the algorithm token compared
case-insensitively; a SHA-256 entry matching the raw body is required (wire-format §10.3).
``Content-Digest`` is a structured-field dictionary parsed with http-sf; ``sha-256`` and ``sha-512``
are understood and every understood entry must match (§10.4). Mismatches raise
:class:`~federation.errors.DigestMismatchError` with the expected and computed values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable

import http_sf

from federation.errors import DigestMismatchError

__all__ = [
    "CONTENT_DIGEST_ALGORITHMS",
    "make_content_digest",
    "make_digest",
    "verify_content_digest",
    "verify_digest",
]

CONTENT_DIGEST_ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}
"""The ``Content-Digest`` algorithms we compute and check, by their RFC 9530 key."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def make_digest(body: bytes) -> str:
    """Return the ``Digest`` header value for ``body``: ``SHA-256=`` and the base64 SHA-256.

    >>> make_digest(b'{"hello": "world"}')
    'SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE='
    """
    return "SHA-256=" + _b64(hashlib.sha256(body).digest())


def verify_digest(header: str, body: bytes) -> None:
    """Check a ``Digest`` header against the raw body, raising DigestMismatchError if it fails.

    The header is split on commas into ``algorithm=base64`` entries; algorithm names compare
    case-insensitively and unknown ones are skipped. At least one SHA-256 entry is required, and
    every SHA-256 entry must equal the body's digest.

    >>> verify_digest("sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", b'{"hello": "world"}')
    >>> verify_digest("MD5=Sd/dVLAcvNLSq16eXua5uQ==", b'{"hello": "world"}')
    Traceback (most recent call last):
    ...
    federation.errors.DigestMismatchError: Digest header has no SHA-256 entry (got MD5)
    """
    expected = hashlib.sha256(body).digest()
    seen: list[str] = []
    found = False
    for entry in header.split(","):
        name, sep, value = (part.strip() for part in entry.partition("="))
        if not sep or not name:
            raise DigestMismatchError(f"Digest entry {entry.strip()!r} is not algorithm=value")
        seen.append(name)
        if name.lower() != "sha-256":
            continue
        found = True
        try:
            given = base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise DigestMismatchError(f"Digest SHA-256 value {value!r} is not base64") from exc
        if not hmac.compare_digest(given, expected):
            raise DigestMismatchError(f"Digest SHA-256 mismatch: computed {_b64(expected)}, given {value}")
    if not found:
        raise DigestMismatchError(f"Digest header has no SHA-256 entry (got {', '.join(seen)})")


def make_content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """Return an RFC 9530 ``Content-Digest`` value for ``body`` with one algorithm.

    >>> make_content_digest(b'{"hello": "world"}')
    'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:'
    """
    try:
        digest = CONTENT_DIGEST_ALGORITHMS[algorithm](body)
    except KeyError:
        raise ValueError(f"unsupported Content-Digest algorithm {algorithm!r}") from None
    return f"{algorithm}=:{_b64(digest)}:"


def verify_content_digest(header: str, body: bytes) -> None:
    """Check an RFC 9530 ``Content-Digest`` header against the raw body.

    The value is parsed as a structured-field dictionary; entries for ``sha-256`` and ``sha-512``
    are checked (each must be a byte sequence equal to the body's digest), others are ignored. At
    least one understood entry is required. Raises :class:`DigestMismatchError` otherwise.

    >>> body = b'{"hello": "world"}'
    >>> verify_content_digest("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", body)
    >>> verify_content_digest("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", b"{}")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    federation.errors.DigestMismatchError: Content-Digest sha-256 mismatch: computed RBNvo1..., given X48E...
    """
    try:
        parsed = http_sf.parse(header.encode("latin-1"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError) as exc:
        raise DigestMismatchError(f"Content-Digest does not parse as a dictionary: {exc}") from exc
    if not isinstance(parsed, dict):  # pragma: no cover - guaranteed by tltype="dictionary"
        raise DigestMismatchError("Content-Digest is not a dictionary")
    checked = 0
    for name, member in parsed.items():
        compute = CONTENT_DIGEST_ALGORITHMS.get(name)
        if compute is None:
            continue
        value = member[0] if isinstance(member, tuple) else member
        if not isinstance(value, bytes):
            raise DigestMismatchError(f"Content-Digest {name} is not a byte sequence")
        expected = compute(body)
        if not hmac.compare_digest(value, expected):
            raise DigestMismatchError(
                f"Content-Digest {name} mismatch: computed {_b64(expected)}, given {_b64(value)}"
            )
        checked += 1
    if not checked:
        raise DigestMismatchError(
            f"Content-Digest has no sha-256 or sha-512 entry (got {', '.join(parsed) or 'nothing'})"
        )
