"""The backfill bar: total known up front, percentage and ETA, the accounts and the chunk in work."""

from __future__ import annotations

import io
from datetime import date

from tqdm import tqdm

from etl.cli.progress import BAR_FORMAT, BackfillBar


def test_the_bar_counts_account_days_of_a_known_total_and_names_the_chunk() -> None:
    out = io.StringIO()
    # 2 accounts x 10 days in chunks of 7 days: 2026-09-01..07 and 2026-09-08..10
    bar = tqdm(total=20, desc="backfill", bar_format=BAR_FORMAT, file=out, ncols=200, mininterval=0)
    progress = BackfillBar(bar, ["acct-a", "acct-b"], date(2026, 9, 1), date(2026, 9, 10), 7)
    assert "0%" in out.getvalue() and "2 account(s): acct-a, acct-b; chunk 2026-09-01..2026-09-07" in out.getvalue()
    progress.advance(2 * 7)  # the first chunk of both accounts is done
    screen = out.getvalue().split("\r")[-1]
    assert "70%" in screen and "14/20 account-days" in screen and "chunk 2026-09-08..2026-09-10" in screen
    progress.advance(2 * 3)
    screen = out.getvalue().split("\r")[-1]
    assert "100%" in screen and "20/20 account-days" in screen
    bar.close()


def test_many_accounts_are_summarised() -> None:
    bar = tqdm(total=5, file=io.StringIO(), bar_format=BAR_FORMAT)
    progress = BackfillBar(bar, [f"a{i}" for i in range(5)], date(2026, 9, 1), date(2026, 9, 1), 7)
    assert progress.accounts == "5 account(s): a0, a1, a2, …"
    bar.close()
