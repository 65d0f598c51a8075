"""A claim batch's chunk is fetched per phase only for the accounts that publish it, and written at
once; one account's bad row never costs another account its rows.

Data (one UTC day, 2026-10-12, every hour, four samples an hour at the same value):
- ``acct-exp``: exporter only, total 3 $/h, cpu 1 $/h -> the day costs 24 x 3 = 72 $.
- ``acct-raw``: raw metrics only: one container of 2 cores on node n1, priced 0.05 $/core-hour,
  -> 2 x 0.05 = 0.10 $/h. Its first sample is at 00:07:30, so the day's first hour holds the
  container from minute 8 on: 52 minutes, 0.10 x 52/60 = 0.086666667 $; the day is
  23 x 0.10 + 0.086666667 = 2.386666667 $.
- ``acct-huge``: exporter only, total 1 $/h; a trigger the test puts on k8s_hourly_costs makes
  PostgreSQL refuse that account's rows (bad rows no longer reach the loader: the cost math refuses
  an absurd figure by name first, so the refusal is the database's own).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from etl.errors import ChunkError
from etl.run.pipeline import Pipeline, RunSummary
from etl.source.metrics import EXPORTER_METRICS, EXPORTER_PREFIX
from etl.source.promql import account_selector
from etl.source.thanos import ThanosClient
from tests.support.datasets import exporter_gauge, hour, sample_times, steady
from tests.support.faultproxy import FaultProxy
from tests.support.servers import make_settings
from tests.support.tables import daily

DAY = date(2026, 10, 12)
EXP, RAW, HUGE = "acct-exp", "acct-raw", "acct-huge"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def dataset() -> list:  # type: ignore[type-arg]
    hours = [hour(DAY, h) for h in range(24)]
    container = {"tenant_id": RAW, "namespace": "shop", "pod": "api-0", "container": "api", "node": "n1"}
    return [
        exporter_gauge(EXP, "total_cost", {h: [3.0] * 4 for h in hours}),
        exporter_gauge(EXP, "cpu_cost", {h: [1.0] * 4 for h in hours}),
        steady("container_cpu_allocation", container, 2.0, sample_times(DAY, range(24))),
        steady("node_cpu_hourly_cost", {"tenant_id": RAW, "node": "n1"}, 0.05, sample_times(DAY, range(24))),
        exporter_gauge(HUGE, "total_cost", {h: [1.0] * 4 for h in hours}),
    ]


@pytest.fixture
def proxy(prometheus_with) -> FaultProxy:  # type: ignore[no-untyped-def]
    with FaultProxy(prometheus_with("batch-writes", dataset())) as proxy:
        yield proxy  # type: ignore[misc]


def run(proxy: FaultProxy, database_url: str, engine: Engine, accounts: list[str]) -> RunSummary:
    settings = make_settings(proxy.url, database_url, ACCOUNTS=",".join(accounts))
    return Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(DAY, DAY, now=NOW)


def queries(proxy: FaultProxy) -> list[str]:
    return [request.fields["query"][0] for request in proxy.requests if request.path.endswith("/query_range")]


def test_each_phase_is_asked_only_for_the_accounts_that_publish_it(proxy: FaultProxy, database_url: str,
                                                                    engine: Engine) -> None:
    summary = run(proxy, database_url, engine, [EXP, RAW])
    assert not summary.failed
    assert daily(engine) == {(EXP, DAY): (Decimal("72.000000000"), 24), (RAW, DAY): (Decimal("2.386666667"), 24)}
    sent = queries(proxy)
    exporter_queries = [query for query in sent if EXPORTER_PREFIX in query]
    raw_queries = [query for query in sent if query not in exporter_queries]
    only_raw, only_exp = account_selector("tenant_id", [RAW]), account_selector("tenant_id", [EXP])
    assert raw_queries and all(only_raw in query and only_exp not in query for query in raw_queries)
    assert exporter_queries and all(only_exp in query and only_raw not in query for query in exporter_queries)
    # no account publishes the network split: not asked for
    optional = [EXPORTER_METRICS[c] for c in ("network_internet_cost", "network_region_cost", "network_zone_cost")]
    assert not [query for query in sent if any(metric in query for metric in optional)]


def test_a_batch_without_raw_metrics_sends_no_phase_1_query(proxy: FaultProxy, database_url: str,
                                                            engine: Engine) -> None:
    assert not run(proxy, database_url, engine, [EXP]).failed
    assert all(EXPORTER_PREFIX in query for query in queries(proxy))
    assert daily(engine) == {(EXP, DAY): (Decimal("72.000000000"), 24)}


def test_one_accounts_bad_row_never_costs_another_account_its_rows(proxy: FaultProxy, database_url: str,
                                                                   engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE FUNCTION refuse_huge() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.cloud_account_id = '{HUGE}' THEN RAISE EXCEPTION 'refused row of {HUGE}'; END IF; "
            "RETURN NEW; END $$"))
        connection.execute(text("CREATE TRIGGER refuse_huge BEFORE INSERT ON k8s_hourly_costs "
                                "FOR EACH ROW EXECUTE FUNCTION refuse_huge()"))
    summary = run(proxy, database_url, engine, [EXP, HUGE, RAW])
    # the batch write fails on acct-huge's rows; each account is then written on its own
    assert summary.failed == [HUGE]
    [failure] = summary.accounts[HUGE].failures
    assert isinstance(failure, ChunkError) and (failure.step, failure.accounts) == ("write", (HUGE,))
    assert f"refused row of {HUGE}" in str(failure)
    # the others are whole; acct-huge's day is not written at all (not 23 of its hours)
    assert daily(engine) == {(EXP, DAY): (Decimal("72.000000000"), 24), (RAW, DAY): (Decimal("2.386666667"), 24)}
    assert summary.accounts[EXP].hourly_rows == 24 and summary.accounts[RAW].daily_rows == 1
