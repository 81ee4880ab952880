"""A throwaway local PostgreSQL server: ``initdb`` + ``pg_ctl`` in a temporary directory.

Durability is off, it listens on 127.0.0.1 and a free port only, and when we are root it runs
as the ``postgres`` (or ``nobody``) user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sessionerror.errors import BackendUnavailableError
from sessionerror.testdb.postgres.server import log_tail

__all__ = ["LocalServer", "LocalServerFailure", "start_local_server", "stop_local_server"]


class LocalServerFailure(BackendUnavailableError):
    """Starting the local server failed; ``reason`` is one line, ``log_tail`` a few."""

    def __init__(self, reason: str, log_tail: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_tail = list(log_tail)


class _RunAs(NamedTuple):
    """The unprivileged user the server runs as when we are root."""

    name: str
    uid: int
    gid: int


@dataclass
class LocalServer:
    """A local server started by :func:`start_local_server`: where it lives and its URL."""

    bindir: Path
    tmpdir: Path
    port: int
    run_as: _RunAs | None

    @property
    def datadir(self) -> Path:
        return self.tmpdir / "data"

    @property
    def logfile(self) -> Path:
        return self.tmpdir / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON) to stop it from another process: :meth:`from_dict`."""
        return {
            "bindir": str(self.bindir),
            "tmpdir": str(self.tmpdir),
            "datadir": str(self.datadir),
            "port": self.port,
            "run_as": list(self.run_as) if self.run_as is not None else None,
            "pid": _postmaster_pid(self.datadir / "postmaster.pid"),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LocalServer:
        """Rebuild from :meth:`to_dict` output (its ``datadir`` and ``pid`` are informative)."""
        run_as = values.get("run_as")
        return cls(
            bindir=Path(values["bindir"]),
            tmpdir=Path(values["tmpdir"]),
            port=int(values["port"]),
            run_as=_RunAs(str(run_as[0]), int(run_as[1]), int(run_as[2])) if run_as else None,
        )


def _unprivileged_user() -> _RunAs | None:
    """None when we are not root; else the user to run the server as (postgres, nobody)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return _RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
    raise LocalServerFailure(
        "running as root, and PostgreSQL refuses root: no 'postgres' or 'nobody' user exists "
        "to run initdb/pg_ctl as (create one, or run as a normal user)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _child_env() -> dict[str, str]:
    # PG* variables of the caller (PGDATA, PGPORT, ...) must not steer the throwaway server.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _run(
    command: Sequence[str | Path], run_as: _RunAs | None, cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    privileges: dict[str, Any] = {}
    if run_as is not None:
        privileges = {"user": run_as.uid, "group": run_as.gid, "extra_groups": []}
    try:
        return subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
            **privileges,
        )
    except subprocess.TimeoutExpired:
        raise LocalServerFailure(
            f"{Path(command[0]).name} did not finish within {timeout:g}s"
        ) from None
    except OSError as exc:
        raise LocalServerFailure(f"could not run {command[0]}: {exc.strerror or exc}") from None


def _read_log_tail(path: Path) -> list[str]:
    try:
        return log_tail(path.read_text(errors="replace"))
    except OSError:
        return []


def _quote_conf(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _server_conf(port: int, socket_dir: str) -> str:
    return (
        "\n# added by sessionerror: a throwaway test server, durability off\n"
        "listen_addresses = '127.0.0.1'\n"
        f"port = {port}\n"
        f"unix_socket_directories = {_quote_conf(socket_dir)}\n"
        "fsync = off\n"
        "synchronous_commit = off\n"
        "full_page_writes = off\n"
    )


def start_local_server(bindir: Path, *, timeout: float) -> LocalServer:
    """initdb + pg_ctl start in a fresh temp dir; raises LocalServerFailure (temp dir removed)."""
    run_as = _unprivileged_user()
    tmpdir = Path(tempfile.mkdtemp(prefix="sessionerror-pg-"))
    server = LocalServer(bindir=bindir, tmpdir=tmpdir, port=0, run_as=run_as)
    try:
        if run_as is not None:
            os.chown(tmpdir, run_as.uid, run_as.gid)
        initdb = _run(
            [
                bindir / "initdb",
                "-D",
                server.datadir,
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as,
            tmpdir,
            timeout=max(60.0, timeout * 12),
        )
        if initdb.returncode != 0:
            who = f" as user {run_as.name}" if run_as else ""
            reason = f"initdb{who} failed (exit {initdb.returncode})"
            if run_as is not None and "Permission denied" in initdb.stdout:
                reason += (
                    f"; user {run_as.name} cannot reach {tmpdir.parent}: set TMPDIR to a "
                    "directory it can enter, e.g. /tmp"
                )
            raise LocalServerFailure(reason, log_tail(initdb.stdout))
        # The socket path must fit in sun_path (107 bytes); else TCP only.
        socket_dir = str(tmpdir) if len(str(tmpdir)) < 80 else ""
        for _attempt in range(3):
            server.port = _free_port()
            with (server.datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write(_server_conf(server.port, socket_dir))
            started = _run(
                [
                    bindir / "pg_ctl",
                    "-D",
                    server.datadir,
                    "-l",
                    server.logfile,
                    "-w",
                    "-t",
                    str(max(10, math.ceil(timeout * 6))),
                    "start",
                ],
                run_as,
                tmpdir,
                timeout=max(60.0, timeout * 12),
            )
            if started.returncode == 0:
                return server
            log = _read_log_tail(server.logfile) or log_tail(started.stdout)
            if not any("already in use" in line for line in log):
                raise LocalServerFailure(f"pg_ctl start failed (exit {started.returncode})", log)
        raise LocalServerFailure("pg_ctl start failed: no free port after 3 tries", log)
    except BaseException:
        stop_local_server(server)
        raise


def stop_local_server(server: LocalServer) -> None:
    """Stop the server (immediate mode) if it runs, then remove its temp dir. Idempotent."""
    pidfile = server.datadir / "postmaster.pid"
    if pidfile.exists():
        try:
            stopped = (
                _run(
                    [
                        server.bindir / "pg_ctl",
                        "-D",
                        server.datadir,
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ],
                    server.run_as,
                    server.tmpdir,
                    timeout=60.0,
                ).returncode
                == 0
            )
        except LocalServerFailure:
            stopped = False
        if not stopped:
            _kill_postmaster(pidfile)
    shutil.rmtree(server.tmpdir, ignore_errors=True)


def _postmaster_pid(pidfile: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pidfile.read_text().split()[0])
        return pid if pid > 0 else None
    return None


def _kill_postmaster(pidfile: Path) -> None:
    import signal

    pid = _postmaster_pid(pidfile)
    if pid is not None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
