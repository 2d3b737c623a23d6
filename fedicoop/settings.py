"""The node's settings: one validated object, built at the entry point and passed down.

Precedence, highest first: explicit overrides (CLI flags) > ``FEDICOOP_*`` environment > ``.env`` >
``fedicoop.toml`` > defaults. Nothing is read at import time: :func:`load_settings` reads the sources
when an entry point calls it.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pydantic
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from fedicoop.errors import SettingsError
from fedicoop.territory.codes import REGION_CODES

ENV_PREFIX = "FEDICOOP_"

SECRET_SETTINGS = frozenset({"admin_token", "ebs_database_url"})
"""Settings whose value an error message never repeats (it may hold a password)."""


class NodeRole(StrEnum):
    """What a node is for: a cooperative's own node, or a regional portal that follows many."""

    NODE = "node"
    PORTAL = "portal"


def _is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every setting of a node, validated at start; see the README for the full table."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        env_file_encoding="utf-8",
        validate_default=True,
    )

    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the node; every id is built from it. https in production.",
    )
    database_url: str | None = Field(
        default=None,
        description="sqlite:///path or postgres://user@host:port/db; default: a SQLite file in data_dir.",
    )
    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and local state live.")
    cache_dir: Path | None = Field(
        default=None,
        description="Where derived data is cached (the territory index of the régions); default: "
        "data_dir/cache. Safe to share between nodes of one machine.",
    )
    insecure_peers: bool = Field(
        default=False,
        description="TESTS AND LOCAL DEMOS ONLY: allow http:// and private or loopback peers.",
    )
    demo: bool = Field(default=True, description="Seed the labelled demo data on an empty database.")
    node_name: str | None = Field(default=None, description="Human name of the node (default: its host).")
    role: NodeRole = Field(default=NodeRole.NODE, description="node or portal (NodeInfo metadata).")
    region_codes: list[str] = Field(default_factory=lambda: ["32"], description="INSEE region codes served.")
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    next_slot_update_hours: int = Field(
        default=24, ge=1, le=24 * 7, description="Minimum hours between two nextSlot Updates of one offer."
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Optional bootstrap API token accepted besides the stored ones."
    )
    authorized_fetch: bool = Field(
        default=False,
        description="Object and collection GETs need a valid HTTP signature; actors and keys stay public.",
    )
    blocked_domains: list[str] = Field(
        default_factory=list, description="Hosts (and their subdomains) that never federate with this node."
    )
    allowed_domains: list[str] | None = Field(
        default=None,
        description="Regional mode: when set, only these hosts (and their subdomains) federate.",
    )
    signature_max_skew: int = Field(
        default=3600, ge=60, le=86400, description="Seconds of clock difference accepted on a signed Date."
    )
    worker_in_serve: bool = Field(
        default=True, description="Run the delivery and inbox worker inside `fedicoop serve`."
    )
    worker_concurrency: int = Field(
        default=128, ge=1, le=1024, description="Deliveries a worker sends at once (at most 4 per host)."
    )
    delivery_lease_seconds: int = Field(
        default=300,
        ge=40,
        le=3600,
        description="How long a worker holds the deliveries it claimed; a dead worker's come back after it. "
        "Above the 30 s a delivery may take.",
    )
    rustine_url: str | None = Field(
        default=None, description="`fedicoop import rustine`: the Rustine Libre API root (default of --url)."
    )
    rustine_site_url: str | None = Field(
        default=None,
        description="`fedicoop import rustine`: the instance's public site, for booking links (--site-url).",
    )
    ebs_database_url: SecretStr | None = Field(
        default=None,
        description="`fedicoop import ebs`: postgresql://role:password@host:port/db of the EBS database, "
        "read with a read-only role; the one place a password may be written (else PGPASSWORD or ~/.pgpass).",
    )
    ebs_site_url: str | None = Field(
        default=None,
        description="`fedicoop import ebs`: the EBS public site, for listing pages (--site-url).",
    )
    ebs_media_url: str | None = Field(
        default=None,
        description="`fedicoop import ebs`: public prefix of EBS uploaded images (--media-url); "
        "none: no images.",
    )
    ebs_actor: str | None = Field(
        default=None,
        description="`fedicoop import ebs`: username of the local cooperative actor members' listings go to.",
    )
    ebs_categories: dict[str, str] = Field(
        default_factory=dict,
        description="`fedicoop import ebs`: EBS category slug → fedicoop category slug (JSON in the "
        "environment, a table in fedicoop.toml); unmapped categories are matched by name.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order the sources: overrides, environment, ``.env``, ``fedicoop.toml``, defaults."""
        return (init_settings, env_settings, dotenv_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http(s) URL such as https://coop.example, got {value!r}")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ValueError(f"must be a bare origin without path, query or credentials, got {value!r}")
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in ("sqlite", "postgres", "postgresql", "asyncpg"):
            raise ValueError(f"must start with sqlite:// or postgres://, got {value!r}")
        return value

    @field_validator("rustine_url", "rustine_site_url", "ebs_site_url", "ebs_media_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http(s) URL such as https://coop.example, got {value!r}")
        return value.rstrip("/")

    @field_validator("ebs_database_url")
    @classmethod
    def _check_ebs_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        scheme = value.get_secret_value().split("://", 1)[0]
        if scheme not in ("postgres", "postgresql"):
            raise ValueError("must be a postgresql://role@host:port/database URL (its value is not shown)")
        return value

    @field_validator("region_codes")
    @classmethod
    def _check_regions(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (len(code) == 2 and code.isdigit()):
                raise ValueError(f"region codes are two-digit INSEE codes such as '32', got {code!r}")
            if code not in REGION_CODES:
                raise ValueError(
                    f"{code!r} is no région; the INSEE région codes are {', '.join(REGION_CODES)}"
                )
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.lower() not in ("debug", "info", "warning", "error"):
            raise ValueError(f"must be debug, info, warning or error, got {value!r}")
        return value.lower()

    @model_validator(mode="after")
    def _check_production_safety(self) -> Settings:
        host = urlsplit(self.base_url).hostname or ""
        if self.base_url.startswith("http://") and not (self.insecure_peers or _is_loopback_host(host)):
            raise ValueError(
                f"FEDICOOP_BASE_URL is http:// on a public host ({host}); use https, or set "
                "FEDICOOP_INSECURE_PEERS=true for a local demo or a test"
            )
        return self

    @property
    def host(self) -> str:
        """The host (and port, when not the default) of the node, as it appears in ids and handles."""
        return urlsplit(self.base_url).netloc

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to ``fedicoop.sqlite3`` inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'fedicoop.sqlite3').resolve()}"

    @property
    def display_name(self) -> str:
        """The node's human name: ``node_name`` or, by default, its host."""
        return self.node_name or self.host

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (which starts with ``/``) on this node."""
        return f"{self.base_url}{path}"


def load_settings(
    *,
    toml_file: Path | None = Path("fedicoop.toml"),
    env_file: Path | None = Path(".env"),
    **overrides: Any,
) -> Settings:
    """Read every source and return validated settings, or raise :class:`SettingsError`.

    ``overrides`` are the CLI flags (highest precedence); values of ``None`` are ignored so that an
    unset flag does not mask the environment. The error message names each ``FEDICOOP_*`` variable at
    fault, the rule, and the value received.
    """
    toml_path = toml_file if toml_file is not None and toml_file.is_file() else None

    class _Loaded(Settings):
        model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": toml_path})

    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        dotenv = env_file if env_file is not None and env_file.is_file() else None
        loaded = _Loaded(_env_file=dotenv, **clean)  # type: ignore[call-arg]
    except pydantic.ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
    return Settings.model_construct(**{name: getattr(loaded, name) for name in Settings.model_fields})


def describe_validation_error(exc: pydantic.ValidationError) -> str:
    """Render a settings validation error as lines that name the variable, the rule and the value."""
    lines = []
    for error in exc.errors():
        location = error["loc"][0] if error["loc"] else ""
        variable = f"{ENV_PREFIX}{str(location).upper()}" if location else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        received = error.get("input")
        secret = str(location) in SECRET_SETTINGS
        shown = (
            f" (got {received!r})"
            if received is not None and not isinstance(received, dict) and not secret
            else ""
        )
        lines.append(f"{variable}: {message}{shown}")
    return "invalid settings:\n  " + "\n  ".join(lines)
