"""Settings: precedence of the sources and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedicoop.errors import SettingsError
from fedicoop.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    names = ("BASE_URL", "DATABASE_URL", "DATA_DIR", "INSECURE_PEERS", "DEMO", "NODE_NAME", "REGION_CODES")
    for name in names:
        monkeypatch.delenv(f"FEDICOOP_{name}", raising=False)
    monkeypatch.chdir(tmp_path)


def test_load_settings__defaults_are_a_local_sqlite_node(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.effective_database_url == f"sqlite://{tmp_path / 'data' / 'fedicoop.sqlite3'}"
    assert settings.insecure_peers is False
    assert settings.demo is True


def test_load_settings__precedence_flag_env_dotenv_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fedicoop.toml").write_text('node_name = "from toml"\nbase_url = "https://toml.example"\n')
    (tmp_path / ".env").write_text("FEDICOOP_NODE_NAME=from dotenv\n")
    assert load_settings().node_name == "from dotenv"
    assert load_settings().base_url == "https://toml.example"
    monkeypatch.setenv("FEDICOOP_NODE_NAME", "from env")
    assert load_settings().node_name == "from env"
    assert load_settings(node_name="from flag").node_name == "from flag"
    assert load_settings(node_name=None).node_name == "from env"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FEDICOOP_BASE_URL", "ftp://coop.example", "FEDICOOP_BASE_URL"),
        ("FEDICOOP_BASE_URL", "https://coop.example/path", "bare origin"),
        ("FEDICOOP_BASE_URL", "http://coop.example", "FEDICOOP_INSECURE_PEERS"),
        ("FEDICOOP_DATABASE_URL", "mysql://x/y", "FEDICOOP_DATABASE_URL"),
        ("FEDICOOP_INSECURE_PEERS", "perhaps", "FEDICOOP_INSECURE_PEERS"),
        ("FEDICOOP_REGION_CODES", '["3"]', "FEDICOOP_REGION_CODES"),
    ],
)
def test_load_settings__invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=expected):
        load_settings()


def test_load_settings__http_public_host_allowed_only_with_insecure_peers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FEDICOOP_BASE_URL", "http://coop.example")
    monkeypatch.setenv("FEDICOOP_INSECURE_PEERS", "true")
    assert load_settings().base_url == "http://coop.example"


def test_load_settings__unknown_toml_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fedicoop.toml").write_text('base_ulr = "https://typo.example"\n')
    with pytest.raises(SettingsError, match="FEDICOOP_BASE_ULR: unknown setting"):
        load_settings()
