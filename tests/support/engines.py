"""The Prometheus 3.x engine (and Thanos' v3 engine) evaluated by the Prometheus 2.x these tests run.

Prometheus 3.0 made range selectors, subquery ranges and the instant-vector lookback left-open
(prometheus#13213): ``m[R] offset o`` at T selects the samples with ``T-o-R < t <= T-o`` where
2.x took ``T-o-R <= t <= T-o``; a subquery's points are the multiples of its step in that same
left-open window (3.x's engine starts at the first multiple *after* ``T-o-R``; Thanos' engine
drops points before ``T-o-R+1ms``); the lookback of an instant selector at t is ``(t-5m, t]``.
Timestamps are whole milliseconds, so ``(a, b]`` is ``[a+1ms, b]``: a 2.x server answers exactly
as 3.x would when every range in the query is 1 ms shorter (``left_open_ranges``) and its
lookback delta is 1 ms shorter (``LEFT_OPEN_LOOKBACK_FLAGS``). Tests run the same backfill on both
to prove a figure does not depend on the engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from etl.demo.prometheus import SampleSeries
from tests.support.faultproxy import FaultProxy

LEFT_OPEN_LOOKBACK_FLAGS = ("--query.lookback-delta=299999ms",)  # (t-5m, t] on whole milliseconds

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
            "y": 31_536_000_000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
# A range or subquery range: "[" then a duration, then "]" or ":".
_RANGE = re.compile(r"\[((?:\d+(?:ms|s|m|h|d|w|y))+)(?=[:\]])")


def duration_ms(text: str) -> int:
    return sum(int(number) * _UNIT_MS[unit] for number, unit in _PART.findall(text))


def left_open_ranges(query: str) -> str:
    """The query with every range and subquery range 1 ms shorter: ``[1h:1m]`` -> ``[3599999ms:1m]``."""
    return _RANGE.sub(lambda match: f"[{duration_ms(match.group(1)) - 1}ms", query)


@dataclass(frozen=True)
class EngineUnderTest:
    name: str  # "2.x" or "3.x"
    url: str
    tail_minutes: int  # whole minutes a minute-aligned last sample is still seen by the lookback after its own


ENGINES = ("2.x", "3.x")


@contextmanager
def serve_as(engine: str, prometheus_with: Callable[..., str], name: str,
             series: Sequence[SampleSeries]) -> Iterator[EngineUnderTest]:
    """A real Prometheus loaded with ``series``, answering as ``engine`` does: 2.x as it is, 3.x
    through a proxy making every range and the lookback left-open (see the module docstring)."""
    if engine == "2.x":
        yield EngineUnderTest(engine, prometheus_with(name, series), 5)
        return
    upstream = prometheus_with(f"{name}-left-open", series, flags=LEFT_OPEN_LOOKBACK_FLAGS)
    with FaultProxy(upstream, rewrite_query=left_open_ranges) as proxy:
        yield EngineUnderTest(engine, proxy.url, 4)
