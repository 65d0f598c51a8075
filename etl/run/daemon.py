"""`schedule`: a long-running process that runs one ingestion cycle per cron tick.

APScheduler runs the ticks in a worker thread: misfired ticks coalesce into one, and never
two cycles at once (``max_instances=1`` plus a lock for direct ``tick`` calls). SIGTERM/SIGINT
set a stop flag the cycle checks between chunks, so the cycle in flight ends at a chunk
boundary with everything before it committed, and the process exits 0.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from etl.config import Settings
from etl.errors import EtlError
from etl.run.health import EtlMetrics, HealthServer, HealthState
from etl.run.runner import CycleOutcome, Runner
from etl.source.thanos import ThanosClient
from etl.store.runlog import last_successes
from etl.store.schema import STATUS_ERROR

log = logging.getLogger(__name__)

JOB_ID = "ingestion-cycle"


def cron_trigger(settings: Settings) -> CronTrigger:
    return CronTrigger.from_crontab(settings.schedule.cron, timezone=UTC)


class Daemon:
    def __init__(self, settings: Settings, client: ThanosClient, engine: Engine,
                 stop: threading.Event | None = None, metrics: EtlMetrics | None = None) -> None:
        self.settings = settings
        self.stop = stop or threading.Event()
        self.metrics = metrics or EtlMetrics(settings.schedule.metrics_per_account)
        client.observer = self.metrics.observe_thanos
        self.runner = Runner(settings, client, engine, stop_requested=self.stop.is_set)
        self.health = HealthState(alive=self.alive)
        self._cycle_lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None
        try:
            self.metrics.seed_last_successes(last_successes(engine))
        except Exception as exc:  # metrics are an aid; a cycle reports a real database problem
            log.warning("Could not read the account state for the metrics: %s", exc)

    def tick(self, now: datetime | None = None) -> CycleOutcome | None:
        """Run one cycle now (the scheduler's job; tests call it with their own clock)."""
        if not self._cycle_lock.acquire(blocking=False):
            log.warning("A cycle is still running: this tick is skipped")
            return None
        started = time.monotonic()
        self.health.cycle_started()
        self.metrics.cycle_running.set(1)
        outcome: CycleOutcome | None = None
        status = STATUS_ERROR
        try:
            outcome = self.runner.run_cycle(now=now, command="schedule")
            status = outcome.status
            log.info("Cycle #%d %s: %d account(s) computed, %d failed, %d skipped, %d row(s) written",
                     outcome.run_id, status, len(outcome.summary.accounts), len(outcome.failed),
                     len(outcome.skipped), outcome.summary.rows_written)
        except EtlError as exc:  # expected (Thanos down, PostgreSQL lost, ...): one line; the whole chain at DEBUG
            log.error("Cycle failed: %s; the next tick retries", exc)
            log.debug("The cycle's error in full:", exc_info=True)
        except Exception:  # an unexpected one keeps its traceback for the bug report; the next tick retries
            log.exception("Cycle failed; the next tick retries")
        finally:
            self.metrics.cycle_running.set(0)
            self.metrics.observe_cycle(status, time.monotonic() - started, outcome)
            self.health.cycle_finished(status)
            self._cycle_lock.release()
        return outcome

    def build_scheduler(self) -> BackgroundScheduler:
        schedule = self.settings.schedule
        scheduler = BackgroundScheduler(timezone=UTC)
        first_run: dict[str, Any] = {"next_run_time": datetime.now(UTC)} if schedule.run_on_start else {}
        scheduler.add_job(
            self.tick, cron_trigger(self.settings), id=JOB_ID, name="ingestion cycle",
            coalesce=True, max_instances=1, misfire_grace_time=schedule.misfire_grace_seconds, **first_run,
        )
        return scheduler

    def alive(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running) and not self.stop.is_set()

    def serve(self) -> None:
        """Run until the stop event is set (SIGTERM/SIGINT), then let the cycle in flight finish."""
        schedule = self.settings.schedule
        health = (HealthServer(schedule.health_host, schedule.health_port, self.metrics, self.health).start()
                  if schedule.health_port else None)
        self._scheduler = self.build_scheduler()
        self._scheduler.start()
        log.info("Scheduler started: cron %r (UTC)%s", schedule.cron,
                 ", first cycle now" if schedule.run_on_start else "")
        try:
            while not self.stop.wait(1.0):
                pass
            log.info("Shutting down: waiting for the cycle in flight to reach a chunk boundary")
            self._scheduler.shutdown(wait=True)
        finally:
            if health:
                health.stop()
        log.info("Scheduler stopped")
