"""Default prices: OpenCost's defaults unless overridden; nonsense is refused with the field named."""

from __future__ import annotations

import pytest

from etl.config import load_settings
from etl.errors import ConfigError


def test_defaults_are_opencosts() -> None:
    pricing = load_settings(environ={}).pricing
    assert (pricing.default_cpu_price, pricing.default_ram_price, pricing.default_storage_price) == (
        0.031611, 0.004237, 0.00005479452)


def test_environment_overrides_default_prices() -> None:
    pricing = load_settings(environ={"DEFAULT_CPU_PRICE": "0.05", "DEFAULT_RAM_PRICE": "0.006",
                                     "DEFAULT_STORAGE_PRICE": "0.0001"}).pricing
    assert (pricing.default_cpu_price, pricing.default_ram_price, pricing.default_storage_price) == (
        0.05, 0.006, 0.0001)


@pytest.mark.parametrize("raw", ["0", "-1", "cheap"])
def test_unusable_default_price_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="DEFAULT_CPU_PRICE"):
        load_settings(environ={"DEFAULT_CPU_PRICE": raw})
