"""API bearer tokens: created once and shown once, stored as SHA-256 hashes, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from tortoise.exceptions import IntegrityError

from fedicoop.errors import AuthenticationError, ConflictError, NotFoundError
from fedicoop.models.tokens import ApiToken

TOKEN_PREFIX = "fc_"  # noqa: S105 - a public prefix, not a secret


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 (tokens carry 256 random bits, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_token(name: str, now: datetime) -> str:
    """Create a named token and return its clear value, which is never stored nor shown again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        await ApiToken.create(name=name, token_hash=hash_token(token), created_at=now)
    except IntegrityError:
        raise ConflictError(
            f"a token named {name!r} already exists; revoke it or choose another name"
        ) from None
    return token


async def revoke_token(name: str, now: datetime) -> None:
    """Revoke the named token; it stops working at once."""
    updated = await ApiToken.filter(name=name, revoked_at=None).update(revoked_at=now)
    if not updated:
        raise NotFoundError(f"no active token named {name!r}")


async def list_tokens() -> list[ApiToken]:
    """Every token (hashes only), oldest first."""
    return await ApiToken.all().order_by("created_at", "id")


async def authenticate(authorization: str | None, now: datetime, *, extra_token: str | None = None) -> str:
    """Check an ``Authorization: Bearer …`` header and return the token's name.

    ``extra_token`` is the optional bootstrap token from the settings. Raises AuthenticationError with
    the reason (missing header, wrong scheme, unknown or revoked token).
    """
    if not authorization:
        raise AuthenticationError("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    if extra_token and hmac.compare_digest(value.encode(), extra_token.encode()):
        return "admin-token-setting"
    row = await ApiToken.get_or_none(token_hash=hash_token(value))
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked token")
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
        await row.save(update_fields=["last_used_at"])
    return row.name
