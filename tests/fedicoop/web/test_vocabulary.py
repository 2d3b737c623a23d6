"""Every document the node serves expands with the bundled contexts only and obeys the shape rules.

Wire-format §2 (no undefined term, no remote context) and §1 (shapes, via ``schemas.rules``). The golden
examples are checked by tests/schemas/test_examples.py; here it is the documents served from a node seeded
through the API, and the activities it stored.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from federation.errors import ContextNotAllowedError, UndefinedTermError
from federation.jsonld import check_terms, make_document_loader
from fedicoop.models.activities import Activity
from schemas.rules import shape_violations
from tests.fedicoop.web.seed import AS_JSON, BASE, LD_JSON, Seeded, get_json, seed_node

pytestmark = pytest.mark.anyio


async def _served_documents(client: httpx.AsyncClient, seeded: Seeded) -> dict[str, dict[str, Any]]:
    urls = [
        seeded.workshop,
        seeded.cooperative,
        seeded.repair_offer,
        seeded.loan_offer,
        seeded.request,
        seeded.event,
        seeded.slots,
        seeded.slots + "?page=1",
        seeded.slots + "?page=2",
        seeded.workshop + "/outbox",
        seeded.workshop + "/outbox?page=1",
        seeded.cooperative + "/outbox?page=1",
        seeded.workshop + "/followers",
        seeded.workshop + "/following",
        seeded.workshop + "/following?page=1",
        BASE + "/actor",
        BASE + "/actor/outbox",
        BASE + "/actor/followers",
    ]
    documents = {url: await get_json(client, url) for url in urls}
    place = documents[seeded.workshop]["location"]["id"]
    documents[place] = await get_json(client, place, accept=LD_JSON)
    for item in documents[seeded.workshop + "/outbox?page=1"]["orderedItems"]:
        documents[item["id"]] = await get_json(client, item["id"])
    return documents


def _check(document: Any) -> None:
    assert isinstance(document, dict)
    assert "@context" in document
    check_terms(document, make_document_loader())
    assert shape_violations(document) == []


async def test_served_documents__expand_and_have_no_shape_violation(client: httpx.AsyncClient) -> None:
    seeded = await seed_node(client)
    documents = await _served_documents(client, seeded)
    assert len(documents) >= 20
    loader = make_document_loader()
    for url, document in documents.items():
        assert "@context" in document, url
        check_terms(document, loader)
        assert shape_violations(document) == [], url


async def test_tombstone__expands_and_has_no_shape_violation(client: httpx.AsyncClient) -> None:
    seeded = await seed_node(client)
    assert (await client.delete("/api/v1/listings/" + seeded.request.rsplit("/", 1)[1])).status_code == 204
    response = await client.get(seeded.request.removeprefix(BASE), headers={"Accept": AS_JSON})
    assert response.status_code == 410
    _check(response.json())


async def test_stored_activities__expand_and_have_no_shape_violation(client: httpx.AsyncClient) -> None:
    seeded = await seed_node(client)
    assert (await client.delete("/api/v1/events/" + seeded.event.rsplit("/", 1)[1])).status_code == 204
    patched = await client.patch(
        "/api/v1/listings/" + seeded.loan_offer.rsplit("/", 1)[1], json={"paused": True}
    )
    assert patched.status_code == 200, patched.text
    rows = await Activity.all()
    assert {row.type for row in rows} >= {"Create", "Delete", "Update"}
    loader = make_document_loader()
    for row in rows:
        check_terms(row.document, loader)
        assert shape_violations(row.document) == [], row.document["id"]


def test_check_terms__fails_on_an_undefined_term() -> None:
    """The check used above can fail: a term outside every context is reported."""
    document = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Note", "bikeColour": "red"}
    with pytest.raises(UndefinedTermError, match="bikeColour"):
        check_terms(document, make_document_loader())


def test_check_terms__refuses_a_remote_context() -> None:
    document = {"@context": "https://litepub.example/schemas/litepub-0.1.jsonld", "type": "Note"}
    with pytest.raises(ContextNotAllowedError):
        check_terms(document, make_document_loader())
