"""Phase 2 extraction: the allocation exporter's gauges -> one hourly frame for all accounts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from etl.config import Settings
from etl.costs import (
    KEY_COLUMNS,
    exporter_hourly_costs,
    spread_trailing_day_rate,
    unhealthy_hours,
    without_unhealthy_hours,
)
from etl.extract import HourRange, fetch_hourly, merge_columns
from etl.queries import EXPORTER_HEALTH_METRIC, EXPORTER_METRICS, hourly_average, hourly_last, hourly_minimum
from etl.thanos import ThanosClient

log = logging.getLogger(__name__)

HEALTH_COLUMN = "scrape_success_min"


def fetch_exporter_gauges(
    client: ThanosClient, settings: Settings, accounts: Sequence[str], hours: HourRange
) -> pd.DataFrame:
    """One query per exporter metric for all ``accounts`` over ``hours``: a wide hourly frame."""
    trailing = settings.exporter.gauge_window == "trailing_24h"
    build_query = hourly_last if trailing else hourly_average
    frames = [
        fetch_hourly(client, build_query(metric, settings.account_label, accounts), column, hours,
                     settings.account_label)
        for column, metric in EXPORTER_METRICS.items()
    ]
    gauges = merge_columns(frames)
    if trailing:
        gauges = spread_trailing_day_rate(gauges)
    health = fetch_hourly(client, hourly_minimum(EXPORTER_HEALTH_METRIC, settings.account_label, accounts),
                          HEALTH_COLUMN, hours, settings.account_label)
    if not health.empty and not gauges.empty:
        gauges = gauges.merge(health, on=KEY_COLUMNS, how="left")
        unhealthy = unhealthy_hours(gauges, HEALTH_COLUMN) & gauges["total_cost"].notna()
        for account, count in gauges[unhealthy].groupby("cloud_account_id").size().items():
            log.warning("Phase 2 exporter for %s reported failed scrapes in %d hour(s) of %s: those hours "
                        "count as having no exporter data", account, count, hours)
    return without_unhealthy_hours(gauges, HEALTH_COLUMN)


def exporter_hourly_rows(
    client: ThanosClient, settings: Settings, accounts: Sequence[str], hours: HourRange
) -> pd.DataFrame:
    """Phase 2 hourly cost rows (see costs.exporter_hourly_costs) for every account with data."""
    gauges = fetch_exporter_gauges(client, settings, accounts, hours)
    return exporter_hourly_costs(gauges, settings.exporter.efficiency_scale)
