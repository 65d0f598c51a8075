"""Transport faults between the tool and a real Prometheus (via a fault-injecting proxy)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from etl.errors import PartialResponseError, ThanosError
from etl.run.pipeline import Pipeline, RunSummary
from etl.source.thanos import ThanosClient
from tests.support.datasets import DAY1, DAY2, PLAIN, exporter_dataset
from tests.support.faultproxy import Fault, FaultProxy
from tests.support.servers import DISCOVERY_REQUESTS, EXPORTER_CHECKS, EXPORTER_RANGE_QUERIES, make_settings
from tests.support.tables import daily_rows

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def proxy(prometheus_with) -> Iterator[FaultProxy]:  # type: ignore[no-untyped-def]
    with FaultProxy(prometheus_with("exporter-basic", exporter_dataset())) as proxy:
        yield proxy


def run_day(proxy: FaultProxy, database_url: str, engine: Engine, **env: str) -> RunSummary:
    settings = make_settings(proxy.url, database_url, ACCOUNTS=PLAIN, **env)
    settings.thanos.backoff_seconds = 0
    return Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(DAY1, DAY1, now=NOW)


def stored_hours(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM k8s_hourly_costs")).scalar_one())


def test_retries_429_and_5xx_then_succeeds(proxy: FaultProxy, database_url: str, engine: Engine) -> None:
    proxy.inject(Fault(status=503), Fault(status=429), Fault(status=502))
    summary = run_day(proxy, database_url, engine, THANOS_RETRIES="3")
    assert not summary.failed
    assert stored_hours(engine) == 24
    # 3 failed attempts + the discovery of which accounts publish which metrics + the check of
    # which gauges are clean + one successful query per exporter gauge the account publishes and
    # the exporter's coverage (no Phase 1 query: it has no raw metric)
    assert len(proxy.requests) == 3 + DISCOVERY_REQUESTS + EXPORTER_CHECKS + EXPORTER_RANGE_QUERIES


def test_a_timeout_is_retried(proxy: FaultProxy, database_url: str, engine: Engine) -> None:
    proxy.inject(Fault(delay_seconds=2.0))
    summary = run_day(proxy, database_url, engine, THANOS_RETRIES="1", THANOS_TIMEOUT_SECONDS="0.5")
    assert not summary.failed and stored_hours(engine) == 24


def test_partial_response_is_never_stored(proxy: FaultProxy, database_url: str, engine: Engine) -> None:
    # After the discovery requests and the check of clean gauges, the fourth metric query comes back
    # with Thanos' partial-response warnings: the three before it were fine, but the chunk as a whole
    # is incomplete, so nothing of it may be written.
    proxy.inject(*[Fault()] * (DISCOVERY_REQUESTS + EXPORTER_CHECKS + 3), Fault(add_warnings=True))
    summary = run_day(proxy, database_url, engine)
    assert summary.failed == [PLAIN]
    assert "partial response" in str(summary.accounts[PLAIN].failures[0])
    assert stored_hours(engine) == 0


def test_malformed_body_fails_cleanly(proxy: FaultProxy, database_url: str, engine: Engine) -> None:
    proxy.inject(Fault(body=b"<html>gateway</html>"))
    summary = run_day(proxy, database_url, engine)
    assert "not JSON" in str(summary.accounts[PLAIN].failures[0])
    assert stored_hours(engine) == 0


def test_retries_exhausted_raise_a_clear_error(proxy: FaultProxy, database_url: str) -> None:
    proxy.inject(Fault(status=503), Fault(status=503))
    settings = make_settings(proxy.url, database_url, THANOS_RETRIES="1")
    settings.thanos.backoff_seconds = 0
    with pytest.raises(ThanosError, match="HTTP 503"):
        ThanosClient(settings.thanos).ping()
    assert len(proxy.requests) == 2


def test_warnings_raise_partial_response_error(proxy: FaultProxy, database_url: str) -> None:
    proxy.inject(Fault(add_warnings=True))
    settings = make_settings(proxy.url, database_url)
    with pytest.raises(PartialResponseError, match="store unavailable"):
        ThanosClient(settings.thanos).ping()


def test_auth_headers_and_thanos_parameters_are_sent(proxy: FaultProxy, database_url: str, engine: Engine) -> None:
    run_day(proxy, database_url, engine, THANOS_BEARER_TOKEN="tok-123",
            THANOS_HEADERS="THANOS-TENANT=team-a,X-Scope-OrgID=org-7", THANOS_MAX_SOURCE_RESOLUTION="5m")
    first = proxy.requests[0]
    assert first.headers["Authorization"] == "Bearer tok-123"
    assert first.headers["THANOS-TENANT"] == "team-a" and first.headers["X-Scope-OrgID"] == "org-7"
    assert first.fields["partial_response"] == ["false"]
    assert first.fields["dedup"] == ["true"]
    assert first.fields["max_source_resolution"] == ["5m"]


def test_basic_auth_is_sent(proxy: FaultProxy, database_url: str) -> None:
    settings = make_settings(proxy.url, database_url, THANOS_USERNAME="etl", THANOS_PASSWORD="pw")
    ThanosClient(settings.thanos).ping()
    assert proxy.requests[0].headers["Authorization"] == "Basic ZXRsOnB3"  # base64("etl:pw")


def test_no_secret_in_errors_or_logs(proxy: FaultProxy, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    secret_url = proxy.url.replace("http://", "http://user:url-secret@")
    proxy.inject(Fault(status=500), Fault(status=500))
    settings = make_settings(secret_url, database_url, THANOS_RETRIES="1", THANOS_BEARER_TOKEN="token-secret",
                             THANOS_HEADERS="THANOS-TENANT=header-secret")
    settings.thanos.backoff_seconds = 0
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ThanosError) as caught:
        ThanosClient(settings.thanos).ping()
    for secret in ("url-secret", "token-secret", "header-secret"):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_a_query_frontend_aligning_ranges_to_the_step_changes_no_figure(
    prometheus_with, database_url: str, engine: Engine  # type: ignore[no-untyped-def]
) -> None:
    # Thanos' query-frontend rounds a range query's start and end down to a multiple of its step
    # (1 h here) by default. Whatever it does, each stored hour must hold exactly its own samples,
    # and no chunk may write an hour of another day (that would delete the rest of that day).
    # PLAIN (test_exporter_backfill): total 10 $/h on DAY1 and 20 $/h on DAY2, every hour
    # -> DAY1 = 24 x 10 = 240 $, DAY2 = 24 x 20 = 480 $, 24 hours each.
    with FaultProxy(prometheus_with("exporter-basic", exporter_dataset()), align_range_with_step=True) as proxy:
        settings = make_settings(proxy.url, database_url, ACCOUNTS=PLAIN, THANOS_CHUNK_DAYS="1")
        summary = Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(DAY1, DAY2, now=NOW)
    assert not summary.failed
    days = daily_rows(engine)
    assert set(days) == {(PLAIN, DAY1), (PLAIN, DAY2)}
    assert days[(PLAIN, DAY1)]["hours_covered"] == 24 and days[(PLAIN, DAY2)]["hours_covered"] == 24
    assert days[(PLAIN, DAY1)]["total_cost"] == Decimal("240")
    assert days[(PLAIN, DAY2)]["total_cost"] == Decimal("480")
    assert stored_hours(engine) == 48


def test_points_at_instants_not_asked_for_are_refused(prometheus_with, database_url: str) -> None:  # type: ignore[no-untyped-def]
    # Asked for 10:30 and 11:30, a step-aligning frontend evaluates at 10:00 and 11:00 instead:
    # those are other windows than the ones requested, so the answer must not be used.
    start = datetime(2026, 9, 1, 10, 30, tzinfo=UTC).timestamp()
    with FaultProxy(prometheus_with("exporter-basic", exporter_dataset()), align_range_with_step=True) as proxy:
        client = ThanosClient(make_settings(proxy.url, database_url).thanos)
        with pytest.raises(ThanosError, match="not asked"):
            client.query_range("vector(1)", start, start + 3600, 3600)
