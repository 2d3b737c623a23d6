"""Every docstring example in the three packages runs: one test per module that has examples."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules_with_examples() -> list[str]:
    names = []
    for package in ("schemas", "federation", "fedicoop"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if ">>>" in path.read_text(encoding="utf-8"):
                names.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return names


MODULES = _modules_with_examples()


def test_doctests__modules_are_found() -> None:
    assert "fedicoop.ids" in MODULES
    assert "federation.digest" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests__pass(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has '>>>' but no example ran"
    assert result.failed == 0
