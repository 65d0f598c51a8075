"""One chunk of hours: fetch both phases for all its accounts at once, then cost them so that one
account's bad data never costs another account its rows.

Fetching is all or nothing (one query per metric covers every account; a failed or partial answer
fails the chunk for all of them). Costing is per account where it must be: the batch is costed at
once; an account whose data cannot be money (etl.errors.DataError names it: an absurd figure, two
currencies) is set apart and the rest costed again; any other error makes every account be costed
on its own, so only the accounts that really fail do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import pandas as pd

from etl.config import Settings
from etl.costing.currency import require_one_currency
from etl.costing.exporter_namespaces import exporter_costs
from etl.costing.namespaces import namespace_breakdown
from etl.costing.phase import choose_phase_per_hour
from etl.costing.raw import DEFAULTED_COLUMNS, DefaultPrices, RawMetrics, raw_hourly_costs
from etl.costing.rollup import usage_dates
from etl.errors import DataError
from etl.model import ACCOUNT_COLUMN, DAILY_KEY_COLUMNS, HOURLY_COLUMNS, NAMESPACE_HOURLY_COLUMNS, HourRange
from etl.run.sources import Sources
from etl.source.exporter import ExporterAnswer, fetch_exporter_answer, fetch_namespace_gauges
from etl.source.metrics import EXPORTER_METRICS, EXPORTER_NAMESPACE_METRICS
from etl.source.parallel import fetch_concurrently
from etl.source.raw import fetch_raw_metrics
from etl.source.thanos import ThanosClient

log = logging.getLogger(__name__)
# DataErrors set apart before the remaining accounts are costed one by one instead.
MAX_BATCH_RETRIES = 3


@dataclass(frozen=True)
class FetchedChunk:
    gauges: pd.DataFrame  # etl.source.exporter
    raw: RawMetrics  # etl.source.raw
    namespace_gauges: pd.DataFrame = field(default_factory=pd.DataFrame)  # etl.source.exporter (none: empty)
    answer: ExporterAnswer | None = None  # all that the exporter queries answered (etl.run.suspect)


@dataclass
class CostedChunk:
    rows: pd.DataFrame  # hourly rows (HOURLY_COLUMNS) of the accounts costed
    defaulted: pd.DataFrame  # their Phase 1 allocations priced by default (etl.costing.raw.DEFAULTED_COLUMNS)
    failures: dict[str, Exception] = field(default_factory=dict)  # account -> why it could not be costed
    # their namespace rows (NAMESPACE_HOURLY_COLUMNS): per account-hour they add up to its row
    namespaces: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=NAMESPACE_HOURLY_COLUMNS))
    answer: ExporterAnswer | None = None  # the fetched chunk's (FetchedChunk.answer)


def fetch_chunk(client: ThanosClient, settings: Settings, sources: Sources, hours: HourRange) -> FetchedChunk:
    """Both phases' metrics in ``hours``, each of the accounts ``sources`` says publish it (both or
    nothing: writing exporter hours alone would delete a day's stored raw hours). The two phases'
    queries are independent: both in flight at once when a batch has both."""
    label, trailing = settings.account_label, settings.exporter.gauge_window == "trailing_24h"

    def phase_2() -> tuple[ExporterAnswer, pd.DataFrame]:
        log.debug("Fetching Phase 2 exporter metrics for %d account(s), %s", len(sources.exporter), hours)
        answer = fetch_exporter_answer(client, label, sources.exporter, hours, trailing, sources.absent)
        return answer, fetch_namespace_gauges(client, label, sources.namespaces, hours, trailing)

    def phase_1() -> RawMetrics:
        log.debug("Fetching Phase 1 raw metrics for %d account(s), %s", len(sources.raw), hours)
        return fetch_raw_metrics(client, label, sources.raw, hours, sources.raw_absent)

    exported, raw = fetch_concurrently([phase_2, phase_1], 2)
    assert isinstance(exported, tuple) and isinstance(raw, RawMetrics)
    answer, namespace_gauges = exported
    return FetchedChunk(answer.gauges, raw, namespace_gauges, answer)


def _only(fetched: FetchedChunk, accounts: set[str]) -> FetchedChunk:
    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame[ACCOUNT_COLUMN].isin(accounts)]

    raw = replace(fetched.raw, **{item.name: keep(getattr(fetched.raw, item.name)) for item in fields(fetched.raw)})
    namespaces = fetched.namespace_gauges
    return FetchedChunk(keep(fetched.gauges), raw, keep(namespaces) if not namespaces.empty else namespaces)


def _cost(fetched: FetchedChunk, settings: Settings, hours: HourRange) -> CostedChunk:
    """The accounts' chosen hourly rows, their Phase 1 defaults and their namespace rows."""
    pricing, exporter = settings.pricing, settings.exporter
    trailing = exporter.gauge_window == "trailing_24h"
    exported = exporter_costs(fetched.gauges, fetched.namespace_gauges, hours, exporter.efficiency_scale, trailing,
                              pricing.currency, EXPORTER_METRICS, EXPORTER_NAMESPACE_METRICS)
    defaults = DefaultPrices(pricing.default_cpu_price, pricing.default_ram_price, pricing.default_storage_price,
                             pricing.default_gpu_price)
    raw = raw_hourly_costs(fetched.raw, defaults, pricing.currency)
    rows = choose_phase_per_hour(exported.rows, raw.rows)
    require_one_currency(rows.assign(usage_date=usage_dates(rows)), DAILY_KEY_COLUMNS, "the day")
    rows, namespaces = namespace_breakdown(rows, exported.rows, exported.namespaces, raw.namespaces, hours)
    return CostedChunk(rows, raw.defaulted, namespaces=namespaces)


def cost_chunk(fetched: FetchedChunk, settings: Settings, hours: HourRange, accounts: Sequence[str]) -> CostedChunk:
    """Hourly rows of every account that could be costed, and why the others could not."""
    return replace(_cost_accounts(fetched, settings, hours, accounts), answer=fetched.answer)


def _cost_accounts(fetched: FetchedChunk, settings: Settings, hours: HourRange,
                   accounts: Sequence[str]) -> CostedChunk:
    remaining = set(accounts)
    failures: dict[str, Exception] = {}
    for _ in range(MAX_BATCH_RETRIES + 1):
        try:
            costed = _cost(_only(fetched, remaining), settings, hours)
            costed.failures = failures
            return costed
        except DataError as exc:
            if exc.account not in remaining:
                break
            failures[exc.account] = exc
            remaining.discard(exc.account)
        except Exception:  # an unforeseen error: find the accounts it belongs to, one by one
            log.debug("Costing %s for %d account(s) at once failed; costing them one by one", hours, len(remaining),
                      exc_info=True)
            break
    parts: list[CostedChunk] = []
    for account in sorted(remaining):
        try:
            parts.append(_cost(_only(fetched, {account}), settings, hours))
        except Exception as exc:  # one account's failure must not stop the others
            failures[account] = exc
    return CostedChunk(_concat([part.rows for part in parts], HOURLY_COLUMNS),
                       _concat([part.defaulted for part in parts], DEFAULTED_COLUMNS), failures,
                       _concat([part.namespaces for part in parts], NAMESPACE_HOURLY_COLUMNS))


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
