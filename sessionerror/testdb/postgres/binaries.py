"""Find PostgreSQL's ``initdb`` and ``pg_ctl`` for the throwaway local server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["find_pg_binaries", "locate_pg_binaries"]

_PG_BINARIES = ("initdb", "pg_ctl")
_DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")


def _has_pg_binaries(directory: Path) -> bool:
    return all(
        (directory / name).is_file() and os.access(directory / name, os.X_OK)
        for name in _PG_BINARIES
    )


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); non-numeric names sort first.
    try:
        return tuple(int(part) for part in path.parent.name.split("."))
    except ValueError:
        return (-1,)


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    output = result.stdout.strip()
    return Path(output) if result.returncode == 0 and output else None


def locate_pg_binaries(pg_bin_dir: str | None) -> tuple[Path | None, list[str]]:
    """The first directory holding initdb and pg_ctl, and the places looked at."""
    if pg_bin_dir is not None:
        directory = Path(pg_bin_dir).expanduser()
        return (directory if _has_pg_binaries(directory) else None), [str(directory)]
    looked: list[str] = []
    bindir = _pg_config_bindir()
    looked.append(f"pg_config --bindir ({bindir})" if bindir else "pg_config (not on PATH)")
    if bindir is not None and _has_pg_binaries(bindir):
        return bindir, looked
    looked.append("PATH")
    initdb = shutil.which("initdb")
    if initdb is not None:
        for directory in (Path(initdb).resolve().parent, Path(initdb).parent):
            if _has_pg_binaries(directory):
                return directory, looked
    looked.append(f"{_DEBIAN_PG_ROOT}/*/bin")
    for directory in sorted(_DEBIAN_PG_ROOT.glob("*/bin"), key=_version_key, reverse=True):
        if _has_pg_binaries(directory):
            return directory, looked
    return None, looked


def find_pg_binaries(pg_bin_dir: str | None = None) -> Path | None:
    """Directory holding ``initdb`` and ``pg_ctl``, or ``None``.

    An explicit ``pg_bin_dir`` is the only place looked at. Otherwise: ``pg_config --bindir``,
    then ``PATH``, then the highest ``/usr/lib/postgresql/*/bin``.
    """
    return locate_pg_binaries(pg_bin_dir)[0]
