"""Where the embedded PostgreSQL keeps its data, and that its directories stay private.
(Starting the server is exercised by every integration test.)"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from etl.errors import ConfigError
from etl.store import embedded


def test_the_default_is_the_per_user_xdg_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "_as_root", lambda: False)
    assert embedded.default_data_dir({"XDG_DATA_HOME": "/data/me"}) == Path("/data/me/k8s-cost-etl/pgdata")
    assert embedded.default_data_dir({}) == Path.home() / ".local/share/k8s-cost-etl/pgdata"
    # the XDG spec: a relative value is invalid and ignored
    assert embedded.default_data_dir({"XDG_DATA_HOME": "rel"}) == Path.home() / ".local/share/k8s-cost-etl/pgdata"


def test_root_keeps_its_data_out_of_its_private_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "_as_root", lambda: True)
    assert embedded.default_data_dir({"XDG_DATA_HOME": "/root/.local/share"}) == embedded.ROOT_DATA_DIR


def test_created_directories_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "_as_root", lambda: False)
    data = tmp_path / "share" / "k8s-cost-etl" / "pgdata"
    embedded._make_private_dirs(data)
    for directory in (data, data.parent, data.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


def test_an_unwritable_data_directory_is_one_configuration_error(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "_as_root", lambda: False)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match=r"EMBEDDED_PG_DATA_DIR\): cannot use .*file/pgdata"):
        embedded._make_private_dirs(blocker / "pgdata")


@pytest.mark.skipif(not embedded._as_root(), reason="the server's own user exists only for root")
def test_as_root_a_private_parent_is_refused_not_loosened(tmp_path: Path) -> None:
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    with pytest.raises(ConfigError, match=r"home is private \(mode 700\)"):
        embedded._make_private_dirs(private / "k8s-cost-etl" / "pgdata")
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert not (private / "k8s-cost-etl").exists()


@pytest.mark.skipif(not embedded._as_root(), reason="the server's own user exists only for root")
def test_as_root_the_servers_programs_get_traverse_only_access(tmp_path: Path) -> None:
    private = tmp_path / "root-home"
    private.mkdir(mode=0o700)
    programs = private / "venv" / "pgserver" / "pginstall" / "bin"
    programs.mkdir(parents=True)
    embedded._require_reachable(programs)
    assert stat.S_IMODE(private.stat().st_mode) == 0o701  # traverse, never read or list
