"""A dataset around the real clock, for real processes that take ``now`` from the wall clock.

Accounts ``live-a``, ``live-b``, ``live-c``; exporter samples from midnight of ``today - 4`` through
three hours after the start of the current hour (hours that are not over yet are never asked for, so
the data simply runs ahead of any process started within the next hours). On day offset ``k``
(today = 0, yesterday = -1, ...) account a reports ``5 - k`` $/h total cost (b: ``20 - k``,
c: ``100 - k``), four samples an hour at that value, with cpu cost half of it: a whole day costs
``24 * rate`` and today, up to a process' last complete hour H, costs ``H * rate``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import utc_midnight
from tests.support.datasets import P

LIVE_BASE = {"live-a": 5, "live-b": 20, "live-c": 100}
LIVE_ACCOUNTS = sorted(LIVE_BASE)
LIVE_DAYS_BACK = 4
HOURS_AHEAD = 3


def live_rate(account: str, day: date, today: date) -> float:
    return float(LIVE_BASE[account] - (day - today).days)


def live_dataset(now: datetime) -> list[SampleSeries]:
    today = now.astimezone(UTC).date()
    first = utc_midnight(today - timedelta(days=LIVE_DAYS_BACK))
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=HOURS_AHEAD)
    hours = [first + timedelta(hours=h) for h in range(int((end - first).total_seconds()) // 3600)]
    series = []
    for account in LIVE_ACCOUNTS:
        values = {h.timestamp(): live_rate(account, h.date(), today) for h in hours}
        labels = {"tenant_id": account}
        series.append(hourly_series(P + "total_cost", labels, {t: [v] * 4 for t, v in values.items()}))
        series.append(hourly_series(P + "cpu_cost", labels, {t: [v / 2] * 4 for t, v in values.items()}))
    return series
