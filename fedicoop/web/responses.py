"""Responses shared by the routes: ActivityStreams JSON, negotiated HTML, errors as JSON or HTML."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from fedicoop.web.negotiation import AS_MEDIA_TYPE, wants_activity_json

VARY = {"Vary": "Accept"}


def dump_json(document: Any) -> bytes:
    """Compact UTF-8 JSON, the bytes we serve and sign."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def activity_response(
    document: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """An ActivityStreams document as ``application/activity+json``, with ``Vary: Accept``."""
    return Response(
        dump_json(document), status_code=status, media_type=AS_MEDIA_TYPE, headers={**VARY, **(headers or {})}
    )


def json_response(
    document: Any,
    status: int = 200,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """A plain JSON document (discovery documents, API errors)."""
    return Response(dump_json(document), status_code=status, media_type=media_type, headers=headers)


def html_response(page: str, status: int = 200) -> HTMLResponse:
    """An HTML page, with ``Vary: Accept`` (the same URL answers JSON to ActivityPub clients)."""
    return HTMLResponse(page, status_code=status, headers=VARY)


def wants_json(request: Request) -> bool:
    """Whether the request's Accept ranks ActivityStreams JSON at least as high as HTML."""
    return wants_activity_json(request.headers.get("accept"))
