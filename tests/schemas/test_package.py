"""The schemas package as a whole: where it lives, what it imports, nothing done at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import schemas

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "schemas"
ALLOWED_THIRD_PARTY = frozenset({"pydantic", "schemas"})


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_schemas__is_our_package() -> None:
    assert Path(schemas.__file__).resolve().parent == PACKAGE


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_schemas__imports_only_stdlib_and_pydantic(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    outside = {
        name for name in imported if name not in sys.stdlib_module_names and name not in ALLOWED_THIRD_PARTY
    }
    assert outside == set()


def test_schemas__import_reads_no_data_file() -> None:
    probe = (
        "import sys, importlib, pkgutil\n"
        "opened = []\n"
        "def hook(event, args):\n"
        "    name = args[0] if event == 'open' else None\n"
        "    if isinstance(name, str) and name.endswith(('.json', '.jsonld', '.xml')):\n"
        "        opened.append(name)\n"
        "sys.addaudithook(hook)\n"
        "import schemas\n"
        "for info in pkgutil.walk_packages(schemas.__path__, 'schemas.'):\n"
        "    importlib.import_module(info.name)\n"
        "import federation.jsonld\n"
        "print(len(opened), opened)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.startswith("0 "), result.stdout
