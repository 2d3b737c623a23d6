"""The delivery queue in the JSON API: ``GET /api/v1/deliveries``, ``POST /api/v1/deliveries/{id}/retry``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.params import Depends

from fedicoop.models.states import DeliveryState
from fedicoop.node import Node
from fedicoop.services import deliveries as delivery_service
from schemas.api import DeliveryOut

__all__ = ["deliveries_router"]


def deliveries_router(
    node: Node, auth: Sequence[Depends], errors: dict[int | str, dict[str, Any]]
) -> APIRouter:
    """The routes of the delivery queue, behind the API's bearer token ``auth``."""
    router = APIRouter(dependencies=list(auth), responses=errors, tags=["deliveries"])

    @router.get("/deliveries", response_model=list[DeliveryOut])
    async def list_deliveries(
        state: DeliveryState | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> list[DeliveryOut]:
        """The newest deliveries, in one state when ``state`` is given."""
        rows = await delivery_service.list_deliveries(state, limit)
        return await delivery_service.delivery_views(rows, node.urls)

    @router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryOut)
    async def retry_delivery(delivery_id: int) -> DeliveryOut:
        """Send a failed, dead or skipped delivery back to the queue, due now (409 in any other state)."""
        row = await delivery_service.retry_delivery(delivery_id, node.clock())
        return (await delivery_service.delivery_views([row], node.urls))[0]

    return router
