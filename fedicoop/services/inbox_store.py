"""Storing accepted activities: concurrent inbox requests share one multi-row INSERT (group commit).

Each accepted activity becomes one ``inbox_item`` row, unique by its id. Requests that arrive while a
write is under way wait for the next one, which stores all of them with a single statement:
``INSERT … VALUES (…), (…) ON CONFLICT (activity_iri) DO NOTHING RETURNING activity_iri``. The
statement is atomic, so nothing is half-stored; a row whose id is already stored (or that appears
twice in the batch) comes back as a duplicate. Should a batch fail for any other reason, its rows are
written one by one so that only the faulty one fails. One statement and one commit per batch instead
of one per request: the inbox benchmark measured the per-row ``Model.create`` and its commit at most of
the node's time per request (bench/README.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from fedicoop.models.inbox import InboxItem
from fedicoop.models.states import InboxState

__all__ = ["BATCH_MAX", "InboxRow", "InboxWriter"]

BATCH_MAX = 200
"""Rows per statement at most (13 parameters each: far below SQLite's and PostgreSQL's limits)."""

_COLUMNS = (
    "activity_iri",
    "type",
    "actor_iri",
    "signer_iri",
    "authentic",
    "recipient",
    "document",
    "state",
    "attempts",
    "next_attempt_at",
    "last_error",
    "received_at",
)
_COLUMN_LIST = ", ".join(f'"{name}"' for name in _COLUMNS)


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One verified activity to store, as :func:`fedicoop.services.inbox.receive` accepted it."""

    activity_iri: str
    type: str
    actor_iri: str
    signer_iri: str
    authentic: bool
    recipient: str | None
    document: dict[str, Any]
    received_at: datetime

    def values(self) -> dict[str, Any]:
        """The column values of a freshly received item (as ``InboxItem.create`` would set them)."""
        return {
            "activity_iri": self.activity_iri,
            "type": self.type,
            "actor_iri": self.actor_iri,
            "signer_iri": self.signer_iri,
            "authentic": self.authentic,
            "recipient": self.recipient,
            "document": self.document,
            "state": InboxState.RECEIVED,
            "attempts": 0,
            "next_attempt_at": self.received_at,
            "last_error": "",
            "received_at": self.received_at,
        }


@dataclass(frozen=True, slots=True)
class _Statement:
    """The converters and placeholders of one database client, built once per client."""

    converters: tuple[Callable[[Any, Any], Any], ...]
    table: str
    placeholder: Callable[[int], str]

    @classmethod
    def of(cls, db: BaseDBAsyncClient) -> _Statement:
        fields = InboxItem._meta.fields_map
        converters = tuple(fields[name].to_db_value for name in _COLUMNS)
        if db.capabilities.dialect == "sqlite":
            return cls(converters, InboxItem._meta.db_table, lambda position: "?")
        return cls(converters, InboxItem._meta.db_table, lambda position: f"${position + 1}")

    def insert(self, count: int) -> str:
        """``INSERT`` of ``count`` rows that skips stored ids and returns the ids it stored."""
        width = len(_COLUMNS)
        rows = ", ".join(
            "(" + ", ".join(self.placeholder(row * width + column) for column in range(width)) + ")"
            for row in range(count)
        )
        return (
            f'INSERT INTO "{self.table}" ({_COLUMN_LIST}) VALUES {rows} '  # noqa: S608 - no input in it
            'ON CONFLICT ("activity_iri") DO NOTHING RETURNING "activity_iri"'
        )

    def parameters(self, rows: Sequence[InboxRow]) -> list[Any]:
        """The statement's parameters for ``rows``, converted as tortoise converts them."""
        parameters: list[Any] = []
        for row in rows:
            values = row.values()
            parameters.extend(
                convert(values[name], InboxItem)
                for name, convert in zip(_COLUMNS, self.converters, strict=True)
            )
        return parameters


class InboxWriter:
    """Stores :class:`InboxRow` s, batching the rows of concurrent requests into one statement.

    One writer per app (or per call, where nothing is shared). A batch is written by a task of its
    own, started from the request that found no write under way: it inherits that request's database
    context, and a request that goes away does not stop the rows of the others.
    """

    def __init__(self, batch_max: int = BATCH_MAX) -> None:
        self.batch_max = batch_max
        self._pending: list[tuple[InboxRow, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None
        self._statement: tuple[BaseDBAsyncClient, _Statement] | None = None

    async def store(self, row: InboxRow) -> bool:
        """Store ``row``; ``True`` when it was stored, ``False`` when its id was already there."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self.batch_max], self._pending[self.batch_max :]
                await self._write(batch)
        finally:
            self._task = None

    async def _write(self, batch: list[tuple[InboxRow, asyncio.Future[bool]]]) -> None:
        rows: dict[str, InboxRow] = {}
        for row, _ in batch:
            rows.setdefault(row.activity_iri, row)
        outcomes = await self._outcomes(list(rows.values()))
        waiting: set[str] = set()
        for row, future in batch:
            outcome = outcomes[row.activity_iri]
            if row.activity_iri in waiting and outcome is True:
                outcome = False  # the same activity twice in one batch: the first one stored it
            waiting.add(row.activity_iri)
            _settle(future, outcome)

    async def _outcomes(self, rows: list[InboxRow]) -> dict[str, bool | Exception]:
        try:
            stored = await self._insert(rows)
        except Exception as exc:  # handed to the waiting request(s), one row at a time
            if len(rows) == 1:
                return {rows[0].activity_iri: exc}
            outcomes: dict[str, bool | Exception] = {}
            for row in rows:
                outcomes.update(await self._outcomes([row]))
            return outcomes
        return {row.activity_iri: row.activity_iri in stored for row in rows}

    async def _insert(self, rows: Sequence[InboxRow]) -> set[str]:
        db = InboxItem._meta.db
        if self._statement is None or self._statement[0] is not db:
            self._statement = (db, _Statement.of(db))
        statement = self._statement[1]
        answer = await db.execute_query_dict(statement.insert(len(rows)), statement.parameters(rows))
        return {str(record["activity_iri"]) for record in answer}


def _settle(future: asyncio.Future[bool], outcome: bool | Exception) -> None:
    if future.done():  # the request went away (cancelled): nobody waits for it
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
