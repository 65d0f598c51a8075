"""The vocabulary's money units and hour ranges."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from etl.model import nano_to_decimal, to_nano


def test_nano_dollars_round_trip_exactly() -> None:
    assert to_nano(pd.Series([0.1, 1e-10, np.nan])).tolist() == [100_000_000, 0, 0]
    assert nano_to_decimal(123_456_789_012) == Decimal("123.456789012")
