"""Fixtures of the interoperability tests: bovine-herd 0.5.19 installed once per session, one server per test.

Every test under ``tests/interop`` is marked ``slow`` and ``xdist_group("bovine")``: with ``--dist
loadgroup`` they all run on one worker, so bovine's virtualenv is installed once (in that worker's session
temporary directory) while the other workers run the rest of the suite. A failed install fails every
test that needs bovine with pip's output; nothing is skipped. When a test fails, the bovine server's log
tail is added to its report; the install and start times are a section of every report (``-rP``) and
user properties (``--junitxml``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest

from tests.interop.bovine_peer import BovineInstall, BovinePeer, BovinePeerError, install_bovine

INTEROP_DIR = Path(__file__).resolve().parent
PEERS = pytest.StashKey[list[BovinePeer]]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the interoperability tests before xdist reads their group."""
    for item in items:
        if item.path.is_relative_to(INTEROP_DIR):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("bovine"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add bovine's log tail to a failed report, and its install and start times to every report."""
    report = yield
    peers = item.stash.get(PEERS, [])
    if report.failed:
        for peer in peers:
            report.sections.append((f"bovine log ({peer.base_url})", peer.log()))
    if report.when == "call" and peers:
        lines = [f"install {peers[0].install.seconds:.1f} s (once per session)"]
        lines += [f"{peer.base_url}: start {peer.start_seconds:.2f} s" for peer in peers]
        report.sections.append(("bovine timings", "\n".join(lines)))
        report.user_properties.append(("bovine_install_seconds", round(peers[0].install.seconds, 1)))
        for index, peer in enumerate(peers):
            report.user_properties.append((f"bovine_start_seconds[{index}]", round(peer.start_seconds, 2)))
    return report


@pytest.fixture(scope="session")
def bovine_install(tmp_path_factory: pytest.TempPathFactory) -> BovineInstall:
    """bovine-herd 0.5.19 from PyPI in a virtualenv of its own; fails (never skips) when pip fails."""
    try:
        return install_bovine(tmp_path_factory.mktemp("bovine") / "venv")
    except BovinePeerError as exc:
        pytest.fail(f"bovine-herd could not be installed: {exc}")


@pytest.fixture
async def bovine_peer(
    bovine_install: BovineInstall, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[BovinePeer]:
    """A running bovine-herd server on a free loopback port with one actor; stopped after the test."""
    peers = request.node.stash.setdefault(PEERS, [])
    try:
        peer = await BovinePeer.start(bovine_install, tmp_path / "bovine")
    except BovinePeerError as exc:
        pytest.fail(f"bovine-herd did not start: {exc}")
    peers.append(peer)
    try:
        yield peer
    finally:
        await peer.stop()
