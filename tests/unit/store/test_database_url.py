"""DATABASE_URL: PostgreSQL in any common spelling; anything else is a configuration error."""

from __future__ import annotations

import pytest

from etl.errors import ConfigError
from etl.store.db import postgres_url


@pytest.mark.parametrize("url", ["postgresql://u:p@db:5432/x", "postgres://u:p@db:5432/x",
                                 "postgresql+psycopg2://u:p@db:5432/x"])
def test_postgres_spellings_become_psycopg2_urls(url: str) -> None:
    parsed = postgres_url(url)
    assert parsed.drivername == "postgresql+psycopg2"
    assert (parsed.host, parsed.port, parsed.database) == ("db", 5432, "x")


@pytest.mark.parametrize(("url", "needle"), [
    ("sqlite:///tmp/x.db", "sqlite:// is not PostgreSQL"),
    ("mysql://u:p@db/x", "mysql:// is not PostgreSQL"),
    ("postgresql+asyncpg://u:p@db/x", "driver 'asyncpg'"),
    ("not a url", "is not a database URL"),
])
def test_other_urls_are_configuration_errors_naming_the_field(url: str, needle: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL") as caught:
        postgres_url(url)
    assert needle in str(caught.value) and "p@" not in str(caught.value)
