"""The fault suite: real servers attacked the way an operator's worst day would.

The servers are the integration suite's (a real Prometheus loaded through promtool, a real
PostgreSQL with a fresh database per test); tests that kill or freeze PostgreSQL start one of
their own (tests.support.ownedpg). Tests marked ``slow`` run from ``scripts/faults.sh``, not in CI.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.integration.conftest import database_url, engine, pg_server_url, prometheus_with
from tests.support.livedata import live_dataset

__all__ = ["database_url", "engine", "pg_server_url", "prometheus_with"]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def live_thanos(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    """A Prometheus holding tests.support.livedata's samples around the session's start."""
    return str(prometheus_with("live", live_dataset(datetime.now(UTC))))
