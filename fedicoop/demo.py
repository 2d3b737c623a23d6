"""The labelled demo seeded on an empty database: an exchange cooperative, a workshop, two events.

Every name says "démo" and every summary starts with a notice, so nobody mistakes it for real data.
``FEDICOOP_DEMO=0`` turns it off.
"""

from __future__ import annotations

from datetime import timedelta

from fedicoop.domain.french import to_paris
from fedicoop.models.actors import Actor
from fedicoop.models.states import ActorKind
from fedicoop.node import Node
from fedicoop.services.actors import create_actor
from fedicoop.services.availability import set_availability
from fedicoop.services.events import create_event
from fedicoop.services.listings import create_listing
from schemas.api import (
    ActorCreate,
    AvailabilityInput,
    EventCreate,
    Exchange,
    ListingCreate,
    OrganizationKind,
    PlaceInput,
)

NOTICE = "Données de démonstration : ce compte n'existe pas."

FIVES = PlaceInput(
    name="Atelier vélo de Fives (démo)",
    latitude=50.6292,
    longitude=3.0886,
    street_address="12 rue de l'Exemple",
    postal_code="59800",
    locality="Lille",
    region="Hauts-de-France",
    commune_code="59350",
    departement_code="59",
    region_code="32",
    epci_code="200093201",
    cog_year=2025,
)
LILLE_BLURRED = PlaceInput(
    name="Lille",
    latitude=50.6309,
    longitude=3.0709,
    radius=7800.0,
    locality="Lille",
    commune_code="59350",
    departement_code="59",
    region_code="32",
    epci_code="200093201",
    cog_year=2025,
)
ROUBAIX_BLURRED = PlaceInput(
    name="Roubaix",
    latitude=50.6912,
    longitude=3.174,
    radius=3000.0,
    locality="Roubaix",
    commune_code="59512",
    departement_code="59",
    region_code="32",
    epci_code="200093201",
    cog_year=2025,
)


async def seed_demo(node: Node) -> bool:
    """Seed the demo when the node has no Organization actor yet; return whether it did."""
    if await Actor.filter(deleted_at=None).exclude(kind=ActorKind.APPLICATION).exists():
        return False
    now = node.clock()
    publisher = node.publisher
    await create_actor(
        ActorCreate(
            username="partage-lille",
            kind=OrganizationKind.COOPERATIVE,
            name="Partage Lille (démo)",
            summary=f"{NOTICE}\n\nCoopérative d'échange de biens et de services de la métropole lilloise.",
            location=LILLE_BLURRED.model_copy(update={"radius": None, "name": "Partage Lille (démo)"}),
        ),
        now,
    )
    await create_actor(
        ActorCreate(
            username="atelier-fives",
            kind=OrganizationKind.WORKSHOP,
            name="Atelier vélo de Fives (démo)",
            summary=(
                f"{NOTICE}\n\nAtelier coopératif de réparation de vélos : "
                "sur rendez-vous et en autoréparation."
            ),
            location=FIVES,
        ),
        now,
    )
    listings = [
        ListingCreate(
            actor="partage-lille",
            kind="object",
            exchange=Exchange.LOAN,
            title="Prêt : perceuse-visseuse 18 V",
            description="Sans fil, deux batteries et un coffret d'embouts.",
            category="travaux-outillage",
            deposit="30.00",
            loan_duration="P7D",
            tags=["Pret", "Lille"],
            location=LILLE_BLURRED,
        ),
        ListingCreate(
            actor="partage-lille",
            kind="object",
            exchange=Exchange.GIFT,
            title="Don : vélo enfant 16 pouces",
            description="Petit vélo bleu, pneus neufs, pour 4 à 6 ans.",
            category="velos-accessoires",
            location=LILLE_BLURRED,
        ),
        ListingCreate(
            actor="partage-lille",
            kind="service",
            title="Cours de couture pour débutants",
            description="Deux heures pour apprendre à réparer ses vêtements.",
            category="cours",
            location=ROUBAIX_BLURRED,
        ),
        ListingCreate(
            actor="partage-lille",
            kind="object",
            purpose="request",
            exchange=Exchange.LOAN,
            title="Recherche : remorque vélo pour enfant",
            description="À emprunter pour un week-end.",
            category="velos-accessoires",
            location=ROUBAIX_BLURRED,
        ),
    ]
    for listing in listings:
        await create_listing(listing, publisher, now)
    await create_listing(
        ListingCreate(
            actor="atelier-fives",
            kind="repair",
            title="Réparation de vélo sur rendez-vous",
            description="Vélos classiques et électriques. Révision 50 €, réglage des freins 15 €.",
            tags=["ReparationVelo"],
        ),
        publisher,
        now,
    )
    await set_availability(
        "atelier-fives",
        AvailabilityInput.model_validate(
            {
                "hours": [
                    {"day": day, "opens": "14:00", "closes": "19:00"}
                    for day in ("tuesday", "wednesday", "thursday", "friday")
                ]
                + [{"day": "saturday", "opens": "10:00", "closes": "13:00"}],
                "slot_minutes": 60,
                "capacity": 2,
            }
        ),
        publisher,
        now,
    )
    local = to_paris(now)
    saturday = (local + timedelta(days=(5 - local.weekday()) % 7 or 7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    await create_event(
        EventCreate(
            actor="atelier-fives",
            name="Atelier d'autoréparation vélo (démo)",
            description="Venez réparer votre vélo avec l'aide des bénévoles : outils et conseils fournis.",
            start_time=saturday,
            end_time=saturday + timedelta(hours=3),
            price_text="gratuit, inscription conseillée",
            capacity=12,
            tags=["ReparationVelo"],
        ),
        publisher,
        now,
    )
    evening = (saturday + timedelta(days=4)).replace(hour=18, minute=30)
    await create_event(
        EventCreate(
            actor="partage-lille",
            name="Café réparation du quartier (démo)",
            description="Petit électroménager, vêtements, vélos : on répare ensemble.",
            start_time=evening,
            end_time=evening + timedelta(hours=2, minutes=30),
            price_text="prix libre",
            location=ROUBAIX_BLURRED.model_copy(update={"radius": None, "name": "Maison de quartier (démo)"}),
        ),
        publisher,
        now,
    )
    return True
