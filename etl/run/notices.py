"""Default-price warnings said once per account and resource per run, and only for hours that used them.

Phase 1 prices a node or volume without a published price at the configured default
(etl.costing.raw). Whether an hour used that price is known only after the phase choice: an hour
the exporter covers never used it, so warning about it would send the reader after a problem that
cost nothing. A run also works chunk by chunk; the same unpriced node in every chunk is one fact.
"""

from __future__ import annotations

import pandas as pd

from etl.costing.prices import log_default_prices
from etl.model import ACCOUNT_COLUMN, KEY_COLUMNS, PHASE_COLUMN, PHASE_RAW, HourRange

RESOURCE_KEY = [ACCOUNT_COLUMN, "resource", "kind", "name"]


class DefaultPriceNotices:
    """One per run (etl.run.pipeline.Pipeline.run_range): remembers what it has said."""

    def __init__(self) -> None:
        self._said: set[tuple[str, ...]] = set()

    def warn(self, defaulted: pd.DataFrame, chosen: pd.DataFrame, hours: HourRange) -> None:
        """Warn about the (account, hour, resource) rows of ``defaulted`` whose hour chose Phase 1 in
        ``chosen``, for resources not warned about before in this run."""
        if defaulted.empty or chosen.empty:
            return
        raw_hours = chosen.loc[chosen[PHASE_COLUMN] == PHASE_RAW, KEY_COLUMNS]
        used = defaulted.merge(raw_hours.assign(hour_start=pd.to_datetime(raw_hours["hour_start"], utc=True)),
                               on=KEY_COLUMNS)
        keys = pd.Series([tuple(map(str, key)) for key in used[RESOURCE_KEY].itertuples(index=False)],
                         index=used.index, dtype=object)
        fresh = used[~keys.isin(self._said)]
        self._said.update(keys)
        log_default_prices(fresh, hours)
