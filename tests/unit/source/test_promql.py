from __future__ import annotations

import re

from etl.source.promql import account_selector, exporter_gauge, hourly_presence_sum, promql_string


def test_promql_string_escapes_quotes_and_backslashes() -> None:
    assert promql_string('a"b\\c') == '"a\\"b\\\\c"'


def test_account_selector_matches_exactly_the_given_ids() -> None:
    accounts = ['acc"1', "acc\\2", "a.b", "x|y"]
    selector = account_selector("tenant_id", accounts)
    # Undo the PromQL string quoting, then check the RE2-compatible regex as Python sees it.
    literal = selector.split("=~", 1)[1]
    pattern = literal[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    regex = re.compile(f"^(?:{pattern})$")
    for account in accounts:
        assert regex.match(account)
    assert not regex.match("aXb")  # the dot is literal
    assert not regex.match("x")  # the pipe is literal


def test_no_accounts_means_any_account_with_the_label() -> None:
    assert account_selector("cloud_account_id", []) == 'cloud_account_id!=""'


def test_hourly_windows_have_no_edge_on_a_minute() -> None:
    # Left-open (3.x) and closed (2.x) windows take the same minutes only if neither edge of the
    # window is a multiple of the step: [1h:1m] offset 1ms spans (hour_start - 1 ms, hour_end - 1 ms].
    query = exporter_gauge("m", "tenant_id", ["a"], trailing_24h=False)
    assert "[1h:1m] offset 1ms" in query and "3599999ms" not in query
    assert query.startswith("(avg_over_time((avg by (tenant_id, cluster, currency) (m{")


def test_allocations_count_the_minutes_a_workload_is_present() -> None:
    query = hourly_presence_sum("m", "tenant_id", ["a"], ("namespace", "pod"), ("node",))
    assert "sum_over_time((sum by (tenant_id, node) (avg by (tenant_id, node, namespace, pod) (m{" in query
    assert "[1h:1m] offset 1ms) / 60 and on (tenant_id, node) group by (tenant_id, node)" in query


def test_account_selector_escapes_only_regex_metacharacters() -> None:
    # A backslash before a character that needs none ("-", as re.escape writes it) stops Prometheus
    # from turning the alternation into a lookup of each value: it would match every value of the
    # label against the whole regex in every query instead.
    assert account_selector("tenant_id", ["acct-b", "acct-a"]) == 'tenant_id=~"acct-a|acct-b"'
    assert account_selector("tenant_id", ["a.b+c"]) == 'tenant_id=~"a\\\\.b\\\\+c"'
