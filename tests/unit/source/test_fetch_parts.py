"""The parts a refused query is asked in (etl.source.fetch): they tile its hours and accounts exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from etl.model import HOUR, HourRange
from etl.source.fetch import AccountQuery, _Size

START = datetime(2026, 10, 5, tzinfo=UTC)
QUERY = AccountQuery.of(lambda accounts: "|".join(accounts), ["a", "b", "c", "d", "e"])


def cells(parts: list[tuple[AccountQuery, HourRange]]) -> list[tuple[str, datetime]]:
    return [(account, part_hours.start + index * HOUR)
            for part, part_hours in parts for account in part.accounts for index in range(part_hours.hours)]


def test_parts_tile_every_hour_of_every_account_once() -> None:
    hours = HourRange(START, START + 50 * HOUR)
    parts = _Size(hours=7, accounts=2).cut(QUERY, hours)
    assert sorted(cells(parts)) == sorted((account, START + h * HOUR) for account in "abcde" for h in range(50))
    assert len(cells(parts)) == 250  # no cell twice
    assert max(part_hours.hours for _, part_hours in parts) == 7 and min(h.hours for _, h in parts) == 1
    assert [part.accounts for part, _ in parts[:3]] == [("a", "b"), ("c", "d"), ("e",)]


def test_a_refusal_halves_the_hours_then_the_accounts() -> None:
    size = _Size(hours=720, accounts=5)
    whole = HourRange(START, START + 720 * HOUR)
    assert size.halve(QUERY, whole, accounts_first=False) and (size.hours, size.accounts) == (360, 5)
    one_hour = HourRange(START, START + HOUR)
    assert size.halve(QUERY, one_hour, accounts_first=False) and (size.hours, size.accounts) == (360, 3)
    alone = AccountQuery.of(QUERY.text, ["a"])
    assert not size.halve(alone, one_hour, accounts_first=False)  # one hour of one account: nothing to halve


def test_a_limit_on_series_halves_the_accounts_first() -> None:
    size = _Size(hours=48, accounts=5)
    assert size.halve(QUERY, HourRange(START, START + 48 * HOUR), accounts_first=True)
    assert (size.hours, size.accounts) == (48, 3)


def test_a_query_not_per_account_is_cut_in_time_only() -> None:
    plain = AccountQuery(lambda _: "vector(1)", ())
    size = _Size(hours=3, accounts=0)
    parts = size.cut(plain, HourRange(START, START + 7 * HOUR))
    assert [(part.accounts, h.hours) for part, h in parts] == [((), 3), ((), 3), ((), 1)]
    assert not size.halve(plain, HourRange(START, START + HOUR), accounts_first=True)
