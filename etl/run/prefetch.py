"""The next chunk's fetch in flight while this one is costed, checked and written.

A batch's chunks are independent until they are written, and a chunk's time is Thanos' (the
fetch) then the tool's own (costing, the answer check, the write), one after the other. Fetching
the next chunk of the batch as soon as this one's answers are in keeps Thanos busy while the tool
works: a long backfill (a batch of a year is 13 chunks) takes about the longer of the two, not
their sum.

At most one fetch waits ahead, keyed by what it asks (accounts, hours, discovery window): a chunk
takes it only if it would ask exactly that, so the figures are those of a fetch made in its turn.
Its failure is raised where the chunk takes it, as its own fetch's would be. A fetch nobody takes
(a stop request, a run ending) is waited for and dropped: nothing is left running against Thanos.
While one waits ahead, asking again for a suspect answer (etl.run.recheck) may briefly double the
queries in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Prefetch(Generic[T]):
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
        self._waiting: tuple[Hashable, Future[T]] | None = None

    def start(self, key: Hashable, fetch: Callable[[], T]) -> None:
        """Begin ``fetch`` for ``key`` (dropping any other waiting)."""
        self.drop()
        self._waiting = (key, self._pool.submit(fetch))

    def take(self, key: Hashable, fetch: Callable[[], T]) -> T:
        """The waiting fetch's result if it was for ``key`` (its error raised), else ``fetch()``."""
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            if waiting[0] == key:
                return waiting[1].result()
            log.debug("A fetch ahead for %s was not the one needed (%s): dropped", waiting[0], key)
            waiting[1].exception()  # waits for it
        return fetch()

    def drop(self) -> None:
        """Wait for a fetch nobody will take, and forget it (its error included)."""
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            waiting[1].exception()  # waits; what it raised is nobody's business now
