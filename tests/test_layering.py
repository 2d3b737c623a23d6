"""Import layering: ``schemas`` is pure, ``federation`` knows no web framework, ORM nor app, and only
``federation/http.py`` and ``federation/transport.py`` import httpx; httptools' parser is used by
``federation/http1.py`` alone; aiohttp and httpcore nowhere. Checked statically with ``ast`` on every
module of the three packages.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import federation
import schemas

REPO = Path(__file__).resolve().parent.parent
SCHEMAS_ALLOWED_THIRD_PARTY = frozenset(
    {"pydantic", "pydantic_core", "schemas", "typing_extensions", "annotated_types"}
)
FEDERATION_FORBIDDEN = frozenset({"tortoise", "starlette", "fastapi", "jinja2", "fedicoop"})
HTTP_MODULE = REPO / "federation" / "http.py"
TRANSPORT_MODULE = REPO / "federation" / "transport.py"
HTTP1_MODULE = REPO / "federation" / "http1.py"
HTTP_CLIENTS: dict[str, frozenset[Path]] = {
    "httpx": frozenset({HTTP_MODULE, TRANSPORT_MODULE}),
    "httptools": frozenset({HTTP1_MODULE}),
    "httpx_aiohttp": frozenset(),
    "aiohttp": frozenset(),
    "aiohappyeyeballs": frozenset(),
    "multidict": frozenset(),
    "yarl": frozenset(),
    "httpcore": frozenset(),
}
"""Each HTTP client library, and the only modules allowed to import it."""


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Top-level names of every module ``path`` imports, with the line; relative imports are skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def _violations(package: str, allowed: frozenset[str] | None, forbidden: frozenset[str]) -> list[str]:
    found = []
    for path in _modules(package):
        for name, line in _imports(path):
            where = f"{path.relative_to(REPO)}:{line} imports {name}"
            if name in forbidden:
                found.append(where)
            elif allowed is not None and name not in allowed and name not in sys.stdlib_module_names:
                found.append(where)
    return found


def test_imports__parses_every_module() -> None:
    for package in ("schemas", "federation", "fedicoop"):
        modules = _modules(package)
        assert modules, package
        for path in modules:
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_schemas__imports_only_stdlib_and_pydantic() -> None:
    assert _violations("schemas", SCHEMAS_ALLOWED_THIRD_PARTY, frozenset()) == []


def test_federation__never_imports_web_orm_or_app() -> None:
    assert _violations("federation", None, FEDERATION_FORBIDDEN) == []


@pytest.mark.parametrize("package", ["schemas", "federation", "fedicoop"])
def test_http_clients__only_in_federation_http_and_transport(package: str) -> None:
    found = [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in _modules(package)
        for name, line in _imports(path)
        if name in HTTP_CLIENTS and path not in HTTP_CLIENTS[name]
    ]
    assert found == []


def test_http_modules__exist_and_use_their_libraries() -> None:
    assert "httpx" in {name for name, _ in _imports(HTTP_MODULE)}
    assert "httpx" in {name for name, _ in _imports(TRANSPORT_MODULE)}
    assert "httptools" in {name for name, _ in _imports(HTTP1_MODULE)}


def test_violations__detects_a_forbidden_import(tmp_path: Path) -> None:
    """The scanner itself can fail: an ``import tortoise`` is seen, including inside a function."""
    module = tmp_path / "bad.py"
    module.write_text("def f() -> None:\n    from tortoise.models import Model\n    import httpx.auth\n")
    assert sorted(name for name, _ in _imports(module)) == ["httpx", "tortoise"]


@pytest.mark.parametrize("package", [federation, schemas])
def test_packages__are_imported_from_the_repository(package: object) -> None:
    location = Path(getattr(package, "__file__", "") or "").resolve()
    assert location.is_relative_to(REPO), location
    assert location.parent.parent == REPO
