"""Fixtures of the end-to-end tests: ``node_factory`` starts real nodes on SQLite, then on PostgreSQL.

Every test under ``tests/e2e`` is marked ``slow`` and ``xdist_group("e2e")``: with ``--dist loadgroup``
they all run on one worker, one test at a time, so that the node processes of two tests never compete
for the machine (each test starts its own nodes in parallel). pytest 9.2 with pytest-xdist 3.8 drops the
group silently (pytest-xdist#1386); the tests stay correct then, each with its own ports, databases and
directories, only slower to start. When a test fails, the log tails of its nodes are added to the
failure report; the start timings are a section of every report (``-rP`` shows them) and user
properties (``--junitxml`` records them).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import PG_ADMIN_DSN, postgres_enabled
from tests.e2e.nodes import NodeFactory, PostgresDatabases

E2E_DIR = Path(__file__).resolve().parent
FACTORY = pytest.StashKey[NodeFactory]()

BACKEND_PARAMS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
if not postgres_enabled():
    BACKEND_PARAMS = ["sqlite"]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the end-to-end tests before xdist reads their group."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the node log tails to a failed report, and the start timings to the report of the test."""
    report = yield
    factory = item.stash.get(FACTORY, None)
    if factory is None:
        return report
    if report.failed:
        report.sections.append((f"node logs ({factory.backend})", factory.logs()))
    if report.when == "call" and factory.timings:
        lines = [f"{t.node}: migrate {t.migrate:.2f} s, serve {t.serve:.2f} s" for t in factory.timings]
        report.sections.append((f"node start timings ({factory.backend})", "\n".join(lines)))
        for timing in factory.timings:
            report.user_properties.append((f"start_seconds[{timing.node}]", round(timing.total, 2)))
    return report


@pytest.fixture(scope="session")
def postgres_databases() -> PostgresDatabases:
    """Creates and drops the nodes' databases; fails the test at once when PostgreSQL is unreachable."""
    databases = PostgresDatabases(PG_ADMIN_DSN)
    try:
        databases.drop("fc_e2e_probe")
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is unreachable at {PG_ADMIN_DSN} ({exc}); start it, or set FEDICOOP_TEST_POSTGRES=0 "
            "to run the SQLite half only"
        )
    return databases


@pytest.fixture(params=BACKEND_PARAMS)
def node_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NodeFactory]:
    """Starts real nodes (``factory.start("a", "b", "c")``) on SQLite, then on PostgreSQL.

    Every node is stopped and every database dropped at the end of the test, even when it fails.
    """
    postgres = request.getfixturevalue("postgres_databases") if request.param == "postgres" else None
    factory = NodeFactory(request.param, tmp_path / "nodes", postgres=postgres)
    request.node.stash[FACTORY] = factory
    try:
        yield factory
    finally:
        factory.close()
