"""The backfill's progress bar: account-days done of a total known before it starts, percentage,
ETA, the accounts and the chunk in work; log lines print above it instead of through it."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from etl.run.catchup import day_chunks

BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} account-days [{elapsed}<{remaining}]{postfix}"
SHOWN_ACCOUNTS = 3


class BackfillBar:
    """Counts account-days. The runner reports each chunk of each batch of accounts once, in order
    (etl.run.pipeline.run_range calls ``progress`` after every chunk, done or resumed): so the
    n-th report of a batch closes its n-th chunk, and the next one is the chunk in work."""

    def __init__(self, bar: Any, accounts: Sequence[str], first_day: date, last_day: date, chunk_days: int) -> None:
        self.bar = bar
        self.chunks = day_chunks(first_day, last_day, chunk_days)
        self.next_chunk = 0
        shown = ", ".join(accounts[:SHOWN_ACCOUNTS]) + (", …" if len(accounts) > SHOWN_ACCOUNTS else "")
        self.accounts = f"{len(accounts)} account(s): {shown}" if accounts else "no accounts"
        self._show()

    def _show(self) -> None:
        first, last = self.chunks[self.next_chunk] if self.chunks else (None, None)
        self.bar.set_postfix_str(f"{self.accounts}; chunk {first}..{last}", refresh=True)

    def advance(self, account_days: int) -> None:
        self.bar.update(account_days)
        self.next_chunk = (self.next_chunk + 1) % max(len(self.chunks), 1)
        self._show()


@contextmanager
def backfill_progress(accounts: Sequence[str], first_day: date, last_day: date,
                      chunk_days: int) -> Iterator[BackfillBar]:
    """A bar on a terminal (nothing otherwise), with logging routed above it while it lives."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    days = (last_day - first_day).days + 1
    bar = tqdm(total=len(accounts) * days, desc="backfill", bar_format=BAR_FORMAT, file=sys.stderr,
               disable=not sys.stderr.isatty(), dynamic_ncols=True)
    try:
        with logging_redirect_tqdm():
            yield BackfillBar(bar, accounts, first_day, last_day, chunk_days)
    finally:
        bar.close()
