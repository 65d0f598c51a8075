from __future__ import annotations

import re

from etl.source.promql import account_selector, hourly_average, promql_string


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


def test_hourly_average_groups_by_the_account_label() -> None:
    query = hourly_average("m", "tenant_id", ["a"])
    assert query.startswith("sum by (tenant_id) (sum_over_time(m{")
    assert "/ sum by (tenant_id) (count_over_time(m{" in query
    assert "[3599999ms]" in query


def test_account_selector_escapes_only_regex_metacharacters() -> None:
    # A backslash before a character that needs none ("-", as re.escape writes it) stops Prometheus
    # from turning the alternation into a lookup of each value: it would match every value of the
    # label against the whole regex in every query instead.
    assert account_selector("tenant_id", ["acct-b", "acct-a"]) == 'tenant_id=~"acct-a|acct-b"'
    assert account_selector("tenant_id", ["a.b+c"]) == 'tenant_id=~"a\\\\.b\\\\+c"'
