"""Process memory settings of the command line, made before pandas (and pyarrow) load.

A chunk's answers are parsed in several threads (thanos.max_concurrent_queries), and the memory they
take is given back to the allocators, not to the system: glibc keeps an arena per thread that ever
allocated, pyarrow's own pool (pandas' strings) keeps what it held. Peak RSS is their high-water mark,
not the data (a 100 accounts x 30 days backfill holds at most ~65 MB of Python objects, and its RSS
was 333 MB). With two glibc arenas and pyarrow on the system allocator it was 282 MB, at the same
speed (bench/bench_fleet.py, variants tool@MALLOC_ARENA_MAX=2@ARROW_DEFAULT_MEMORY_POOL=system). An
operator's own MALLOC_ARENA_MAX or ARROW_DEFAULT_MEMORY_POOL wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's mallopt parameter
ARENAS = 2


def limit_allocator_caches() -> None:
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if "MALLOC_ARENA_MAX" in os.environ:  # glibc read it at start
        return
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):  # glibc; musl and others have no arenas to limit
            libc.mallopt(M_ARENA_MAX, ARENAS)
    except OSError:
        pass
