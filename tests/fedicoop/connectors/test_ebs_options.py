"""EbsOptions checks and the EBS source name (fedicoop.connectors.ebs.options)."""

from __future__ import annotations

import pytest

from fedicoop.connectors.ebs.options import EbsOptions, check_options, source_name
from fedicoop.connectors.errors import ConnectorError


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("postgresql://reader:s3cret@db.example:5433/ebs", "ebs reader@db.example:5433/ebs"),
        ("postgres://reader:p%40ss@db.example/ebs", "ebs reader@db.example:5432/ebs"),
        ("postgresql://reader@db.example/ebs?sslmode=require", "ebs reader@db.example:5432/ebs"),
        ("postgresql:///ebs?host=/run/postgresql&user=reader", "ebs reader@/run/postgresql:5432/ebs"),
        ("postgresql://DB.example/Ebs%20Lille?user=reader&port=6432", "ebs reader@db.example:6432/Ebs Lille"),
    ],
)
def test_source_name__never_holds_the_password(url: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PGUSER", "PGHOST", "PGPORT", "PGDATABASE"):
        monkeypatch.delenv(variable, raising=False)

    assert source_name(url) == name


def test_source_name__fills_in_like_libpq(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGUSER", "lecteur")
    monkeypatch.setenv("PGHOST", "db.example")
    monkeypatch.setenv("PGPORT", "5434")
    monkeypatch.delenv("PGDATABASE", raising=False)

    assert source_name("postgresql://") == "ebs lecteur@db.example:5434/lecteur"
    monkeypatch.setenv("PGDATABASE", "ebs")
    assert source_name("postgresql://") == "ebs lecteur@db.example:5434/ebs"


def test_source_name__bad_port() -> None:
    with pytest.raises(ConnectorError, match="invalid port"):
        source_name("postgresql://reader@db.example:99999/ebs")


def test_check_options__normalises_the_urls() -> None:
    options = check_options(
        EbsOptions(
            database_url="postgresql://reader@db.example/ebs",
            site_url="https://ebs.example/",
            actor="partage-lille",
            media_url="https://ebs.example/uploads/",
            categories={"outils": "travaux-outillage"},
            locale="fr_FR",
        )
    )

    assert (options.site_url, options.media_url, options.locale) == (
        "https://ebs.example",
        "https://ebs.example/uploads",
        "fr_FR",
    )
    assert dict(options.categories) == {"outils": "travaux-outillage"}
