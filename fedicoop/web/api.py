"""The JSON API under ``/api/v1``: a FastAPI sub-app whose OpenAPI comes from ``schemas.api``.

Every route needs a bearer token. Bodies are validated by the same models the CLI uses; any error
answers ``{"error", "detail", "field"}`` with a 4xx and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from federation.errors import FederationError
from fedicoop.errors import FedicoopError
from fedicoop.models.states import ListingKind, Purpose
from fedicoop.network import NetworkHolder
from fedicoop.node import Node
from fedicoop.services import actors as actor_service
from fedicoop.services import availability as availability_service
from fedicoop.services import events as event_service
from fedicoop.services import listings as listing_service
from fedicoop.services.tokens import authenticate
from fedicoop.web.api_deliveries import deliveries_router
from fedicoop.web.api_follows import follows_router
from fedicoop.web.api_subscriptions import subscriptions_router
from fedicoop.web.catalogue import catalogue_page_view, parse_catalogue_query
from fedicoop.web.errors import classify
from fedicoop.web.views import actor_view, availability_view, event_view, listing_view
from schemas.api import (
    ActorCreate,
    ActorOut,
    ActorUpdate,
    AvailabilityInput,
    AvailabilityOut,
    CataloguePageOut,
    Created,
    ErrorBody,
    EventCreate,
    EventOut,
    EventUpdate,
    ListingCreate,
    ListingOut,
    ListingUpdate,
)

API_BODY_MAX = 256 * 1024
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 404, 409, 410, 413, 422)
}


def describe_validation(errors: list[Any]) -> tuple[str, str | None]:
    """One message naming each field at fault and its rule, and the first field's dotted path."""
    parts, first = [], None
    for error in errors:
        location = [str(item) for item in error.get("loc", ()) if item not in ("body", "query", "path")]
        field = ".".join(location) or None
        first = first or field
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "unknown field"
        if error.get("type") == "json_invalid":
            message = f"malformed JSON ({error.get('ctx', {}).get('error', 'parse error')})"
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts), first


def create_api(node: Node, network: NetworkHolder | None = None) -> FastAPI:
    """Build the API sub-app of ``node``; ``network`` gives the routes that talk to peers their runtime."""
    api = FastAPI(
        title="fedicoop",
        version="1",
        description="Manage a fedicoop node: actors, listings, events and repair availability.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    async def require_token(authorization: Annotated[str | None, Header()] = None) -> str:
        secret = node.settings.admin_token.get_secret_value() if node.settings.admin_token else None
        return await authenticate(authorization, node.clock(), extra_token=secret)

    @api.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > API_BODY_MAX):
            return JSONResponse(
                {"error": "too_large", "detail": f"request body over {API_BODY_MAX} bytes", "field": None},
                status_code=413,
            )
        return await call_next(request)

    @api.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, field = describe_validation(list(exc.errors()))
        malformed = any(error.get("type") == "json_invalid" for error in exc.errors())
        status = 400 if malformed else 422
        return JSONResponse(
            {"error": "malformed" if malformed else "invalid", "detail": detail, "field": field}, status
        )

    @api.exception_handler(FedicoopError)
    @api.exception_handler(FederationError)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        status, code = classify(exc)
        return JSONResponse({"error": code, "detail": str(exc), "field": getattr(exc, "field", None)}, status)

    auth = [Depends(require_token)]
    urls = node.urls

    @api.get("/actors", response_model=list[ActorOut], dependencies=auth, responses=ERRORS, tags=["actors"])
    async def list_actors() -> list[ActorOut]:
        return [actor_view(actor, urls) for actor in await actor_service.list_actors()]

    @api.post(
        "/actors",
        status_code=201,
        response_model=Created,
        dependencies=auth,
        responses=ERRORS,
        tags=["actors"],
    )
    async def create_actor(body: ActorCreate) -> Created:
        actor = await actor_service.create_actor(body, node.clock())
        return Created(id=urls.actor(actor.username), api_url=f"/api/v1/actors/{actor.username}")

    @api.get(
        "/actors/{username}", response_model=ActorOut, dependencies=auth, responses=ERRORS, tags=["actors"]
    )
    async def show_actor(username: str) -> ActorOut:
        return actor_view(await actor_service.get_actor(username), urls)

    @api.patch(
        "/actors/{username}", response_model=ActorOut, dependencies=auth, responses=ERRORS, tags=["actors"]
    )
    async def update_actor(username: str, body: ActorUpdate) -> ActorOut:
        await actor_service.update_actor(username, body, node.publisher, node.clock())
        return actor_view(await actor_service.get_actor(username), urls)

    @api.delete("/actors/{username}", status_code=204, dependencies=auth, responses=ERRORS, tags=["actors"])
    async def delete_actor(username: str) -> None:
        await actor_service.delete_actor(username, node.publisher, node.clock())

    @api.get(
        "/listings", response_model=list[ListingOut], dependencies=auth, responses=ERRORS, tags=["listings"]
    )
    async def list_listings(
        actor: str | None = None,
        kind: ListingKind | None = None,
        purpose: Purpose | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> list[ListingOut]:
        rows = await listing_service.list_listings(
            actor=actor, kind=kind, purpose=purpose, limit=limit, offset=offset
        )
        return [listing_view(row, urls) for row in rows]

    @api.post(
        "/listings",
        status_code=201,
        response_model=Created,
        dependencies=auth,
        responses=ERRORS,
        tags=["listings"],
    )
    async def create_listing(body: ListingCreate) -> Created:
        listing = await listing_service.create_listing(body, node.publisher, node.clock())
        return Created(id=urls.listing(listing.id), api_url=f"/api/v1/listings/{listing.id}")

    @api.get(
        "/listings/{listing_id}",
        response_model=ListingOut,
        dependencies=auth,
        responses=ERRORS,
        tags=["listings"],
    )
    async def show_listing(listing_id: str) -> ListingOut:
        return listing_view(
            await listing_service.get_listing(listing_service.parse_listing_id(listing_id)), urls
        )

    @api.patch(
        "/listings/{listing_id}",
        response_model=ListingOut,
        dependencies=auth,
        responses=ERRORS,
        tags=["listings"],
    )
    async def update_listing(listing_id: str, body: ListingUpdate) -> ListingOut:
        parsed = listing_service.parse_listing_id(listing_id)
        listing = await listing_service.update_listing(parsed, body, node.publisher, node.clock())
        return listing_view(listing, urls)

    @api.delete(
        "/listings/{listing_id}", status_code=204, dependencies=auth, responses=ERRORS, tags=["listings"]
    )
    async def delete_listing(listing_id: str) -> None:
        await listing_service.withdraw_listing(
            listing_service.parse_listing_id(listing_id), node.publisher, node.clock()
        )

    @api.get("/events", response_model=list[EventOut], dependencies=auth, responses=ERRORS, tags=["events"])
    async def list_events(
        actor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> list[EventOut]:
        rows = await event_service.list_events(actor=actor, limit=limit, offset=offset)
        return [event_view(row, urls) for row in rows]

    @api.post(
        "/events",
        status_code=201,
        response_model=Created,
        dependencies=auth,
        responses=ERRORS,
        tags=["events"],
    )
    async def create_event(body: EventCreate) -> Created:
        event = await event_service.create_event(body, node.publisher, node.clock())
        return Created(id=urls.event(event.id), api_url=f"/api/v1/events/{event.id}")

    @api.get(
        "/events/{event_id}", response_model=EventOut, dependencies=auth, responses=ERRORS, tags=["events"]
    )
    async def show_event(event_id: str) -> EventOut:
        return event_view(await event_service.get_event(event_service.parse_event_id(event_id)), urls)

    @api.patch(
        "/events/{event_id}", response_model=EventOut, dependencies=auth, responses=ERRORS, tags=["events"]
    )
    async def update_event(event_id: str, body: EventUpdate) -> EventOut:
        parsed = event_service.parse_event_id(event_id)
        return event_view(await event_service.update_event(parsed, body, node.publisher, node.clock()), urls)

    @api.delete("/events/{event_id}", status_code=204, dependencies=auth, responses=ERRORS, tags=["events"])
    async def delete_event(event_id: str) -> None:
        await event_service.delete_event(event_service.parse_event_id(event_id), node.publisher, node.clock())

    async def _availability_out(username: str) -> AvailabilityOut:
        return availability_view(
            *await availability_service.availability_snapshot(username, node.clock()), urls
        )

    @api.get(
        "/availability/{username}",
        response_model=AvailabilityOut,
        dependencies=auth,
        responses=ERRORS,
        tags=["availability"],
    )
    async def show_availability(username: str) -> AvailabilityOut:
        return await _availability_out(username)

    @api.put(
        "/availability/{username}",
        response_model=AvailabilityOut,
        dependencies=auth,
        responses=ERRORS,
        tags=["availability"],
    )
    async def set_availability(username: str, body: AvailabilityInput) -> AvailabilityOut:
        await availability_service.set_availability(username, body, node.publisher, node.clock())
        return await _availability_out(username)

    api.include_router(deliveries_router(node, auth, ERRORS))
    api.include_router(follows_router(node, network or NetworkHolder(), auth, ERRORS))
    api.include_router(subscriptions_router(network or NetworkHolder(), auth, ERRORS))

    @api.get(
        "/catalogue",
        response_model=CataloguePageOut,
        dependencies=auth,
        responses=ERRORS,
        tags=["catalogue"],
    )
    async def list_catalogue(
        kind: Annotated[
            list[str] | None,
            Query(description="offer, request, repair or event; repeat or separate by commas."),
        ] = None,
        category: Annotated[
            list[str] | None, Query(description="Category slugs; repeat or separate by commas.")
        ] = None,
        q: Annotated[
            str | None, Query(description="Words to find; accents, case and French plurals ignored.")
        ] = None,
        commune: Annotated[str | None, Query(description="INSEE commune code (59350).")] = None,
        epci: Annotated[str | None, Query(description="SIREN of an EPCI (200093201).")] = None,
        departement: Annotated[str | None, Query(description="Département code (59, 2A).")] = None,
        region: Annotated[str | None, Query(description="Région code (32).")] = None,
        near: Annotated[
            str | None, Query(description="latitude,longitude, or a commune code (its town hall).")
        ] = None,
        radius: Annotated[str | None, Query(description="Kilometres around near (10), at most 200.")] = None,
        from_: Annotated[
            str | None, Query(alias="from", description="From this date or date and time (Paris time).")
        ] = None,
        to: Annotated[str | None, Query(description="Until this date (included) or date and time.")] = None,
        node_host: Annotated[str | None, Query(alias="node", description="Origin node host.")] = None,
        sort: Annotated[
            str | None, Query(description="date (newest), distance (nearest) or start (soonest).")
        ] = None,
        purpose: Annotated[str | None, Query(description="offer or request.")] = None,
        actor: Annotated[str | None, Query(description="The author's actor id (URL).")] = None,
        limit: Annotated[str | None, Query(description="Items per page, 1 to 100 (20).")] = None,
        cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    ) -> CataloguePageOut:
        """The remote offers, requests, repair offers and events this node holds, filtered, with facets."""
        query = parse_catalogue_query(
            {
                "kind": kind,
                "category": category,
                "q": q,
                "commune": commune,
                "epci": epci,
                "departement": departement,
                "region": region,
                "near": near,
                "radius": radius,
                "from": from_,
                "to": to,
                "node": node_host,
                "sort": sort,
                "purpose": purpose,
                "actor": actor,
                "limit": limit,
                "cursor": cursor,
            }
        )
        territory = await node.territory.get() if query.needs_territory else None
        now = node.clock()
        return catalogue_page_view(await query.run(now=now, territory=territory), now)

    return api
