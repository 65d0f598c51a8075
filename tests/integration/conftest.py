"""Real servers for integration tests, shared by the whole session.

- PostgreSQL: ``TEST_DATABASE_URL`` (a server URL whose user may CREATE DATABASE) or, unset, an
  embedded server (pgserver) in a temporary directory. Every test gets a fresh, migrated database.
- Prometheus: ``prometheus_with(name, series, flags=())`` starts (once per name per session) a
  real Prometheus loaded through promtool with those samples (and those extra command-line flags)
  and returns its URL.

Helpers that use them (settings, a backfill, table readers) live in tests.support.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from etl.demo.prometheus import LocalPrometheus, SampleSeries
from etl.store.db import migrate
from etl.store.embedded import embedded_database_url, stop_embedded

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    # Not under pytest's own temporary directory: as root that one is private (0700), and the server
    # runs as another user that must reach its data (etl.store.embedded refuses to loosen a parent).
    data_dir = Path(tempfile.mkdtemp(prefix="k8s-cost-etl-test-pg-"))
    yield embedded_database_url(data_dir)
    stop_embedded(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database on the shared server, migrated to head; dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def prometheus_with(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    servers: dict[str, LocalPrometheus] = {}

    def start(name: str, series: Sequence[SampleSeries], flags: Sequence[str] = ()) -> str:
        if name not in servers:
            server = LocalPrometheus(series, workdir=tmp_path_factory.mktemp(f"prom-{name}"), flags=flags)
            server.start()
            servers[name] = server
        return servers[name].url

    yield start
    for server in servers.values():
        server.stop()
