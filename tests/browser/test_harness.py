"""The browser harness itself: axe-core tells a broken page from a sound one; missing tools are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.axe import AXE_VERSION, AxeUnavailableError, blocking, ensure_axe, run_axe
from tests.browser.chromium import CHROMIUM_ENV, ChromiumMissingError, chromium_path
from tests.browser.steps import focused

PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACw="

BROKEN = f"""<!DOCTYPE html><html><head><title>Cassé</title></head><body>
<main><h1>Page cassée</h1>
<img src="{PIXEL}" width="20" height="20">
<form><input type="text" name="q"><button type="submit"></button></form>
<p style="color:#bbbbbb;background:#ffffff">Texte gris clair sur blanc</p>
</main></body></html>"""

SOUND = f"""<!DOCTYPE html><html lang="fr"><head><title>Saine</title></head><body>
<header><p>En-tête</p></header>
<main><h1>Page saine</h1>
<img src="{PIXEL}" width="20" height="20" alt="Un point">
<form role="search"><label for="q">Mots</label><input id="q" type="search" name="q">
<button type="submit">Chercher</button></form>
<p style="color:#222222;background:#ffffff">Texte lisible</p>
</main><footer><p>Pied de page</p></footer></body></html>"""


def test_axe_reports_the_serious_and_critical_rules_a_broken_page_breaks(page: Page, axe_source: str) -> None:
    page.set_content(BROKEN)
    rules = {violation.rule for violation in blocking(run_axe(page, axe_source))}
    assert {"image-alt", "label", "button-name", "color-contrast", "html-has-lang"} <= rules


def test_axe_finds_nothing_serious_on_a_sound_page(page: Page, axe_source: str) -> None:
    page.set_content(SOUND)
    violations = run_axe(page, axe_source)
    assert blocking(violations) == [], [violation.describe() for violation in violations]
    assert run_axe(page, axe_source) == violations  # a second run reuses the injected script


@pytest.mark.parametrize(
    ("style", "shows"),
    [
        ("", True),
        ("a:focus { outline: none }", False),
        ("a:focus { outline: none; box-shadow: 0 0 0 3px #000 }", True),
    ],
)
def test_focused_tells_whether_the_focus_shows(page: Page, style: str, shows: bool) -> None:
    page.set_content(f'<html lang="fr"><style>{style}</style><a href="#fin">Lien</a><p id="fin">Fin</p>')
    page.keyboard.press("Tab")
    state = focused(page)
    assert (state["tag"], state["href"], state["visible"]) == ("a", "#fin", True)
    assert (state["outline"] or state["shadow"]) is shows, state


def test_the_cached_axe_core_is_used_without_npm(
    axe_source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cached = ensure_axe()
    assert f"axe-core-{AXE_VERSION}" in str(cached) and cached.read_text(encoding="utf-8") == axe_source
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on the PATH: the cache is enough
    assert ensure_axe() == cached
    with pytest.raises(AxeUnavailableError, match="npm is not on the PATH"):
        ensure_axe(tmp_path / "empty-cache")
    assert not (tmp_path / "empty-cache").exists()


def test_a_missing_chromium_is_reported_with_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "chromium"))
    with pytest.raises(ChromiumMissingError, match=r"apt-get install -y chromium"):
        chromium_path()
    monkeypatch.delenv(CHROMIUM_ENV)
    assert chromium_path() == Path("/usr/bin/chromium")
