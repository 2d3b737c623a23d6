"""``python -m bench``: run the inbox, fan-out and search benchmarks and print their figures."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from bench.common import fast_http, fast_loop, run_async
from bench.fanout import run_fanout
from bench.inbox import run_inbox
from bench.search import run_search


def machine() -> str:
    """nproc, CPU model, Python version and load: the context of the figures."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPUs, {model}, Python {platform.python_version()}, "
        f"servers on {fast_loop()}/{fast_http()}, load average {load}"
    )


def main() -> None:
    """Parse the options, run the benchmarks, print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=["inbox", "fanout", "search"], help="run one benchmark only")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3, help="measurements of each kind (default 3)")
    parser.add_argument("--requests", type=int, default=2000, help="timed inbox POSTs per run")
    parser.add_argument("--warmup", type=int, default=200, help="untimed inbox POSTs per run")
    parser.add_argument("--connections", type=int, default=32, help="load generator connections")
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--concurrency", type=int, help="worker concurrency (default: the settings')")
    parser.add_argument(
        "--items", type=int, default=100_000, help="search: catalogue items (default 100,000)"
    )
    parser.add_argument("--queries", type=int, default=200, help="search: timed queries of each kind")
    parser.add_argument(
        "--analyze", action="store_true", help="search: ANALYZE SQLite too before the queries"
    )
    parser.add_argument("--explain", action="store_true", help="search: print every kind's slowest plan")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, databases)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fedicoop-bench-"))
    print(machine(), flush=True)
    lines: list[str] = []
    try:
        if options.only in (None, "inbox"):
            inbox = asyncio.run(
                run_inbox(
                    database=options.database,
                    runs=options.runs,
                    requests=options.requests,
                    warmup=options.warmup,
                    concurrency=options.connections,
                    work=work,
                )
            )
            lines += inbox.lines()
            print("\n".join(inbox.lines()), flush=True)
        if options.only in (None, "fanout"):
            fanout = run_async(
                lambda: run_fanout(
                    database=options.database,
                    rounds=options.runs,
                    followers=options.followers,
                    hosts=options.hosts,
                    concurrency=options.concurrency,
                    work=work,
                ),
                fast_loop(),
            )
            lines += fanout.lines()
            print("\n".join(fanout.lines()), flush=True)
        if options.only in (None, "search"):
            found = asyncio.run(
                run_search(
                    database=options.database,
                    items=options.items,
                    queries=options.queries,
                    work=work,
                    analyze=options.analyze,
                    show_plans=options.explain,
                )
            )
            lines += found.lines()
            print("\n".join(found.lines()), flush=True)
    except Exception:
        print(f"benchmark failed; logs in {work}", file=sys.stderr)
        raise
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"database: {options.database}", flush=True)


if __name__ == "__main__":
    main()
