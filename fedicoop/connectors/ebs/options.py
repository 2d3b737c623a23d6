"""What an EBS import needs to know: where the database is, where its pages and images live, who
publishes the members' listings; and the source name a run's links are scoped by."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from fedicoop.connectors.errors import ConnectorError
from schemas import limits
from schemas.context import CATEGORIES

_LOCALE = re.compile(r"^[a-z]{2}(?:[_-][A-Za-z]{2})?$")
_USERNAME = re.compile(limits.LOCAL_USERNAME_PATTERN)


@dataclass(frozen=True)
class EbsOptions:
    """One EBS instance: ``database_url`` (``postgresql://role@host:port/db``; the password comes from the
    URL only when it is read from settings, else from ``PGPASSWORD`` or ``~/.pgpass``), ``site_url`` (its
    public pages, ``https://ebs.example``), ``actor`` (the local username of the cooperative that publishes
    the members' listings), ``media_url`` (the public prefix of uploaded images; none: no images),
    ``categories`` (EBS category slug → fedicoop category slug) and the ``locale`` of the page URLs."""

    database_url: str
    site_url: str
    actor: str
    media_url: str | None = None
    categories: Mapping[str, str] = field(default_factory=dict)
    locale: str = "fr"


def _http_url(value: str, option: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(char.isspace() for char in value):
        raise ConnectorError(f"EBS option {option} must be an absolute http(s) URL, got {value!r}")
    return value.rstrip("/")


def check_options(options: EbsOptions) -> EbsOptions:
    """Return ``options`` with its URLs normalised (no trailing slash), or raise :class:`ConnectorError`
    naming the bad option: a database URL that is not PostgreSQL, a site or media URL that is not
    http(s), an actor that cannot be a local username, an unknown fedicoop category or locale."""
    scheme = urlsplit(options.database_url).scheme
    if scheme not in ("postgres", "postgresql"):
        raise ConnectorError(
            f"EBS option database_url must be a postgresql:// URL, got one with scheme {scheme!r}"
        )
    if not _USERNAME.match(options.actor):
        raise ConnectorError(
            "EBS option actor must be the username of a local actor (a-z, 0-9, - and _), "
            f"got {options.actor!r}"
        )
    if not _LOCALE.match(options.locale):
        raise ConnectorError(f"EBS option locale must look like 'fr' or 'fr_FR', got {options.locale!r}")
    for ebs_slug, slug in options.categories.items():
        if slug not in CATEGORIES:
            raise ConnectorError(
                f"EBS option categories maps {ebs_slug!r} to {slug!r}, which is not a fedicoop category "
                f"(known: {', '.join(sorted(CATEGORIES))})"
            )
    return EbsOptions(
        database_url=options.database_url,
        site_url=_http_url(options.site_url, "site_url"),
        actor=options.actor,
        media_url=None if options.media_url is None else _http_url(options.media_url, "media_url"),
        categories=dict(options.categories),
        locale=options.locale,
    )


def source_name(database_url: str) -> str:
    """The name of an EBS source, ``ebs {user}@{host}:{port}/{database}``, never with the password.

    What the URL leaves out is filled in as the PostgreSQL client does (``PGUSER``, ``PGHOST``,
    ``PGPORT``, ``PGDATABASE``, then the login name, ``localhost``, 5432 and the user name), so the
    name, which scopes the links of every run, stays the same however the URL is spelt.

    >>> source_name("postgresql://ebs_reader:secret@db.example:5433/ebs")
    'ebs ebs_reader@db.example:5433/ebs'
    """
    parts = urlsplit(database_url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    user = unquote(parts.username or "") or query.get("user") or os.environ.get("PGUSER") or getpass.getuser()
    host = parts.hostname or query.get("host") or os.environ.get("PGHOST") or "localhost"
    try:
        port = parts.port or query.get("port") or os.environ.get("PGPORT") or 5432
    except ValueError as exc:
        raise ConnectorError(f"EBS option database_url has an invalid port: {exc}") from None
    database = unquote(parts.path.lstrip("/")) or query.get("dbname") or os.environ.get("PGDATABASE") or user
    return f"ebs {user}@{host}:{port}/{database}"
