"""Reading a Rustine Libre instance over real HTTP: the stand-in API on loopback, the node's client.

Nothing here touches a database: :func:`read_rustine` only reads. Failures come from the stand-in
itself (a 500, a broken body, a missing field) or from a port nobody listens on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fedicoop.connectors.errors import (
    ConnectorError,
    SourceFormatError,
    SourceResponseError,
    SourceUnreachableError,
)
from fedicoop.connectors.rustine import RustineOptions, read_rustine, source_name
from fedicoop.connectors.rustine.client import RESPONSE_MAX_BYTES
from fedicoop.connectors.rustine.reader import PHASE_LIST, PHASE_READ
from fedicoop.connectors.specs import Skip, SourceKey
from fedicoop.node import Node, build_node
from tests.conftest import Clock, _settings
from tests.federation.loopback import free_port
from tests.fedicoop.connectors.rustine_standin import Fault, RustineStandIn, running_standin

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> Clock:
    """The node's clock, frozen at 2025-10-13 06:00 UTC."""
    return Clock()


@pytest.fixture
def node(tmp_path: Path, clock: Clock) -> Node:
    """A node allowed to reach loopback peers over http (its database is never opened here)."""
    settings = _settings(f"sqlite://{tmp_path / 'unused.sqlite3'}", tmp_path, insecure_peers=True)
    return build_node(settings, clock=clock)


@pytest.fixture
async def standin(clock: Clock) -> AsyncIterator[RustineStandIn]:
    """The stand-in instance holding the fixtures, served on loopback, on the node's clock."""
    instance = RustineStandIn.from_fixtures(now=clock)
    async with running_standin(instance):
        yield instance


async def test_read__whole_instance(node: Node, standin: RustineStandIn) -> None:
    snapshot = await read_rustine(RustineOptions(url=standin.base_url + "/"), node, None)
    assert snapshot.source == f"rustine {standin.base_url}" == source_name(standin.base_url + "/")
    assert [spec.key.id for spec in snapshot.actors] == ["1", "2", "4"]
    assert [spec.key for spec in snapshot.listings] == [
        SourceKey("repair-offer", key) for key in ("1", "2", "4")
    ]
    assert len(snapshot.events) == 20 and all(event.key.id.startswith("1-") for event in snapshot.events)
    assert snapshot.skipped == [
        Skip(SourceKey("served-commune", "2 Mouscron"), "outside the node's territory (régions 32)")
    ]
    offer = snapshot.listings[0]
    assert offer.slots is not None and offer.slots[0].start.isoformat() == "2025-10-14T14:00:00+02:00"
    # slots of two places each, Tuesday–Friday 14–19 and Saturday 10–13, over 60 days minus Christmas
    assert len(offer.slots) > 150
    assert snapshot.actors[0].booking_url == f"{standin.base_url}/reparateur/1/creneaux"


async def test_read__asks_json_ld_and_never_private_endpoints(node: Node, standin: RustineStandIn) -> None:
    await read_rustine(RustineOptions(url=standin.base_url), node, None)
    assert standin.hits and all(accept == "application/ld+json" for _, _, accept in standin.hits)
    paths = {path for path, _, _ in standin.hits}
    assert paths == {
        "/repairers",
        *(f"/repairers/{number}" for number in (1, 2, 4)),
        "/repairer_opening_hours",
        "/repairer_exceptional_closures",
        "/repairer_interventions",
        *(f"/repairer_get_slots_available/{number}" for number in (1, 2, 4)),
    }
    listing = next(query for path, query, _ in standin.hits if path == "/repairers")
    assert "enabled=true" in listing and "itemsPerPage=" in listing


@pytest.mark.parametrize("hydra_prefix", [True, False], ids=["api-platform-3", "api-platform-4"])
async def test_read__follows_pages(node: Node, standin: RustineStandIn, hydra_prefix: bool) -> None:
    standin.max_items_per_page = 1
    standin.hydra_prefix = hydra_prefix
    progress: list[tuple[str, int, int | None]] = []
    snapshot = await read_rustine(
        RustineOptions(url=standin.base_url), node, lambda *event: progress.append(event)
    )
    assert [spec.key.id for spec in snapshot.actors] == ["1", "2", "4"]
    pages = [query for path, query, _ in standin.hits if path == "/repairers"]
    assert len(pages) == 3 and "page=3" in pages[-1]
    assert len([path for path, _, _ in standin.hits if path == "/repairer_opening_hours"]) >= 5
    assert [event for event in progress if event[0] == PHASE_LIST] == [
        (PHASE_LIST, 1, 3),
        (PHASE_LIST, 2, 3),
        (PHASE_LIST, 3, 3),
    ]
    assert [event for event in progress if event[0] == PHASE_READ] == [(PHASE_READ, n, 3) for n in (1, 2, 3)]


async def test_read__chosen_repairers(node: Node, standin: RustineStandIn) -> None:
    options = RustineOptions(
        url=standin.base_url, site_url="https://rustine.example/", repairers=(99, 3, 1, 1)
    )
    snapshot = await read_rustine(options, node, None)
    assert not standin.requested("/repairers")
    assert [spec.key.id for spec in snapshot.actors] == ["1"]
    assert snapshot.actors[0].booking_url == "https://rustine.example/reparateur/1/creneaux"
    assert snapshot.skipped == [
        Skip(SourceKey("repairer", "3"), "not enabled"),
        Skip(
            SourceKey("repairer", "99"),
            f"not found at the source ({standin.base_url}/repairers/99 answered 404)",
        ),
    ]


async def test_read__listed_but_disabled_is_skipped(node: Node, standin: RustineStandIn) -> None:
    standin.honour_enabled_filter = False  # an instance that lists disabled repairers all the same
    standin.repairers[4]["enabled"] = False
    snapshot = await read_rustine(RustineOptions(url=standin.base_url), node, None)
    assert [spec.key.id for spec in snapshot.actors] == ["1", "2"]
    assert Skip(SourceKey("repairer", "3"), "not enabled") in snapshot.skipped
    assert Skip(SourceKey("repairer", "4"), "not enabled") in snapshot.skipped
    assert not standin.requested("/repairers/3") and not standin.requested("/repairers/4")


async def test_read__unreachable_instance(node: Node) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceUnreachableError) as caught:
        await read_rustine(RustineOptions(url=url), node, None)
    message = str(caught.value)
    assert message.startswith(f"rustine {url}: GET {url}/repairers?enabled=true")
    assert "ConnectError" in message


async def test_read__https_only_without_insecure_peers(
    tmp_path: Path, clock: Clock, standin: RustineStandIn
) -> None:
    strict = build_node(_settings(f"sqlite://{tmp_path / 'x.sqlite3'}", tmp_path), clock=clock)
    with pytest.raises(SourceUnreachableError, match="refused by the node's address policy"):
        await read_rustine(RustineOptions(url=standin.base_url), strict, None)
    assert standin.hits == []


async def test_read__server_error(node: Node, standin: RustineStandIn) -> None:
    standin.faults["/repairer_exceptional_closures"] = Fault(500, b'{"hydra:description": "boom"}')
    with pytest.raises(SourceResponseError) as caught:
        await read_rustine(RustineOptions(url=standin.base_url), node, None)
    assert str(caught.value) == (
        f"rustine {standin.base_url}: GET {standin.base_url}/repairer_exceptional_closures"
        "?repairer=1&itemsPerPage=50 answered HTTP 500"
    )


@pytest.mark.parametrize("status", [404, 405])
async def test_read__instance_without_price_list(node: Node, standin: RustineStandIn, status: int) -> None:
    standin.faults["/repairer_interventions"] = Fault(status, b'{"hydra:description": "No route found"}')
    snapshot = await read_rustine(RustineOptions(url=standin.base_url), node, None)
    description = snapshot.listings[0].data.description
    assert "Tarifs" not in description and "Vélos pris en charge" in description


async def test_read__server_error_on_a_record(node: Node, standin: RustineStandIn) -> None:
    standin.faults["/repairers/2"] = Fault(503, b"")
    with pytest.raises(SourceResponseError, match=r"/repairers/2 answered HTTP 503"):
        await read_rustine(RustineOptions(url=standin.base_url), node, None)


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/repairers/1", b'{"id": 1, "name": ', "malformed JSON at line 1, column 19: Expecting value"),
        ("/repairers", b"<html>maintenance</html>", "malformed JSON at line 1, column 1"),
        ("/repairer_get_slots_available/2", b"\xff\xfe{}", "malformed JSON"),
        (
            "/repairers",
            b'{"@type": "hydra:Collection"}',
            "'hydra:member' (or 'member') list, got no such field",
        ),
        ("/repairer_interventions", b'{"hydra:member": {"price": 5}}', "got an object"),
    ],
)
async def test_read__malformed_bodies(
    node: Node, standin: RustineStandIn, path: str, body: bytes, words: str
) -> None:
    standin.faults[path] = Fault(200, body)
    with pytest.raises(SourceFormatError) as caught:
        await read_rustine(RustineOptions(url=standin.base_url), node, None)
    message = str(caught.value)
    assert message.startswith(f"rustine {standin.base_url}: GET {standin.base_url}{path}")
    assert words in message


async def test_read__response_over_the_cap(node: Node, standin: RustineStandIn) -> None:
    standin.faults["/repairer_get_slots_available/1"] = Fault(200, b"[" + b" " * RESPONSE_MAX_BYTES + b"]")
    with pytest.raises(
        SourceResponseError, match=r"repairer_get_slots_available/1: the response is too large"
    ):
        await read_rustine(RustineOptions(url=standin.base_url), node, None)


async def test_read__missing_field(node: Node, standin: RustineStandIn) -> None:
    del standin.repairers[2]["city"]
    with pytest.raises(SourceFormatError) as caught:
        await read_rustine(RustineOptions(url=standin.base_url), node, None)
    assert str(caught.value) == (
        f"rustine {standin.base_url}: GET {standin.base_url}/repairers/2: field 'city' is missing"
    )


async def test_read__next_link_leaving_the_instance(node: Node, standin: RustineStandIn) -> None:
    page = (
        b'{"hydra:member": [{"id": 1, "enabled": true}], '
        b'"hydra:view": {"hydra:next": "https://elsewhere.example/repairers?page=2"}}'
    )
    standin.faults["/repairers"] = Fault(200, page)
    with pytest.raises(SourceFormatError, match="'hydra:next' leaves the instance"):
        await read_rustine(RustineOptions(url=standin.base_url), node, None)


async def test_read__pages_that_loop(node: Node, standin: RustineStandIn) -> None:
    page = (
        b'{"hydra:member": [{"id": 1, "enabled": true}], "hydra:view": {"hydra:next": "/repairers?page=1"}}'
    )
    standin.faults["/repairers"] = Fault(200, page)
    with pytest.raises(SourceFormatError, match="pages loop"):
        await read_rustine(RustineOptions(url=standin.base_url), node, None)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (RustineOptions(url="ftp://api.rustine.example"), "--url must be an absolute https URL"),
        (RustineOptions(url="api.rustine.example"), "--url must be an absolute https URL"),
        (RustineOptions(url="https://api.rustine.example/?x=1"), "--url must have no query"),
        (RustineOptions(url="https://a.example", site_url="/reparateur"), "--site-url must be"),
        (
            RustineOptions(url="https://a.example", repairers=(0,)),
            "--repairer takes positive repairer ids, got 0",
        ),
    ],
)
async def test_read__bad_options(node: Node, options: RustineOptions, words: str) -> None:
    with pytest.raises(ConnectorError, match=words):
        await read_rustine(options, node, None)
