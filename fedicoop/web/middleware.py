"""Pure ASGI middleware: the database context of the node, and request body limits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tortoise import context as tortoise_context
from tortoise.context import TortoiseContext

from fedicoop.web.types import ASGIApp, Receive, Scope, Send


class DatabaseContextHolder:
    """Where the lifespan leaves the node's open tortoise context for the middleware to enter."""

    def __init__(self) -> None:
        self.context: TortoiseContext | None = None


class DatabaseContextMiddleware:
    """Enter the node's tortoise context around every HTTP request, so two nodes can share a process.

    tortoise 1.x keeps its current context in a contextvar. The lifespan runs in another task than the
    requests, so each request enters the node's context itself; non-HTTP scopes pass through untouched.
    """

    def __init__(self, app: ASGIApp, holder: DatabaseContextHolder) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the wrapped app inside the database context when one is open."""
        context = self.holder.context
        if scope["type"] != "http" or context is None:
            await self.app(scope, receive, send)
            return
        with activate(context):
            await self.app(scope, receive, send)


@contextmanager
def activate(context: TortoiseContext) -> Iterator[None]:
    """Make ``context`` the current tortoise context for the block, restoring the previous one after.

    ``TortoiseContext.__enter__`` keeps a single reset token on the instance, which concurrent requests
    sharing one context would overwrite; this keeps the token on the stack instead.
    """
    token = tortoise_context._current_context.set(context)
    try:
        yield
    finally:
        tortoise_context._current_context.reset(token)
