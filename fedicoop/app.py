"""The ASGI application of a node: routes, error handlers, middleware and lifespan.

``create_app(settings)`` builds everything from the settings it is given; nothing happens at import, so
several nodes can run in one process (the end-to-end tests do).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from federation.errors import FederationError
from fedicoop.clock import Clock, system_clock
from fedicoop.db import open_database
from fedicoop.errors import FedicoopError
from fedicoop.installation import check_installation
from fedicoop.jobs import background_jobs
from fedicoop.network import NetworkHolder, open_network
from fedicoop.node import build_node
from fedicoop.services.actors import ensure_application_actor
from fedicoop.settings import Settings
from fedicoop.web import activitypub, feeds, inbox, pages, wellknown
from fedicoop.web.api import create_api
from fedicoop.web.authorized_fetch import authorized_fetch_middleware
from fedicoop.web.errors import classify
from fedicoop.web.middleware import DatabaseContextHolder, DatabaseContextMiddleware
from fedicoop.web.rendering import PageRenderer
from fedicoop.web.responses import html_response, json_response, wants_json
from fedicoop.worker import running_worker, worker_id

logger = logging.getLogger("fedicoop.web")

STATIC_DIR = Path(__file__).parent / "static"


async def health(request: Request) -> Response:
    """``/healthz``: answers 200 while the node serves."""
    return json_response({"status": "ok"})


def _error_response(request: Request, status: int, code: str, detail: str) -> Response:
    if request.url.path.startswith("/api/") or wants_json(request) or request.method != "GET":
        return json_response({"error": code, "detail": detail}, status=status)
    renderer: PageRenderer = request.app.state.renderer
    titles = {404: "Page introuvable", 410: "Supprimé", 400: "Requête invalide", 422: "Requête invalide"}
    return html_response(renderer.error(status, titles.get(status, "Erreur"), detail), status=status)


async def _fedicoop_error(request: Request, exc: Exception) -> Response:
    status, code = classify(exc)
    return _error_response(request, status, code, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException only
        raise exc
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    return _error_response(request, exc.status_code, codes.get(exc.status_code, "http"), str(exc.detail))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return json_response({"error": "internal", "detail": "internal error; see the node's log"}, status=500)


def create_app(settings: Settings, *, clock: Clock = system_clock) -> Starlette:
    """Build the node's ASGI app from ``settings``; the database opens in the lifespan."""
    check_installation()
    node = build_node(settings, clock)
    holder = DatabaseContextHolder()
    network_holder = NetworkHolder()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_database(settings) as context:
            holder.context = context
            await ensure_application_actor(settings.display_name, clock())
            try:
                async with open_network(node) as network, AsyncExitStack() as stack:
                    network_holder.network = network
                    if settings.worker_in_serve:
                        name = worker_id()
                        jobs = background_jobs(network, name)
                        await stack.enter_async_context(running_worker(network, extra_jobs=jobs, name=name))
                    try:
                        yield
                    finally:
                        network_holder.network = None
            finally:
                holder.context = None

    api = create_api(node, network_holder)
    routes = [
        *inbox.ROUTES,  # first: the busiest path, tried before the others
        *wellknown.ROUTES,
        *activitypub.ROUTES,
        *pages.ROUTES,
        *feeds.ROUTES,  # /catalogue.ics, /catalogue.atom
        Route("/healthz", health, methods=["GET", "HEAD"]),
        Mount("/api/v1", app=api),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(DatabaseContextMiddleware, holder=holder),
            *authorized_fetch_middleware(settings, network_holder),
        ],
        exception_handlers={
            FedicoopError: _fedicoop_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    app.add_exception_handler(FederationError, _fedicoop_error)
    app.state.node = node
    app.state.network_holder = network_holder
    app.state.renderer = PageRenderer(site_name=settings.display_name, base_url=settings.base_url)
    app.state.api = api
    return app
