"""The search benchmark: p50 and p95 of the real ``search()`` over 100,000 catalogue items; p95 < 50 ms.

A fresh database (a SQLite file, or a new PostgreSQL database dropped afterwards), migrated, gets the
synthetic catalogue of :mod:`bench.search_corpus` (items in the communes of région 32, territory codes
and ``catalogue_commune`` rows as ``store_object`` writes them, events, repair offers with free slots),
then ``VACUUM ANALYZE`` on PostgreSQL (what its autovacuum does within a minute of such an insert:
statistics, and the visibility map index-only scans need); SQLite never analyses by itself, so it is
analysed only with ``--analyze``. Then each query kind runs
``queries`` times with parameters drawn from a seeded generator, every kind shuffled together so that
the machine's noise falls on all alike, after an untimed warm-up of ten of each:

- **latest**: no filter but sometimes a kind, newest first (the portal's home page);
- **text**: one or two French words, in varied case, accents and number, or a commune's name;
- **département**, **EPCI**, **commune**: a territorial filter (EPCI and commune drawn by population),
  half of the département queries with a kind;
- **radius**: within 10 km of a point at most 3 km from Roubaix's town hall, nearest first;
- **dates**: events and repair offers with a free slot in a 3-day window starting in the next 14 days,
  soonest first;
- **combined**: a repair offer with a free slot in such a window, within 10 km of such a point, soonest
  first and nearest first (two kinds).

A time is the wall-clock time of ``await search(query, now=now)`` in this process: the page's statement,
the two facet statements and the loading of the page's rows, with a page of 20. The CPU time of this
process is noted too: on SQLite it includes the database's work (aiosqlite's thread), so it stays
meaningful on a loaded machine; on PostgreSQL it is the client side only. With ``--explain``, the
statements of the slowest query of each kind are printed with their plan (``EXPLAIN QUERY PLAN`` on
SQLite, ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL).
"""

from __future__ import annotations

import logging
import math
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from bench.common import database_url
from bench.search_corpus import EVENTS, OBJECTS, REPAIRS, Corpus, Filled, fill
from fedicoop.db import migrate_database, open_database
from fedicoop.models.catalogue import CatalogueItem
from fedicoop.models.states import CatalogueKind
from fedicoop.services.search import SearchQuery, SortOrder, search, words
from fedicoop.settings import Settings, load_settings
from fedicoop.territory import Commune, Territory

TARGET_MS = 50.0
"""The p95 every query kind must stay under."""

ROUBAIX = "59512"
WARMUP = 10
WINDOW = timedelta(days=3)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile ``share`` (0–1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


class Workload:
    """Draws the queries of each kind from a seeded generator."""

    def __init__(self, corpus: Corpus, now: datetime, seed: int) -> None:
        self.corpus = corpus
        self.territory = corpus.territory
        self.now = now
        self.random = random.Random(seed)
        roubaix = self.territory.commune(ROUBAIX)
        assert roubaix is not None and roubaix.townhall is not None
        self.roubaix = roubaix.townhall
        self.departements = sorted({commune.departement for commune in self.territory})
        phrases = [
            phrase for table in (OBJECTS, REPAIRS, EVENTS) for group in table.values() for phrase in group
        ]
        self.vocabulary = sorted(
            {word for phrase in phrases for word in phrase.split() if len(words(word)) == 1 and len(word) > 3}
        )
        self.kinds: dict[str, Callable[[], SearchQuery]] = {
            "latest": self.latest,
            "text": self.text,
            "département": self.departement,
            "EPCI": self.epci,
            "commune": self.commune,
            "radius 10 km": self.radius,
            "dates 3 days": self.dates,
            "combined, soonest": self.combined_start,
            "combined, nearest": self.combined_nearest,
        }

    def _kind(self) -> tuple[CatalogueKind, ...]:
        return (self.random.choice(list(CatalogueKind)),)

    def _commune(self) -> Commune:
        """A commune drawn by population, like the items' (with this generator, not the corpus's)."""
        return self.random.choices(self.corpus.communes, self.corpus.weights)[0]

    def latest(self) -> SearchQuery:
        """The home page: no filter, half the time one kind."""
        return SearchQuery(kinds=self._kind() if self.random.random() < 0.5 else ())

    def _word(self) -> str:
        word = self.random.choice(self.vocabulary)
        variant = self.random.randrange(4)
        if variant == 1:
            return word.upper()
        if variant == 2:
            return word + "s"
        if variant == 3:
            return " ".join(words(word))  # accents removed
        return word

    def text(self) -> SearchQuery:
        """One or two words of the titles (varied case, accents, number), or a commune's name."""
        draw = self.random.random()
        if draw < 0.15:
            return SearchQuery(text=self._commune().name)
        return SearchQuery(text=" ".join(self._word() for _ in range(1 if draw < 0.7 else 2)))

    def departement(self) -> SearchQuery:
        """A département, half the time with one kind."""
        kinds = self._kind() if self.random.random() < 0.5 else ()
        return SearchQuery(departement=self.random.choice(self.departements), kinds=kinds)

    def epci(self) -> SearchQuery:
        """The EPCI of a commune drawn by population."""
        while (epci := self._commune().epci) is None:
            pass
        return SearchQuery(epci=epci)

    def commune(self) -> SearchQuery:
        """A commune drawn by population."""
        return SearchQuery(commune=self._commune().code)

    def _near(self) -> tuple[float, float]:
        """A point at most 3 km from Roubaix's town hall."""
        distance, bearing = 3_000.0 * math.sqrt(self.random.random()), self.random.uniform(0, 2 * math.pi)
        latitude, longitude = self.roubaix
        return (
            latitude + distance * math.cos(bearing) / 111_320.0,
            longitude + distance * math.sin(bearing) / (111_320.0 * math.cos(math.radians(latitude))),
        )

    def radius(self) -> SearchQuery:
        """Within 10 km of a point near Roubaix, nearest first."""
        return SearchQuery(near=self._near(), radius_km=10.0, sort=SortOrder.DISTANCE)

    def _window(self) -> tuple[datetime, datetime]:
        """Three days from a whole hour within the next fourteen days."""
        start = self.now.replace(minute=0, second=0, microsecond=0) + timedelta(
            hours=self.random.randrange(14 * 24)
        )
        return start, start + WINDOW

    def dates(self) -> SearchQuery:
        """Events and repair offers with a free slot in a 3-day window, soonest first."""
        start, end = self._window()
        kinds = (CatalogueKind.EVENT, CatalogueKind.REPAIR)
        return SearchQuery(kinds=kinds, date_from=start, date_to=end, sort=SortOrder.START)

    def combined_start(self) -> SearchQuery:
        """A repair offer with a free slot in a 3-day window within 10 km of Roubaix, soonest first."""
        start, end = self._window()
        return SearchQuery(
            kinds=(CatalogueKind.REPAIR,), date_from=start, date_to=end, near=self._near(), radius_km=10.0,
            sort=SortOrder.START,
        )  # fmt: skip

    def combined_nearest(self) -> SearchQuery:
        """The same, nearest first."""
        return replace(self.combined_start(), sort=SortOrder.DISTANCE)


@dataclass
class Timing:
    """The times (ms) and result sizes of one query kind, and its slowest query."""

    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    slowest: tuple[float, SearchQuery] | None = None

    def add(self, query: SearchQuery, milliseconds: float, cpu: float, total: int) -> None:
        """Record one query: its wall-clock and CPU milliseconds and the size of its filtered set."""
        self.times.append(milliseconds)
        self.cpu.append(cpu)
        self.totals.append(total)
        if self.slowest is None or milliseconds > self.slowest[0]:
            self.slowest = (milliseconds, query)


@dataclass
class SearchResult:
    """The figures of the search benchmark."""

    database: str
    filled: Filled
    analyzed: bool
    load_before: str
    load_after: str = ""
    timings: dict[str, Timing] = field(default_factory=dict)
    plans: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report printed by ``python -m bench``."""
        filled = self.filled
        rate = filled.items / filled.insert_seconds
        out = [
            f"search ({self.database}): {filled.items:,} items, {filled.communes:,} item-commune rows, "
            f"{filled.slots:,} free slots; drawn in {filled.draw_seconds:.1f} s, inserted in "
            f"{filled.insert_seconds:.1f} s ({rate:,.0f} items/s, full-text index included)"
            + ("; then analysed" if self.analyzed else "; not analysed"),
            f"search: load average {self.load_before} before the queries, {self.load_after} after",
            f"| query ({self.database}) | n | p50 ms | p95 ms | max | CPU p50 | median found "
            f"| p95 < {TARGET_MS:g} |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, timing in self.timings.items():
            p95 = percentile(timing.times, 0.95)
            out.append(
                f"| {name} | {len(timing.times)} | {statistics.median(timing.times):.1f} | {p95:.1f} | "
                f"{max(timing.times):.1f} | {statistics.median(timing.cpu):.1f} | "
                f"{statistics.median(timing.totals):,.0f} | "
                f"{'yes' if p95 < TARGET_MS else '**no**'} |"
            )
        return out + self.plans


def search_settings(url: str, work: Path) -> Settings:
    """Settings of the benchmarked node (not served: the search runs in this process)."""
    return load_settings(
        toml_file=None,
        env_file=None,
        base_url="http://127.0.0.1:9",
        database_url=url,
        data_dir=str(work),
        demo=False,
    )


class StatementLog(logging.Handler):
    """Collects the (SQL, values) tortoise's clients log at DEBUG level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str):
            values = args[1]
            self.statements.append((args[0], list(values) if isinstance(values, list | tuple) else []))


async def explain(name: str, query: SearchQuery, now: datetime, postgres: bool) -> list[str]:
    """The statements of ``query`` and their plans."""
    logger = logging.getLogger("tortoise.db_client")
    handler, level = StatementLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        await search(query, now=now)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    database = CatalogueItem._meta.db
    lines = [f"--- plans of the slowest '{name}' query: {query}"]
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    for sql, values in handler.statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        lines.append(f"SQL: {sql[:2000]}")
        rows = await database.execute_query_dict(prefix + sql, values)
        for row in rows:
            plan = row["QUERY PLAN"] if postgres else f"{row['id']:>3} {row['parent']:>3} {row['detail']}"
            lines.append(f"    {plan}")
    return lines


async def measure(workload: Workload, queries: int, now: datetime) -> dict[str, Timing]:
    """Run every kind's warm-up, then ``queries`` of each, all kinds shuffled together; time each."""
    for draw in workload.kinds.values():
        for _ in range(WARMUP):
            await search(draw(), now=now)
    planned = [(name, draw()) for name, draw in workload.kinds.items() for _ in range(queries)]
    workload.random.shuffle(planned)
    timings = {name: Timing() for name in workload.kinds}
    for name, query in planned:
        started, cpu = time.perf_counter(), time.process_time()
        page = await search(query, now=now)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        timings[name].add(query, elapsed * 1000.0, cpu * 1000.0, page.total)
    return timings


async def run_search(
    *,
    database: str,
    items: int,
    queries: int,
    work: Path,
    seed: int = 2024,
    analyze: bool = False,
    show_plans: bool = False,
) -> SearchResult:
    """Fill a fresh database with ``items`` synthetic items and time ``queries`` searches of each kind."""
    territory = Territory.load(["32"], cache_dir=work / "territory-cache")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    async with database_url(database, work) as url:
        settings = search_settings(url, work)
        await migrate_database(settings)
        async with open_database(settings):
            client = CatalogueItem._meta.db
            postgres = client.capabilities.dialect == "postgres"
            corpus = Corpus(territory, now, seed, postgres=postgres)
            async with in_transaction(client.connection_name) as connection:
                filled = await fill(connection, corpus, items)
            if postgres:
                await client.execute_script("VACUUM ANALYZE")
            elif analyze:
                await client.execute_script("ANALYZE")
            result = SearchResult(database, filled, postgres or analyze, load_average())
            workload = Workload(corpus, now, seed + 1)
            result.timings = await measure(workload, queries, now)
            result.load_after = load_average()
            for name, timing in result.timings.items():
                if timing.slowest is not None and (show_plans or percentile(timing.times, 0.95) >= TARGET_MS):
                    result.plans += await explain(name, timing.slowest[1], now, postgres)
    return result
