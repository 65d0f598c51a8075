"""The loader on a real PostgreSQL: replacing a day, idempotence, what it reports, and a write whose
cost does not depend on the history the table holds (index-served predicates)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, text

from etl.costing.rollup import daily_rollup
from etl.errors import RemovalRefusedError
from etl.model import NANO
from etl.store.loader import delete_vanished_statement, stage_hours, write_costs
from tests.support.datasets import hourly_rows

DAY = pd.Timestamp("2026-07-01T00:00Z")


def hours(account: str, indexes: list[int], total: float) -> pd.DataFrame:
    return hourly_rows(account, indexes, "exporter", round(total * NANO))


def load(engine: Engine, hourly: pd.DataFrame, allow_removal: bool = False):  # type: ignore[no-untyped-def]
    return write_costs(engine, hourly, daily_rollup(hourly), allow_removal=allow_removal)


def stored(engine: Engine) -> list[tuple[str, int, Decimal, int]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT d.cloud_account_id, d.hours_covered, d.total_cost, "
            "       (SELECT count(*) FROM k8s_hourly_costs h WHERE h.cloud_account_id = d.cloud_account_id) "
            "FROM k8s_daily_costs d ORDER BY 1"))]


def test_a_rewritten_day_loses_the_hours_the_new_data_lacks_only_when_allowed(engine: Engine) -> None:
    first = load(engine, pd.concat([hours("a", [0, 1, 2], 2.0), hours("b", [0], 1.0)]))
    assert (first.hourly_rows, first.daily_rows, first.hours_removed) == (4, 2, 0)
    # hour 2 of account a is gone upstream: refused unless allowed, and then the day is 2 hours
    # x 2 $ = 4 $, and b is untouched
    with pytest.raises(RemovalRefusedError, match=r"account a: 1 stored hour\(s\) \(2026-10-05T02:00Z\)"):
        load(engine, hours("a", [0, 1], 3.0))
    assert stored(engine) == [("a", 3, Decimal("6"), 3), ("b", 1, Decimal("1"), 1)]
    second = load(engine, hours("a", [0, 1], 2.0), allow_removal=True)
    assert (second.hours_removed, second.hours_removed_by_account) == (1, {"a": 1})
    assert stored(engine) == [("a", 2, Decimal("4"), 2), ("b", 1, Decimal("1"), 1)]


def test_loading_the_same_rows_twice_changes_nothing(engine: Engine) -> None:
    rows = hours("a", list(range(24)), 1.5)
    assert load(engine, rows).rows_changed == 24 + 1
    with engine.connect() as connection:
        before = connection.execute(text("SELECT updated_at FROM k8s_daily_costs")).scalar_one()
    again = load(engine, rows)
    assert (again.rows_changed, again.hours_removed) == (0, 0)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT updated_at FROM k8s_daily_costs")).scalar_one() == before
    assert stored(engine) == [("a", 24, Decimal("36"), 24)]  # 24 x 1.5


def test_a_failed_write_leaves_the_previous_version(engine: Engine) -> None:
    load(engine, hours("a", [0, 1], 2.0))
    broken = hours("a", [0], 3.0)
    broken["source_phase"] = "bogus"  # violates the table's check: the whole transaction rolls back
    try:
        load(engine, broken)
    except Exception:
        pass
    else:
        raise AssertionError("the write should have failed")
    assert stored(engine) == [("a", 2, Decimal("4"), 2)]


def test_the_delete_of_vanished_hours_reads_only_the_rewritten_days_through_the_primary_key(engine: Engine) -> None:
    # 50 accounts x 24 hours stored; rewriting 2 hours of one account must not read the others'
    # rows nor that account's other days: the stored table is reached by an index range scan on
    # (account, hour_start), bounded by the staged day. A predicate on a function of hour_start
    # (its UTC date) would read every row of the account, or of the table.
    fleet = pd.concat([hours(f"x{index:02d}", list(range(24)), 1.0) for index in range(50)])
    load(engine, fleet)
    with engine.begin() as connection:
        stage_hours(connection, hours("x01", [0, 1], 2.0))
        plan = "\n".join(connection.execute(text(f"EXPLAIN {delete_vanished_statement()}")).scalars())
        connection.rollback()
    lines = plan.splitlines()
    [at] = [index for index, line in enumerate(lines) if "Scan" in line and " on k8s_hourly_costs " in line]
    assert "Index Scan using k8s_hourly_costs_pkey" in lines[at], plan
    condition = lines[at + 1]
    assert "hour_start >= d.day_start" in condition and "hour_start < (d.day_start + '24:00:00'" in condition, plan


def test_a_day_is_24_hours_whatever_the_session_time_zone(database_url: str) -> None:
    # 2026-03-29 is 23 hours long in Europe/Berlin (clocks go forward at 01:00 UTC): a day range
    # built as "midnight + 1 day" in that session time zone would end at 23:00 UTC and miss hour 23.
    # Stored: hours 0..23 of March 29 and hour 0 of March 30 at 1 $. New data for March 29 lacks
    # hour 23: exactly that hour goes, March 30 stays.
    berlin = create_engine(database_url, connect_args={"options": "-c timezone=Europe/Berlin"})
    day = pd.Timestamp("2026-03-29T00:00Z")
    try:
        def at(indexes: list[int]) -> pd.DataFrame:
            rows = hourly_rows("a", range(len(indexes)), "exporter", NANO)
            return rows.assign(hour_start=[day + pd.Timedelta(hours=h) for h in indexes])

        write_costs(berlin, at(list(range(25))), daily_rollup(at(list(range(25)))))
        result = write_costs(berlin, at(list(range(23))), daily_rollup(at(list(range(23)))), allow_removal=True)
        assert (result.hours_removed, result.hours_removed_by_account) == (1, {"a": 1})
        with berlin.connect() as connection:
            left = connection.execute(text(
                "SELECT count(*) FILTER (WHERE hour_start < '2026-03-30T00:00Z'), "
                "count(*) FILTER (WHERE hour_start >= '2026-03-30T00:00Z') FROM k8s_hourly_costs")).one()
        assert tuple(left) == (23, 1)
    finally:
        berlin.dispose()
