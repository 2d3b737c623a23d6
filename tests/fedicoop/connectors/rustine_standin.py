"""A stand-in Rustine Libre API for the connector's tests: API Platform JSON-LD on a loopback port.

:class:`RustineStandIn` holds the instance's state, loaded from ``tests/fixtures/rustine`` and mutable
from the test (hours, closures, repairers); :func:`running_standin` serves it with uvicorn on 127.0.0.1
and yields its base URL. It answers the requests of domain.md §2.2 the way API Platform does:
``hydra:Collection`` documents paged with ``?page=`` and ``?itemsPerPage=`` (capped by
``max_items_per_page``), ``hydra:view`` with ``hydra:next`` while more pages follow (or the unprefixed
``member``/``view``/``next`` of API Platform 4 with ``hydra_prefix=False``), the ``enabled`` and
``repairer`` filters, and the slots endpoint computed like Rustine's own algorithm (domain.md §2.3,
without appointments) from the stand-in's clock, unless ``slots`` pins an answer. ``faults`` replaces
the answer of a path (any query) with a fixed status and body; ``hits`` records every request (path,
query, Accept). The private endpoints (``/appointments``) answer with customer data that the connector
must never ask for.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.federation.loopback import serving

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rustine"
JSON_LD = "application/ld+json; charset=utf-8"
PARIS = ZoneInfo("Europe/Paris")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
COLLECTION_FIELDS = (
    "@id",
    "@type",
    "id",
    "owner",
    "repairerTypes",
    "name",
    "street",
    "streetNumber",
    "city",
    "postcode",
    "latitude",
    "longitude",
    "firstSlotAvailable",
    "enabled",
    "thumbnail",
    "descriptionPicture",
    "slug",
)
"""The fields of a repairer in ``GET /repairers`` (its ``repairer_collection_read`` group)."""


def load_fixture(name: str) -> Any:
    """A fixture file of ``tests/fixtures/rustine``, decoded."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _by_repairer(name: str) -> dict[int, list[dict[str, Any]]]:
    return {int(key): value for key, value in load_fixture(name).items()}


@dataclass(frozen=True, slots=True)
class Fault:
    """A fixed answer replacing a path's normal one."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_LD


@dataclass(eq=False)
class RustineStandIn:
    """The state of the stand-in instance; every field may be changed while it serves."""

    repairers: dict[int, dict[str, Any]]
    opening_hours: dict[int, list[dict[str, Any]]]
    closures: dict[int, list[dict[str, Any]]]
    interventions: dict[int, list[dict[str, Any]]]
    appointments: list[dict[str, Any]]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    slots: dict[int, Any] = field(default_factory=dict)
    max_items_per_page: int = 30
    hydra_prefix: bool = True
    honour_enabled_filter: bool = True
    faults: dict[str, Fault] = field(default_factory=dict)
    hits: list[tuple[str, str, str]] = field(default_factory=list)
    base_url: str = ""
    _next_id: int = 100

    @classmethod
    def from_fixtures(cls, now: Callable[[], datetime] | None = None) -> RustineStandIn:
        """A fresh instance holding the fixtures (four repairers, the third one disabled)."""
        standin = cls(
            repairers={item["id"]: item for item in load_fixture("repairers.json")},
            opening_hours=_by_repairer("opening_hours.json"),
            closures=_by_repairer("closures.json"),
            interventions=_by_repairer("interventions.json"),
            appointments=load_fixture("appointments.json"),
        )
        if now is not None:
            standin.now = now
        return standin

    # -- changes a test makes ---------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def set_hours(self, repairer_id: int, ranges: list[tuple[str, str, str]]) -> None:
        """Replace a repairer's weekly ranges by ``(day, start, end)`` triples."""
        self.opening_hours[repairer_id] = [
            {
                "@id": f"/repairer_opening_hours/{(number := self._new_id())}",
                "@type": "RepairerOpeningHours",
                "id": number,
                "day": day,
                "startTime": start,
                "endTime": end,
            }
            for day, start, end in ranges
        ]

    def add_closure(self, repairer_id: int, start: date, end: date) -> None:
        """Add an exceptional closure, written as API Platform writes a Paris-midnight datetime."""
        number = self._new_id()

        def stamp(day: date) -> str:
            return datetime.combine(day, time(0), tzinfo=PARIS).isoformat()

        self.closures.setdefault(repairer_id, []).append(
            {
                "@id": f"/repairer_exceptional_closures/{number}",
                "@type": "RepairerExceptionalClosure",
                "id": number,
                "startDate": stamp(start),
                "endDate": stamp(end),
            }
        )

    def remove(self, repairer_id: int) -> None:
        """Delete a repairer and everything attached to it."""
        for table in (self.repairers, self.opening_hours, self.closures, self.interventions, self.slots):
            table.pop(repairer_id, None)

    def requested(self, path: str) -> bool:
        """Whether any request reached ``path`` (any query)."""
        return any(hit[0] == path for hit in self.hits)

    # -- answers ----------------------------------------------------------------------------------

    def _json(self, document: Any, status: int = 200) -> Response:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return Response(body, status_code=status, media_type=JSON_LD)

    def _not_found(self, path: str) -> Response:
        return self._json(
            {
                "@context": "/contexts/Error",
                "@type": "hydra:Error",
                "hydra:title": "An error occurred",
                "hydra:description": "Not Found",
            },
            404,
        )

    def _collection(self, request: Request, kind: str, items: list[dict[str, Any]]) -> Response:
        path = request.url.path
        query = dict(parse_qsl(request.url.query))
        try:
            page = max(1, int(query.pop("page", "1")))
            per_page = min(self.max_items_per_page, max(1, int(query.pop("itemsPerPage", "30"))))
        except ValueError:
            return self._json({"@type": "hydra:Error", "hydra:description": "bad page"}, 400)
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        prefix = "hydra:" if self.hydra_prefix else ""

        def page_url(number: int) -> str:
            return f"{path}?{urlencode({**query, 'itemsPerPage': per_page, 'page': number})}"

        view: dict[str, Any] = {
            "@id": page_url(page),
            "@type": f"{prefix}PartialCollectionView",
            f"{prefix}first": page_url(1),
            f"{prefix}last": page_url(last),
        }
        if page < last:
            view[f"{prefix}next"] = page_url(page + 1)
        if page > 1:
            view[f"{prefix}previous"] = page_url(page - 1)
        document = {
            "@context": f"/contexts/{kind}",
            "@id": path,
            "@type": f"{prefix}Collection",
            f"{prefix}totalItems": len(items),
            f"{prefix}member": chunk,
            f"{prefix}view": view,
        }
        return self._json(document)

    def _repairer_filter(self, request: Request) -> int | None:
        value = request.query_params.get("repairer", "")
        value = value.removeprefix("/repairers/")
        return int(value) if value.isdigit() else None

    def computed_slots(self, repairer_id: int) -> dict[str, list[str]]:
        """Rustine's algorithm without appointments: 60 days of opening ranges cut every durationSlot
        minutes, future starts only, closed days left out."""
        repairer = self.repairers[repairer_id]
        length = int(repairer.get("durationSlot") or 60)
        now = self.now().astimezone(PARIS).replace(tzinfo=None)
        closed = [
            (date.fromisoformat(item["startDate"][:10]), date.fromisoformat(item["endDate"][:10]))
            for item in self.closures.get(repairer_id, [])
        ]
        found: dict[str, list[str]] = {}
        for offset in range(60):
            day = now.date() + timedelta(days=offset)
            if any(start <= day <= end for start, end in closed):
                continue
            for item in self.opening_hours.get(repairer_id, []):
                if item["day"] != DAYS[day.weekday()]:
                    continue
                start_hour, start_minute = (int(part) for part in item["startTime"].split(":"))
                end_hour, end_minute = (int(part) for part in item["endTime"].split(":"))
                moment = datetime.combine(day, time(start_hour, start_minute))
                closing = datetime.combine(day, time(end_hour, end_minute))
                while moment + timedelta(minutes=length) <= closing:
                    if moment > now:
                        found.setdefault(day.isoformat(), []).append(f"{moment:%H:%M}")
                    moment += timedelta(minutes=length)
        return {day: sorted(set(times)) for day, times in sorted(found.items())}

    async def endpoint(self, request: Request) -> Response:
        """Record the request, apply a fault if one is set, else answer like API Platform."""
        path = request.url.path
        self.hits.append((path, request.url.query, request.headers.get("accept", "")))
        fault = self.faults.get(path)
        if fault is not None:
            return Response(fault.body, status_code=fault.status, media_type=fault.content_type)
        parts = path.strip("/").split("/")
        if parts == ["repairers"]:
            items = [self.repairers[key] for key in sorted(self.repairers)]
            enabled = request.query_params.get("enabled")
            if enabled is not None and self.honour_enabled_filter:
                items = [item for item in items if item.get("enabled") is (enabled in ("true", "1"))]
            listed = [{name: item[name] for name in COLLECTION_FIELDS if name in item} for item in items]
            return self._collection(request, "Repairer", listed)
        if len(parts) == 2 and parts[0] == "repairers" and parts[1].isdigit():
            repairer = self.repairers.get(int(parts[1]))
            return self._json(repairer) if repairer is not None else self._not_found(path)
        tables = {
            "repairer_opening_hours": ("RepairerOpeningHours", self.opening_hours),
            "repairer_exceptional_closures": ("RepairerExceptionalClosure", self.closures),
            "repairer_interventions": ("RepairerIntervention", self.interventions),
        }
        if len(parts) == 1 and parts[0] in tables:
            kind, table = tables[parts[0]]
            wanted = self._repairer_filter(request)
            keys = sorted(table) if wanted is None else [wanted]
            return self._collection(request, kind, [item for key in keys for item in table.get(key, [])])
        if len(parts) == 2 and parts[0] == "repairer_get_slots_available" and parts[1].isdigit():
            repairer_id = int(parts[1])
            if repairer_id not in self.repairers:
                return self._not_found(path)
            if repairer_id in self.slots:
                return self._json(self.slots[repairer_id])
            return self._json(self.computed_slots(repairer_id) or [])
        if parts == ["appointments"]:
            return self._collection(request, "Appointment", self.appointments)
        return self._not_found(path)

    def app(self) -> Starlette:
        """The ASGI app answering every path through :meth:`endpoint`."""
        return Starlette(routes=[Route("/{path:path}", self.endpoint, methods=["GET"])])


@asynccontextmanager
async def running_standin(standin: RustineStandIn) -> AsyncIterator[str]:
    """Serve ``standin`` on a free loopback port for the block; yield (and record) its base URL."""
    async with serving(lambda base: standin.app()) as base_url:
        standin.base_url = base_url
        yield base_url
