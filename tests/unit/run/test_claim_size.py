"""How many accounts a claim batch takes (etl.run.claims.claim_size)."""

from __future__ import annotations

import pytest

from etl.run.claims import claim_size


@pytest.mark.parametrize(("chunk_days", "expected"), [
    (30, 50),    # a chunk of 30 days: 50 accounts (1,500 account-days)
    (20, 60),    # 1,200 account-days
    (7, 171),    # a week's backfill: 1,200 // 7
    (1, 500),    # a day: at most 500 accounts per query
])
def test_auto_takes_about_1200_account_days_per_chunk_between_50_and_500_accounts(chunk_days: int,
                                                                                   expected: int) -> None:
    assert claim_size(None, chunk_days) == expected


def test_a_cycle_takes_50_its_accounts_catch_up_over_different_days() -> None:
    assert claim_size(None, None) == 50


@pytest.mark.parametrize("chunk_days", [None, 1, 30])
def test_a_configured_number_is_taken_as_it_is(chunk_days: int | None) -> None:
    assert claim_size(1, chunk_days) == 1 and claim_size(80, chunk_days) == 80
