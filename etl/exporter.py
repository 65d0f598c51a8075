"""Phase 2 extraction: the allocation exporter's gauges -> one hourly frame for all accounts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from etl.config import Settings
from etl.costs import exporter_hourly_costs, spread_trailing_day_rate
from etl.extract import HourRange, fetch_hourly, merge_columns
from etl.queries import EXPORTER_METRICS, hourly_average, hourly_last
from etl.thanos import ThanosClient

log = logging.getLogger(__name__)


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
    return gauges


def exporter_hourly_rows(
    client: ThanosClient, settings: Settings, accounts: Sequence[str], hours: HourRange
) -> pd.DataFrame:
    """Phase 2 hourly cost rows (see costs.exporter_hourly_costs) for every account with data."""
    gauges = fetch_exporter_gauges(client, settings, accounts, hours)
    return exporter_hourly_costs(gauges, settings.exporter.efficiency_scale)
