"""Which days to compute: the last complete hour and day, chunks of days, and the catch-up plan.

A cycle recomputes each account from ``min(watermark, today - lookback)`` to now, bounded by
``run.max_catchup_days``; days beyond the bound are recorded as the account's gap and the log
names the backfill command that fills it. Pure functions of dates.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from etl.errors import InputError

DayGap = tuple[date, date]


def last_complete_hour_end(now: datetime) -> datetime:
    """End of the latest hour that is over: a running hour's average is not yet its cost."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def last_complete_day(latest_end: datetime) -> date:
    """The last UTC day that is over when the hours before ``latest_end`` (last_complete_hour_end) are."""
    return latest_end.date() - timedelta(days=1)


def day_chunks(first_day: date, last_day: date, chunk_days: int) -> list[tuple[date, date]]:
    chunks = []
    start = first_day
    while start <= last_day:
        end = min(start + timedelta(days=chunk_days - 1), last_day)
        chunks.append((start, end))
        start = end + timedelta(days=1)
    return chunks


@dataclass(frozen=True)
class CatchupPlan:
    first_day: date
    gap: DayGap | None  # days older than the catch-up bound, left for a backfill


def plan_catchup(watermark: date | None, today: date, lookback_days: int, max_catchup_days: int) -> CatchupPlan:
    """First day a cycle recomputes: min(watermark, today - lookback), never before the bound."""
    first_day = today - timedelta(days=lookback_days)
    if watermark is not None:
        first_day = min(first_day, watermark)
    earliest = today - timedelta(days=max(max_catchup_days, lookback_days))
    if first_day >= earliest:
        return CatchupPlan(first_day, None)
    # Only a known watermark pulls first_day before the bound; the watermark day itself is complete.
    assert watermark is not None
    gap_first, gap_last = watermark + timedelta(days=1), earliest - timedelta(days=1)
    return CatchupPlan(earliest, (gap_first, gap_last) if gap_first <= gap_last else None)


def merge_gaps(old: DayGap | None, new: DayGap | None) -> DayGap | None:
    if old is None or new is None:
        return old or new
    return min(old[0], new[0]), max(old[1], new[1])


def gap_after_backfill(gap: DayGap | None, first_day: date, last_day: date) -> DayGap | None:
    """What remains of a gap once [first_day, last_day] is backfilled (an end trimmed, or all)."""
    if gap is None or last_day < gap[0] or first_day > gap[1]:
        return gap
    if first_day <= gap[0] and last_day >= gap[1]:
        return None
    if first_day <= gap[0]:
        return last_day + timedelta(days=1), gap[1]
    if last_day >= gap[1]:
        return gap[0], first_day - timedelta(days=1)
    return gap  # a hole in the middle: keep the whole gap rather than lose track of a part


def backfill_command(account: str, gap: DayGap) -> str:
    return f"k8s-cost-etl backfill --start {gap[0]} --end {gap[1]} --account {shlex.quote(account)}"


def backfill_days(first_day: date, last_day: date, latest_end: datetime) -> tuple[date, date]:
    """The days of a backfill asked for first_day..last_day, when the hours before ``latest_end``
    (last_complete_hour_end) are over: the end is clipped to today (its finished hours are computed,
    the running hour never); a start after the last complete hour has nothing to compute (InputError)."""
    today = latest_end.date() if latest_end.time() else latest_end.date() - timedelta(days=1)
    if first_day > today:
        raise InputError(f"--start {first_day} is after the last complete hour ({latest_end:%Y-%m-%dT%H:%MZ}): "
                         "nothing to compute yet")
    return first_day, min(last_day, today)
