"""Shared test data of the web tests, created through the JSON API as an admin would.

The workshop ``atelier-fives`` of wire-format §3.1 (its location, hours Tue–Fri 14–19 and Sat 10–13, two
places per slot) with its repair offer and a Saturday event; the cooperative ``partage-lille`` with a loan
offer (deposit 30.00, P7D) and a request for a period.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

AS_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
BASE = "https://velo-fives.example"

WORKSHOP_LOCATION = {
    "name": "Atelier vélo de Fives",
    "latitude": 50.6292,
    "longitude": 3.0886,
    "street_address": "12 rue de l'Exemple",
    "postal_code": "59800",
    "locality": "Lille",
    "region": "Hauts-de-France",
    "country": "FR",
    "commune_code": "59350",
    "departement_code": "59",
    "region_code": "32",
    "epci_code": "200093201",
    "cog_year": 2025,
}

LILLE_LOCATION = {
    "name": "Lille",
    "latitude": 50.6309,
    "longitude": 3.0709,
    "locality": "Lille",
    "country": "FR",
    "commune_code": "59350",
    "departement_code": "59",
    "region_code": "32",
}


@dataclass(frozen=True)
class Seeded:
    """The ids (https URLs) of what :func:`seed_node` created."""

    workshop: str
    cooperative: str
    repair_offer: str
    loan_offer: str
    request: str
    event: str

    @property
    def slots(self) -> str:
        """The slot collection of the repair offer."""
        return self.repair_offer + "/slots"


def path_of(url: str) -> str:
    """The path and query of one of our ids, for the test client."""
    assert url.startswith(BASE + "/"), url
    return url.removeprefix(BASE)


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> str:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    created: str = response.json()["id"]
    return created


async def seed_node(client: httpx.AsyncClient) -> Seeded:
    """Create the workshop, the cooperative, their listings and the event through ``/api/v1``."""
    workshop = await _post(
        client,
        "/api/v1/actors",
        {
            "username": "atelier-fives",
            "kind": "workshop",
            "name": "Atelier vélo de Fives",
            "summary": "Atelier coopératif de réparation de vélos à Lille-Fives.",
            "location": WORKSHOP_LOCATION,
        },
    )
    availability = await client.put(
        "/api/v1/availability/atelier-fives",
        json={
            "hours": [
                *(
                    {"day": day, "opens": "14:00", "closes": "19:00"}
                    for day in ("tuesday", "wednesday", "thursday", "friday")
                ),
                {"day": "saturday", "opens": "10:00", "closes": "13:00"},
            ],
            "slot_minutes": 60,
            "capacity": 2,
        },
    )
    assert availability.status_code == 200, availability.text
    repair_offer = await _post(
        client,
        "/api/v1/listings",
        {
            "actor": "atelier-fives",
            "kind": "repair",
            "title": "Réparation de vélo sur rendez-vous",
            "description": "Vélos classiques et électriques. Révision 50 €, réglage des freins 15 €.",
            "category": "reparation-velo",
            "tags": ["ReparationVelo"],
        },
    )
    cooperative = await _post(
        client,
        "/api/v1/actors",
        {
            "username": "partage-lille",
            "kind": "cooperative",
            "name": "Partage Lille",
            "summary": "Coopérative d'échange de biens et de services à Lille.",
            "location": LILLE_LOCATION,
        },
    )
    loan_offer = await _post(
        client,
        "/api/v1/listings",
        {
            "actor": "partage-lille",
            "kind": "object",
            "purpose": "offer",
            "title": "Prêt : perceuse-visseuse 18 V",
            "description": "Sans fil, deux batteries et un coffret d'embouts.",
            "category": "travaux-outillage",
            "exchange": "loan",
            "deposit": "30.00",
            "loan_duration": "P7D",
            "tags": ["Pret", "Lille"],
        },
    )
    request = await _post(
        client,
        "/api/v1/listings",
        {
            "actor": "partage-lille",
            "kind": "object",
            "purpose": "request",
            "title": "Recherche : remorque vélo pour enfant",
            "description": "À emprunter pour le week-end du 25 octobre.",
            "category": "velos-accessoires",
            "wanted_from": "2025-10-25T09:00:00+02:00",
            "wanted_until": "2025-10-26T19:00:00+01:00",
        },
    )
    event = await _post(
        client,
        "/api/v1/events",
        {
            "actor": "atelier-fives",
            "name": "Atelier d'autoréparation du samedi",
            "description": "Venez réparer votre vélo avec nos bénévoles.",
            "start_time": "2025-10-18T10:00:00+02:00",
            "end_time": "2025-10-18T13:00:00+02:00",
            "price_text": "prix libre",
        },
    )
    return Seeded(
        workshop=workshop,
        cooperative=cooperative,
        repair_offer=repair_offer,
        loan_offer=loan_offer,
        request=request,
        event=event,
    )


async def get_json(client: httpx.AsyncClient, url: str, accept: str = AS_JSON) -> dict[str, object]:
    """GET one of our documents as ActivityStreams JSON; asserts 200 and the media type."""
    response = await client.get(path_of(url), headers={"Accept": accept})
    assert response.status_code == 200, (url, response.status_code, response.text)
    assert response.headers["content-type"] == AS_JSON
    document: dict[str, object] = response.json()
    return document
