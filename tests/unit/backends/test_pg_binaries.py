"""Where the throwaway local server's ``initdb`` and ``pg_ctl`` are looked for, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionerror.testdb.postgres import binaries


def make_bin(directory: Path, *names: str) -> Path:
    """A directory with executable stand-ins for the named programs."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        program = directory / name
        program.write_text("#!/bin/sh\nexit 0\n")
        program.chmod(0o755)
    return directory


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No pg_config, nothing on PATH, an empty /usr/lib/postgresql; returns that root."""
    root = tmp_path / "usr-lib-postgresql"
    root.mkdir()
    monkeypatch.setattr(binaries, "_DEBIAN_PG_ROOT", root)
    monkeypatch.setattr(binaries.shutil, "which", lambda name: None)
    return root


def test_an_explicit_directory_is_the_only_place_looked_at(nowhere: Path, tmp_path: Path) -> None:
    full = make_bin(tmp_path / "full", "initdb", "pg_ctl")
    half = make_bin(tmp_path / "half", "initdb")
    make_bin(nowhere / "15" / "bin", "initdb", "pg_ctl")  # would be found otherwise
    assert binaries.locate_pg_binaries(str(full)) == (full, [str(full)])
    assert binaries.locate_pg_binaries(str(half)) == (None, [str(half)])
    assert binaries.find_pg_binaries(str(half)) is None


def test_pg_config_comes_first(
    nowhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = make_bin(tmp_path / "pgconfig-bin", "initdb", "pg_ctl")
    monkeypatch.setattr(binaries, "_pg_config_bindir", lambda: bindir)
    make_bin(nowhere / "15" / "bin", "initdb", "pg_ctl")
    assert binaries.locate_pg_binaries(None) == (bindir, [f"pg_config --bindir ({bindir})"])


def test_then_the_initdb_on_path(
    nowhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path = make_bin(tmp_path / "on-path", "initdb", "pg_ctl")
    monkeypatch.setattr(
        binaries.shutil, "which", lambda name: str(on_path / name) if name == "initdb" else None
    )
    assert binaries.locate_pg_binaries(None) == (on_path, ["pg_config (not on PATH)", "PATH"])


def test_then_the_highest_debian_version_with_both_programs(nowhere: Path) -> None:
    make_bin(nowhere / "9.6" / "bin", "initdb", "pg_ctl")
    expected = make_bin(nowhere / "15" / "bin", "initdb", "pg_ctl")
    make_bin(nowhere / "16" / "bin", "initdb")  # no pg_ctl: not usable
    make_bin(nowhere / "devel" / "bin", "initdb", "pg_ctl")  # not a version: sorts first
    found, looked = binaries.locate_pg_binaries(None)
    assert found == expected
    assert looked == ["pg_config (not on PATH)", "PATH", f"{nowhere}/*/bin"]


def test_nothing_found_names_every_place_looked_at(nowhere: Path) -> None:
    assert binaries.locate_pg_binaries(None) == (
        None,
        ["pg_config (not on PATH)", "PATH", f"{nowhere}/*/bin"],
    )
    assert binaries.find_pg_binaries() is None
