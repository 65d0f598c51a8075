"""The benchmark's fleet: exporter accounts and raw OpenCost/cAdvisor accounts over whole UTC days,
loaded into a TSDB once and cached.

The samples come from etl/demo/dataset.py (the demo's cluster profiles and its raw cluster) with the
label sets a real scrape adds (job, instance, the exporting pod). promtool re-reads its whole input
once per block window, so the fleet is written as one OpenMetrics file per UTC day (one 24 h block
each): loading stays linear in days. The blocks are cached under ``--cache`` keyed by the fleet's
shape, and the next run serves them as they are.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from etl.demo.dataset import DEMO_CLUSTERS, cluster_series, raw_cluster_series
from etl.demo.prometheus import SampleSeries, require_binaries, write_openmetrics
from etl.model import utc_midnight
from etl.source.promql import EXPORTER_HEALTH_METRIC

FORMAT_VERSION = 1  # bump when the generated samples change, so stale caches are not reused


@dataclass(frozen=True)
class Fleet:
    accounts: int
    days: int
    raw_share: float  # share of accounts with only raw OpenCost/cAdvisor metrics (Phase 1)
    scrape_seconds: int = 300
    # Long enough ago that every fleet (up to 365 days) is over: the tool computes only hours that are.
    first_day: date = date(2025, 1, 6)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    @property
    def samples_per_hour(self) -> int:
        return 3600 // self.scrape_seconds

    @property
    def raw_accounts(self) -> list[str]:
        count = round(self.accounts * self.raw_share)
        return [f"bench-raw-{index:05d}" for index in range(count)]

    @property
    def exporter_accounts(self) -> list[str]:
        return [f"bench-exp-{index:05d}" for index in range(self.accounts - len(self.raw_accounts))]

    def key(self) -> str:
        shape = {**asdict(self), "first_day": str(self.first_day), "version": FORMAT_VERSION}
        digest = hashlib.sha1(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:10]
        return f"a{self.accounts}-d{self.days}-r{self.raw_share:g}-s{self.scrape_seconds}-{digest}"

    def __str__(self) -> str:
        return (f"{self.accounts} accounts ({len(self.raw_accounts)} raw-only) x {self.days} days, "
                f"{self.scrape_seconds} s scrape")


def _scraped(series: SampleSeries, labels: dict[str, str]) -> SampleSeries:
    return SampleSeries(series.metric, {**series.labels, **labels}, series.samples, series.kind)


def day_series(fleet: Fleet, day: date) -> list[SampleSeries]:
    """Every series of the fleet for one UTC day."""
    start, per_hour = utc_midnight(day), fleet.samples_per_hour
    profiles = list(DEMO_CLUSTERS.values())
    series: list[SampleSeries] = []
    for index, account in enumerate(fleet.exporter_accounts):
        scrape = {"job": "cloudtuner-kubecost-exporter", "namespace": "kubecost",
                  "instance": f"10.{index // 250 % 250}.{index % 250}.17:9103",
                  "pod": f"kubecost-exporter-{index:05d}-7d9f8"}
        gauges = cluster_series(account, profiles[index % len(profiles)], start, 24, per_hour)
        health = SampleSeries(EXPORTER_HEALTH_METRIC, {"tenant_id": account},
                              [(t, 1.0) for t, _ in gauges[0].samples])
        series += [_scraped(one, scrape) for one in [*gauges, health]]
    for index, account in enumerate(fleet.raw_accounts):
        scrape = {"job": "opencost", "instance": f"10.{index // 250 % 250}.{index % 250}.31:9003"}
        series += [_scraped(one, scrape) for one in raw_cluster_series(account, start, 24, per_hour)]
    return series


def tsdb(fleet: Fleet, cache: Path) -> Path:
    """The fleet's TSDB data directory, built (one promtool run per day, overlapping the writing of
    the next day's input) unless the cache holds it already."""
    data = cache / fleet.key() / "data"
    done = data.parent / "complete"
    if done.exists():
        return data
    _, promtool = require_binaries()
    shutil.rmtree(data.parent, ignore_errors=True)
    data.mkdir(parents=True)
    started, samples, loading = time.monotonic(), 0, None
    for offset in range(fleet.days):
        day = fleet.first_day + timedelta(days=offset)
        source = data.parent / f"{day}.om"
        samples += write_openmetrics(day_series(fleet, day), source)
        if loading is not None:
            _finish(loading)
        loading = (subprocess.Popen([promtool, "tsdb", "create-blocks-from", "openmetrics",
                                     "--max-block-duration=24h", str(source), str(data)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), source)
        print(f"\r  TSDB: {offset + 1}/{fleet.days} days, {samples:,} samples", end="", flush=True)
    if loading is not None:
        _finish(loading)
    (data.parent / "samples").write_text(str(samples))
    done.write_text("ok")
    print(f"\r  TSDB: {fleet.days} days, {samples:,} samples loaded in {time.monotonic() - started:.0f} s")
    return data


def samples_stored(fleet: Fleet, cache: Path) -> int:
    return int((cache / fleet.key() / "samples").read_text())


def _finish(loading: tuple[subprocess.Popen[bytes], Path]) -> None:
    process, source = loading
    _, errors = process.communicate()
    if process.returncode:
        raise RuntimeError(f"promtool failed on {source}: {errors.decode()[-2000:]}")
    source.unlink()
