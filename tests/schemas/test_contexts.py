"""Bundled JSON-LD contexts: byte copies matching index.json, aliases, reading at call time."""

from __future__ import annotations

import hashlib
import json

import pytest

from schemas.contexts import CONTEXT_ALIASES, context_files, read_context, read_context_bytes, read_index
from schemas.errors import UnknownContextError


def _indexed() -> dict[str, dict[str, object]]:
    return {url: entry for url, entry in read_index().items() if isinstance(entry, dict)}


@pytest.mark.parametrize("url", sorted(_indexed()))
def test_read_context_bytes__sha256_matches_index(url: str) -> None:
    entry = _indexed()[url]
    data = read_context_bytes(str(entry["file"]))
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert len(data) == entry["bytes"]


@pytest.mark.parametrize("url", sorted(context_files()))
def test_read_context__every_accepted_url_parses(url: str) -> None:
    assert "@context" in read_context(url)


def test_context_files__aliases_of_the_vectors_readme() -> None:
    files = context_files()
    assert files["https://www.w3.org/ns/activitystreams.jsonld"] == "activitystreams.jsonld"
    assert files["http://www.w3.org/ns/activitystreams"] == "activitystreams.jsonld"
    for url in (
        "https://schema.org",
        "http://schema.org",
        "https://schema.org/docs/jsonldcontext.jsonld",
        "http://schema.org/",
    ):
        assert files[url] == "schemaorg.jsonld"
    assert files["http://joinmastodon.org/ns#"] == "joinmastodon.jsonld"
    assert set(CONTEXT_ALIASES) <= set(files)


def test_context_files__index_urls_included() -> None:
    assert set(_indexed()) <= set(context_files())
    assert len(_indexed()) == 17


def test_read_context__unknown_url() -> None:
    with pytest.raises(UnknownContextError, match="litepub"):
        read_context("https://pleroma.example/schemas/litepub-0.1.jsonld")


def test_read_context__returns_a_fresh_document() -> None:
    first = read_context("https://w3id.org/security/v1")
    first["@context"] = None
    assert read_context("https://w3id.org/security/v1")["@context"] is not None


def test_read_index__valid_json_with_note() -> None:
    assert "_note" in read_index()
    json.dumps(read_index())
