"""An answer that looks incomplete is asked for once more, then refused for the accounts it lacks.

After a chunk is costed and before it is written, the answer is held against itself and the
stored rows (etl.run.suspect). The accounts whose answer is suspect are asked for again, once,
after ``thanos.backoff_seconds`` (Thanos may have registered the missing store meanwhile); an
account whose second answer is whole is written from it, one whose second answer is still suspect
fails for the chunk (SuspectAnswerError, step "check": exit 1) and nothing of it is written. The
other accounts of the chunk are written from the first answer.

With ``allow_removal`` (``--allow-removal``: the data is known to be gone) the answer is stored as
it is, stored hours it lacks deleted, each suspicion logged as a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import Engine

from etl.errors import EtlError, SuspectAnswerError
from etl.model import ACCOUNT_COLUMN, HourRange
from etl.run.chunk import CostedChunk
from etl.run.suspect import evidence_range, findings
from etl.store.reader import fetch_stored_hours

log = logging.getLogger(__name__)
AskAgain = Callable[[list[str]], CostedChunk]  # the same chunk's hourly costs for these accounts


@dataclass(frozen=True)
class AnswerCheck:
    engine: Engine
    allow_removal: bool
    pause_seconds: float

    def checked(self, costed: CostedChunk, accounts: Sequence[str], hours: HourRange,
                ask_again: AskAgain) -> CostedChunk:
        """``costed`` with the accounts whose answer stays suspect moved to its failures (and, for
        those whose second answer is whole, that answer's rows)."""
        candidates = [name for name in accounts if name not in costed.failures]
        stored = fetch_stored_hours(self.engine, candidates, evidence_range(hours))
        suspects = findings(costed.answer, costed.rows, stored, hours, candidates)
        if not suspects:
            return costed
        if self.allow_removal:
            for name, found in sorted(suspects.items()):
                log.warning("Account %s: Thanos' answer for %s looks incomplete (%s); stored as it is "
                            "(--allow-removal)", name, hours, "; ".join(found))
            return costed
        names = sorted(suspects)
        log.warning("Thanos' answer for %s looks incomplete for %d account(s) (%s): asking Thanos again for them",
                    hours, len(names), ", ".join(names))
        time.sleep(self.pause_seconds)
        try:
            again = ask_again(names)
        except EtlError as exc:
            failed: dict[str, Exception] = {
                name: SuspectAnswerError(name, suspects[name], f"asking again failed: {exc}") for name in names}
            return _replaced(costed, names, None, failed)
        retried = [name for name in names if name not in again.failures]
        still = findings(again.answer, again.rows, stored, hours, retried)
        failed = {**again.failures, **{name: SuspectAnswerError(name, found, "still so when asked again")
                                       for name, found in still.items()}}
        for name in sorted(set(names) - set(failed)):
            log.info("Account %s: the second answer for %s is whole; it is written", name, hours)
        return _replaced(costed, names, again, failed)


def _replaced(costed: CostedChunk, names: list[str], again: CostedChunk | None,
              failed: dict[str, Exception]) -> CostedChunk:
    """``costed`` with ``names``' rows taken from ``again`` (none for the ``failed``)."""
    cleared = [name for name in names if name not in failed]

    def swap(first: pd.DataFrame, second: pd.DataFrame | None) -> pd.DataFrame:
        kept = first[~first[ACCOUNT_COLUMN].isin(names)]
        taken = second[second[ACCOUNT_COLUMN].isin(cleared)] if second is not None else second
        return kept if taken is None or taken.empty else pd.concat([kept, taken], ignore_index=True)

    return replace(costed, rows=swap(costed.rows, again.rows if again else None),
                   defaulted=swap(costed.defaulted, again.defaulted if again else None),
                   namespaces=swap(costed.namespaces, again.namespaces if again else None),
                   failures={**costed.failures, **failed})
