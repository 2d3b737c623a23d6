"""Synthetic catalogue for the search benchmark: items in Hauts-de-France, written with multi-row INSERTs.

Every item lies in a commune of the loaded territory drawn by population, at a point inside its outline
(or, for repair offers and a fifth of the listings, on the commune's blurred disc, as a workshop that
hides its address publishes it); the real :func:`~fedicoop.territory.locate` places it, so the territory
codes, the search text and the ``catalogue_commune`` rows are those :func:`store_object` writes. French
titles and descriptions come from the word lists below; events have dates (from two months ago to four
months ahead), repair offers free slots (``catalogue_slot``, the next four weeks), listings and events a
publication date in the past year. The rows go in with raw multi-row INSERTs in one transaction; the
full-text index follows on its own (FTS5 triggers on SQLite, the generated ``tsvector`` on PostgreSQL).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from fedicoop.models.catalogue import CatalogueItem
from fedicoop.services.search import search_text
from fedicoop.territory import Commune, Territory, locate
from schemas.context import CATEGORIES

OBJECTS = {
    "velos-accessoires": ["vélo", "vélo cargo", "casque", "antivol", "remorque", "siège enfant", "pompe"],
    "travaux-outillage": [
        "perceuse",
        "scie circulaire",
        "ponceuse",
        "échelle",
        "caisse à outils",
        "visseuse",
    ],
    "jardinage": ["tondeuse", "taille-haie", "brouette", "sécateur", "composteur", "graines de tomates"],
    "maison-cuisine": ["machine à coudre", "lampe", "chaise", "table basse", "cocotte", "aspirateur"],
    "enfance-puericulture": ["poussette", "lit parapluie", "livres pour enfants", "jouets en bois"],
    "sport-loisirs": ["raquette", "tente", "sac de couchage", "jeu de société", "guitare", "rollers"],
    "multimedia-informatique": ["ordinateur portable", "imprimante", "écran", "clavier", "tablette"],
    "autres-objets": ["cartons de déménagement", "bocaux", "laine à tricoter", "cadre photo"],
    "cours": ["cours de couture", "cours de cuisine", "cours d'anglais", "cours de guitare"],
    "soutien-scolaire": ["aide aux devoirs", "soutien en mathématiques", "révisions du bac"],
    "bricolage-depannage": ["montage de meuble", "petite plomberie", "pose d'étagères"],
    "transport-demenagement": ["aide au déménagement", "transport d'encombrants", "prêt de camionnette"],
    "aide-numerique": ["aide informatique", "démarches en ligne", "installation de logiciels libres"],
    "autres-services": ["garde de plantes", "promenade de chiens", "repassage"],
}
"""What listings offer or look for, by category (``schemas.context.CATEGORIES``)."""

REPAIRS = {
    "reparation-velo": ["vélos", "vélos électriques", "freins et dérailleurs", "crevaisons", "roues voilées"],
    "multimedia-informatique": ["ordinateurs", "téléphones", "imprimantes"],
    "maison-cuisine": ["petit électroménager", "lampes", "machines à coudre", "grille-pain"],
}
"""What repair offers repair, by category."""

EVENTS = {
    "WORKSHOPS_SKILL_SHARING": ["Repair café", "Atelier d'autoréparation de vélos", "Atelier couture"],
    "COMMUNITY": ["Gratiferia", "Troc de plantes", "Disco soupe", "Bourse aux vélos"],
    "OUTDOORS_ADVENTURE": ["Balade à vélo", "Nettoyage des berges", "Plantation de haies"],
    "LEARNING": ["Initiation au compostage", "Café bricolage", "Permanence numérique"],
}
"""Event titles by (Mobilizon) category."""

ADJECTIVES = [
    "en bon état",
    "presque neuf",
    "ancien",
    "électrique",
    "pliant",
    "à réparer",
    "solide",
    "vintage",
]
SENTENCES = [
    "Fonctionne très bien.",
    "Quelques rayures, rien de grave.",
    "Disponible le week-end et en soirée.",
    "Idéal pour débuter.",
    "Contactez-moi par message pour convenir d'un rendez-vous.",
    "Matériel prêté contre une petite caution rendue au retour.",
    "Apportez vos pièces si vous en avez.",
    "Accès possible en fauteuil roulant.",
]
"""Sentences added to the descriptions."""

COLUMNS = (
    "id iri actor_iri host kind purpose category name content summary text url document slots "
    "slots_fetched_at available published updated starts_at ends_at location_name latitude longitude "
    "radius commune_code epci_code departement_code region_code territory_flags discoverable received_at "
    "departements"
).split()
"""The columns of ``catalogue_item`` the benchmark writes (every one: raw SQL applies no defaults)."""

COMMUNE_COLUMNS = ("item_id", "commune", "epci", "departement", "region")
SLOT_COLUMNS = ("item_id", "starts_at", "ends_at")

BATCH = 1000
"""Items drawn at a time (then inserted with their communes and slots)."""

VALUES_PER_INSERT = 15_000
"""Bound values per INSERT statement: under both databases' limit (32,766 and 32,767)."""

HOSTS = 300
ACTORS_PER_HOST = 10
KIND_SHARES = {"offer": 45, "request": 15, "repair": 10, "event": 30}
DAY = timedelta(days=1)


@dataclass
class Rows:
    """The rows of one batch of items, for the three tables."""

    items: list[tuple[Any, ...]] = field(default_factory=list)
    communes: list[tuple[Any, ...]] = field(default_factory=list)
    slots: list[tuple[Any, ...]] = field(default_factory=list)


class Corpus:
    """Draws synthetic items from a seeded generator over the communes of ``territory``."""

    def __init__(self, territory: Territory, now: datetime, seed: int, *, postgres: bool) -> None:
        self.territory = territory
        self.now = now.replace(second=0, microsecond=0)
        self.random = random.Random(seed)
        self.postgres = postgres
        self.communes = list(territory)
        self.weights = list(territory.data.populations)
        self._blurred: dict[str, tuple[float, float, float | None, Commune, list[Commune]]] = {}

    def commune(self) -> Commune:
        """A commune drawn by population (where people live, things are offered)."""
        return self.random.choices(self.communes, self.weights)[0]

    def point_in(self, commune: Commune) -> tuple[float, float]:
        """A random point inside ``commune``: drawn on its blurred disc until it falls in the outline."""
        blur = self.territory.blur(commune)
        assert blur is not None, commune
        latitude, longitude, radius = blur
        span = radius / 111_320.0
        for _ in range(50):
            lat = latitude + self.random.uniform(-span, span)
            lon = longitude + self.random.uniform(-span, span) * 1.58  # 1 / cos(50.5°)
            if self.territory.commune_at(lat, lon) == commune:
                return round(lat, 6), round(lon, 6)
        return latitude, longitude

    def _place(self, blurred: bool) -> tuple[float, float, float | None, Commune, list[Commune]]:
        """A place: (latitude, longitude, radius, primary commune, every commune covered), via locate."""
        commune = self.commune()
        if blurred:
            if commune.code not in self._blurred:
                blur = self.territory.blur(commune)
                assert blur is not None, commune
                placement = locate(self.territory, *blur, {})
                primary = placement.commune or commune
                self._blurred[commune.code] = (*blur, primary, list(placement.communes))
            return self._blurred[commune.code]
        latitude, longitude = self.point_in(commune)
        placement = locate(self.territory, latitude, longitude, None, {})
        assert placement.commune is not None
        return latitude, longitude, None, placement.commune, list(placement.communes)

    def _time(self, moment: datetime | None) -> Any:
        """A datetime as the column stores it (SQLite: tortoise's ISO text with a space)."""
        if moment is None or self.postgres:
            return moment
        return moment.isoformat(" ")

    def _minutes(self, low: timedelta, high: timedelta) -> datetime:
        """``now`` plus a random whole number of minutes between ``low`` and ``high``."""
        minutes = self.random.randint(int(low.total_seconds() // 60), int(high.total_seconds() // 60))
        return self.now + timedelta(minutes=minutes)

    def _text(self, kind: str) -> tuple[str, str, str]:
        """(category, title, description) of an item of ``kind``."""
        pick = self.random.choice
        if kind == "event":
            category = pick(list(EVENTS))
            title = pick(EVENTS[category])
            return category, title, f"{title} ouvert à toutes et à tous. {pick(SENTENCES)}"
        if kind == "repair":
            category = pick(list(REPAIRS))
            what = pick(REPAIRS[category])
            return category, f"Réparation de {what}", f"Atelier de réparation de {what}. {pick(SENTENCES)}"
        category = pick(list(OBJECTS))
        thing = pick(OBJECTS[category])
        adjective = pick(ADJECTIVES) if CATEGORIES[category].kind == "object" else ""
        title = f"{'Cherche' if kind == 'request' else 'Donne'} {thing} {adjective}".strip()
        return category, title, f"{title}. {pick(SENTENCES)} {pick(SENTENCES)}"

    def _slots(self, item_id: int, iri: str) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
        """The free slots of a repair offer (two-hour slots in the next four weeks) and its collection."""
        starts = sorted(
            {self._minutes(-2 * DAY, 28 * DAY).replace(minute=0) for _ in range(self.random.randint(0, 12))}
        )
        rows = [(item_id, self._time(start), self._time(start + 2 * DAY / 24)) for start in starts]
        entries = [
            {
                "id": f"{iri}/slots#{n}",
                "type": "Intent",
                "hasBeginning": start.isoformat(),
                "hasEnd": (start + 2 * DAY / 24).isoformat(),
            }
            for n, start in enumerate(starts)
        ]
        collection = {"id": f"{iri}/slots", "type": "OrderedCollection", "totalItems": len(entries)}
        return rows, {**collection, "orderedItems": entries}

    def item(self, item_id: int, rows: Rows) -> None:
        """Draw item ``item_id`` and add its rows to ``rows``."""
        kind = self.random.choices(list(KIND_SHARES), list(KIND_SHARES.values()))[0]
        host = f"coop{self.random.randrange(HOSTS)}.test"
        actor = f"https://{host}/actors/a{self.random.randrange(ACTORS_PER_HOST)}"
        iri = f"https://{host}/objects/{item_id}"
        blurred = kind == "repair" or (kind in ("offer", "request") and self.random.random() < 0.2)
        latitude, longitude, radius, commune, covered = self._place(blurred)
        category, title, description = self._text(kind)
        published = self._minutes(-365 * DAY, -DAY)
        starts_at = ends_at = None
        if kind == "event":
            starts_at = self._minutes(-60 * DAY, 120 * DAY).replace(minute=0)
            long = self.random.random() < 0.05
            ends_at = starts_at + (
                self.random.randint(1, 3) * DAY if long else timedelta(hours=self.random.randint(1, 8))
            )
            published = min(published, starts_at - DAY)
        slots: dict[str, Any] | None = None
        if kind == "repair":
            slot_rows, slots = self._slots(item_id, iri)
            rows.slots.extend(slot_rows)
        place = {"type": "Place", "name": commune.name, "latitude": latitude, "longitude": longitude}
        if radius is not None:
            place["radius"] = radius
        document = {
            "id": iri,
            "type": "Event" if kind == "event" else "Note",
            "name": title,
            "content": f"<p>{description}</p>",
            "attributedTo": actor,
            "published": published.isoformat(),
            "location": place,
        }
        labels = [category.replace("_", " ")] if kind == "event" else [category, CATEGORIES[category].label]
        text = search_text(title, description, *labels, commune.name)
        text = f"{text} {search_text(commune.name)}"  # store_object adds the primary commune's name
        purpose = None if kind == "event" else ("request" if kind == "request" else "offer")
        t = self._time
        rows.items.append(
            (item_id, iri, actor, host, kind, purpose, category, title, f"<p>{description}</p>", "", text,
             iri, json.dumps(document), json.dumps(slots) if slots else None, t(self.now) if slots else None,
             True, t(published), None, t(starts_at), t(ends_at), commune.name, latitude, longitude, radius,
             commune.code, commune.epci, commune.departement, commune.region, "[]",
             self.random.random() >= 0.03, t(published),
             " ".join(sorted({each.departement for each in covered})) or None)
        )  # fmt: skip
        rows.communes.extend(
            (item_id, each.code, each.epci, each.departement, each.region) for each in covered
        )

    def batches(self, count: int) -> Iterator[Rows]:
        """``count`` items (ids 1 to ``count``) in batches of :data:`BATCH`."""
        for start in range(1, count + 1, BATCH):
            rows = Rows()
            for item_id in range(start, min(start + BATCH, count + 1)):
                self.item(item_id, rows)
            yield rows


def _insert(table: str, columns: Sequence[str], count: int, postgres: bool) -> str:
    """``INSERT INTO table (columns) VALUES (…), …`` for ``count`` rows, with the dialect's placeholders."""
    width = len(columns)
    if postgres:
        groups = (
            "(" + ", ".join(f"${row * width + column + 1}" for column in range(width)) + ")"
            for row in range(count)
        )
    else:
        groups = ("(" + ", ".join("?" * width) + ")" for _ in range(count))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(groups)}"  # noqa: S608 - our SQL


async def insert_rows(
    client: BaseDBAsyncClient, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` into ``table`` with multi-row INSERTs of at most the bound-value limit."""
    postgres = client.capabilities.dialect == "postgres"
    step = max(1, VALUES_PER_INSERT // len(columns))
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        values = [value for row in chunk for value in row]
        await client.execute_query(_insert(table, columns, len(chunk), postgres), values)


@dataclass
class Filled:
    """What :func:`fill` wrote and how long it took: drawing the rows, and the INSERTs alone."""

    items: int = 0
    communes: int = 0
    slots: int = 0
    draw_seconds: float = 0.0
    insert_seconds: float = 0.0


async def fill(client: BaseDBAsyncClient, corpus: Corpus, count: int) -> Filled:
    """Write ``count`` items with their communes and slots through ``client`` (a transaction)."""
    filled = Filled(items=count)
    batches = corpus.batches(count)
    while True:
        started = time.perf_counter()
        rows = next(batches, None)
        filled.draw_seconds += time.perf_counter() - started
        if rows is None:
            break
        started = time.perf_counter()
        await insert_rows(client, "catalogue_item", COLUMNS, rows.items)
        await insert_rows(client, "catalogue_commune", COMMUNE_COLUMNS, rows.communes)
        await insert_rows(client, "catalogue_slot", SLOT_COLUMNS, rows.slots)
        filled.insert_seconds += time.perf_counter() - started
        filled.communes += len(rows.communes)
        filled.slots += len(rows.slots)
    if client.capabilities.dialect == "postgres":
        table = CatalogueItem._meta.db_table
        await client.execute_query(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
    return filled
