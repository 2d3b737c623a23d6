"""A real EBS database for the connector's tests, on the suite's PostgreSQL server.

Each :class:`EbsDatabase` is a fresh database ``fc_ebs_<random>`` built from
``tests/fixtures/ebs/schema.sql`` (and ``fixtures.sql``), with its own login role that may only read
what the connector needs, as the README tells an EBS administrator to set up: ``SELECT`` on the product,
category, availability and group-link tables, and on the owner and address columns read, no more (no
e-mail, name or phone column). Both are dropped afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from tests.conftest import PG_ADMIN_DSN, _pg_admin, _pg_dsn

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ebs"

READER_GRANTS = (
    'GRANT SELECT ON product, category, product_availability, product_group TO "{role}"',
    "GRANT SELECT (id, type, enabled, vacation_mode, name, description, schedule, address_id) "
    'ON "user" TO "{role}"',
    "GRANT SELECT (id, street_number, street_name, locality, postal_code, country, latitude, longitude) "
    'ON address TO "{role}"',
)


@dataclass(frozen=True, slots=True)
class EbsDatabase:
    """A test EBS database: ``admin_dsn`` may change it, ``reader_dsn`` is the connector's read-only role."""

    name: str
    role: str

    @property
    def admin_dsn(self) -> str:
        return _pg_dsn(self.name)

    @property
    def reader_dsn(self) -> str:
        base = _pg_dsn(self.name)
        scheme, _, rest = base.partition("://")
        host = rest.split("@", 1)[-1]
        return f"{scheme}://{self.role}@{host}"

    def execute(self, statement: str, *args: Any) -> None:
        """Run ``statement`` as the administrator (to change the source between runs)."""
        asyncio.run(_execute(self.admin_dsn, statement, *args))

    async def aexecute(self, statement: str, *args: Any) -> None:
        """:meth:`execute` from inside an event loop."""
        await _execute(self.admin_dsn, statement, *args)

    async def revoke(self, privilege: str, target: str) -> None:
        """Take ``privilege`` (``SELECT (schedule)``) on ``target`` (``"user"``) from the reader role."""
        await _execute(
            self.admin_dsn, " ".join(("REVOKE", privilege, "ON", target, "FROM", f'"{self.role}"'))
        )


async def _execute(dsn: str, statement: str, *args: Any) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(statement, *args)
    finally:
        await connection.close()


async def _build(database: EbsDatabase, with_fixtures: bool) -> None:
    await _pg_admin(f'CREATE DATABASE "{database.name}"')
    await _pg_admin(f'CREATE ROLE "{database.role}" LOGIN')
    script = (FIXTURES / "schema.sql").read_text(encoding="utf-8")
    if with_fixtures:
        script += "\n" + (FIXTURES / "fixtures.sql").read_text(encoding="utf-8")
    await _execute(database.admin_dsn, script)
    for grant in READER_GRANTS:
        await _execute(database.admin_dsn, grant.format(role=database.role))


async def _drop(database: EbsDatabase) -> None:
    await _pg_admin(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    await _pg_admin(f'DROP ROLE IF EXISTS "{database.role}"')


@contextmanager
def ebs_database(*, with_fixtures: bool = True) -> Iterator[EbsDatabase]:
    """A fresh EBS database (schema, fixtures unless told otherwise, reader role), dropped afterwards."""
    suffix = uuid.uuid4().hex[:12]
    database = EbsDatabase(name=f"fc_ebs_{suffix}", role=f"fc_ebs_reader_{suffix}")
    try:
        asyncio.run(_build(database, with_fixtures))
        yield database
    finally:
        asyncio.run(_drop(database))


__all__ = ["PG_ADMIN_DSN", "EbsDatabase", "ebs_database"]
