"""The schedule/catch-up settings: defaults, environment overrides, and errors that name the variable."""

from __future__ import annotations

import pytest

from etl.config import load_settings
from etl.errors import ConfigError


def test_defaults_run_hourly_a_few_minutes_past_the_hour() -> None:
    settings = load_settings(environ={})
    assert settings.schedule.cron == "7 * * * *" and settings.schedule.run_on_start is True
    assert settings.schedule.health_port == 9464
    assert settings.run.max_catchup_days == 31 and settings.run.accounts_per_claim is None  # auto


@pytest.mark.parametrize(("raw", "expected"), [("auto", None), ("AUTO", None), ("25", 25)])
def test_accounts_per_claim_is_a_number_or_auto(raw: str, expected: int | None) -> None:
    assert load_settings(environ={"ACCOUNTS_PER_CLAIM": raw}).run.accounts_per_claim == expected


def test_environment_overrides() -> None:
    settings = load_settings(environ={
        "SCHEDULE_CRON": "*/15 * * * *", "SCHEDULE_RUN_ON_START": "false", "HEALTH_PORT": "0",
        "MAX_CATCHUP_DAYS": "7", "ACCOUNTS_PER_CLAIM": "1", "SCHEDULE_MISFIRE_GRACE_SECONDS": "60",
    })
    assert settings.schedule.cron == "*/15 * * * *" and settings.schedule.run_on_start is False
    assert settings.schedule.health_port == 0 and settings.schedule.misfire_grace_seconds == 60
    assert settings.run.max_catchup_days == 7 and settings.run.accounts_per_claim == 1


@pytest.mark.parametrize(("variable", "value"), [
    ("SCHEDULE_CRON", "every hour"), ("SCHEDULE_CRON", "61 * * * *"), ("HEALTH_PORT", "70000"),
    ("MAX_CATCHUP_DAYS", "0"), ("ACCOUNTS_PER_CLAIM", "0"), ("ACCOUNTS_PER_CLAIM", "many"),
])
def test_bad_values_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(environ={variable: value})
