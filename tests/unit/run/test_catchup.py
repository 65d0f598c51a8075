"""Catch-up planning and gap bookkeeping: pure functions, dates worked out by hand."""

from __future__ import annotations

from datetime import date

from etl.run.runner import backfill_command, gap_after_backfill, merge_gaps, plan_catchup

TODAY = date(2026, 9, 20)


def test_new_account_starts_lookback_days_back() -> None:
    plan = plan_catchup(None, TODAY, lookback_days=3, max_catchup_days=31)
    assert plan.first_day == date(2026, 9, 17) and plan.gap is None


def test_recent_watermark_keeps_the_lookback_window() -> None:
    # watermark yesterday: the lookback (Sept 17) is earlier, so it wins
    assert plan_catchup(date(2026, 9, 19), TODAY, 3, 31).first_day == date(2026, 9, 17)


def test_old_watermark_pulls_the_start_back() -> None:
    # down for a week: watermark Sept 12 -> recompute from Sept 12
    assert plan_catchup(date(2026, 9, 12), TODAY, 3, 31) == plan_catchup(date(2026, 9, 12), TODAY, 3, 8)
    assert plan_catchup(date(2026, 9, 12), TODAY, 3, 31).first_day == date(2026, 9, 12)


def test_catchup_is_bounded_and_the_rest_is_a_gap() -> None:
    # bound 5 days -> start Sept 15; watermark Sept 2 was complete, so Sept 3..14 are missing
    plan = plan_catchup(date(2026, 9, 2), TODAY, 3, 5)
    assert plan.first_day == date(2026, 9, 15)
    assert plan.gap == (date(2026, 9, 3), date(2026, 9, 14))


def test_watermark_right_before_the_bound_leaves_no_gap() -> None:
    plan = plan_catchup(date(2026, 9, 14), TODAY, 3, 5)
    assert plan.first_day == date(2026, 9, 15) and plan.gap is None


def test_lookback_longer_than_the_bound_is_honoured() -> None:
    assert plan_catchup(None, TODAY, 10, 5).first_day == date(2026, 9, 10)


def test_gaps_merge_and_shrink() -> None:
    old, new = (date(2026, 9, 3), date(2026, 9, 5)), (date(2026, 9, 4), date(2026, 9, 9))
    assert merge_gaps(old, new) == (date(2026, 9, 3), date(2026, 9, 9))
    assert merge_gaps(None, new) == new and merge_gaps(old, None) == old
    assert gap_after_backfill(old, date(2026, 9, 1), date(2026, 9, 30)) is None
    assert gap_after_backfill(old, date(2026, 9, 1), date(2026, 9, 3)) == (date(2026, 9, 4), date(2026, 9, 5))
    assert gap_after_backfill(old, date(2026, 9, 5), date(2026, 9, 8)) == (date(2026, 9, 3), date(2026, 9, 4))
    assert gap_after_backfill(old, date(2026, 9, 10), date(2026, 9, 12)) == old
    assert gap_after_backfill((date(2026, 9, 1), date(2026, 9, 9)), date(2026, 9, 4), date(2026, 9, 5)) == \
        (date(2026, 9, 1), date(2026, 9, 9))


def test_backfill_command_quotes_odd_account_ids() -> None:
    gap = (date(2026, 9, 3), date(2026, 9, 5))
    expected = "k8s-cost-etl backfill --start 2026-09-03 --end 2026-09-05 --account 'acct a'"
    assert backfill_command("acct a", gap) == expected
