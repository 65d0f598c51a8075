"""The command line's grammar: global flags anywhere, dates that a range can hold."""

from __future__ import annotations

from datetime import date

import pytest

from etl.cli import parser
from etl.config import CONFIG_FILE_ENV
from etl.errors import InputError


def test_global_flags_work_before_and_after_the_command() -> None:
    before = parser.build_parser().parse_args(["--config", "a.yaml", "--log-level", "DEBUG", "run"])
    after = parser.build_parser().parse_args(["run", "--config", "a.yaml", "--log-format", "json"])
    neither = parser.build_parser().parse_args(["run"])
    assert (before.config, before.log_level, before.log_format) == ("a.yaml", "DEBUG", None)
    assert (after.config, after.log_level, after.log_format) == ("a.yaml", None, "json")
    assert (neither.config, neither.log_level, neither.log_format) == (None, None, None)


def test_a_flag_after_the_command_wins_over_the_same_flag_before_it() -> None:
    args = parser.build_parser().parse_args(["--log-level", "INFO", "doctor", "--log-level", "ERROR"])
    assert args.log_level == "ERROR"


def test_the_parser_names_the_config_variable_the_settings_read() -> None:
    assert parser.CONFIG_FILE_ENV == CONFIG_FILE_ENV


def test_the_last_representable_day_is_refused_with_the_flag_named() -> None:
    assert parser.parse_day("9999-12-30", "--end") == date(9999, 12, 30)
    with pytest.raises(InputError, match="--end '9999-12-31': too far in the future"):
        parser.parse_day("9999-12-31", "--end")


@pytest.mark.parametrize(("flag", "value"), [("--window-days", "0"), ("--window-days", "999999999"),
                                             ("--stale-hours", "10000000000"), ("--stale-hours", "x")])
def test_doctor_counts_that_no_date_can_hold_are_argument_errors(flag: str, value: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["doctor", flag, value])
    assert exit_.value.code == 2 and f"argument {flag}: " in capsys.readouterr().err


def test_a_reversed_range_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["export", "--start", "2026-09-02", "--end", "2026-09-01", "-o", "x.csv"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "k8s-cost-etl export: error: --start 2026-09-02 is after --end 2026-09-01\n"


def test_allow_removal_is_a_flag_of_backfill_and_run_only() -> None:
    build = parser.build_parser()
    assert build.parse_args(["run", "--allow-removal"]).allow_removal
    assert not build.parse_args(["run"]).allow_removal
    backfill = ["backfill", "--start", "2026-01-01", "--end", "2026-01-02", "--allow-removal"]
    assert build.parse_args(backfill).allow_removal
    with pytest.raises(SystemExit):
        build.parse_args(["schedule", "--allow-removal"])
