"""The node's SQLite engine for tortoise: its transactions take the write lock when they begin.

tortoise opens SQLite transactions with a plain ``BEGIN``, which takes no lock until the first write.
With several processes on one file (``fedicoop serve`` and its worker, an import or any command run
beside it), a transaction that read and then writes after another process committed fails at once with
"database is locked": WAL mode cannot upgrade a read snapshot that is no longer the newest, and the busy
timeout does not apply. ``BEGIN IMMEDIATE`` takes the write lock first, waiting up to the busy timeout
for the other process, so every transaction of the node either runs on the newest data or waits.
Reads outside transactions are unchanged. :func:`fedicoop.db.tortoise_config` selects this engine for
``sqlite://`` URLs (the module's name must contain "sqlite": tortoise picks its schema editor by it).
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError

__all__ = ["ImmediateSqliteClient", "client_class"]


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    """A transaction that starts with ``BEGIN IMMEDIATE``; nested ones are savepoints, as in tortoise."""

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransactionWrapper(self))

    async def begin(self) -> None:
        """Commit what the connection holds, then begin a transaction holding the write lock."""
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    """tortoise's SQLite client whose transactions begin with ``BEGIN IMMEDIATE``."""

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
"""The client tortoise instantiates for this engine module."""
