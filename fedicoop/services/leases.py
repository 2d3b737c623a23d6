"""Claiming queue rows under a lease, so that several workers share a queue without losing a row.

A worker claims due rows by setting ``locked_until`` (now + lease) and ``locked_by`` (a token of the
claim). On PostgreSQL the candidate rows are read with ``SELECT … FOR UPDATE SKIP LOCKED`` in the
claiming transaction, so concurrent workers, on one machine or several, never claim the same row; on
SQLite the update re-checks the condition inside the (serialised) write transaction. A worker that dies
leaves rows whose lease expires: the due condition of the callers includes expired leases.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

__all__ = ["claim"]

RowT = TypeVar("RowT", bound=Model)


async def claim(
    model: type[RowT],
    due: Q,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    order: Sequence[str] = ("id",),
    worker_id: str | None = None,
) -> list[RowT]:
    """Claim at most ``limit`` rows matching ``due`` for ``lease`` and return them, locked to this claim.

    ``model`` needs ``locked_until`` and ``locked_by`` columns and ``due`` must exclude rows whose lease
    has not expired. ``worker_id`` prefixes the claim token stored in ``locked_by``.
    """
    token = f"{(worker_id or 'worker')[:48]}:{uuid.uuid4().hex[:12]}"
    until = now + lease
    async with in_transaction(model._meta.default_connection):
        # Full rows: values_list() would drop the FOR UPDATE clause. SQLite ignores the clause.
        rows = list(await model.filter(due).order_by(*order).limit(limit).select_for_update(skip_locked=True))
        if not rows:
            return []
        ids = [row.pk for row in rows]
        claimed = await model.filter(due, id__in=ids).update(locked_until=until, locked_by=token)
    if claimed != len(rows):  # another process claimed some in between (SQLite only)
        return list(await model.filter(id__in=ids, locked_by=token).order_by(*order))
    for row in rows:
        row.locked_until, row.locked_by = until, token
    return rows
