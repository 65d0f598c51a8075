"""backfill --shard I/N: every account in exactly one shard, the same one in every process."""

from __future__ import annotations

import pytest

from etl.errors import InputError
from etl.run.shard import Shard, parse_shard

ACCOUNTS = [f"acct-{index:04d}" for index in range(300)] + ['acct-"quoted"\\back', "ünïcode"]


def test_every_account_is_in_exactly_one_shard() -> None:
    shards = [Shard(index, 4) for index in range(4)]
    owners = {account: [shard.index for shard in shards if shard.holds(account)] for account in ACCOUNTS}
    assert all(len(found) == 1 for found in owners.values())
    # a hash spreads them: no shard is empty or holds most of them
    sizes = [sum(1 for found in owners.values() if found == [shard.index]) for shard in shards]
    assert sum(sizes) == len(ACCOUNTS) and min(sizes) > len(ACCOUNTS) / 8


def test_the_shard_of_an_account_depends_on_its_id_only() -> None:
    # whatever order or subset of accounts a process discovered
    shard = Shard(1, 3)
    mine = shard.select(ACCOUNTS)
    assert shard.select(list(reversed(ACCOUNTS))) == list(reversed(mine))
    assert shard.select(ACCOUNTS[::2]) == [account for account in mine if account in ACCOUNTS[::2]]
    # fixed across processes and releases (sha256, not Python's salted hash): a moved account
    # would be computed by two pods of one Indexed Job, or by none
    assert [Shard(index, 3).holds("acct-0000") for index in range(3)] == [False, False, True]


def test_one_shard_holds_everything() -> None:
    assert Shard(0, 1).select(ACCOUNTS) == ACCOUNTS


@pytest.mark.parametrize("raw", ["3/3", "-1/2", "1/0", "1", "a/b", "1/2/3", ""])
def test_bad_shards_are_refused_with_the_expected_form(raw: str) -> None:
    with pytest.raises(InputError, match="--shard"):
        parse_shard(raw)


def test_parse() -> None:
    assert parse_shard(" 2/5 ") == Shard(2, 5) and str(Shard(2, 5)) == "2/5"
