"""EBS records → a :class:`Snapshot` (domain.md §3 and §5).

- A partner place (``"user"`` of type ``place``) becomes a place actor with its exact address, its
  description as summary and its free-text schedule as the ``Horaires`` field.
- A public product in no group becomes an offer: an object is lent (deposit in euros, loan duration,
  age in the description), a service is delivered (duration in the description). Its owner's place
  publishes it; a person's product is published by the cooperative (``options.actor``) and located at
  the owner's commune, blurred: nothing names the person or gives their street.
- ``paused`` products, and those of an owner disabled or on vacation, are paused offers; a current
  unavailability makes the quantity 0; ``deleted``, ``restricted`` and grouped products are skipped,
  with the reason (and withdrawn if an earlier run published them).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from pydantic import ValidationError

from fedicoop.connectors.ebs.categories import CategoryMapper, fold
from fedicoop.connectors.ebs.options import EbsOptions
from fedicoop.connectors.ebs.records import EbsData, EbsOwner, EbsProduct
from fedicoop.connectors.specs import ActorSpec, ListingSpec, Owner, Skip, Snapshot, SourceKey
from fedicoop.errors import ValidationError as FedicoopValidationError
from fedicoop.territory import Commune, Territory
from schemas import limits
from schemas.api import (
    ActorCreate,
    Exchange,
    ImageInput,
    ListingCreate,
    OrganizationKind,
    PlaceInput,
    ProfileField,
)

IMAGE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
}

_POSTAL_CODE = re.compile(r"^[0-9]{5}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class _Skipped(Exception):
    """A record that cannot be published, and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut.

    >>> clip("Perceuse", 20), clip("Perceuse-visseuse sans fil", 12)
    ('Perceuse', 'Perceuse-vi…')
    """
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def euros(cents: int) -> str:
    """An amount in cents as a decimal string of euros.

    >>> euros(3000), euros(1250), euros(5)
    ('30.00', '12.50', '0.05')
    """
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def place_username(name: str) -> str:
    """The wanted username of a place actor, from its name (the engine makes it unique).

    >>> place_username("Objetothèque de Fives"), place_username("Relay"), place_username("***")
    ('objetotheque-de-fives', 'relay-lieu', 'lieu')
    """
    username = fold(name)[: limits.PREFERRED_USERNAME_MAX].strip("-") or "lieu"
    if username in limits.RESERVED_USERNAMES:
        username = f"{username}-lieu"
    return username


def _invalid(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"invalid: {where}: {first['msg']}" if where else f"invalid: {first['msg']}"


class EbsMapper:
    """Turns the records of one EBS database into the snapshot of its source."""

    def __init__(self, options: EbsOptions, source: str, territory: Territory) -> None:
        self.options = options
        self.source = source
        self.territory = territory
        self._blurred: dict[str, PlaceInput] = {}

    def snapshot(self, data: EbsData) -> Snapshot:
        """The snapshot of ``data``: place actors first, then the products, in the database's order."""
        snapshot = Snapshot(source=self.source)
        places: dict[str, ActorSpec | Skip] = {}
        for owner in data.owners.values():
            if owner.is_place:
                places[str(owner.id)] = outcome = self._place(owner)
                if isinstance(outcome, ActorSpec):
                    snapshot.actors.append(outcome)
                else:
                    snapshot.skipped.append(outcome)
        categories = CategoryMapper(data.categories, self.options.categories)
        for product in data.products:
            key = SourceKey("product", str(product.id))
            try:
                spec = self._listing(key, product, data, categories, places)
            except _Skipped as skipped:
                snapshot.skipped.append(Skip(key, skipped.reason))
            else:
                snapshot.listings.append(spec)
        return snapshot

    # --- places ---------------------------------------------------------------------------------

    def _place(self, owner: EbsOwner) -> ActorSpec | Skip:
        key = SourceKey("place", str(owner.id))
        if owner.name is None:
            return Skip(key, "place without a name")
        try:
            location = self._exact_location(owner, owner.name)
            fields = [ProfileField(name="Horaires", value=owner.schedule)] if owner.schedule else []
            profile = ActorCreate(
                username=place_username(owner.name),
                kind=OrganizationKind.PLACE,
                name=clip(owner.name, limits.NAME_MAX),
                summary=clip(owner.description or "", limits.SUMMARY_MAX),
                fields=fields,
                location=location,
            )
        except ValidationError as exc:
            return Skip(key, _invalid(exc))
        return ActorSpec(key=key, profile=profile)

    def _exact_location(self, owner: EbsOwner, name: str) -> PlaceInput | None:
        latitude, longitude = owner.latitude, owner.longitude
        if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None  # not geocoded (or garbage): the place is published without a location
        commune = self._commune_at(latitude, longitude)
        postal_code = (
            owner.postal_code if owner.postal_code and _POSTAL_CODE.match(owner.postal_code) else None
        )
        country = (owner.country or "FR").upper()
        return PlaceInput(
            name=clip(name, limits.NAME_MAX),
            latitude=latitude,
            longitude=longitude,
            street_address=clip(owner.street, 500) if owner.street else None,
            postal_code=postal_code,
            locality=clip(owner.locality, 200) if owner.locality else None,
            country=country if _COUNTRY.match(country) else "FR",
            commune_code=commune.code if commune else None,
            departement_code=commune.departement if commune else None,
            region_code=commune.region if commune else None,
            epci_code=commune.epci if commune else None,
            cog_year=self._cog_year() if commune else None,
        )

    def _commune_at(self, latitude: float, longitude: float) -> Commune | None:
        try:
            return self.territory.commune_at(latitude, longitude)
        except FedicoopValidationError:
            return None

    def _cog_year(self) -> int | None:
        vintage = str(self.territory.vintage)
        return int(vintage) if vintage.isdigit() else None

    # --- products -------------------------------------------------------------------------------

    def _listing(
        self,
        key: SourceKey,
        product: EbsProduct,
        data: EbsData,
        categories: CategoryMapper,
        places: dict[str, ActorSpec | Skip],
    ) -> ListingSpec:
        if product.status == "deleted":
            raise _Skipped("deleted")
        if product.visibility != "public":
            raise _Skipped(f"not public ({product.visibility})")
        if product.grouped:
            raise _Skipped("restricted to a group")
        owner = data.owners.get(product.owner_id)
        if owner is None:
            raise _Skipped(f"owner {product.owner_id} not found")
        location: PlaceInput | None = None
        publisher: Owner
        if owner.is_place:
            place = places.get(str(owner.id))
            if not isinstance(place, ActorSpec):
                reason = place.reason if place is not None else "unknown"
                raise _Skipped(f"its place is not published ({reason})")
            publisher = place.key
        else:
            publisher = self.options.actor
            location = self._blurred_location(owner)
        paused = product.status == "paused" or not owner.enabled or owner.vacation
        try:
            data_in = self._listing_data(
                product, categories.slug_for(product.category_id, product.type), location
            )
        except ValidationError as exc:
            raise _Skipped(_invalid(exc)) from None
        return ListingSpec(key=key, owner=publisher, data=data_in, paused=paused, listing_id=product.id)

    def _blurred_location(self, owner: EbsOwner) -> PlaceInput:
        if owner.latitude is None or owner.longitude is None:
            raise _Skipped("its owner's address has no coordinates")
        commune = self._person_commune(owner.latitude, owner.longitude)
        cached = self._blurred.get(commune.code)
        if cached is not None:
            return cached
        blur = self.territory.blur(commune)
        if blur is None:
            raise _Skipped(f"the commune {commune.code} of its owner has no point to blur to")
        latitude, longitude, radius = blur
        place = PlaceInput(
            name=commune.name,
            latitude=latitude,
            longitude=longitude,
            radius=max(radius, 100.0),
            locality=commune.name,
            country="FR",
            commune_code=commune.code,
            departement_code=commune.departement,
            region_code=commune.region,
            epci_code=commune.epci,
            cog_year=self._cog_year(),
        )
        self._blurred[commune.code] = place
        return place

    def _person_commune(self, latitude: float, longitude: float) -> Commune:
        # outside the node's régions nothing can blur the address: the product is skipped
        try:
            commune = self.territory.commune_at(latitude, longitude)
        except FedicoopValidationError:
            raise _Skipped("its owner's address has invalid coordinates") from None
        if commune is None:
            regions = ", ".join(self.territory.region_codes)
            raise _Skipped(f"its owner's address is outside the node's territory (régions {regions})")
        return commune

    def _listing_data(self, product: EbsProduct, category: str, location: PlaceInput | None) -> ListingCreate:
        is_object = product.type == "object"
        extra = product.age if is_object else product.duration
        label = "Âge" if is_object else "Durée"
        deposit: str | None = None
        conditions = ""
        if is_object and product.deposit:
            if product.currency in (None, "EUR"):
                deposit = euros(product.deposit)
            else:
                conditions = f"caution {euros(product.deposit)} {product.currency}"
        return ListingCreate(
            actor=self.options.actor,
            kind="object" if is_object else "service",
            title=clip(product.name, limits.TITLE_MAX),
            description=self._description(product.description.strip(), f"{label} : {extra}" if extra else ""),
            category=category,
            exchange=Exchange.LOAN if is_object else None,
            deposit=deposit,
            loan_duration=clip(product.loan_duration, 100) if is_object and product.loan_duration else None,
            quantity="0" if product.unavailable else "1",
            conditions=conditions,
            external_url=self._page(product),
            images=self._images(product),
            location=location,
        )

    @staticmethod
    def _description(text: str, line: str) -> str:
        if not line:
            return clip(text, limits.DESCRIPTION_MAX)
        line = clip(line, 300)
        room = limits.DESCRIPTION_MAX - len(line) - 2
        return f"{clip(text, room)}\n\n{line}" if text else line

    def _page(self, product: EbsProduct) -> str:
        slug = quote(product.slug, safe="") or "produit"
        return f"{self.options.site_url}/{self.options.locale}/produits/{slug}/{product.id}"

    def _images(self, product: EbsProduct) -> list[ImageInput]:
        base = self.options.media_url
        if base is None:
            return []
        images: list[ImageInput] = []
        for name in product.images:
            media_type = IMAGE_TYPES.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
            if media_type is None:
                continue
            url = f"{base}/{quote(name.lstrip('/'))}"
            images.append(
                ImageInput.model_validate(
                    {"url": url, "media_type": media_type, "alt": clip(product.name, 1500)}
                )
            )
            if len(images) == limits.LISTING_IMAGES_MAX:
                break
        return images
