"""Shape rules of wire-format §1, §5 and §7, checked on every JSON document we serve.

:func:`shape_violations` is a pure function over a parsed JSON document; it walks embedded objects and
returns one human-readable message per violation, naming the path (``$.location.latitude``). Tests run
it on every golden example and every document the node serialises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from schemas.base import is_decimal_string
from schemas.context import PUBLIC
from schemas.limits import json_path

FLOAT_FIELDS = frozenset({"latitude", "longitude", "radius"})
"""Fields that are JSON floats written with a decimal point (§1 Numbers)."""

ADDRESSING_FIELDS = frozenset({"to", "cc", "bto", "bcc"})
"""Fields that are always arrays, with Public spelled in full (§1 Addressing)."""

INSTANT_FIELDS = frozenset({"published", "updated", "deleted"})
"""Fields in UTC with ``Z`` and second precision (§1 Time)."""

WALL_CLOCK_FIELDS = frozenset({"startTime", "endTime", "hasBeginning", "hasEnd", "nextSlot"})
"""Fields carrying the wall-clock time with a numeric offset (§1 Time)."""

_INSTANT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
_WALL_CLOCK = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}:[0-9]{2}$"
)
_PUBLIC_SHORT = frozenset({"as:Public", "Public"})

Path = tuple[str | int, ...]


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _check_object(node: Mapping[str, Any], path: Path, found: list[str]) -> None:
    for key, value in node.items():
        where = json_path((*path, key))
        if key in FLOAT_FIELDS and not (isinstance(value, float)):
            found.append(f"{where}: expected a JSON float such as 50.0, got {_type_name(value)} {value!r}")
        elif key in ADDRESSING_FIELDS:
            if not isinstance(value, list):
                found.append(f"{where}: expected an array, got {_type_name(value)} {value!r}")
            else:
                for index, item in enumerate(value):
                    if item in _PUBLIC_SHORT:
                        found.append(f"{json_path((*path, key, index))}: Public must be written {PUBLIC}")
        elif key in INSTANT_FIELDS and not (isinstance(value, str) and _INSTANT.match(value)):
            found.append(f"{where}: expected UTC with Z and second precision, got {value!r}")
        elif key in WALL_CLOCK_FIELDS and not (isinstance(value, str) and _WALL_CLOCK.match(value)):
            found.append(f"{where}: expected a wall-clock time with its offset (+02:00), got {value!r}")
        elif key == "hasNumericalValue" and not is_decimal_string(value):
            found.append(f'{where}: expected a decimal string such as "1", got {_type_name(value)} {value!r}')
    if node.get("type") == "MonetaryAmount" and "value" in node and not is_decimal_string(node["value"]):
        value = node["value"]
        where = json_path((*path, "value"))
        found.append(f'{where}: expected a decimal string such as "30.00", got {_type_name(value)} {value!r}')
    if node.get("type") == "Note" and "purpose" in node:
        for forbidden in ("summary", "name"):
            if forbidden in node:
                found.append(
                    f"{json_path((*path, forbidden))}: a listing Note has no {forbidden} "
                    "(Mastodon and GoToSocial would hide its body)"
                )


def shape_violations(document: Mapping[str, Any]) -> list[str]:
    """Return every violation of the wire shape rules found in ``document`` and its embedded objects.

    Rules: ``latitude``/``longitude``/``radius`` are floats; ``to``/``cc``/``bto``/``bcc`` are arrays and
    spell Public in full; ``published``/``updated``/``deleted`` are UTC with ``Z`` to the second;
    ``startTime``/``endTime``/``hasBeginning``/``hasEnd``/``nextSlot`` carry a numeric offset;
    ``hasNumericalValue`` and a ``MonetaryAmount`` ``value`` are decimal strings; a listing ``Note``
    (one with ``purpose``) has neither ``summary`` nor ``name``. An empty list means the shape is right.
    """
    found: list[str] = []
    stack: list[tuple[Any, Path]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, Mapping):
            _check_object(node, path, found)
            children: list[tuple[str | int, Any]] = [(str(key), child) for key, child in node.items()]
        elif isinstance(node, list):
            children = list(enumerate(node))
        else:
            continue
        for key, child in reversed(children):
            if key != "@context" and isinstance(child, Mapping | list):
                stack.append((child, (*path, key)))
    return found


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def json_differences(expected: Any, actual: Any) -> list[str]:
    """Compare two JSON values strictly and return where they differ (an empty list when identical).

    Key order is ignored; JSON types are not: ``50`` differs from ``50.0``, ``1`` from ``true`` and
    ``"1"`` from ``1``. Used to check that a model serialises a golden example back exactly.
    """
    found: list[str] = []
    stack: list[tuple[Any, Any, Path]] = [(expected, actual, ())]
    while stack:
        left, right, path = stack.pop()
        where = json_path(path)
        if _kind(left) != _kind(right):
            found.append(f"{where}: expected {_kind(left)} {left!r}, got {_kind(right)} {right!r}")
        elif isinstance(left, Mapping):
            for key in sorted(set(left) | set(right)):
                if key not in right:
                    found.append(f"{json_path((*path, key))}: missing")
                elif key not in left:
                    found.append(f"{json_path((*path, key))}: unexpected {right[key]!r}")
                else:
                    stack.append((left[key], right[key], (*path, key)))
        elif isinstance(left, list | tuple):
            if len(left) != len(right):
                found.append(f"{where}: expected {len(left)} items, got {len(right)}")
            else:
                stack.extend(
                    (a, b, (*path, index)) for index, (a, b) in enumerate(zip(left, right, strict=True))
                )
        elif left != right:
            found.append(f"{where}: expected {left!r}, got {right!r}")
    return found
