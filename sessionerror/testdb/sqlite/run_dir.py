"""The run directory holding a run's SQLite template, and the removal of killed runs' ones.

Under a lazy xdist run it also records the local PostgreSQL server a worker started
(:data:`SERVER_RECORD`); a killed run's server is stopped before its directory is removed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

__all__ = [
    "RUN_DIR_PREFIX",
    "SERVER_RECORD",
    "make_run_dir",
    "open_shared_run_dir",
    "remove_stale_run_dirs",
    "shared_run_dir",
    "stop_recorded_server",
]

#: Per-run directories holding the SQLite template: ``<prefix><pid>-<hex>``.
RUN_DIR_PREFIX = "sessionerror-run-"
_RUN_MARKER_FILE = ".sessionerror-run"
#: The local PostgreSQL server of a lazy xdist run: how to reach and stop it (JSON).
SERVER_RECORD = "server.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_run_dirs(parent: Path | None = None) -> list[Path]:
    """Remove run directories of killed runs on this host (dead pid, our marker file inside)."""
    parent = Path(parent or tempfile.gettempdir())
    removed: list[Path] = []
    host = socket.gethostname()
    for path in parent.glob(f"{RUN_DIR_PREFIX}*"):
        match = re.fullmatch(rf"{re.escape(RUN_DIR_PREFIX)}(\d+)-[0-9a-z_]+", path.name)
        marker = path / _RUN_MARKER_FILE
        if match is None or not marker.is_file():
            continue
        try:
            if marker.read_text().strip() != host or _pid_alive(int(match.group(1))):
                continue
        except OSError:
            continue
        stop_recorded_server(path)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def stop_recorded_server(run_dir: Path) -> None:
    """Stop the local server recorded in ``run_dir`` (if any) and remove its data directory."""
    import json

    from sessionerror.testdb.postgres.local_server import LocalServer, stop_local_server

    try:
        record = json.loads((run_dir / SERVER_RECORD).read_text())
        local = LocalServer.from_dict(record["local"]) if record.get("local") else None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return
    if local is not None:
        stop_local_server(local)


def make_run_dir(token: str) -> Path:
    """A new run directory named after this process and ``token``, killed runs' ones removed."""
    remove_stale_run_dirs()
    path = Path(tempfile.mkdtemp(prefix=f"{RUN_DIR_PREFIX}{os.getpid()}-{token}"))
    (path / _RUN_MARKER_FILE).write_text(socket.gethostname())
    return path


def shared_run_dir(owner_pid: int, token: str) -> Path:
    """The run directory of the run ``owner_pid`` (an xdist controller) named ``token``.

    Its workers share it (issue 19): the first one that needs a template makes it with
    :func:`open_shared_run_dir`, the owner removes it at the end of the run.
    """
    return Path(tempfile.gettempdir()) / f"{RUN_DIR_PREFIX}{owner_pid}-{token}"


def open_shared_run_dir(owner_pid: int, token: str) -> Path:
    """:func:`shared_run_dir`, made (marked as the kit's) if missing, killed runs' ones removed."""
    path = shared_run_dir(owner_pid, token)
    if not path.is_dir():
        remove_stale_run_dirs()
        path.mkdir(mode=0o700, exist_ok=True)
    marker = path / _RUN_MARKER_FILE
    if not marker.is_file():
        marker.write_text(socket.gethostname())
    return path
