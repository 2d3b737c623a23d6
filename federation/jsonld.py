"""Offline JSON-LD processing: a pyld document loader that serves bundled contexts only.

Wire-format §2: no remote context, ever. :func:`make_document_loader` returns a loader that answers from
``schemas.contexts`` and raises :class:`~federation.errors.ContextNotAllowedError` for any other URL,
without touching the network. It is passed per call (``options={"documentLoader": loader}``); pyld's
global default loader is never replaced. :func:`expand` runs pyld's expansion with it, and
:func:`check_terms` fails on every term that no context defines: the ActivityStreams context maps such
terms to ``_:`` blank-node IRIs through its ``@vocab``, and terms without any mapping are dropped by the
expansion, which a handler records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pyld import jsonld
from pyld.jsonld import JsonLdError as PyLdError

from federation.errors import ContextNotAllowedError, JsonLdError, UndefinedTermError
from schemas.contexts import context_files, read_context_text

DocumentLoader = Callable[..., dict[str, Any]]
"""A pyld document loader: ``loader(url, options)`` → a RemoteDocument dict."""

_BLANK_PREFIX = "_:"
_NULL_TERM = "(a term mapped to null)"


def make_document_loader() -> DocumentLoader:
    """Return a pyld document loader serving only the bundled contexts (and their aliases).

    The table of accepted URLs is read once, when the loader is made; each context's text is read on
    first use and kept by this loader, and every load returns a freshly parsed document (pyld may modify
    what it is given). Any other URL raises :class:`ContextNotAllowedError` naming it.
    """
    files = context_files()
    texts: dict[str, str] = {}

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        file_name = files.get(url)
        if file_name is None:
            raise ContextNotAllowedError(
                f"JSON-LD context {url!r} is not bundled; remote contexts are never fetched"
            )
        if file_name not in texts:
            texts[file_name] = read_context_text(url, files)
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads(texts[file_name]),
        }

    return load


def _not_allowed_cause(error: BaseException) -> ContextNotAllowedError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ContextNotAllowedError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _expand(
    document: Any, loader: DocumentLoader | None, on_dropped: Callable[[str | None], None] | None
) -> list[Any]:
    # No base IRI: relative IRIs stay relative instead of being resolved against pyld's placeholder
    # base (http://example.org/base/), so that an undefined @type is still visible in the output.
    options = {"documentLoader": loader if loader is not None else make_document_loader(), "base": None}
    try:
        if on_dropped is None:
            expanded = jsonld.expand(document, options)
        else:
            expanded = jsonld.expand(document, options, on_property_dropped=on_dropped)
    except PyLdError as error:
        refused = _not_allowed_cause(error)
        if refused is not None:
            raise ContextNotAllowedError(str(refused)) from error
        raise JsonLdError(f"JSON-LD expansion failed: {error}") from error
    if not isinstance(expanded, list):
        raise JsonLdError(f"JSON-LD expansion returned {type(expanded).__name__}, expected a list")
    return expanded


def expand(document: Any, loader: DocumentLoader | None = None) -> list[Any]:
    """Expand a JSON-LD document with the bundled contexts only and return pyld's expanded form.

    Pass a loader from :func:`make_document_loader` to reuse it across calls; without one, a new loader
    is made. Relative IRIs are left relative (no base IRI is assumed). Raises
    :class:`ContextNotAllowedError` for a context URL we do not ship and
    :class:`~federation.errors.JsonLdError` for any other processing error.
    """
    return _expand(document, loader, None)


def _blank_terms(expanded: Any) -> set[str]:
    found: set[str] = set()
    stack: list[Any] = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key.startswith(_BLANK_PREFIX):
                found.add(key.removeprefix(_BLANK_PREFIX))
            if key == "@type":
                types = value if isinstance(value, list) else [value]
                for kind in types:
                    if isinstance(kind, str) and kind.startswith(_BLANK_PREFIX):
                        found.add(kind.removeprefix(_BLANK_PREFIX))
                    elif isinstance(kind, str) and ":" not in kind and not kind.startswith("@"):
                        found.add(kind)
            if isinstance(value, dict | list):
                stack.append(value)
    return found


def undefined_terms(document: Any, loader: DocumentLoader | None = None) -> list[str]:
    """Return, sorted, every property or type name of ``document`` that none of its contexts defines.

    Three kinds are found: terms the ActivityStreams ``@vocab`` turns into ``_:`` IRIs (property keys and
    ``@type`` values of the expanded form), ``@type`` values left relative (no vocabulary maps them), and
    properties the expansion drops because they map to no absolute IRI (reported by name, or as
    "(a term mapped to null)" when pyld gives none).
    """
    dropped: set[str] = set()

    def record(expanded_property: str | None) -> None:
        dropped.add(expanded_property if expanded_property else _NULL_TERM)

    expanded = _expand(document, loader, record)
    return sorted(_blank_terms(expanded) | dropped)


def check_terms(document: Any, loader: DocumentLoader | None = None) -> None:
    """Expand ``document`` with the bundled contexts and raise if any term is undefined.

    Raises :class:`~federation.errors.UndefinedTermError` whose message lists every undefined term
    (see :func:`undefined_terms`), and the errors of :func:`expand`.
    """
    terms = undefined_terms(document, loader)
    if terms:
        raise UndefinedTermError(f"undefined JSON-LD terms: {', '.join(terms)}")
