"""A real local Prometheus loaded with given historical samples (tests, demo, benchmark).

Samples are written as OpenMetrics, turned into TSDB blocks by ``promtool tsdb
create-blocks-from openmetrics``, and served by a ``prometheus`` process on a free loopback
port, so every PromQL the tool sends is evaluated by the real engine.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import requests

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SampleSeries:
    """One series: metric name, labels, and (unix seconds, value) samples."""

    metric: str
    labels: Mapping[str, str]
    samples: Sequence[tuple[float, float]]
    kind: str = "gauge"  # or "counter" (metric name then ends in _total)


def samples_in_hour(hour_start: float, values: Sequence[float]) -> list[tuple[float, float]]:
    """Place the values evenly inside the hour, never on its edges (so no window sees them twice):
    four values land at :07:30, :22:30, :37:30 and :52:30."""
    step = 3600 / len(values)
    return [(hour_start + (index + 0.5) * step, value) for index, value in enumerate(values)]


def hourly_series(
    metric: str, labels: Mapping[str, str], values_by_hour: Mapping[float, Sequence[float]], kind: str = "gauge"
) -> SampleSeries:
    """A series from {hour start (unix s): the values sampled inside that hour}."""
    samples = [point for hour, values in sorted(values_by_hour.items()) for point in samples_in_hour(hour, values)]
    return SampleSeries(metric, dict(labels), samples, kind)


def _escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(series: SampleSeries) -> str:
    if series.kind == "counter" and series.metric.endswith("_total"):
        return series.metric[: -len("_total")]
    return series.metric


def write_openmetrics(all_series: Iterable[SampleSeries], path: Path) -> int:
    """Write the series as an OpenMetrics text file; returns the number of samples."""
    families: dict[str, list[SampleSeries]] = defaultdict(list)
    for series in all_series:
        families[_family(series)].append(series)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for family, members in families.items():
            out.write(f"# TYPE {family} {members[0].kind}\n")
            for series in members:
                labels = ",".join(f'{k}="{_escape_label_value(v)}"' for k, v in sorted(series.labels.items()))
                for timestamp, value in sorted(series.samples):
                    out.write(f"{series.metric}{{{labels}}} {value!r} {timestamp:.3f}\n")
                    count += 1
        out.write("# EOF\n")
    return count


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binaries() -> tuple[str, str]:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prometheus or not promtool:
        raise RuntimeError("prometheus and promtool are needed (Debian: apt-get install prometheus)")
    return prometheus, promtool


@dataclass
class LocalPrometheus:
    """``with LocalPrometheus(series) as prom: prom.url`` - a loaded, ready Prometheus."""

    series: Sequence[SampleSeries]
    workdir: Path | None = None
    startup_timeout_seconds: float = 60.0
    flags: Sequence[str] = ()  # extra command-line flags, e.g. --query.lookback-delta=...
    # Serve the TSDB blocks already in this directory (``series`` unused): the benchmark's cache.
    blocks: Path | None = None
    url: str = field(init=False, default="")
    _process: subprocess.Popen[bytes] | None = field(init=False, default=None)
    _owned_dir: tempfile.TemporaryDirectory[str] | None = field(init=False, default=None)

    def start(self) -> str:
        prometheus, promtool = require_binaries()
        if self.workdir is None:
            self._owned_dir = tempfile.TemporaryDirectory(prefix="k8s-cost-etl-prom-")
            self.workdir = Path(self._owned_dir.name)
        data_dir = self.blocks or self.workdir / "data"
        if self.blocks is None:
            self._load(promtool, data_dir)
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n", encoding="utf-8")
        port = _free_port()
        self._process = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
             "--web.enable-lifecycle",
             # No background compaction of the loaded blocks while they are queried.
             "--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h", *self.flags],
            stdout=subprocess.DEVNULL, stderr=(self.workdir / "prometheus.log").open("wb"),
        )
        self.url = f"http://127.0.0.1:{port}"
        self._wait_ready()
        return self.url

    def _load(self, promtool: str, data_dir: Path) -> None:
        assert self.workdir is not None
        source = self.workdir / "samples.om"
        data_dir.mkdir(parents=True, exist_ok=True)
        samples = write_openmetrics(self.series, source)
        started = time.monotonic()
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
             str(source), str(data_dir)],
            check=True, capture_output=True,
        )
        log.info("Loaded %d samples into TSDB blocks in %.1fs", samples, time.monotonic() - started)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_seconds
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited early; see {self.workdir}/prometheus.log")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus did not become ready within {self.startup_timeout_seconds}s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None
        if self._owned_dir is not None:
            self._owned_dir.cleanup()
            self._owned_dir = None

    def __enter__(self) -> LocalPrometheus:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
