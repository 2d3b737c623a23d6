"""Generate a migration from model changes: ``python -m fedicoop.dev.makemigrations [name]``.

Uses tortoise's autodetector against a throw-away SQLite database; the generated file lands in
``fedicoop/migrations`` and is committed with the model change.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from fedicoop.db import tortoise_config


async def pending_changes(database_url: str) -> list[object]:
    """The migration writers tortoise would create for the current models (empty when in sync)."""
    config = tortoise_config(database_url)
    context = TortoiseContext()
    with context:
        try:
            await context.init(config=config)
            if context.apps is None:
                raise RuntimeError("tortoise did not initialise the apps")
            detector = MigrationAutodetector(context.apps, config["apps"])
            return list(await detector.changes())
        finally:
            await context.close_connections()


async def _write(name: str | None) -> int:
    with tempfile.TemporaryDirectory() as folder:
        writers = await pending_changes(f"sqlite://{Path(folder) / 'detect.sqlite3'}")
    if not writers:
        print("no model changes")
        return 0
    for writer in writers:
        if name:
            number = writer.name.split("_", 1)[0]  # type: ignore[attr-defined]
            writer.name = f"{number}_{name}"  # type: ignore[attr-defined]
        print(f"created {writer.write()}")  # type: ignore[attr-defined]
    return 0


def main() -> None:
    """Entry point: an optional migration name as the only argument."""
    sys.exit(asyncio.run(_write(sys.argv[1] if len(sys.argv) > 1 else None)))


if __name__ == "__main__":
    main()
