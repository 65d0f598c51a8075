from __future__ import annotations

import pytest

from etl.source.hold import DENSE_SAMPLES, Presence, hold_minutes
from etl.source.promql import CENSUS_LABEL


@pytest.mark.parametrize(("samples", "hold"), [
    (120, None),  # every minute for two hours: the lookback holds
    (24, None),  # every 5 minutes: the lookback still reaches the next sample
    (23, 6),  # 120 / 22 = 5.45 -> 6
    (13, 10),  # every 10 minutes with a sample on both edges of the window: 120 / 12 = 10
    (12, 11),  # every 10 minutes: 120 / 11 = 10.9 -> 11
    (9, 15),  # every 15 minutes, a sample on both edges: 120 / 8 = 15
    (8, 18),  # every 15 minutes: 120 / 7 = 17.1 -> 18
    (4, 40),  # every 30 minutes
    (3, 60),  # every hour (120 / 2 = 60)
    (2, 60),  # bounded: never more than an hour
    (1, 60),  # one sample in two hours: held an hour at most
])
def test_a_sample_is_held_for_the_longest_gap_its_series_can_have(samples: float, hold: int | None) -> None:
    assert hold_minutes(samples) == hold


def test_dense_means_a_sample_every_lookback_or_more_often() -> None:
    assert DENSE_SAMPLES == 24


def test_a_held_query_keeps_the_presence_test_and_leaves_the_census_to_the_lookback_query() -> None:
    presence = Presence("m", ("namespace", "pod"), ("node",), 'container!=""')
    held = presence.query("tenant_id", ["a"], 18)
    selector = 'm{tenant_id=~"a", container!=""}'
    assert f"(avg by (tenant_id, node, namespace, pod) (last_over_time({selector}[18m]) >= 0 < Inf))" in held
    assert f"count_over_time({selector}[1h] offset 1ms)" in held  # present_in_hour
    assert CENSUS_LABEL not in held and "last_over_time" not in presence.query("tenant_id", ["a"])
    assert CENSUS_LABEL in presence.query("tenant_id", ["a"])


def test_the_probe_counts_the_densest_series_over_the_hour_and_the_one_before() -> None:
    probe = Presence("m", ("pod",), extra_matchers='container!=""').density("tenant_id", [])
    selector = 'm{tenant_id!="", container!=""}'
    assert probe.startswith(f"max by (tenant_id) (label_replace(count_over_time({selector}[2h] offset 1ms), ")
    # ten-minute tiles of the same two hours (the subquery's points are T - 1h50m ... T on 2.x and
    # 3.x alike): 3 samples in one of them count as dense
    assert f"(max_over_time(count_over_time({selector}[10m] offset 1ms)[1h59m:10m]) >= 3) * 0 + 24" in probe
