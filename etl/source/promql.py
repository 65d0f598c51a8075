"""Every PromQL text the tool sends, in one place (the metric names: etl.source.metrics).

Hourly figures are queried once per chunk as range queries with a 1 h step, evaluated at each
hour's END (``hour_start + 1h``): whole hours, multiples of the step, so a Thanos query-frontend
that aligns a range query's start and end to its step moves nothing.

Time-weighted hours. An hour's cost is the integral of a rate over the hour, so each sample must
weigh the time it stands for, not 1/N of the hour. Every gauge is therefore read through a
subquery sampled every minute, ``HOUR_MINUTES`` = ``[1h:1m] offset 1ms``: its points are the
absolute multiples of one minute in the window ending 1 ms before the hour's end, i.e. exactly
hour_start, hour_start + 1 min, ..., hour_start + 59 min. At each point an instant selector holds
the latest sample at or before it (sample and hold, for Prometheus' lookback of 5 minutes at
most), so a sample exactly on an hour boundary stands for the first minute of the hour it opens
and for no minute of the hour before.

Why this form is right on Prometheus 2.x and 3.x / Thanos' v3 engine alike: 3.x made range
selectors and subquery windows left-open (prometheus#13213): a window ``[R] offset o`` at T is
``T-o-R <= t <= T-o`` on 2.x and ``T-o-R < t <= T-o`` on 3.x. The two differ only for a point or
sample exactly on the window's left edge. Here the edges are hour_start - 1 ms and
hour_start + 1 h - 1 ms, never a multiple of the one-minute step, so both engines take the same
60 points. (``[3599999ms] offset 1ms`` puts the left edge on hour_start itself: 3.x drops the
sample or point there.) Raw-sample windows (``HOUR_SAMPLES`` = ``[1h] offset 1ms``, for counters,
presence and the census of bad samples) are exactly [hour_start, hour_end) on 3.x; on 2.x they
also take a sample at hour_start - 1 ms, which only a presence test or a rate of a ratio sees.

Cluster-level gauges (the exporter's $/h, node and volume prices) are averaged over the minutes
that have a value: a gap in scraping is held at the hour's average, and regular samples weigh
alike however sparse (each holds the lookback's 5 minutes). Presence-weighted metrics
(``hourly_presence_sum``: allocations, working sets, load balancers) are summed over the minutes
and divided by 60, so a pod present 20 minutes costs 20 minutes. Copies of one workload or price
(an HA pair, a restart that changes ``pod`` / ``instance``) are averaged minute by minute first.
Non-finite and negative samples are left out at the minutes they would stand for (``FINITE``) and
counted per hour by the census (``with_census``), which etl.source.fetch turns into warnings.

Holds (the rule: etl.source.hold). A sparse series of a presence-weighted metric is read with
``last_over_time(m[H])`` at each minute instead of the lookback: per account and hour, because
``last_over_time`` does not see staleness markers and one sparse cluster must not lengthen every
dense cluster's tails (the ``lookback_delta`` request parameter would keep markers, but an engine
without it ignores it, silently). ``[H]`` at a minute t is [t-H, t] on 2.x and (t-H, t] on 3.x:
they differ only in whether a last sample exactly H before a minute is still seen, never in which
hour a sample opens.

The tail: without a staleness marker (data loaded by promtool, a remote-write sender that died) a
dense series' last sample is still seen for 5 minutes after it (2.x: through last + 5 min, 3.x:
through last + 5 min - 1 ms); a held one for H, markers or not. A series ending mid-hour is
charged up to those minutes more; a whole hour made of a tail holds no sample, and the presence
tests (``present_in_hour``) keep it out.
"""

from __future__ import annotations

from collections.abc import Sequence

from etl.model import CLUSTER_LABEL, HOUR_SECONDS

# The metric names live in etl.source.metrics; those marked are imported for bench/clients.py,
# which reads them here, where they used to live.
from etl.source.metrics import (
    CPU_ALLOCATION_METRIC,  # noqa: F401
    CPU_PRICE_METRIC,  # noqa: F401
    CPU_USAGE_METRIC,  # noqa: F401
    EXPORTER_GROUPING,
    EXPORTER_HEALTH_METRIC,
    EXPORTER_METRICS,  # noqa: F401
    EXPORTER_PRESENCE_METRIC,
    LOAD_BALANCER_COST_METRIC,  # noqa: F401
    PV_PRICE_METRIC,  # noqa: F401
    PVC_ALLOCATION_METRIC,  # noqa: F401
    RAM_ALLOCATION_METRIC,  # noqa: F401
    RAM_PRICE_METRIC,  # noqa: F401
    RAM_USAGE_METRIC,  # noqa: F401
)

# Seconds from an hour's start to the evaluation instant that covers that hour (step-aligned).
HOUR_EVAL_OFFSET_SECONDS = HOUR_SECONDS
# Evaluated at the hour's end: the hour's 60 minutes (a subquery), and the hour's raw samples.
MINUTES_PER_HOUR = HOUR_SECONDS // 60
HOUR_MINUTES = "[1h:1m] offset 1ms"
HOUR_SAMPLES = "[1h] offset 1ms"
# Sample and hold: Prometheus' lookback (its default), and the holds of sparser series (minutes).
LOOKBACK_MINUTES, MAX_HOLD_MINUTES = 5, 60
# The samples a probe counts per series, evaluated at the hour's end: the hour and the one before;
# from DENSE_SAMPLES on (a sample every 5 minutes) the lookback holds them. Tiled in 10-minute
# windows, the same two hours show a burst: 3 samples in one window, scraped about every 5 minutes.
DENSITY_WINDOW, DENSITY_WINDOW_MINUTES = "[2h] offset 1ms", 120
DENSE_SAMPLES = DENSITY_WINDOW_MINUTES // LOOKBACK_MINUTES
BURST_WINDOWS, BURST_SAMPLES = ("[10m] offset 1ms", "[1h59m:10m]"), 3
PROBE_LABEL = "etl_probe"
# Sample filters: money, amounts and efficiencies are finite and never negative; a price is positive.
FINITE = ">= 0 < Inf"
PRICE = "> 0 < Inf"
# Labels the queries add to tell series apart: the census of bad samples (with_census) and the
# two kinds of minutes of exporter_coverage.
CENSUS_LABEL, CENSUS_VALUE = "etl_check", "bad_samples"
MINUTES_LABEL = "etl_minutes"

def promql_string(value: str) -> str:
    """Quote a value as a PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# The characters that are special in an RE2 regex outside a character class.
REGEX_META_CHARACTERS = frozenset("\\.+*?()|[]{}^$")


def _regex_literal(value: str) -> str:
    """``value`` as an RE2 literal, escaping only the regex metacharacters. Prometheus turns a
    matcher that is an alternation of such literals into a lookup of each value (set matching); a
    backslash before any other character (as re.escape puts before "-") makes it match every value
    of the label against the whole regex instead, in every query."""
    return "".join(f"\\{char}" if char in REGEX_META_CHARACTERS else char for char in value)


def account_selector(account_label: str, accounts: Sequence[str]) -> str:
    """Label matcher restricting a selector to the given accounts (empty -> every account)."""
    if not accounts:
        return f'{account_label}!=""'
    alternatives = "|".join(_regex_literal(account) for account in sorted(set(accounts)))
    return f"{account_label}=~{promql_string(alternatives)}"


def series_selector(metric: str, account_label: str, accounts: Sequence[str], extra_matchers: str = "") -> str:
    matchers = account_selector(account_label, accounts)
    return f"{metric}{{{matchers}, {extra_matchers}}}" if extra_matchers else f"{metric}{{{matchers}}}"


def _grouping(account_label: str, by: Sequence[str]) -> str:
    return ", ".join([account_label, *by])


def present_in_hour(selector: str, grouping: str) -> str:
    """1 per ``grouping`` group that has a real sample (not a held one) in the hour."""
    return f"group by ({grouping}) (count_over_time({selector}{HOUR_SAMPLES}))"


def with_census(value: str, selector: str, account_label: str) -> str:
    """``value`` plus, per account and hour, the number of series of ``selector`` holding a sample
    that is not money (NaN, +-Inf or negative), marked ``CENSUS_LABEL``."""
    window = f"{selector}{HOUR_SAMPLES}"
    # Two passes over the samples: a NaN or infinite sample makes the sum NaN or infinite (its
    # ``< bool Inf`` 0), a negative one (or -Inf) shows in the minimum.
    bad = (f"count by ({account_label}) ((sum_over_time({window}) < bool Inf) == 0 or "
           f"min_over_time({window}) < 0)")
    return f"({value}) or label_replace({bad}, \"{CENSUS_LABEL}\", \"{CENSUS_VALUE}\", \"\", \"\")"


def _unhealthy(account_label: str, accounts: Sequence[str]) -> str:
    """1 per cluster at each instant its exporter reports a failed scrape of its source."""
    health = series_selector(EXPORTER_HEALTH_METRIC, account_label, accounts)
    return f"min by ({account_label}, {CLUSTER_LABEL}) ({health}) == 0"


def exporter_gauge(metric: str, account_label: str, accounts: Sequence[str], trailing_24h: bool,
                   by: Sequence[str] = EXPORTER_GROUPING, summed: bool = False, extra_matchers: str = "") -> str:
    """Per account, cluster and currency (``by``; with ``namespace`` for the breakdown): the
    gauge's average over the hour's healthy minutes, or with ``summed`` its sum over them (a
    namespace's minutes, divided by its cluster's in etl.costing.exporter_namespaces); for
    trailing 24-hour gauges its value at the last healthy minute of the hour. With the census.

    Several series of one group at one minute are copies (an HA pair, the two sides of a restart)
    and are averaged; clusters are kept apart (etl.costing.parts sums them). A minute is healthy
    unless the cluster's exporter reported ``scrape_success`` 0 at it (no health gauge: healthy).
    """
    selector = series_selector(metric, account_label, accounts, extra_matchers)
    per_cluster = _grouping(account_label, by)
    healthy = (f"avg by ({per_cluster}) ({selector} {FINITE}) unless on ({account_label}, {CLUSTER_LABEL}) "
               f"({_unhealthy(account_label, accounts)})")
    function = "last_over_time" if trailing_24h else "sum_over_time" if summed else "avg_over_time"
    return with_census(f"{function}(({healthy}){HOUR_MINUTES})", selector, account_label)


def exporter_coverage(account_label: str, accounts: Sequence[str]) -> str:
    """Per account, cluster and currency, for hours holding a real sample of the presence gauge:
    its minutes with a value while the exporter was healthy and while it reported failed scrapes,
    marked ``MINUTES_LABEL`` = "healthy" / "unhealthy"."""
    selector = series_selector(EXPORTER_PRESENCE_METRIC, account_label, accounts)
    per_cluster = _grouping(account_label, EXPORTER_GROUPING)
    valued = f"group by ({per_cluster}) ({selector} {FINITE})"
    present = present_in_hour(selector, per_cluster)
    parts = []
    for name, operator in (("healthy", "unless"), ("unhealthy", "and")):
        minutes = (f"count_over_time(({valued} {operator} on ({account_label}, {CLUSTER_LABEL}) "
                   f"({_unhealthy(account_label, accounts)})){HOUR_MINUTES})")
        parts.append(f"label_replace({minutes} and on ({per_cluster}) {present}, "
                     f"\"{MINUTES_LABEL}\", \"{name}\", \"\", \"\")")
    return " or ".join(parts)


def hourly_price(metric: str, account_label: str, accounts: Sequence[str], by: Sequence[str]) -> str:
    """Per account and ``by`` labels (a node or volume): the price averaged over the hour's minutes
    that have one, copies averaged minute by minute; 0, negative and non-finite samples are no price."""
    selector = series_selector(metric, account_label, accounts)
    grouping = _grouping(account_label, by)
    value = f"avg_over_time((avg by ({grouping}) ({selector} {PRICE})){HOUR_MINUTES})"
    return with_census(value, selector, account_label)


def hourly_presence_sum(
    metric: str,
    account_label: str,
    accounts: Sequence[str],
    identity: Sequence[str],
    by: Sequence[str] = (),
    extra_matchers: str = "",
    hold_minutes: int | None = None,
) -> str:
    """Per account (and ``by`` labels), the workloads' amount averaged over the WHOLE hour: a
    workload (one combination of the ``identity`` labels) absent for part of the hour counts 0
    there, so a pod present 20 minutes counts for 20 minutes. Copies of one workload (a restart of
    OpenCost changes its ``instance`` label; an HA pair) are averaged minute by minute. Groups
    without a real sample in the hour (a tail only) are left out. Each sample is held for the
    lookback, with the census; or, given ``hold_minutes``, for that long, without it (see Holds)."""
    selector = series_selector(metric, account_label, accounts, extra_matchers)
    held = selector if hold_minutes is None else f"last_over_time({selector}[{hold_minutes}m])"
    grouping = _grouping(account_label, by)
    per_workload = _grouping(account_label, [*by, *(label for label in identity if label not in by)])
    summed = f"sum by ({grouping}) (avg by ({per_workload}) ({held} {FINITE}))"
    value = (f"sum_over_time(({summed}){HOUR_MINUTES}) / {MINUTES_PER_HOUR} "
             f"and on ({grouping}) {present_in_hour(selector, grouping)}")
    return value if hold_minutes is not None else with_census(value, selector, account_label)


def sampling_density(metric: str, account_label: str, accounts: Sequence[str], extra_matchers: str = "") -> str:
    """Per account: the most samples one series of ``metric`` has in the hour and the hour before,
    or DENSE_SAMPLES if more: one series has a burst there (a short-lived pod scraped every minute)."""
    selector = series_selector(metric, account_label, accounts, extra_matchers)
    window, tiles = BURST_WINDOWS
    burst = f"(max_over_time(count_over_time({selector}{window}){tiles}) >= {BURST_SAMPLES}) * 0 + {DENSE_SAMPLES}"
    parts = [f"label_replace({value}, \"{PROBE_LABEL}\", \"{name}\", \"\", \"\")"
             for name, value in (("count", f"count_over_time({selector}{DENSITY_WINDOW})"), ("burst", burst))]
    return f"max by ({account_label}) ({' or '.join(parts)})"


def hourly_counter_rate(
    metric: str, account_label: str, accounts: Sequence[str], identity: Sequence[str], extra_matchers: str = "",
    by: Sequence[str] = (),
) -> str:
    """Per account (and ``by`` labels of the identity), the summed per-second rate of a counter over
    each hour: for a CPU-seconds counter, the mean number of cores used in the hour (a container
    running part of the hour adds its part). Copies of one series (an HA pair: the same ``identity``
    labels) count once (max); a restarted container has another ``id`` and adds up. ``rate``
    extrapolates the increase it sees to the window's edges (up to 1.1 sample intervals, or half an
    interval) and handles resets. A non-finite sample makes the account's hour NaN, which
    etl.source.fetch drops with a warning: the efficiency is then unknown, never a guess."""
    selector = series_selector(metric, account_label, accounts, extra_matchers)
    grouping = _grouping(account_label, by)
    value = f"sum by ({grouping}) (max by ({_grouping(account_label, identity)}) (rate({selector}{HOUR_SAMPLES})))"
    return with_census(value, selector, account_label)


def discovery_matchers(metrics: Sequence[str], account_label: str) -> list[str]:
    """``match[]`` selectors for the label-values API: series of these metrics carrying the label."""
    return [f'{metric}{{{account_label}!=""}}' for metric in metrics]


def series_of(metric: str) -> str:
    """``match[]`` selector for every series of one metric, whatever its labels."""
    return f"{{__name__={promql_string(metric)}}}"


def accounts_with_samples_within(metric: str, account_label: str, hours: int) -> str:
    """Instant query: one series per account that has a sample of ``metric`` in the last ``hours``."""
    return f'count by ({account_label}) (count_over_time({metric}{{{account_label}!=""}}[{hours}h]))'
