"""Costing a chunk: one account's data that cannot be costed never costs another account its rows."""

from __future__ import annotations

import pandas as pd

from etl.config import load_settings
from etl.costing.raw import RawMetrics
from etl.errors import MoneyBoundError
from etl.model import NANO, HourRange
from etl.run.chunk import FetchedChunk, cost_chunk

HOURS = HourRange(pd.Timestamp("2026-09-01", tz="UTC"), pd.Timestamp("2026-09-02", tz="UTC"))
SETTINGS = load_settings(environ={"THANOS_URL": "http://unused:1"})
NO_RAW = RawMetrics(**{name: pd.DataFrame(columns=["cloud_account_id", "hour_start", "node", "namespace",
                                                   "persistentvolume", "volumename", "cluster", "cores", "bytes",
                                                   "gpus", "price", "cost"])
                       for name in RawMetrics.__dataclass_fields__})


def gauges(**totals: object) -> pd.DataFrame:
    """One exporter hour per account: its total."""
    return pd.DataFrame({"cloud_account_id": list(totals), "hour_start": HOURS.start, "cluster": "c", "currency": "USD",
                         "healthy_minutes": 60, "unhealthy_minutes": 0, "total_cost": list(totals.values())})


def test_an_unforeseen_error_fails_only_the_account_it_belongs_to() -> None:
    costed = cost_chunk(FetchedChunk(gauges(good=2.0, broken="not a number", other=3.0), NO_RAW), SETTINGS, HOURS,
                        ["broken", "good", "other"])
    assert list(costed.failures) == ["broken"]
    assert dict(zip(costed.rows["cloud_account_id"], costed.rows["total_cost"], strict=True)) == {
        "good": 2 * NANO, "other": 3 * NANO}


def test_an_account_beyond_the_bound_is_set_apart_and_the_rest_costed_together() -> None:
    costed = cost_chunk(FetchedChunk(gauges(good=2.0, huge=7.5e8), NO_RAW), SETTINGS, HOURS, ["good", "huge"])
    assert isinstance(costed.failures["huge"], MoneyBoundError)
    assert costed.rows["cloud_account_id"].tolist() == ["good"]
