"""The inbound signature checker: pick the scheme, apply the policy, fetch the key, verify.

:class:`SignatureChecker` follows the design of bovine's checker with our own code and typed errors:
it works on ``(method, url, headers, body)`` as the web layer received them, branches to RFC 9421 when
``Signature-Input`` is present and to draft-cavage otherwise, and returns the owner (controller) id of
the key that verified. Every failure raises a :class:`~federation.errors.SignatureError` subclass;
nothing returns ``None``.

Key retrieval is injected: ``key_retriever(key_id, bypass_cache)`` returns a :class:`VerificationKey`
or raises :class:`~federation.errors.KeyUnavailableError`. When a signature does not verify with the
key obtained from the cache, the checker asks once more with ``bypass_cache=True`` (the sender may have
rotated its key) and verifies again. The retriever owns the rate limit of wire-format §10.5: at most
one forced refetch per keyId per 5 minutes; when the limit is hit it should return its cached key
rather than raise, and the second verification then fails as the first did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization

from federation import cavage, rfc9421
from federation.errors import (
    FetchError,
    KeyUnavailableError,
    SignatureError,
    SignatureInvalidError,
    SignatureMalformedError,
    SignatureMissingError,
    UnsupportedAlgorithmError,
)
from federation.hosts import normalize_authority
from federation.keys import DEFAULT_MIN_RSA_BITS, PublicKey

__all__ = ["KeyRetriever", "SignatureChecker", "VerificationKey"]


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A public key as published by an actor: its id, the id of its owner (controller) and the key."""

    key_id: str
    owner: str
    public_key: PublicKey


KeyRetriever = Callable[[str, bool], Awaitable[VerificationKey]]
"""``await key_retriever(key_id, bypass_cache)``: the key for a keyId, or KeyUnavailableError."""


def _key_bytes(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _normalise_hosts(hosts: Iterable[str]) -> frozenset[str]:
    normalised = frozenset(normalize_authority(host) for host in hosts)
    if not normalised:
        raise ValueError("SignatureChecker needs at least one accepted host")
    return normalised


@dataclass(slots=True)
class SignatureChecker:
    """Verify the HTTP signature of an inbound request and return the id of the signing actor.

    ``hosts`` are the authorities our node answers on (``Host`` must be one of them); ``now`` is the
    injected clock; ``max_skew`` the accepted clock difference (1 h); ``min_rsa_bits`` the smallest
    RSA key accepted; ``rfc9421_algorithms`` the RFC 9421 algorithms accepted (ed25519 and
    rsa-v1_5-sha256 by default, wire-format §10.4).
    """

    key_retriever: KeyRetriever
    hosts: Collection[str]
    now: Callable[[], datetime]
    max_skew: timedelta = cavage.DEFAULT_MAX_SKEW
    min_rsa_bits: int = DEFAULT_MIN_RSA_BITS
    rfc9421_algorithms: Collection[str] = rfc9421.ACCEPTED_ALGORITHMS
    _hosts: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._hosts = _normalise_hosts(self.hosts)

    async def verify(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
    ) -> str:
        """Verify a request's signature and return the owner id of the key that made it.

        ``url`` is the absolute URL the request was made to (scheme, our host, raw path and query);
        ``headers`` a mapping or raw pairs; ``body`` the raw bytes. Raises SignatureMissingError
        when unsigned, and the other SignatureError subclasses when the signature is malformed,
        refused by policy, expired, unverifiable or its key cannot be retrieved.
        """
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
        names = {name.lower() for name, _ in pairs}
        if "signature-input" in names:
            return await self._verify_rfc9421(method, url, pairs, body)
        return await self._verify_cavage(method, url, pairs, body)

    async def _retrieve(self, key_id: str, bypass_cache: bool) -> VerificationKey:
        try:
            key = await self.key_retriever(key_id, bypass_cache)
        except KeyUnavailableError:
            raise
        except FetchError as exc:
            raise KeyUnavailableError(f"key {key_id} could not be fetched: {exc}") from exc
        if key.key_id != key_id:
            raise KeyUnavailableError(f"key retriever returned {key.key_id!r} for {key_id!r}")
        return key

    async def _with_refetch(self, key_id: str, verify: Callable[[PublicKey], None]) -> str:
        key = await self._retrieve(key_id, False)
        try:
            verify(key.public_key)
        except SignatureInvalidError:
            fresh = await self._retrieve(key_id, True)
            if _key_bytes(fresh.public_key) == _key_bytes(key.public_key):
                raise
            verify(fresh.public_key)
            return fresh.owner
        return key.owner

    async def _verify_cavage(self, method: str, url: str, pairs: list[tuple[str, str]], body: bytes) -> str:
        values = cavage.lower_headers(pairs)
        if "signature" in values:
            signature = cavage.parse_signature_header(values["signature"])
        elif values.get("authorization", "").lower().startswith("signature "):
            signature = cavage.parse_authorization_header(values["authorization"])
        else:
            raise SignatureMissingError("request has no Signature or Signature-Input header")
        parts = urlsplit(url)
        path_and_query = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        cavage.check_policy(
            signature,
            method=method,
            headers=values,
            body=body,
            hosts=self._hosts,
            now=self.now(),
            max_skew=self.max_skew,
        )

        def verify(public_key: PublicKey) -> None:
            cavage.verify_signature(
                signature,
                method=method,
                path_and_query=path_and_query,
                headers=values,
                public_key=public_key,
                min_rsa_bits=self.min_rsa_bits,
            )

        return await self._with_refetch(signature.key_id, verify)

    async def _verify_rfc9421(self, method: str, url: str, pairs: list[tuple[str, str]], body: bytes) -> str:
        message = rfc9421.HttpMessage.for_request(method, url, pairs)
        inputs = rfc9421.parse_signature_input(", ".join(message.fields["signature-input"]))
        if "signature" not in message.fields:
            raise SignatureMalformedError("Signature-Input is present but Signature is not")
        signatures = rfc9421.parse_signatures(", ".join(message.fields["signature"]))
        errors: list[SignatureError] = []
        for label, signature_input in inputs.items():
            try:
                return await self._verify_label(message, signature_input, signatures.get(label), body)
            except SignatureError as exc:
                errors.append(exc)
        raise errors[0]

    async def _verify_label(
        self,
        message: rfc9421.HttpMessage,
        signature_input: rfc9421.SignatureInput,
        signature: bytes | None,
        body: bytes,
    ) -> str:
        label = signature_input.label
        if signature is None:
            raise SignatureMalformedError(f"Signature has no member for the label {label!r}")
        rfc9421.check_policy(
            message,
            signature_input,
            body,
            now=self.now(),
            hosts=self._hosts,
            max_skew=self.max_skew,
            accepted_algorithms=self.rfc9421_algorithms,
        )
        key_id = signature_input.keyid
        if key_id is None:  # pragma: no cover - check_policy requires it
            raise SignatureMalformedError(f"signature {label} has no keyid")

        def verify(public_key: PublicKey) -> None:
            algorithm = rfc9421.resolve_algorithm(signature_input, public_key)
            if algorithm not in self.rfc9421_algorithms:
                raise UnsupportedAlgorithmError(f"signature algorithm {algorithm!r} is not accepted")
            rfc9421.verify_signature(
                message, signature_input, signature, public_key, min_rsa_bits=self.min_rsa_bits
            )

        return await self._with_refetch(key_id, verify)
