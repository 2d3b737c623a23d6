"""Fixtures of the browser tests: Debian's Chromium under Playwright, axe-core, the portal world.

Every test here is marked ``slow`` and ``xdist_group("browser")``: with ``--dist loadgroup`` they run on
one worker, one after the other, sharing (per module) one browser and one pair of real nodes. Screenshots
go to ``tests/browser/artifacts/`` (git-ignored), listed in ``artifacts/index.txt`` and at the end of
the run (when the controller loaded this conftest: a run of ``tests/browser``, with or without xdist). A
failed test gets the log tails of the nodes in its report and a screenshot of its page.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.browser.audit import Audit, Shoot
from tests.browser.axe import AxeUnavailableError, ensure_axe
from tests.browser.chromium import DESKTOP, ChromiumMissingError, launch
from tests.browser.portal import PortalWorld, start_portal
from tests.e2e.nodes import NodeFactory

BROWSER_DIR = Path(__file__).resolve().parent
ARTIFACTS = BROWSER_DIR / "artifacts"
SCREENSHOT = "screenshot"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
FACTORY = pytest.StashKey[NodeFactory]()
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests before xdist reads their group."""
    for item in items:
        if item.path.is_relative_to(BROWSER_DIR):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the log tails of the world's nodes to a failed browser test's report; note a failed call."""
    report = yield
    if not item.path.is_relative_to(BROWSER_DIR):
        return report
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    factory = item.session.stash.get(FACTORY, None)
    if report.failed and factory is not None:
        report.sections.append(("node logs (browser world)", factory.logs()))
    return report


class ScreenshotList:
    """A plugin that lists, at the end of the run, the screenshots the browser tests recorded.

    The paths travel in each report's ``user_properties``, so the controller of an xdist run sees them
    too, provided it loaded this conftest; ``artifacts/index.txt`` lists them in any case.
    """

    def __init__(self) -> None:
        self.paths: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the screenshot paths of a test (its teardown report carries all of them)."""
        if report.when == "teardown":
            self.paths += [str(value) for name, value in report.user_properties if name == SCREENSHOT]

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print the paths, one a line."""
        if self.paths:
            terminalreporter.section("browser screenshots")
            for path in self.paths:
                terminalreporter.write_line(path)


def pytest_configure(config: pytest.Config) -> None:
    """Register :class:`ScreenshotList`."""
    config.pluginmanager.register(ScreenshotList(), "fedicoop-browser-screenshots")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, for the module."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium; a missing browser fails the test with the command that installs it."""
    try:
        chromium = launch(playwright)
    except ChromiumMissingError as exc:
        pytest.fail(str(exc))
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The text of axe.min.js (installed from npm into the cache the first time)."""
    try:
        return ensure_axe().read_text(encoding="utf-8")
    except AxeUnavailableError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalWorld]:
    """The portal (demo data, role portal) and the origin node it follows, with the origin's items."""
    factory, portal_world = start_portal(tmp_path_factory.mktemp("browser-nodes"))
    request.session.stash[FACTORY] = factory
    try:
        yield portal_world
    finally:
        factory.close()
        del request.session.stash[FACTORY]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh desktop-sized French browser context (CSP bypassed, for axe-core's injected script)."""
    fresh = browser.new_context(viewport=DESKTOP, locale="fr-FR", bypass_csp=True)
    yield fresh
    fresh.close()


@pytest.fixture
def outside_requests(context: BrowserContext) -> list[str]:
    """The URLs of every request the pages made to a host other than loopback (there must be none)."""
    outside: list[str] = []
    context.on(
        "request",
        lambda sent: (
            outside.append(sent.url)
            if urlsplit(sent.url).scheme in {"http", "https"} and urlsplit(sent.url).hostname not in LOOPBACK
            else None
        ),
    )
    return outside


@pytest.fixture
def page(
    request: pytest.FixtureRequest, context: BrowserContext, outside_requests: list[str], shoot: Shoot
) -> Iterator[Page]:
    """A page of :func:`context`, screenshotted as ``failed-<test>`` when the test fails; the test errors
    if a page it loaded fetched anything off loopback."""
    opened = context.new_page()
    yield opened
    if request.node.stash.get(CALL_FAILED, False) and opened.url.startswith("http"):
        shoot(opened, f"failed-{request.node.name}")
    if outside_requests:
        pytest.fail(f"the pages fetched from outside loopback: {sorted(set(outside_requests))}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/browser/artifacts/, with an empty ``index.txt`` (screenshot path, tab, page URL) for this run."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "index.txt").write_text("", encoding="utf-8")
    return ARTIFACTS


@pytest.fixture
def shoot(request: pytest.FixtureRequest, artifacts: Path) -> Shoot:
    """``shoot(page, name)``: a full-page PNG in tests/browser/artifacts/<name>.png, listed at the end."""

    def save(page: Page, name: str) -> Path:
        path = artifacts / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        request.node.user_properties.append((SCREENSHOT, str(path)))
        with (artifacts / "index.txt").open("a", encoding="utf-8") as index:
            index.write(f"{path}\t{page.url}\n")
        return path

    return save


@pytest.fixture
def audit(axe_source: str, shoot: Shoot, artifacts: Path) -> Audit:
    """Screenshot and axe-audit the pages of one test (``audit.check(page, name)``, then ``assert_clean``)."""
    return Audit(axe_source, shoot, artifacts)
