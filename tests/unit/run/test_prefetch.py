"""etl.run.prefetch: one fetch waits ahead; a chunk takes it only if it asks exactly that."""

from __future__ import annotations

import threading

import pytest

from etl.errors import EtlError
from etl.run.prefetch import Prefetch


def test_the_fetch_ahead_is_taken_by_the_chunk_that_asks_for_it() -> None:
    prefetch: Prefetch[str] = Prefetch()
    started = threading.Event()

    def ahead() -> str:
        started.set()
        return "ahead"

    prefetch.start(("b", 2), ahead)
    assert started.wait(5)  # in flight before anyone asks
    assert prefetch.take(("b", 2), lambda: "in its turn") == "ahead"
    assert prefetch.take(("b", 2), lambda: "in its turn") == "in its turn"  # taken once


def test_a_fetch_ahead_for_other_work_is_dropped_and_the_chunk_fetches_its_own() -> None:
    prefetch: Prefetch[str] = Prefetch()
    done = threading.Event()

    def ahead() -> str:
        done.wait(5)
        return "for other accounts"

    prefetch.start(("a", 1), ahead)
    done.set()
    assert prefetch.take(("b", 1), lambda: "own") == "own"
    assert prefetch.take(("a", 1), lambda: "own again") == "own again"  # the dropped one is gone


def test_the_error_of_a_fetch_ahead_is_raised_where_the_chunk_takes_it() -> None:
    prefetch: Prefetch[str] = Prefetch()

    def failing() -> str:
        raise EtlError("Thanos answered 503")

    prefetch.start("key", failing)
    with pytest.raises(EtlError, match="503"):
        prefetch.take("key", lambda: "never")


def test_drop_waits_for_the_fetch_in_flight_and_forgets_its_error() -> None:
    prefetch: Prefetch[str] = Prefetch()
    release, finished = threading.Event(), threading.Event()

    def slow() -> str:
        release.wait(5)
        finished.set()
        raise EtlError("late failure")

    prefetch.start("key", slow)
    threading.Timer(0.2, release.set).start()
    prefetch.drop()
    assert finished.is_set()  # nothing left running against Thanos
    assert prefetch.take("key", lambda: "fetched again") == "fetched again"
