"""RFC 9421 HTTP Message Signatures: parsing, signature base, verification and our inbound policy.

The cryptographic part follows the RFC alone, so its own test vectors (some without ``created``) check
it: :func:`parse_signature_input` and :func:`parse_signatures` read the two dictionaries with http-sf,
:func:`signature_base` rebuilds the exact base (derived components ``@method``, ``@target-uri``,
``@authority``, ``@scheme``, ``@request-target``, ``@path``, ``@query``, ``@query-param``, ``@status``;
header fields with ``sf``, ``key``, ``bs`` and ``req``), and :func:`verify_signature` checks it with
ed25519, rsa-v1_5-sha256, rsa-pss-sha512, ecdsa-p256-sha256 or hmac-sha256. What fedicoop demands on
top (wire-format §10.4: covered components, ``keyid`` and ``created``, the clock window, the content
digest, the accepted algorithms) is the separate :func:`check_policy` step.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from http_sf.innerlist import ser_innerlist, ser_item_or_inner_list
from http_sf.item import ser_item
from http_sf.retrofit import retrofit as _RETROFIT

from federation.digest import verify_content_digest
from federation.errors import (
    DigestMismatchError,
    HostError,
    SignatureExpiredError,
    SignatureInvalidError,
    SignatureMalformedError,
    UnsupportedAlgorithmError,
)
from federation.hosts import DEFAULT_PORTS, normalize_authority
from federation.keys import DEFAULT_MIN_RSA_BITS, PublicKey

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "ALGORITHMS",
    "Component",
    "HttpMessage",
    "SignatureInput",
    "VerifyingKey",
    "check_policy",
    "parse_signature_input",
    "parse_signatures",
    "resolve_algorithm",
    "signature_base",
    "verify_signature",
]

VerifyingKey = PublicKey | bytes
"""A public key, or the shared secret bytes of ``hmac-sha256``."""

ALGORITHMS: frozenset[str] = frozenset(
    {"ed25519", "rsa-v1_5-sha256", "rsa-pss-sha512", "ecdsa-p256-sha256", "hmac-sha256"}
)
"""Every algorithm :func:`verify_signature` implements."""

ACCEPTED_ALGORITHMS: frozenset[str] = frozenset({"ed25519", "rsa-v1_5-sha256"})
"""The algorithms our inbox accepts by default (wire-format §10.4); others answer 401."""

_DEFAULT_MAX_SKEW = timedelta(hours=1)
_FIELD_PARAMS = frozenset({"sf", "key", "bs", "req", "tr"})
_DERIVED_PARAMS = frozenset({"req", "name"})
_STRUCTURED_TYPES: dict[str, str] = {
    "content-digest": "dictionary",
    "repr-digest": "dictionary",
    "want-content-digest": "dictionary",
    "want-repr-digest": "dictionary",
    "signature": "dictionary",
    "signature-input": "dictionary",
    "accept-signature": "dictionary",
    "example-dict": "dictionary",
}
_P256_SCALAR_BYTES = 32
_FORM_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")


@dataclass(frozen=True, slots=True)
class HttpMessage:
    """The parts of a request or a response that signatures cover.

    A request has ``method`` and ``url`` (the full target URI); a response has ``status`` and may
    carry the ``request`` it answers, for components with the ``req`` parameter. ``fields`` maps
    lowercase field names to their field lines, in order; build it with :meth:`for_request` or
    :meth:`for_response`.
    """

    fields: Mapping[str, tuple[str, ...]]
    method: str | None = None
    url: str | None = None
    status: int | None = None
    request: HttpMessage | None = None

    @staticmethod
    def _collect(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        collected: dict[str, list[str]] = {}
        for name, value in pairs:
            collected.setdefault(name.lower(), []).append(value)
        return {name: tuple(values) for name, values in collected.items()}

    @classmethod
    def for_request(
        cls, method: str, url: str, headers: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> HttpMessage:
        """Describe a request from its method, absolute URL and headers (mapping or pairs)."""
        return cls(fields=cls._collect(headers), method=method, url=url)

    @classmethod
    def for_response(
        cls,
        status: int,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        request: HttpMessage | None = None,
    ) -> HttpMessage:
        """Describe a response from its status and headers, with the request it answers if known."""
        return cls(fields=cls._collect(headers), status=status, request=request)


@dataclass(frozen=True, slots=True)
class Component:
    """A covered component: a lowercase field name or ``@``-derived name, with its parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def identifier(self) -> str:
        """Serialise the component identifier as in the signature base (``"name";param=…``)."""
        return ser_item((self.name, dict(self.params)))


@dataclass(frozen=True, slots=True)
class SignatureInput:
    """One member of ``Signature-Input``: its label, covered components and signature parameters."""

    label: str
    components: tuple[Component, ...]
    params: Mapping[str, Any]

    def _text(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise SignatureMalformedError(f"signature {self.label}: parameter {name} is not a string")
        return value

    def _integer(self, name: str) -> int | None:
        value = self.params.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise SignatureMalformedError(f"signature {self.label}: parameter {name} is not an integer")
        return value

    @property
    def keyid(self) -> str | None:
        """The ``keyid`` parameter, if any."""
        return self._text("keyid")

    @property
    def alg(self) -> str | None:
        """The ``alg`` parameter, if any."""
        return self._text("alg")

    @property
    def created(self) -> int | None:
        """The ``created`` parameter (Unix time), if any."""
        return self._integer("created")

    @property
    def expires(self) -> int | None:
        """The ``expires`` parameter (Unix time), if any."""
        return self._integer("expires")

    def serialized_params(self) -> str:
        """Serialise the ``@signature-params`` value: the inner list of components with parameters."""
        items: list[Any] = [(component.name, dict(component.params)) for component in self.components]
        return ser_innerlist((items, dict(self.params)))


def _parse_dictionary(name: str, value: str) -> dict[str, Any]:
    try:
        parsed = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError) as exc:
        raise SignatureMalformedError(f"{name} does not parse as a structured dictionary: {exc}") from exc
    if not isinstance(parsed, dict) or not parsed:
        raise SignatureMalformedError(f"{name} is empty")
    return parsed


def parse_signature_input(value: str) -> dict[str, SignatureInput]:
    """Parse a ``Signature-Input`` field into its members, by label, in field order.

    Each member must be an inner list of strings (component names) with parameters; anything else
    raises :class:`SignatureMalformedError`.
    """
    result: dict[str, SignatureInput] = {}
    for label, member in _parse_dictionary("Signature-Input", value).items():
        if not (isinstance(member, tuple) and isinstance(member[0], list)):
            raise SignatureMalformedError(f"Signature-Input {label} is not an inner list")
        components: list[Component] = []
        for item in member[0]:
            name, params = item
            if not isinstance(name, str):
                raise SignatureMalformedError(f"Signature-Input {label}: component {name!r} is not a string")
            components.append(Component(name, dict(params)))
        result[label] = SignatureInput(label, tuple(components), dict(member[1]))
    return result


def parse_signatures(value: str) -> dict[str, bytes]:
    """Parse a ``Signature`` field (RFC 9421) into signature bytes by label."""
    result: dict[str, bytes] = {}
    for label, member in _parse_dictionary("Signature", value).items():
        signature = member[0] if isinstance(member, tuple) else member
        if not isinstance(signature, bytes):
            raise SignatureMalformedError(f"Signature {label} is not a byte sequence")
        result[label] = signature
    return result


def _form_encode(data: bytes) -> str:
    return "".join(chr(byte) if byte in _FORM_SAFE else f"%{byte:02X}" for byte in data)


def _query_params(query: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        decoded_name = unquote_to_bytes(name.replace("+", " "))
        decoded_value = unquote_to_bytes(value.replace("+", " "))
        pairs.append((_form_encode(decoded_name), _form_encode(decoded_value)))
    return pairs


def _authority(netloc: str, scheme: str) -> str:
    authority = netloc.rpartition("@")[2].lower()
    host, colon, port = authority.rpartition(":")
    if colon and not port.endswith("]") and port == str(DEFAULT_PORTS.get(scheme)):
        return host
    return authority


def _derived_value(message: HttpMessage, component: Component) -> str:
    name = component.name
    unknown = set(component.params) - _DERIVED_PARAMS
    if unknown or ("name" in component.params and name != "@query-param"):
        raise SignatureMalformedError(f"component {component.identifier()} has an unsupported parameter")
    if name == "@status":
        if message.status is None:
            raise SignatureMalformedError("@status is only defined for responses")
        return f"{message.status:03d}"
    if message.method is None or message.url is None:
        raise SignatureMalformedError(f"{name} is only defined for requests")
    if name == "@method":
        return message.method
    if name == "@target-uri":
        return message.url
    parts = urlsplit(message.url)
    scheme = parts.scheme.lower()
    if name == "@scheme":
        return scheme
    if name == "@authority":
        return _authority(parts.netloc, scheme)
    path = parts.path or "/"
    if name == "@path":
        return path
    if name == "@query":
        return "?" + parts.query
    if name == "@request-target":
        return path + ("?" + parts.query if parts.query else "")
    if name == "@query-param":
        wanted = component.params.get("name")
        if not isinstance(wanted, str):
            raise SignatureMalformedError("@query-param needs a string name parameter")
        values = [value for key, value in _query_params(parts.query) if key == wanted]
        if len(values) != 1:
            count = len(values)
            raise SignatureInvalidError(f"query parameter {wanted!r} occurs {count} times, expected once")
        return values[0]
    raise SignatureMalformedError(f"unknown derived component {name!r}")


def _field_value(message: HttpMessage, component: Component) -> str:
    params = component.params
    unknown = set(params) - _FIELD_PARAMS
    if unknown:
        raise SignatureMalformedError(f"component {component.identifier()} has unknown parameters")
    if "tr" in params:
        raise SignatureMalformedError("trailer fields (tr) are not supported")
    if "bs" in params and ("sf" in params or "key" in params):
        raise SignatureMalformedError(f"component {component.identifier()} mixes bs with sf or key")
    lines = message.fields.get(component.name.lower())
    if lines is None:
        raise SignatureInvalidError(f"covered field {component.name!r} is absent from the message")
    if "bs" in params:
        return ", ".join(
            ":" + base64.b64encode(line.strip().encode("latin-1")).decode("ascii") + ":" for line in lines
        )
    combined = ", ".join(line.strip() for line in lines)
    if "key" in params or "sf" in params:
        kind = "dictionary" if "key" in params else _STRUCTURED_TYPES.get(component.name.lower())
        if kind is None:
            kind = _RETROFIT.get(component.name.lower())
        if kind is None:
            raise SignatureMalformedError(f"field {component.name!r} is not a known structured field")
        try:
            parsed = http_sf.parse(combined.encode("latin-1"), tltype=kind)
        except (http_sf.StructuredFieldError, UnicodeEncodeError) as exc:
            raise SignatureInvalidError(f"field {component.name!r} is not a valid {kind}: {exc}") from exc
        if "key" not in params:
            return http_sf.ser(parsed)
        key = params["key"]
        if not isinstance(parsed, dict) or key not in parsed:
            raise SignatureInvalidError(f"dictionary field {component.name!r} has no member {key!r}")
        return ser_item_or_inner_list(parsed[key])
    return combined


def signature_base(message: HttpMessage, signature_input: SignatureInput) -> str:
    """Build the exact RFC 9421 signature base of ``message`` for one ``Signature-Input`` member.

    Raises :class:`SignatureMalformedError` for duplicated, unknown or ill-parameterised components
    and non-ASCII output, :class:`SignatureInvalidError` when a covered field or query parameter is
    missing from the message.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for component in signature_input.components:
        identifier = component.identifier()
        if identifier in seen:
            raise SignatureMalformedError(f"component {identifier} is covered twice")
        seen.add(identifier)
        if component.name == "@signature-params":
            raise SignatureMalformedError("@signature-params cannot be a covered component")
        context = message
        if component.params.get("req") is True:
            if message.request is None:
                raise SignatureMalformedError(f"{identifier} needs the related request, which is absent")
            context = message.request
        if component.name.startswith("@"):
            value = _derived_value(context, component)
        else:
            value = _field_value(context, component)
        lines.append(f"{identifier}: {value}")
    lines.append(f'"@signature-params": {signature_input.serialized_params()}')
    base = "\n".join(lines)
    if not base.isascii():
        raise SignatureMalformedError("signature base contains non-ASCII characters")
    return base


def resolve_algorithm(
    signature_input: SignatureInput, key: VerifyingKey, algorithm: str | None = None
) -> str:
    """Decide the algorithm: the application's ``algorithm``, else the ``alg`` parameter, else the key type.

    The key type decides as ed25519 → ``ed25519``, RSA → ``rsa-v1_5-sha256``, P-256 →
    ``ecdsa-p256-sha256``, bytes → ``hmac-sha256``. Conflicts and unknown algorithms raise
    :class:`UnsupportedAlgorithmError`.
    """
    declared = signature_input.alg
    if algorithm is not None and declared is not None and algorithm != declared:
        raise UnsupportedAlgorithmError(f"alg {declared!r} differs from the expected {algorithm!r}")
    chosen = algorithm or declared
    if chosen is None:
        if isinstance(key, bytes):
            chosen = "hmac-sha256"
        elif isinstance(key, ed25519.Ed25519PublicKey):
            chosen = "ed25519"
        elif isinstance(key, rsa.RSAPublicKey):
            chosen = "rsa-v1_5-sha256"
        else:
            chosen = "ecdsa-p256-sha256"
    if chosen not in ALGORITHMS:
        raise UnsupportedAlgorithmError(f"signature algorithm {chosen!r} is not supported")
    return chosen


def _verify_raw(algorithm: str, key: VerifyingKey, signature: bytes, data: bytes) -> None:
    if algorithm == "hmac-sha256" and isinstance(key, bytes):
        if not hmac.compare_digest(hmac.new(key, data, hashlib.sha256).digest(), signature):
            raise InvalidSignature
    elif algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    elif algorithm == "rsa-v1_5-sha256" and isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif algorithm == "rsa-pss-sha512" and isinstance(key, rsa.RSAPublicKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
        key.verify(signature, data, pss, hashes.SHA512())
    elif (
        algorithm == "ecdsa-p256-sha256"
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        if len(signature) != 2 * _P256_SCALAR_BYTES:
            raise InvalidSignature
        r_bytes, s_bytes = signature[:_P256_SCALAR_BYTES], signature[_P256_SCALAR_BYTES:]
        der = encode_dss_signature(int.from_bytes(r_bytes, "big"), int.from_bytes(s_bytes, "big"))
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise UnsupportedAlgorithmError(f"algorithm {algorithm} cannot be used with a {type(key).__name__}")


def verify_signature(
    message: HttpMessage,
    signature_input: SignatureInput,
    signature: bytes,
    key: VerifyingKey,
    *,
    algorithm: str | None = None,
    min_rsa_bits: int = DEFAULT_MIN_RSA_BITS,
) -> None:
    """Verify one RFC 9421 signature cryptographically; no policy (use :func:`check_policy` for that).

    ``algorithm`` is what the application knows about the key, if anything (see
    :func:`resolve_algorithm`). Raises :class:`SignatureInvalidError` when the signature does not
    match, :class:`UnsupportedAlgorithmError` for an unknown algorithm, a key of the wrong type or an
    RSA key under ``min_rsa_bits``, and the errors of :func:`signature_base`.
    """
    chosen = resolve_algorithm(signature_input, key, algorithm)
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < min_rsa_bits:
        raise UnsupportedAlgorithmError(f"RSA key has {key.key_size} bits; at least {min_rsa_bits} required")
    data = signature_base(message, signature_input).encode("ascii")
    try:
        _verify_raw(chosen, key, signature, data)
    except InvalidSignature:
        raise SignatureInvalidError(
            f"signature {signature_input.label} by {signature_input.keyid!r} does not verify ({chosen})"
        ) from None


def _covers(signature_input: SignatureInput, name: str) -> bool:
    return any(
        component.name == name and set(component.params) <= {"sf"} for component in signature_input.components
    )


def check_policy(
    message: HttpMessage,
    signature_input: SignatureInput,
    body: bytes,
    *,
    now: datetime,
    hosts: Collection[str],
    max_skew: timedelta = _DEFAULT_MAX_SKEW,
    accepted_algorithms: Collection[str] = ACCEPTED_ALGORITHMS,
) -> None:
    """Apply wire-format §10.4 to a request signature; raise a SignatureError if a rule fails.

    Required: ``@method`` and ``@target-uri`` (or ``@authority`` + ``@path``, + ``@query`` when the
    URL has one); ``content-digest`` covered and matching when the body is not empty; ``keyid`` and
    ``created`` present; ``created`` within ``max_skew`` of ``now``; ``expires`` not past; a declared
    ``alg`` among ``accepted_algorithms``; the request's authority among ``hosts``.
    """
    label = signature_input.label
    if message.method is None or message.url is None:
        raise SignatureMalformedError("the inbound policy applies to requests only")
    parts = urlsplit(message.url)
    if not _covers(signature_input, "@method"):
        raise SignatureInvalidError(f"signature {label} does not cover @method")
    if not _covers(signature_input, "@target-uri"):
        needed = ["@authority", "@path"] + (["@query"] if parts.query else [])
        missing = [name for name in needed if not _covers(signature_input, name)]
        if missing:
            absent = ", ".join(missing)
            raise SignatureInvalidError(f"signature {label} covers neither @target-uri nor {absent}")
    if signature_input.keyid is None:
        raise SignatureMalformedError(f"signature {label} has no keyid parameter")
    created = signature_input.created
    if created is None:
        raise SignatureMalformedError(f"signature {label} has no created parameter")
    created_at = datetime.fromtimestamp(created, UTC)
    if abs(now - created_at) > max_skew:
        raise SignatureExpiredError(
            f"signature {label} created {created_at.isoformat()}, more than {max_skew} from {now.isoformat()}"
        )
    expires = signature_input.expires
    if expires is not None and now > datetime.fromtimestamp(expires, UTC):
        raise SignatureExpiredError(f"signature {label} expired at {expires} (Unix time)")
    declared = signature_input.alg
    if declared is not None and declared not in accepted_algorithms:
        raise UnsupportedAlgorithmError(f"signature algorithm {declared!r} is not accepted")
    try:
        authority = normalize_authority(parts.netloc.rpartition("@")[2], parts.scheme or "https")
    except HostError as exc:
        raise SignatureInvalidError(f"request authority {parts.netloc!r} is not a valid host") from exc
    if authority not in hosts:
        raise SignatureInvalidError(f"request authority {authority!r} is not one of our hosts")
    if body:
        if not _covers(signature_input, "content-digest"):
            raise DigestMismatchError(f"signature {label} must cover content-digest when there is a body")
        digest_lines = message.fields.get("content-digest")
        if not digest_lines:
            raise DigestMismatchError("Content-Digest header is missing")
        verify_content_digest(", ".join(digest_lines), body)
