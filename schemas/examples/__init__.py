"""The JSON examples of wire-format.md as golden fixtures, read at call time.

One file per example, copied verbatim from the document; ActivityStreams examples printed there without
``@context`` carry the context of §2 (wire-format §1, last bullet). ``context`` is the §2 block itself,
``follow-accept-body`` the exact 460-byte body of §10.2, and ``host-meta.xml`` the XRD of §4.2.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from schemas.errors import UnknownExampleError

_JSON_SUFFIX = ".json"


def example_names() -> list[str]:
    """Return the names of the JSON examples, sorted, without the ``.json`` suffix."""
    folder = resources.files(__name__)
    return sorted(
        entry.name.removesuffix(_JSON_SUFFIX)
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(_JSON_SUFFIX)
    )


def load_example_text(file_name: str) -> str:
    """Return the exact text of an example file (``"host-meta.xml"``, ``"follow-accept-body.json"``…)."""
    entry = resources.files(__name__).joinpath(file_name)
    if "/" in file_name or file_name.startswith(".") or not entry.is_file():
        raise UnknownExampleError(f"no golden example file {file_name!r}")
    return entry.read_text(encoding="utf-8")


def load_example(name: str) -> Any:
    """Return the parsed JSON example ``name`` (as listed by :func:`example_names`)."""
    if name not in example_names():
        raise UnknownExampleError(f"no golden example {name!r}; known: {', '.join(example_names())}")
    return json.loads(load_example_text(name + _JSON_SUFFIX))
