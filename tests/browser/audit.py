"""The look of each page a browser test visits: a screenshot and an axe-core audit, asserted at the end.

A test calls :meth:`Audit.check` on every page it reaches, then :meth:`Audit.assert_clean` once: all the
screenshots exist even when an early page breaks a rule, and the failure names every page with a serious
or critical violation. Each page's full axe report (minor and moderate findings too) is written next to
its screenshot, ``artifacts/<name>.axe.txt``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.axe import Violation, blocking, report, run_axe

Shoot = Callable[[Page, str], Path]


@dataclass
class Audit:
    """Screenshots and axe-core results of the pages one test visited."""

    axe_source: str
    shoot: Shoot
    directory: Path
    results: dict[str, tuple[str, list[Violation]]] = field(default_factory=dict)

    def check(self, page: Page, name: str) -> list[Violation]:
        """Screenshot ``page`` as ``name``, run axe-core on it, write its report; return the violations."""
        self.shoot(page, name)
        violations = run_axe(page, self.axe_source)
        text = report(page.url, violations) if violations else f"axe-core on {page.url}: no violation"
        (self.directory / f"{name}.axe.txt").write_text(text + "\n", encoding="utf-8")
        self.results[name] = (page.url, violations)
        return violations

    def failures(self) -> dict[str, str]:
        """The report of every page with a serious or critical violation, by page name."""
        return {
            name: report(url, blocking(violations))
            for name, (url, violations) in self.results.items()
            if blocking(violations)
        }

    def assert_clean(self) -> None:
        """Fail with every page's serious and critical violations, if any page has one."""
        failures = self.failures()
        assert not failures, "serious or critical accessibility violations:\n" + "\n\n".join(
            f"== {name}\n{text}" for name, text in failures.items()
        )
