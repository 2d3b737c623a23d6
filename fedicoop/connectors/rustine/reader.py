"""The Rustine Libre connector's entry point: read a whole instance into a :class:`Snapshot`.

:func:`read_rustine` lists the enabled repairers (or reads the ones asked for), then for each one its
document, opening hours, exceptional closures, price list and free slots, and maps them
(:mod:`fedicoop.connectors.rustine.mapping`). Nothing is written: any source error aborts the read, and
:func:`fedicoop.connectors.sync.synchronise` applies a complete snapshot only. The source is named
``rustine {url}`` (the API root without its trailing slash); a repairer absent from a later snapshot is
withdrawn, so a run restricted to some repairers withdraws the others published from the same URL.

Requests, all ``GET`` with ``Accept: application/ld+json`` (domain.md §2.2)::

    /repairers?enabled=true&itemsPerPage=…      (hydra pages; skipped when repairers are given)
    /repairers/{id}
    /repairer_opening_hours?repairer={id}
    /repairer_exceptional_closures?repairer={id}
    /repairer_interventions?repairer={id}       (our assumption, see tests/fixtures/rustine/README.md;
                                                 an instance without it answers 404/405: no price list)
    /repairer_get_slots_available/{id}
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fedicoop.connectors.errors import ConnectorError
from fedicoop.connectors.progress import Progress, report
from fedicoop.connectors.rustine.client import NotFound, RustineClient, open_client
from fedicoop.connectors.rustine.mapping import MappingContext, RepairerData, map_repairer
from fedicoop.connectors.rustine.records import (
    RepairerEntry,
    parse_closures,
    parse_entry,
    parse_interventions,
    parse_opening_hours,
    parse_repairer,
    parse_slots,
)
from fedicoop.connectors.specs import Skip, Snapshot, SourceKey
from fedicoop.node import Node

__all__ = ["PHASE_LIST", "PHASE_READ", "RustineOptions", "normalise_url", "read_rustine", "source_name"]

PHASE_LIST = "rustine: repairers listed"
"""Progress phase while the repairers collection is paged (done = repairers listed so far)."""

PHASE_READ = "rustine: repairers read"
"""Progress phase while each repairer is read (done = repairers read, total = repairers to read)."""


@dataclass(frozen=True)
class RustineOptions:
    """What to read: the instance's API root ``url``, its public ``site_url`` when the pages live
    elsewhere (booking links; default: ``url``), and the ``repairers`` to import (default: every
    enabled one)."""

    url: str
    site_url: str | None = None
    repairers: tuple[int, ...] = ()


def normalise_url(value: str, option: str) -> str:
    """An absolute http(s) URL without query, fragment nor trailing slash; ConnectorError naming
    ``option`` otherwise.

    >>> normalise_url("https://api.rustine.example/", "--url")
    'https://api.rustine.example'
    """
    try:
        parts = urlsplit(value.strip())
    except ValueError as exc:
        raise ConnectorError(f"{option} {value!r} is not a URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConnectorError(
            f"{option} must be an absolute https URL such as https://api.example, got {value!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConnectorError(f"{option} must have no query, fragment nor credentials, got {value!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def source_name(url: str) -> str:
    """The name of an instance as a source: ``rustine`` and its normalised API root."""
    return f"rustine {normalise_url(url, '--url')}"


def _check_ids(repairers: tuple[int, ...]) -> list[int]:
    for item in repairers:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise ConnectorError(f"--repairer takes positive repairer ids, got {item!r}")
    return sorted(set(repairers))


async def _entries(client: RustineClient, progress: Progress | None) -> list[RepairerEntry]:
    def on_page(done: int, total: int | None) -> None:
        report(progress, PHASE_LIST, done, total)

    url = client.url("/repairers", {"enabled": "true"})
    members = await client.collection("/repairers", {"enabled": "true"}, on_page=on_page)
    entries = {}
    for position, member in enumerate(members):
        label = member.get("@id")
        where = f"GET {url}: member {position}" + (f" ({label})" if isinstance(label, str) else "")
        entry = parse_entry(member, client.source, where)
        entries[entry.id] = entry
    return [entries[key] for key in sorted(entries)]


async def _read(client: RustineClient, repairer_id: int) -> RepairerData | NotFound:
    source = client.source
    path = f"/repairers/{repairer_id}"
    record = await client.get_record(path)
    if isinstance(record, NotFound):
        return record
    repairer = parse_repairer(record, source, client.url(path))
    if not repairer.enabled:
        return RepairerData(repairer, [], [], [], [])
    query = {"repairer": repairer_id}
    hours = await client.collection("/repairer_opening_hours", query)
    closures = await client.collection("/repairer_exceptional_closures", query)
    prices = await client.collection("/repairer_interventions", query, optional=True)
    slots_path = f"/repairer_get_slots_available/{repairer_id}"
    slots = await client.get(slots_path)
    return RepairerData(
        repairer=repairer,
        hours=parse_opening_hours(hours, source, client.url("/repairer_opening_hours", query)),
        closures=parse_closures(closures, source, client.url("/repairer_exceptional_closures", query)),
        prices=parse_interventions(prices, source, client.url("/repairer_interventions", query)),
        slots=parse_slots(slots, source, client.url(slots_path)),
    )


async def read_rustine(options: RustineOptions, node: Node, progress: Progress | None) -> Snapshot:
    """Read a Rustine Libre instance whole and return what the node should publish for it.

    ``progress`` (when given) hears ``(phase, done, total)`` as the repairers are listed and read. Raises
    ConnectorError for bad options, and a SourceError naming the source, the URL and the field for any
    failure of the instance; nothing is written in any case.
    """
    api_url = normalise_url(options.url, "--url")
    site_url = normalise_url(options.site_url, "--site-url") if options.site_url else api_url
    wanted = _check_ids(options.repairers)
    source = f"rustine {api_url}"
    territory = await node.territory.get()
    context = MappingContext(
        source=source, api_url=api_url, site_url=site_url, territory=territory, now=node.clock()
    )
    snapshot = Snapshot(source=source)
    async with open_client(node, base_url=api_url, source=source) as client:
        entries = (
            [RepairerEntry(item, True) for item in wanted] if wanted else await _entries(client, progress)
        )
        for done, entry in enumerate(entries, start=1):
            key = SourceKey("repairer", str(entry.id))
            data = await _read(client, entry.id) if entry.enabled else None
            if isinstance(data, NotFound):
                snapshot.skipped.append(Skip(key, f"not found at the source ({data.url} answered 404)"))
            elif data is None or not data.repairer.enabled:
                snapshot.skipped.append(Skip(key, "not enabled"))
            else:
                mapped = map_repairer(data, context)
                if isinstance(mapped, Skip):
                    snapshot.skipped.append(mapped)
                else:
                    snapshot.actors.append(mapped.actor)
                    snapshot.listings.append(mapped.offer)
                    snapshot.events.extend(mapped.sessions)
                    snapshot.skipped.extend(mapped.skipped)
            report(progress, PHASE_READ, done, len(entries))
    return snapshot
