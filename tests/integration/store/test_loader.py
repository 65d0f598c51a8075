"""The loader on a real PostgreSQL: replacing a day, idempotence, and what it reports."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from sqlalchemy import Engine, text

from etl.costing.rollup import daily_rollup
from etl.model import NANO
from etl.store.loader import write_costs
from tests.support.datasets import hourly_rows


def hours(account: str, indexes: list[int], total: float) -> pd.DataFrame:
    return hourly_rows(account, indexes, "exporter", round(total * NANO))


def load(engine: Engine, hourly: pd.DataFrame):  # type: ignore[no-untyped-def]
    return write_costs(engine, hourly, daily_rollup(hourly))


def stored(engine: Engine) -> list[tuple[str, int, Decimal, int]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT d.cloud_account_id, d.hours_covered, d.total_cost, "
            "       (SELECT count(*) FROM k8s_hourly_costs h WHERE h.cloud_account_id = d.cloud_account_id) "
            "FROM k8s_daily_costs d ORDER BY 1"))]


def test_a_rewritten_day_loses_the_hours_the_new_data_lacks_and_says_so(engine: Engine) -> None:
    first = load(engine, pd.concat([hours("a", [0, 1, 2], 2.0), hours("b", [0], 1.0)]))
    assert (first.hourly_rows, first.daily_rows, first.hours_removed) == (4, 2, 0)
    # hour 2 of account a is gone upstream: the day is 2 hours x 2 $ = 4 $, and b is untouched
    second = load(engine, hours("a", [0, 1], 2.0))
    assert second.hours_removed == 1
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
