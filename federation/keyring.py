"""The key ring: remote public keys by keyId, fetched, checked against their owner and cached (§10.5).

:class:`KeyRing` is the ``key_retriever`` of :class:`~federation.verifier.SignatureChecker`. A keyId
with a fragment (``…/actors/x#main-key``) names a key published by the actor document without the
fragment, in ``publicKey`` (one object or a list) with ``owner`` = the actor id, or in
``assertionMethod`` as a FEP-521a ``Multikey`` with ``controller`` = the actor id. A keyId without a
fragment (GoToSocial's ``…/main-key``) may name a key stub ``{id, owner, publicKeyPem}``: its owner,
on the key's origin, is fetched and must publish that keyId itself. Keys are cached for ``ttl``; a
forced refetch (``bypass_cache``) happens at most once per keyId per ``refetch_interval``, and a
changed key is logged on the ``federation.keyring`` logger.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization

from federation.errors import (
    FetchError,
    KeyFormatError,
    KeyUnavailableError,
    RemoteGoneError,
    RemoteNotFoundError,
)
from federation.hosts import same_origin
from federation.keys import PublicKey, load_public_key_multibase, load_public_key_pem, parse_key_id
from federation.verifier import VerificationKey

__all__ = ["DocumentFetch", "KeyRing", "key_from_document", "stub_owner"]

DocumentFetch = Callable[[str], Awaitable[dict[str, Any]]]
"""``await fetch(url)``: a checked remote document (:meth:`federation.fetch.Fetcher.fetch`)."""


_logger = logging.getLogger("federation.keyring")


def _entries(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _has_type(entry: dict[str, Any], kind: str) -> bool:
    value = entry.get("type")
    return value == kind or (isinstance(value, list) and kind in value)


def key_from_document(key_id: str, document: dict[str, Any]) -> VerificationKey | None:
    """Return the key ``key_id`` as published by the actor ``document``, or ``None`` if it is not there.

    The key must be a ``publicKey`` entry with that ``id``, ``owner`` = the document's ``id`` and a
    ``publicKeyPem``, or an ``assertionMethod`` ``Multikey`` with that ``id``, ``controller`` = the
    document's ``id`` and a ``publicKeyMultibase``; the document must be on the key's origin. A key stub
    is not an actor and gives ``None`` (see :func:`stub_owner`). A key that is found but does not parse
    or is too weak raises KeyFormatError.

    >>> actor = {"id": "https://a.example/u/x", "publicKey": {"id": "https://a.example/u/x#k",
    ...          "owner": "https://a.example/u/x", "publicKeyPem": "not a pem"}}
    >>> key_from_document("https://a.example/u/x#other", actor) is None
    True
    """
    actor_id = document.get("id")
    if not isinstance(actor_id, str) or not same_origin(actor_id, key_id):
        return None
    for entry in _entries(document.get("publicKey")):
        pem = entry.get("publicKeyPem")
        if entry.get("id") == key_id and entry.get("owner") == actor_id and isinstance(pem, str):
            return VerificationKey(key_id=key_id, owner=actor_id, public_key=load_public_key_pem(pem))
    for entry in _entries(document.get("assertionMethod")):
        multibase = entry.get("publicKeyMultibase")
        if (
            entry.get("id") == key_id
            and entry.get("controller") == actor_id
            and _has_type(entry, "Multikey")
            and isinstance(multibase, str)
        ):
            return VerificationKey(
                key_id=key_id, owner=actor_id, public_key=load_public_key_multibase(multibase)
            )
    return None


def stub_owner(key_id: str, document: dict[str, Any]) -> str | None:
    """Return the ``owner`` named by a key stub whose ``id`` is ``key_id``, or ``None``.

    The owner is only a claim: the caller fetches it and requires it to publish the key.

    >>> stub_owner("https://g.example/users/x/main-key",
    ...            {"id": "https://g.example/users/x/main-key", "owner": "https://g.example/users/x"})
    'https://g.example/users/x'
    """
    owner = document.get("owner")
    if document.get("id") != key_id or not isinstance(owner, str):
        return None
    return owner


def _key_bytes(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(slots=True)
class _Entry:
    key: VerificationKey
    fetched_at: datetime
    forced_at: datetime | None


class KeyRing:
    """Retrieve, check and cache remote keys; a :data:`federation.verifier.KeyRetriever`.

    ``fetch`` returns checked documents (id = URL, content type, size: a
    :meth:`federation.fetch.Fetcher.fetch`); ``now`` is the clock; ``ttl`` how long a key is reused;
    ``refetch_interval`` the minimum time between two forced refetches of one keyId; ``max_entries``
    the cache size, least recently used first out.
    """

    def __init__(
        self,
        fetch: DocumentFetch,
        now: Callable[[], datetime],
        *,
        ttl: timedelta = timedelta(hours=24),
        refetch_interval: timedelta = timedelta(minutes=5),
        max_entries: int = 10_000,
    ) -> None:
        if max_entries < 1:
            raise ValueError("KeyRing needs room for at least one key")
        self._fetch = fetch
        self._now = now
        self._ttl = ttl
        self._refetch_interval = refetch_interval
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def __call__(self, key_id: str, bypass_cache: bool) -> VerificationKey:
        """Return the key ``key_id``, from the cache unless expired or ``bypass_cache`` asks for a refetch.

        A forced refetch within ``refetch_interval`` of the previous one returns the cached key. Raises
        KeyUnavailableError when the key cannot be fetched or is not confirmed by its owner; when the
        key's document is gone (404/410/Tombstone) the RemoteGoneError or RemoteNotFoundError is its
        ``__cause__`` and the cached key is dropped.
        """
        now = self._now()
        entry = self._entries.get(key_id)
        if entry is not None:
            if not bypass_cache and now - entry.fetched_at < self._ttl:
                self._entries.move_to_end(key_id)
                return entry.key
            if bypass_cache:
                if entry.forced_at is not None and now - entry.forced_at < self._refetch_interval:
                    return entry.key
                entry.forced_at = now
        try:
            key = await self._retrieve(key_id)
        except KeyUnavailableError as exc:
            if isinstance(exc.__cause__, RemoteGoneError | RemoteNotFoundError):
                self.forget(key_id)
            raise
        if entry is not None and _key_bytes(entry.key.public_key) != _key_bytes(key.public_key):
            _logger.warning("key %s of %s changed", key_id, key.owner)
        forced_at = now if bypass_cache else (entry.forced_at if entry is not None else None)
        self._entries[key_id] = _Entry(key=key, fetched_at=now, forced_at=forced_at)
        self._entries.move_to_end(key_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return key

    def forget(self, key_id: str) -> None:
        """Drop the cached key ``key_id`` (and its refetch record), if any."""
        self._entries.pop(key_id, None)

    async def _retrieve(self, key_id: str) -> VerificationKey:
        try:
            document_url, _ = parse_key_id(key_id)
        except KeyFormatError as exc:
            raise KeyUnavailableError(str(exc)) from exc
        document = await self._document(key_id, document_url)
        key = self._key_in(key_id, document)
        if key is not None:
            return key
        owner = stub_owner(key_id, document)
        if owner is None:
            raise KeyUnavailableError(f"{document_url} does not publish the key {key_id} as its own")
        if not same_origin(owner, key_id):
            raise KeyUnavailableError(f"key stub {key_id} names an owner on another origin: {owner}")
        owner_document = await self._document(key_id, owner)
        key = self._key_in(key_id, owner_document)
        if key is None or key.owner != owner:
            raise KeyUnavailableError(f"owner {owner} of the key stub {key_id} does not publish that key")
        return key

    async def _document(self, key_id: str, url: str) -> dict[str, Any]:
        try:
            return await self._fetch(url)
        except (RemoteGoneError, RemoteNotFoundError) as exc:
            raise KeyUnavailableError(f"key {key_id}: {url} is gone: {exc}") from exc
        except FetchError as exc:
            raise KeyUnavailableError(f"key {key_id}: fetching {url} failed: {exc}") from exc

    @staticmethod
    def _key_in(key_id: str, document: dict[str, Any]) -> VerificationKey | None:
        try:
            return key_from_document(key_id, document)
        except KeyFormatError as exc:
            raise KeyUnavailableError(f"key {key_id} is unusable: {exc}") from exc
