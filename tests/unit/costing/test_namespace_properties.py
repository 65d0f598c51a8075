"""The namespace breakdown's invariant on generated inputs (hypothesis): for any hourly input of
either phase (and a degraded exporter hour that takes both), the namespaces of every account-hour,
``__idle__`` and ``__unallocated__`` included, add up to its row in every namespace cost column, to
the nano-dollar; the idle is the idle row's capacity components where it is known; a negative idle
is flagged (beyond the parts' rounding); and the days (exact sums) add up the same way.

The input is what the fetch hands the costing (etl.run.chunk.FetchedChunk), costed by the real
chunk path (etl.run.chunk.cost_chunk); an account refused with an error is an acceptable answer.
"""

from __future__ import annotations

import warnings

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.config import load_settings
from etl.costing.namespaces import ROUNDING_NANO
from etl.costing.raw import RawMetrics
from etl.costing.rollup import daily_rollup, namespace_daily_rollup
from etl.model import (
    GIB,
    IDLE_COMPONENTS,
    IDLE_NAMESPACE,
    KEY_COLUMNS,
    NAMESPACE_COST_COLUMNS,
    NAMESPACE_DAILY_KEY_COLUMNS,
    HourRange,
)
from etl.run.chunk import FetchedChunk, cost_chunk

DAY = pd.Timestamp("2026-09-01", tz="UTC")
HOURS = HourRange(DAY, DAY + pd.Timedelta(days=1))
SETTINGS = load_settings(environ={"THANOS_URL": "http://unused:1"})
ACCOUNT = "acct"
NAMESPACES = ["web", "db", ""]  # "" : no namespace label
NODES = ["n1", "n2"]

_amount = st.floats(min_value=0, max_value=64, allow_nan=False)
_price = st.one_of(st.none(), st.floats(min_value=0.001, max_value=3, allow_nan=False))
_rate = st.floats(min_value=0, max_value=50, allow_nan=False)


def _frame(rows: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["cloud_account_id", "hour_start", *columns])


@st.composite
def raw_hours(draw: st.DrawFn, hours: list[int]) -> RawMetrics:
    """Allocations per namespace and node, node (and volume) capacity that may be missing, prices
    that may be missing, load balancers and usage."""
    frames: dict[str, list[dict[str, object]]] = {name: [] for name in (
        "cpu_allocation", "ram_allocation", "gpu_allocation", "pvc_allocation", "cpu_price", "ram_price", "gpu_price",
        "pv_price", "cpu_capacity", "ram_capacity", "gpu_capacity", "pv_capacity", "load_balancer", "cpu_usage",
        "ram_usage", "management")}
    for h in hours:
        at = {"cloud_account_id": ACCOUNT, "hour_start": DAY + pd.Timedelta(hours=h)}
        with_capacity = draw(st.booleans())
        for node in NODES:
            for kind, unit in (("cpu", 1.0), ("ram", GIB), ("gpu", 1.0)):
                price = draw(_price)
                if price is not None:
                    frames[f"{kind}_price"].append({**at, "node": node, "price": price})
                if with_capacity:
                    column = {"cpu": "cores", "ram": "bytes", "gpu": "gpus"}[kind]
                    frames[f"{kind}_capacity"].append({**at, "node": node, column: draw(_amount) * unit})
            for namespace in draw(st.lists(st.sampled_from(NAMESPACES), max_size=3, unique=True)):
                labels = {**at, "node": node, "namespace": namespace}
                frames["cpu_allocation"].append({**labels, "cores": draw(_amount)})
                frames["ram_allocation"].append({**labels, "bytes": draw(_amount) * GIB})
                frames["gpu_allocation"].append({**labels, "gpus": draw(st.sampled_from([0.0, 1.0]))})
        for namespace in draw(st.lists(st.sampled_from(NAMESPACES), max_size=2, unique=True)):
            frames["pvc_allocation"].append({**at, "persistentvolume": "pv-1", "namespace": namespace,
                                             "bytes": draw(_amount) * GIB})
            frames["load_balancer"].append({**at, "namespace": namespace, "cost": draw(_rate) / 10})
            frames["cpu_usage"].append({**at, "namespace": namespace, "cores": draw(_amount)})
            frames["ram_usage"].append({**at, "namespace": namespace, "bytes": draw(_amount) * GIB})
        if with_capacity:
            frames["pv_capacity"].append({**at, "persistentvolume": "pv-1", "bytes": draw(_amount) * GIB})
        frames["pv_price"].append({**at, "persistentvolume": "pv-1", "volumename": "pv-1", "price": 0.0001})
        frames["management"].append({**at, "cluster": "", "cost": draw(_rate) / 100})
    columns = {"cpu_allocation": ["node", "namespace", "cores"], "ram_allocation": ["node", "namespace", "bytes"],
               "gpu_allocation": ["node", "namespace", "gpus"], "pvc_allocation": ["persistentvolume", "namespace",
                                                                                   "bytes"],
               "pv_price": ["persistentvolume", "volumename", "price"], "cpu_capacity": ["node", "cores"],
               "ram_capacity": ["node", "bytes"], "gpu_capacity": ["node", "gpus"],
               "pv_capacity": ["persistentvolume", "bytes"], "load_balancer": ["namespace", "cost"],
               "cpu_usage": ["namespace", "cores"], "ram_usage": ["namespace", "bytes"],
               "management": ["cluster", "cost"]}
    return RawMetrics(**{name: _frame(rows, columns.get(name, ["node", "price"])) for name, rows in frames.items()})


@st.composite
def exporter_hours(draw: st.DrawFn, hours: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cluster gauges (a degraded hour now and then) and, for some hours, namespace gauges (summed
    over the healthy minutes, as fetched)."""
    clusters, namespaces = [], []
    for h in hours:
        at = {"cloud_account_id": ACCOUNT, "hour_start": DAY + pd.Timedelta(hours=h), "cluster": "c1",
              "currency": "USD"}
        total = draw(_rate)
        parts = {column: total * draw(st.floats(0, 0.3)) for column in ("cpu_cost", "ram_cost", "pv_cost",
                                                                          "network_cost", "load_balancer_cost")}
        healthy = draw(st.integers(1, 60))
        unhealthy = draw(st.sampled_from([0, 0, 60 - healthy]))
        clusters.append({**at, "healthy_minutes": healthy, "unhealthy_minutes": unhealthy, "total_cost": total,
                         **parts, "cpu_efficiency": draw(st.floats(0, 100))})
        if draw(st.booleans()):
            for namespace in draw(st.lists(st.sampled_from(NAMESPACES), max_size=3, unique=True)):
                share = draw(st.floats(0, 0.6))  # may add up to more than the cluster: a negative idle
                namespaces.append({**at, "namespace": namespace, "total_cost": total * share * healthy,
                                   **{column: value * share * healthy for column, value in parts.items()},
                                   "cpu_efficiency": draw(st.floats(0, 100))})
    keys = ["cloud_account_id", "hour_start", "cluster", "currency"]
    costs = ["total_cost", "cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost", "cpu_efficiency"]
    return (pd.DataFrame(clusters, columns=[*keys, "healthy_minutes", "unhealthy_minutes", *costs]),
            pd.DataFrame(namespaces, columns=[*keys, "namespace", *costs]))


@st.composite
def chunks(draw: st.DrawFn) -> FetchedChunk:
    raw = draw(st.lists(st.integers(0, 5), min_size=0, max_size=4, unique=True))
    exported = draw(st.lists(st.integers(0, 5), min_size=0, max_size=4, unique=True))
    gauges, namespaces = draw(exporter_hours(sorted(exported)))
    return FetchedChunk(gauges, draw(raw_hours(sorted(raw))), namespaces)


def assert_namespaces_add_up(fetched: FetchedChunk) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        costed = cost_chunk(fetched, SETTINGS, HOURS, [ACCOUNT])
    rows, namespaces = costed.rows, costed.namespaces
    if costed.failures:
        assert rows.empty
        return
    sums = namespaces.groupby(KEY_COLUMNS)[NAMESPACE_COST_COLUMNS].agg(lambda values: sum(int(v) for v in values))
    cluster = rows.set_index(KEY_COLUMNS)[NAMESPACE_COST_COLUMNS].map(int)
    assert set(sums.index) <= set(cluster.index)
    assert sums.reindex(cluster.index, fill_value=0).equals(cluster), (sums, cluster)
    idle = namespaces[namespaces["namespace"] == IDLE_NAMESPACE].set_index(KEY_COLUMNS)
    parts = namespaces[namespaces["namespace"] != IDLE_NAMESPACE].groupby(KEY_COLUMNS).size()
    for key, row in rows.set_index(KEY_COLUMNS).iterrows():
        residual = idle.loc[key] if key in idle.index else pd.Series(0, index=NAMESPACE_COST_COLUMNS)
        expected = sum(int(residual[column]) for column in IDLE_COMPONENTS)
        assert (pd.isna(row["idle_cost"]) if row["idle_unknown_hours"] else int(row["idle_cost"]) == expected)
        dust = ROUNDING_NANO * (int(parts.get(key, 0)) + 1)
        assert row["negative_idle_hours"] == int(any(int(residual[c]) < -dust for c in NAMESPACE_COST_COLUMNS))
    others = namespaces[namespaces["namespace"] != IDLE_NAMESPACE]
    assert (others[NAMESPACE_COST_COLUMNS] >= 0).all().all()
    days = namespace_daily_rollup(namespaces).groupby(NAMESPACE_DAILY_KEY_COLUMNS[:2])[NAMESPACE_COST_COLUMNS].sum()
    cluster_days = daily_rollup(rows).set_index(NAMESPACE_DAILY_KEY_COLUMNS[:2])[NAMESPACE_COST_COLUMNS]
    assert days.reindex(cluster_days.index, fill_value=0).astype("int64").equals(cluster_days.astype("int64"))


@settings(max_examples=80, deadline=None)
@given(chunks())
def test_namespaces_and_idle_add_up_to_the_cluster_for_any_hourly_input(fetched: FetchedChunk) -> None:
    assert_namespaces_add_up(fetched)
