"""The daemon's own health and Prometheus metrics, served over HTTP.

- ``/healthz``: 200 while the scheduler runs (liveness); 503 once it stopped.
- ``/readyz``: 200 when the last finished cycle had no failed account; 503 before the first
  cycle finished or after a failed one (readiness: "the numbers are current").
- ``/metrics``: the metrics below, in the Prometheus text format, from a registry of our own.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from etl.errors import ConfigError
from etl.run.runner import CycleOutcome
from etl.store.schema import STATUS_OK

log = logging.getLogger(__name__)

PREFIX = "k8s_cost_etl_"
CYCLE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
QUERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class EtlMetrics:
    """The daemon's metrics. ``per_account`` labels the account series with the account id; without
    it (``schedule.metrics_per_account: false``, for a /metrics that must not list the cloud account
    ids) the same facts are exported as account-free aggregates: the oldest last success, and the
    failures of all accounts together."""

    def __init__(self, per_account: bool = True) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.per_account = per_account
        self._last_success: dict[str, float] = {}
        labels = ["account"] if per_account else []
        if per_account:
            self.account_last_success = Gauge(
                PREFIX + "account_last_success_timestamp_seconds",
                "Unix time an account's days were last computed without error", labels, registry=r)
        else:
            self.account_last_success = Gauge(
                PREFIX + "oldest_account_last_success_timestamp_seconds",
                "Unix time of the oldest last success among the accounts", registry=r)
        self.account_failures = Counter(
            PREFIX + "account_failures_total", "Cycles in which an account failed", labels, registry=r)
        self.rows_upserted = Counter(
            PREFIX + "rows_upserted_total", "Hourly and daily cost rows written by cycles", registry=r)
        self.thanos_duration = Histogram(
            PREFIX + "thanos_request_duration_seconds", "Thanos API call duration, retries included",
            ["endpoint"], buckets=QUERY_BUCKETS, registry=r)
        self.thanos_errors = Counter(
            PREFIX + "thanos_request_errors_total", "Thanos API calls that failed after their retries",
            ["endpoint"], registry=r)
        self.cycle_duration = Histogram(
            PREFIX + "cycle_duration_seconds", "Duration of ingestion cycles", buckets=CYCLE_BUCKETS, registry=r)
        self.cycles = Counter(PREFIX + "cycles_total", "Ingestion cycles by final status", ["status"], registry=r)
        self.last_cycle_success = Gauge(
            PREFIX + "last_successful_cycle_timestamp_seconds",
            "Unix time the last cycle without any failed account ended", registry=r)
        self.cycle_running = Gauge(PREFIX + "cycle_running", "1 while a cycle is in flight", registry=r)

    def observe_thanos(self, path: str, seconds: float, succeeded: bool) -> None:
        # /api/v1/label/<name>/values -> one endpoint label value per API, not per label name
        endpoint = "/api/v1/label/values" if path.startswith("/api/v1/label/") else path
        self.thanos_duration.labels(endpoint).observe(seconds)
        if not succeeded:
            self.thanos_errors.labels(endpoint).inc()

    def seed_last_successes(self, last_success: Mapping[str, datetime]) -> None:
        """Start from the run log, so a restarted daemon does not look as if nothing ever succeeded."""
        for account, when in last_success.items():
            self._succeeded(account, when.timestamp())

    def _succeeded(self, account: str, when: float) -> None:
        if self.per_account:
            self.account_last_success.labels(account).set(when)
        else:
            self._last_success[account] = when
            self.account_last_success.set(min(self._last_success.values()))

    def _failed(self, account: str) -> None:
        (self.account_failures.labels(account) if self.per_account else self.account_failures).inc()

    def observe_cycle(self, status: str, seconds: float, outcome: CycleOutcome | None) -> None:
        self.cycles.labels(status).inc()
        self.cycle_duration.observe(seconds)
        if outcome is None:
            return
        self.rows_upserted.inc(outcome.summary.rows_written)
        for name, account in outcome.summary.accounts.items():
            if account.ok and not outcome.summary.interrupted:
                self._succeeded(name, time.time())
            elif not account.ok:
                self._failed(name)
        if status == STATUS_OK:
            self.last_cycle_success.set(time.time())


@dataclass
class HealthState:
    """What the endpoints report; updated by the daemon."""

    alive: Callable[[], bool] = lambda: True
    last_status: str | None = None
    last_finished_at: float | None = None
    running_since: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def cycle_started(self) -> None:
        with self.lock:
            self.running_since = time.time()

    def cycle_finished(self, status: str) -> None:
        with self.lock:
            self.running_since, self.last_status, self.last_finished_at = None, status, time.time()

    def report(self) -> dict[str, object]:
        with self.lock:
            return {"alive": self.alive(), "last_cycle_status": self.last_status,
                    "last_cycle_finished_at": self.last_finished_at, "cycle_running_since": self.running_since}


class HealthServer:
    def __init__(self, host: str, port: int, metrics: EtlMetrics, state: HealthState) -> None:
        metrics_registry = metrics.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, generate_latest(metrics_registry), CONTENT_TYPE_LATEST)
                elif path in ("/healthz", "/readyz"):
                    report = state.report()
                    healthy = bool(report["alive"]) if path == "/healthz" else report["last_cycle_status"] == STATUS_OK
                    self._send(200 if healthy else 503, json.dumps(report).encode(), "application/json")
                else:
                    self._send(404, b"not found: try /healthz, /readyz or /metrics\n", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("health endpoint: " + format, *args)

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise ConfigError("schedule.health_port (HEALTH_PORT)", f"cannot listen on {host}:{port}: {exc}") from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        host = self._server.server_address[0]
        log.info("Serving /healthz, /readyz and /metrics on %s:%d", host, self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
