"""Phase 2 with its namespace gauges: the accounts' hourly rows and their namespaces' parts.

The exporter publishes, per cluster and namespace, the same $/h gauges as per cluster (Kubecost's
``__idle__`` and other ``__*__`` rows left out: the queries drop any that come through). A
namespace's hour is its rate summed over the minutes the exporter published healthy cluster
figures, divided by those minutes: a minute in which the exporter published its cluster but not the
namespace is a minute that namespace cost nothing (a namespace created at 12:30 costs half of hour
12), so minute by minute the namespaces never hold more than the cluster does. With
``trailing_24h`` gauges each namespace takes its closing value of the day, as the cluster does.

Per cluster-hour: with namespace gauges, each namespace is costed as a cluster is (components,
management the rest, efficiencies) and the cluster's idle becomes known (etl.costing.namespaces
takes it as the cluster minus its namespaces); without any, the whole cluster-hour goes to
``__unallocated__`` and its idle stays unknown. A namespace gauge without a currency label is in
its cluster's currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.costing.exporter import (
    CLUSTER_KEYS,
    EXPORTER_COLUMNS,
    MINUTE_COLUMNS,
    account_hours,
    cluster_hourly_costs,
    prepared_gauges,
    spread_closing_values,
)
from etl.costing.parts import combine_parts
from etl.model import (
    ACCOUNT_COLUMN,
    CLUSTER_LABEL,
    COST_COLUMNS,
    CURRENCY_LABEL,
    EXPORTER_PRESENCE_COLUMN,
    HEALTHY_MINUTES_COLUMN,
    IDLE_UNKNOWN_COLUMN,
    NAMESPACE_COLUMN,
    NAMESPACE_HOURLY_COLUMNS,
    NAMESPACE_KEY_COLUMNS,
    UNALLOCATED_NAMESPACE,
    HourRange,
)

NAMESPACE_CLUSTER_KEYS = [*CLUSTER_KEYS, NAMESPACE_COLUMN]


@dataclass(frozen=True)
class ExporterCosts:
    rows: pd.DataFrame  # the accounts' hourly rows (etl.costing.exporter.EXPORTER_COLUMNS)
    namespaces: pd.DataFrame  # their namespaces' (NAMESPACE_HOURLY_COLUMNS), __unallocated__ included


def _hourly_rates(namespaces: pd.DataFrame, gauges: pd.DataFrame, trailing_24h: bool) -> pd.DataFrame:
    """The namespace gauges of the cluster-hours that have an exporter figure, as $/h of the hour
    (the cost gauges come summed over their healthy minutes, or as trailing closing values)."""
    present = gauges[gauges[EXPORTER_PRESENCE_COLUMN].notna()][[*CLUSTER_KEYS, HEALTHY_MINUTES_COLUMN]]
    on = [ACCOUNT_COLUMN, "hour_start", CLUSTER_LABEL]
    frame = namespaces.merge(present.rename(columns={CURRENCY_LABEL: "cluster_currency"}), on=on)
    frame[CURRENCY_LABEL] = frame[CURRENCY_LABEL].where(frame[CURRENCY_LABEL] != "", frame["cluster_currency"])
    frame[NAMESPACE_COLUMN] = frame[NAMESPACE_COLUMN].replace("", UNALLOCATED_NAMESPACE)
    costs = [column for column in COST_COLUMNS if column in frame]
    if trailing_24h:
        return spread_closing_values(frame.drop(columns=["cluster_currency"]), NAMESPACE_CLUSTER_KEYS)
    frame[costs] = frame[costs].div(frame[HEALTHY_MINUTES_COLUMN], axis=0)
    return frame.drop(columns=["cluster_currency", HEALTHY_MINUTES_COLUMN])


def exporter_costs(gauges: pd.DataFrame, namespace_gauges: pd.DataFrame, hours: HourRange, efficiency_scale: str,
                   trailing_24h: bool, currency: str, names: Mapping[str, str] | None = None,
                   namespace_names: Mapping[str, str] | None = None) -> ExporterCosts:
    """Phase 2 hourly rows of every account with exporter data in ``hours`` (as
    etl.costing.exporter.exporter_hours) and their namespaces' parts, as the module says.
    ``namespace_gauges``: per (account, hour, cluster, currency, namespace), a column per gauge."""
    if gauges.empty:
        return ExporterCosts(pd.DataFrame(columns=EXPORTER_COLUMNS), pd.DataFrame(columns=NAMESPACE_HOURLY_COLUMNS))
    gauges = prepared_gauges(gauges, hours, trailing_24h)
    clusters = cluster_hourly_costs(gauges, efficiency_scale, currency, names or {}, hours)
    parts = pd.DataFrame(columns=list(dict.fromkeys([*NAMESPACE_CLUSTER_KEYS, *NAMESPACE_HOURLY_COLUMNS])))
    if not namespace_gauges.empty:
        rates = _hourly_rates(namespace_gauges, gauges, trailing_24h)
        parts = cluster_hourly_costs(rates, efficiency_scale, currency, namespace_names or {}, hours,
                                     NAMESPACE_CLUSTER_KEYS)
    covered = np.zeros(len(clusters), dtype=bool)
    if not parts.empty:  # (an empty frame's columns have no types to merge on)
        covered = clusters[CLUSTER_KEYS].merge(parts[CLUSTER_KEYS].drop_duplicates(), on=CLUSTER_KEYS, how="left",
                                               indicator=True)["_merge"].eq("both").to_numpy()
    clusters.loc[covered, IDLE_UNKNOWN_COLUMN] = 0
    unallocated = clusters[~covered].drop(columns=MINUTE_COLUMNS).assign(**{NAMESPACE_COLUMN: UNALLOCATED_NAMESPACE})
    both = [frame for frame in (parts, unallocated) if not frame.empty]
    namespaces = combine_parts(pd.concat(both) if both else parts, NAMESPACE_KEY_COLUMNS,
                               columns=NAMESPACE_HOURLY_COLUMNS)
    return ExporterCosts(account_hours(clusters, gauges), namespaces)
