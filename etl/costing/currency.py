"""One currency per figure: money in two currencies is never added (model.CURRENCY_COLUMN)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from etl.errors import CurrencyMixError
from etl.model import ACCOUNT_COLUMN, CURRENCY_COLUMN, hour_label


def require_one_currency(rows: pd.DataFrame, keys: Sequence[str], what: str) -> None:
    """Raise CurrencyMixError for the first ``keys`` group holding two currencies."""
    counts = rows.groupby(list(keys), sort=True)[CURRENCY_COLUMN].nunique()
    mixed = counts[counts > 1]
    if mixed.empty:
        return
    key = mixed.index[0] if len(keys) > 1 else (mixed.index[0],)
    where = dict(zip(keys, key, strict=True))
    selected = rows[(rows[list(keys)] == pd.Series(where)).all(axis=1)]
    label = hour_label(pd.Timestamp(where["hour_start"])) if "hour_start" in where else str(where["usage_date"])
    raise CurrencyMixError(str(where[ACCOUNT_COLUMN]), sorted(set(selected[CURRENCY_COLUMN])), f"{what} {label}")
