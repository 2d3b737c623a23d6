"""axe-core, the accessibility engine, injected into a page and run there.

axe-core comes from npm, pinned to :data:`AXE_VERSION`, installed once into a cache directory outside
the repository (``$FEDICOOP_AXE_CACHE``, else ``$XDG_CACHE_HOME/fedicoop`` or ``~/.cache/fedicoop``) and
reused by every later run. The install goes to a temporary directory first and is renamed into place, so
two processes installing at once never see half a package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_CACHE_ENV = "FEDICOOP_AXE_CACHE"
NPM_TIMEOUT = 300.0
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

RUN_AXE = """async () => {
  const results = await window.axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((violation) => ({
    rule: violation.id,
    impact: violation.impact || "unknown",
    help: violation.help,
    help_url: violation.helpUrl,
    elements: violation.nodes.map((node) => [node.target.join(" "), node.html]),
  }));
}"""


class AxeUnavailableError(RuntimeError):
    """axe-core is not in the cache and npm could not install it; the message says why."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule axe-core found broken on a page, with the elements that break it."""

    rule: str
    impact: str
    help: str
    help_url: str
    elements: tuple[tuple[str, str], ...]
    """(CSS selector, HTML) of each offending element."""

    @property
    def blocking(self) -> bool:
        """Whether the impact is serious or critical: such a violation fails a test."""
        return self.impact in BLOCKING_IMPACTS

    def describe(self) -> str:
        """A few lines for a failure message: rule, impact, help and the first offending elements."""
        lines = [f"[{self.impact}] {self.rule}: {self.help} ({self.help_url})"]
        lines += [f"    {target}  {html[:160]}" for target, html in self.elements[:5]]
        if len(self.elements) > 5:
            lines.append(f"    … and {len(self.elements) - 5} more elements")
        return "\n".join(lines)


def cache_root() -> Path:
    """The directory holding the installed npm packages of the tests (created on demand)."""
    configured = os.environ.get(AXE_CACHE_ENV)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "fedicoop"


def _package_dir(prefix: Path) -> Path:
    return prefix / "node_modules" / "axe-core"


def _installed_version(prefix: Path) -> str | None:
    try:
        manifest = json.loads((_package_dir(prefix) / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def ensure_axe(root: Path | None = None) -> Path:
    """The path of ``axe.min.js`` at :data:`AXE_VERSION`, installing it with npm the first time."""
    root = root or cache_root()
    prefix = root / f"axe-core-{AXE_VERSION}"
    script = _package_dir(prefix) / "axe.min.js"
    if script.is_file() and _installed_version(prefix) == AXE_VERSION:
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise AxeUnavailableError(
            f"axe-core {AXE_VERSION} is not cached in {prefix} and npm is not on the PATH: install Node.js "
            "and npm (`apt-get install -y npm`)"
        )
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="axe-core-", dir=root))
    try:
        command = [npm, "install", "--prefix", str(staging), "--no-save", "--no-audit", "--no-fund"]
        completed = subprocess.run(
            [*command, "--silent", f"axe-core@{AXE_VERSION}"],
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
        if completed.returncode != 0 or _installed_version(staging) != AXE_VERSION:
            raise AxeUnavailableError(
                f"`npm install axe-core@{AXE_VERSION}` failed (exit {completed.returncode}):\n"
                f"{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
            )
        shutil.rmtree(prefix, ignore_errors=True)  # a broken or partial earlier install
        try:
            staging.rename(prefix)
        except OSError:
            if _installed_version(prefix) != AXE_VERSION:  # another process did not win the race either
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return script


def run_axe(page: Page, source: str) -> list[Violation]:
    """Inject axe-core (``source``, the text of axe.min.js) into ``page`` unless there, and run it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=source)
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return [
        Violation(
            rule=str(entry["rule"]),
            impact=str(entry["impact"]),
            help=str(entry["help"]),
            help_url=str(entry["help_url"]),
            elements=tuple((str(target), str(html)) for target, html in entry["elements"]),
        )
        for entry in found
    ]


def blocking(violations: list[Violation]) -> list[Violation]:
    """The serious and critical violations among ``violations``."""
    return [violation for violation in violations if violation.blocking]


def report(url: str, violations: list[Violation]) -> str:
    """Every violation of a page, blocking ones first, as text for a failure message or a report."""
    ordered = sorted(violations, key=lambda violation: (not violation.blocking, violation.rule))
    return "\n".join([f"axe-core {AXE_VERSION} on {url}:", *(violation.describe() for violation in ordered)])
