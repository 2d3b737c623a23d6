"""The JSON-LD contexts we resolve locally, shipped as package data (wire-format §2: no remote context).

The ``.jsonld`` files and ``index.json`` are byte copies of ``vectors/contexts`` (``index.json`` maps each
URL to its file with a sha256). :func:`context_files` adds the aliases met in the wild;
:func:`read_context` reads one at call time. Nothing is read at import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from schemas.errors import UnknownContextError

INDEX_FILE: Final = "index.json"

CONTEXT_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "https://www.w3.org/ns/activitystreams.jsonld": "https://www.w3.org/ns/activitystreams",
        "http://www.w3.org/ns/activitystreams": "https://www.w3.org/ns/activitystreams",
        "http://www.w3.org/ns/activitystreams.jsonld": "https://www.w3.org/ns/activitystreams",
        "https://schema.org": "http://schema.org/",
        "https://schema.org/": "http://schema.org/",
        "http://schema.org": "http://schema.org/",
        "https://schema.org/docs/jsonldcontext.jsonld": "http://schema.org/",
        "http://schema.org/docs/jsonldcontext.jsonld": "http://schema.org/",
        "http://joinmastodon.org/ns#": "http://joinmastodon.org/ns",
        "https://w3id.org/security/v1/": "https://w3id.org/security/v1",
        "https://w3id.org/security/v2/": "https://w3id.org/security/v2",
        "https://gotosocial.org/ns/": "https://gotosocial.org/ns",
    }
)
"""Other spellings of bundled context URLs (vectors/README.md, Notes) → the URL of ``index.json``."""


def read_index() -> dict[str, Any]:
    """Return ``index.json``: context URL → ``{"file", "sha256", "bytes"}`` (plus a ``_note`` entry)."""
    text = resources.files(__name__).joinpath(INDEX_FILE).read_text(encoding="utf-8")
    index: dict[str, Any] = json.loads(text)
    return index


def context_files() -> dict[str, str]:
    """Return every accepted context URL, aliases included, mapped to the name of its bundled file."""
    files = {url: entry["file"] for url, entry in read_index().items() if isinstance(entry, dict)}
    for alias, url in CONTEXT_ALIASES.items():
        files[alias] = files[url]
    return files


def read_context_bytes(file_name: str) -> bytes:
    """Return the exact bytes of a bundled context file (for checksums)."""
    return resources.files(__name__).joinpath(file_name).read_bytes()


def read_context_text(url: str, files: dict[str, str] | None = None) -> str:
    """Return the JSON text of the context bundled for ``url``; raise ``UnknownContextError`` otherwise.

    ``files`` is a mapping from :func:`context_files`, passed by callers that resolve many URLs.
    """
    table = context_files() if files is None else files
    file_name = table.get(url)
    if file_name is None:
        raise UnknownContextError(f"no bundled JSON-LD context for {url!r}")
    return resources.files(__name__).joinpath(file_name).read_text(encoding="utf-8")


def read_context(url: str) -> dict[str, Any]:
    """Return the parsed context document bundled for ``url``; raise ``UnknownContextError`` otherwise."""
    document: dict[str, Any] = json.loads(read_context_text(url))
    return document
