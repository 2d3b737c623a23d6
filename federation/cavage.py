"""draft-cavage-http-signatures-12: signing strings, signing, parsing and the inbound rules.

Outbound (wire-format §10.1) we sign ``(request-target) host date digest content-type`` on POST and
``(request-target) host date accept`` on GET with ``algorithm="rsa-sha256"``. Inbound (§10.3) the work is
split in three pure steps so that each can be tested alone: :func:`parse_signature_header` (syntax),
:func:`check_policy` (what must be covered, clock window, our host, the body digest; no key needed) and
:func:`verify_signature` (the cryptography, with the one retry without the query string). The
:class:`~federation.verifier.SignatureChecker` chains them around the key retriever.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.digest import verify_digest
from federation.errors import (
    DigestMismatchError,
    HostError,
    SignatureExpiredError,
    SignatureInvalidError,
    SignatureMalformedError,
    UnsupportedAlgorithmError,
)
from federation.hosts import normalize_authority
from federation.keys import DEFAULT_MIN_RSA_BITS, PrivateKey, PublicKey, sign_bytes

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "DEFAULT_MAX_SKEW",
    "GET_HEADERS",
    "POST_HEADERS",
    "REQUIRED_HEADERS",
    "CavageSignature",
    "HeaderInput",
    "check_policy",
    "format_signature_header",
    "lower_headers",
    "parse_authorization_header",
    "parse_signature_header",
    "request_target",
    "sign",
    "sign_bytes",
    "signing_string",
    "verify_signature",
]

HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]]
"""Request headers as a mapping (dict, httpx or starlette headers) or as raw ``(name, value)`` pairs."""

POST_HEADERS: tuple[str, ...] = ("(request-target)", "host", "date", "digest", "content-type")
"""What an outbound POST signs (wire-format §10.1)."""

GET_HEADERS: tuple[str, ...] = ("(request-target)", "host", "date", "accept")
"""What an outbound GET signs (wire-format §10.1)."""

REQUIRED_HEADERS: frozenset[str] = frozenset({"(request-target)", "host", "date"})
"""What every inbound signature must cover; POSTs must cover ``digest`` too (wire-format §10.3)."""

ACCEPTED_ALGORITHMS: frozenset[str] = frozenset({"rsa-sha256", "hs2019"})
"""The ``algorithm`` values accepted inbound; an absent parameter is accepted too."""

DEFAULT_MAX_SKEW = timedelta(hours=1)
"""How far ``Date`` (and ``(created)``) may be from our clock either way."""

_PSEUDO_HEADERS = frozenset({"(request-target)", "(created)", "(expires)"})


@dataclass(frozen=True, slots=True)
class CavageSignature:
    """A parsed ``Signature`` header: keyId, algorithm, covered headers, signature bytes and times.

    ``headers`` is lowercased and in signing order; ``headers_given`` is false when the parameter
    was absent (the draft's default, ``date`` alone, which our policy refuses). ``created`` and
    ``expires`` are Unix times when present.
    """

    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None
    headers_given: bool = True


def lower_headers(headers: HeaderInput) -> dict[str, str]:
    """Return the headers keyed by lowercase name, repeated fields joined with ``", "``.

    >>> lower_headers([("Host", "a.example"), ("X-A", "1"), ("x-a", "2")])
    {'host': 'a.example', 'x-a': '1, 2'}
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        cleaned = value.strip()
        result[key] = f"{result[key]}, {cleaned}" if key in result else cleaned
    return result


def request_target(method: str, path_and_query: str) -> str:
    """Return the ``(request-target)`` value: lowercase method, a space, path and query.

    >>> request_target("POST", "/inbox?x=1")
    'post /inbox?x=1'
    """
    return f"{method.lower()} {path_and_query}"


def signing_string(
    method: str,
    path_and_query: str,
    headers: HeaderInput,
    covered: Sequence[str],
    *,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """Build the draft-cavage signing string: ``name: value`` lines joined by ``\\n``, in ``covered`` order.

    Pseudo-headers are ``(request-target)``, ``(created)`` and ``(expires)``; every other name must be
    present in ``headers`` (case-insensitive), else :class:`SignatureInvalidError` names it.

    >>> signing_string("GET", "/a?b", {"Host": "x.example"}, ["(request-target)", "host"])
    '(request-target): get /a?b\\nhost: x.example'
    """
    values = lower_headers(headers)
    lines: list[str] = []
    for raw_name in covered:
        name = raw_name.lower()
        if name == "(request-target)":
            value = request_target(method, path_and_query)
        elif name == "(created)":
            if created is None:
                raise SignatureMalformedError("(created) is signed but the created parameter is missing")
            value = str(created)
        elif name == "(expires)":
            if expires is None:
                raise SignatureMalformedError("(expires) is signed but the expires parameter is missing")
            value = str(expires)
        elif name in values:
            value = values[name]
        else:
            raise SignatureInvalidError(f"signed header {name!r} is absent from the request")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def format_signature_header(key_id: str, algorithm: str, covered: Sequence[str], signature: bytes) -> str:
    """Serialise a ``Signature`` header value in the order keyId, algorithm, headers, signature."""
    encoded = base64.b64encode(signature).decode("ascii")
    return f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",signature="{encoded}"'


def sign(
    private_key: PrivateKey,
    key_id: str,
    method: str,
    path_and_query: str,
    headers: HeaderInput,
    covered: Sequence[str],
) -> str:
    """Sign a request and return the ``Signature`` header value.

    RSA keys sign with RSASSA-PKCS1-v1_5/SHA-256 and announce ``algorithm="rsa-sha256"`` (our outbound
    form, deterministic); Ed25519 keys announce ``hs2019``. ``covered`` names what is signed, normally
    :data:`POST_HEADERS` or :data:`GET_HEADERS`, and every named header must be in ``headers``.
    """
    data = signing_string(method, path_and_query, headers, covered).encode("utf-8")
    signature, algorithm = sign_bytes(private_key, data)
    return format_signature_header(key_id, algorithm, [name.lower() for name in covered], signature)


def _split_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    position, length = 0, len(value)
    while position < length:
        while position < length and value[position] in " \t,":
            position += 1
        if position >= length:
            break
        equals = value.find("=", position)
        if equals == -1:
            rest = value[position:]
            raise SignatureMalformedError(f"signature parameter at {position} has no '=': {rest!r}")
        name = value[position:equals].strip().lower()
        if not name or any(char in name for char in ' \t,"'):
            raise SignatureMalformedError(f"bad signature parameter name {value[position:equals]!r}")
        position = equals + 1
        if position < length and value[position] == '"':
            closing = value.find('"', position + 1)
            if closing == -1:
                raise SignatureMalformedError(f"signature parameter {name!r} has an unterminated string")
            text = value[position + 1 : closing]
            position = closing + 1
            while position < length and value[position] in " \t":
                position += 1
            if position < length and value[position] != ",":
                raise SignatureMalformedError(f"garbage after signature parameter {name!r}")
        else:
            comma = value.find(",", position)
            end = length if comma == -1 else comma
            text = value[position:end].strip()
            position = end
        if name in params:
            raise SignatureMalformedError(f"signature parameter {name!r} is repeated")
        params[name] = text
    return params


def _parse_time(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(Decimal(text))
    except (InvalidOperation, ValueError) as exc:
        raise SignatureMalformedError(f"signature parameter {name} is not a number: {text!r}") from exc


def parse_signature_header(value: str) -> CavageSignature:
    """Parse a draft-cavage ``Signature`` value: ``keyId="…",algorithm="…",headers="…",signature="…"``.

    ``keyId`` and ``signature`` are required (:class:`SignatureMalformedError`); ``algorithm``, when
    present, must be ``rsa-sha256`` or ``hs2019`` (:class:`UnsupportedAlgorithmError`); a missing
    ``headers`` means ``date`` alone. Parameter names compare case-insensitively.
    """
    params = _split_params(value)
    key_id = params.get("keyid")
    if not key_id:
        raise SignatureMalformedError("Signature header has no keyId")
    encoded = params.get("signature")
    if not encoded:
        raise SignatureMalformedError("Signature header has no signature")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise SignatureMalformedError("Signature signature parameter is not base64") from exc
    algorithm = params.get("algorithm")
    if algorithm is not None:
        algorithm = algorithm.lower()
        if algorithm not in ACCEPTED_ALGORITHMS:
            raise UnsupportedAlgorithmError(
                f"signature algorithm {algorithm!r} is not accepted; expected rsa-sha256 or hs2019"
            )
    headers_text = params.get("headers")
    headers = tuple(headers_text.lower().split()) if headers_text is not None else ("date",)
    if not headers:
        raise SignatureMalformedError("Signature headers parameter is empty")
    return CavageSignature(
        key_id=key_id,
        algorithm=algorithm,
        headers=headers,
        signature=signature,
        created=_parse_time("created", params.get("created")),
        expires=_parse_time("expires", params.get("expires")),
        headers_given=headers_text is not None,
    )


def parse_authorization_header(value: str) -> CavageSignature:
    """Parse ``Authorization: Signature keyId=…``; other schemes raise SignatureMalformedError."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "signature":
        raise SignatureMalformedError(f"Authorization scheme {scheme!r} is not Signature")
    return parse_signature_header(rest)


def _parse_http_date(text: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureExpiredError(f"Date header {text!r} is not an HTTP-date") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _check_window(label: str, moment: datetime, now: datetime, max_skew: timedelta) -> None:
    if abs(now - moment) > max_skew:
        raise SignatureExpiredError(
            f"{label} {moment.isoformat()} is more than {max_skew} away from our clock {now.isoformat()}"
        )


def check_policy(
    signature: CavageSignature,
    *,
    method: str,
    headers: HeaderInput,
    body: bytes,
    hosts: Collection[str],
    now: datetime,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
) -> None:
    """Apply the inbound rules of wire-format §10.3 that need no key; raise a SignatureError if one fails.

    Coverage of ``(request-target)``, ``host`` and ``date`` (and ``digest`` on POST), presence of every
    signed header, ``Date`` and a signed ``(created)`` within ``max_skew`` of ``now``, a signed
    ``(expires)`` not past, ``Host`` among ``hosts`` (normalised authorities), and the ``Digest``
    against the raw body.
    """
    values = lower_headers(headers)
    covered = set(signature.headers)
    if not signature.headers_given:
        raise SignatureInvalidError("Signature has no headers parameter, so it covers date alone")
    missing = sorted(REQUIRED_HEADERS - covered)
    if missing:
        raise SignatureInvalidError(f"signature does not cover {', '.join(missing)}")
    is_post = method.upper() == "POST"
    if is_post and "digest" not in covered:
        raise DigestMismatchError("a POST signature must cover the Digest header")
    for name in signature.headers:
        if name not in _PSEUDO_HEADERS and name not in values:
            raise SignatureInvalidError(f"signed header {name!r} is absent from the request")
    _check_window("Date", _parse_http_date(values["date"]), now, max_skew)
    if "(created)" in covered:
        if signature.created is None:
            raise SignatureMalformedError("(created) is signed but the created parameter is missing")
        _check_window("(created)", datetime.fromtimestamp(signature.created, UTC), now, max_skew)
    if "(expires)" in covered:
        if signature.expires is None:
            raise SignatureMalformedError("(expires) is signed but the expires parameter is missing")
        if now > datetime.fromtimestamp(signature.expires, UTC):
            raise SignatureExpiredError(f"signature expired at {signature.expires} (Unix time)")
    try:
        host = normalize_authority(values["host"])
    except HostError as exc:
        raise SignatureInvalidError(f"Host header {values['host']!r} is not a valid host") from exc
    if host not in hosts:
        raise SignatureInvalidError(f"Host {host!r} is not one of our hosts")
    if "digest" in covered:
        verify_digest(values["digest"], body)


def _verify_bytes(public_key: PublicKey, algorithm: str | None, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey) and algorithm != "rsa-sha256":
            public_key.verify(signature, data)
        else:
            raise UnsupportedAlgorithmError(
                f"algorithm {algorithm or 'hs2019'} cannot be used with a {type(public_key).__name__}"
            )
    except InvalidSignature:
        return False
    return True


def verify_signature(
    signature: CavageSignature,
    *,
    method: str,
    path_and_query: str,
    headers: HeaderInput,
    public_key: PublicKey,
    min_rsa_bits: int = DEFAULT_MIN_RSA_BITS,
) -> None:
    """Check the signature bytes against the signing string; raise SignatureInvalidError if they differ.

    ``rsa-sha256`` needs an RSA key; with ``hs2019`` or no algorithm the key type decides (RSA:
    PKCS#1 v1.5/SHA-256, Ed25519: Ed25519). RSA keys under ``min_rsa_bits`` raise
    :class:`UnsupportedAlgorithmError`. If the first attempt fails and the path has a query string,
    verification is retried once with ``(request-target)`` rebuilt without it.
    """
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < min_rsa_bits:
        raise UnsupportedAlgorithmError(
            f"RSA key of {signature.key_id} has {public_key.key_size} bits; at least {min_rsa_bits} required"
        )
    values = lower_headers(headers)
    targets = [path_and_query]
    path, query_mark, _ = path_and_query.partition("?")
    if query_mark and "(request-target)" in signature.headers:
        targets.append(path)
    for target in targets:
        data = signing_string(
            method,
            target,
            values,
            signature.headers,
            created=signature.created,
            expires=signature.expires,
        ).encode("utf-8")
        if _verify_bytes(public_key, signature.algorithm, signature.signature, data):
            return
    raise SignatureInvalidError(f"signature by {signature.key_id} does not verify")
