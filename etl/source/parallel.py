"""Several queries of one chunk in flight at once (``thanos.max_concurrent_queries``).

A chunk's queries are independent: sent one after another, each waits for the query engine in
turn and the engine works on one at a time, while Thanos (and Prometheus) evaluate concurrent
queries on all their cores. Results come back in the order of the calls; the first failure (in
that order) is raised once every call has ended, so a chunk still fails whole, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def fetch_concurrently(calls: Sequence[Callable[[], T]], workers: int) -> list[T]:
    if workers <= 1 or len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(workers, len(calls)), thread_name_prefix="thanos-query") as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]
