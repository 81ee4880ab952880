"""Provide a PostgreSQL server: an explicit URL, a throwaway local server (pg_ctl) or a container.

:class:`PostgresProvider` tries, in order:

1. an explicit URL (``--sessionerror-postgres-url`` / ``SESSIONERROR_POSTGRES_URL``): it must
   work, there is no fall-through when it does not;
2. a throwaway local server started with ``initdb`` + ``pg_ctl`` in a temporary directory
   (run as the ``postgres`` or ``nobody`` user when we are root);
3. a container through testcontainers (optional extra ``sessionerror[containers]``), see
   :mod:`sessionerror.testdb.postgres.container`: reached on 127.0.0.1 and its published port only,
   labelled, removed by :meth:`PostgresProvider.stop` or by a later run. The kit does not need
   testcontainers' Ryuk reaper: set ``TESTCONTAINERS_RYUK_DISABLED=true`` where Ryuk cannot run.

When nothing works, :class:`PostgresUnavailableError` (a ``BackendUnavailableError``) says in
one line what was tried, why each step failed and how to enable one. Passwords never appear in
a message. psycopg2, testcontainers and docker are imported only when needed.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import socket
import subprocess
import tempfile
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple

from sessionerror.errors import BackendUnavailableError
from sessionerror.models.redaction import redact_text

__all__ = [
    "ENABLE_HINT",
    "URL_HINT",
    "PostgresProvider",
    "PostgresServer",
    "PostgresUnavailableError",
    "check_server",
    "find_pg_binaries",
    "mask_postgres_url",
    "normalise_postgres_url",
]

#: Where a user sets the server URL; named in every message that asks to fix it.
URL_HINT = "--sessionerror-postgres-url / SESSIONERROR_POSTGRES_URL"
#: Where a user sets the directory of initdb and pg_ctl.
PG_BIN_DIR_HINT = "--sessionerror-pg-bin-dir / SESSIONERROR_PG_BIN_DIR"
#: The closing sentence of the "nothing worked" message.
ENABLE_HINT = "Set SESSIONERROR_POSTGRES_URL=postgresql://user:pw@host/db to use a server."

_DRIVER_SCHEMES = {
    "postgresql": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "postgres+psycopg2": "postgresql+psycopg2",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgres+psycopg": "postgresql+psycopg",
}
_DRIVER_EXTRAS = {
    "psycopg2": "pip install sessionerror[postgres]",
    "psycopg": "pip install psycopg",
}
_PG_BINARIES = ("initdb", "pg_ctl")
_DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
_LOG_TAIL_LINES = 6
_SERVER_PORT = 5432


class PostgresUnavailableError(BackendUnavailableError):
    """No PostgreSQL server could be provided; ``attempts`` lists each step and why it failed."""

    def __init__(
        self,
        message: str,
        *,
        attempts: Sequence[str] = (),
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        #: One entry per step tried, e.g. ``"docker: no Docker engine answered (...)"``.
        self.attempts: list[str] = list(attempts)
        #: The driver or subprocess error behind the message (not chained, to keep output short).
        self.cause = cause


@dataclass(frozen=True)
class PostgresServer:
    """A usable PostgreSQL server: the URL of its maintenance database and where it came from."""

    #: ``postgresql+psycopg2://user:pw@host:port/postgres`` (may contain a password: never print;
    #: left out of ``repr()`` so tracebacks showing locals do not print it).
    url: str = field(repr=False)
    #: Which step provided it.
    source: Literal["url", "local", "container"]
    #: One line for the pytest header, password masked.
    description: str


# -- URLs ---------------------------------------------------------------------------------------


def mask_postgres_url(url: str) -> str:
    """``url`` with its password (userinfo or ``?password=``) replaced, safe to print.

    The password is found by parsing too, so one written raw with ``/`` or ``@`` is masked.
    """
    from sessionerror.urls import mask_url

    return redact_text(mask_url(url))  # then any other secret left in the text


def normalise_postgres_url(url: str) -> str:
    """Return ``url`` with an explicit driver: bare ``postgresql://``/``postgres://`` → psycopg2.

    ``postgresql+psycopg2://`` and ``postgresql+psycopg://`` are kept as they are. SQLAlchemy
    2.1 would map a bare URL to psycopg 3, which sessionerror does not depend on. Raises
    ``ValueError`` (password masked) for anything that is not a PostgreSQL URL.
    """
    text = url.strip()
    scheme, separator, rest = text.partition("://")
    if not separator:
        raise ValueError(
            f"not a PostgreSQL URL: {mask_postgres_url(text)!r}; "
            "expected postgresql://user:pw@host:port/dbname"
        )
    target = _DRIVER_SCHEMES.get(scheme.lower())
    if target is None:
        raise ValueError(
            f"unsupported URL scheme {scheme!r} in {mask_postgres_url(text)!r}; use "
            "postgresql:// (psycopg2), postgresql+psycopg2:// or postgresql+psycopg://"
        )
    normalised = f"{target}://{rest}"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(normalised)
    except (ArgumentError, ValueError):
        raise ValueError(f"malformed PostgreSQL URL {mask_postgres_url(text)!r}") from None
    return normalised


def _libpq_timeout(timeout: float) -> int:
    # libpq takes whole seconds and treats anything below 2 as 2.
    return max(2, math.ceil(timeout))


def _describe_connect_failure(message: str, password: str | None) -> tuple[str, str]:
    """(cause in plain words, fix) for a driver's connection error message."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    cause = lines[0] if lines else "unknown error"
    cause = re.sub(r"^connection to server (?:at|on) .*? failed:\s*", "", cause)
    cause = re.sub(r"^(?:FATAL|ERROR):\s+", "", cause)
    if password and len(password) >= 3:
        cause = cause.replace(password, "***")
    cause = redact_text(cause[:1].lower() + cause[1:])
    lowered = cause.lower()
    if any(
        marker in lowered
        for marker in ("password", "authentication", "pg_hba.conf", "role ", "permission denied")
    ):
        fix = f"fix the user/password in {URL_HINT}"
    elif "database" in lowered and "does not exist" in lowered:
        fix = f"create that database or name an existing one (e.g. /postgres) in {URL_HINT}"
    else:
        fix = f"start the server or fix {URL_HINT}"
    return cause, fix


def check_server(url: str, *, timeout: float = 5.0) -> str:
    """Connect once and return the server version (``SHOW server_version``, e.g. ``"15.20"``).

    Raises :class:`PostgresUnavailableError` with one short line: the masked URL, the cause in
    plain words and the fix. The driver's exception is kept as ``.cause``, not chained.
    """
    try:
        normalised = normalise_postgres_url(url)
    except ValueError as exc:
        raise PostgresUnavailableError(f"PostgreSQL: {exc}; fix {URL_HINT}") from None
    masked = mask_postgres_url(normalised)

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    parsed = make_url(normalised)
    try:
        engine = create_engine(
            parsed,
            poolclass=NullPool,
            connect_args={"connect_timeout": _libpq_timeout(timeout)},
        )
    except ImportError as exc:
        driver = parsed.get_driver_name()
        install = _DRIVER_EXTRAS.get(driver, f"install the {driver} driver")
        raise PostgresUnavailableError(
            f"PostgreSQL at {masked}: the {driver} driver is not installed: {install}",
            cause=exc,
        ) from None
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    except DBAPIError as exc:
        cause, fix = _describe_connect_failure(str(exc.orig), parsed.password)
        raise PostgresUnavailableError(
            f"PostgreSQL at {masked} is not usable: {cause}; {fix}", cause=exc.orig
        ) from None
    finally:
        engine.dispose()
    return str(version)


def _short_version(version: str) -> str:
    return version.split()[0] if version.split() else version


# -- local binaries -----------------------------------------------------------------------------


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


def _locate_pg_binaries(pg_bin_dir: str | None) -> tuple[Path | None, list[str]]:
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
    return _locate_pg_binaries(pg_bin_dir)[0]


# -- throwaway local server ---------------------------------------------------------------------


class _LocalFailure(Exception):
    """Starting the local server failed; ``reason`` is one line, ``log_tail`` a few."""

    def __init__(self, reason: str, log_tail: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_tail = list(log_tail)


class _RunAs(NamedTuple):
    name: str
    uid: int
    gid: int


@dataclass
class _LocalServer:
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
    raise _LocalFailure(
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
        raise _LocalFailure(f"{Path(command[0]).name} did not finish within {timeout:g}s") from None
    except OSError as exc:
        raise _LocalFailure(f"could not run {command[0]}: {exc.strerror or exc}") from None


def _tail(text: str) -> list[str]:
    lines = [redact_text(line.rstrip()) for line in text.splitlines() if line.strip()]
    return lines[-_LOG_TAIL_LINES:]


def _read_log_tail(path: Path) -> list[str]:
    try:
        return _tail(path.read_text(errors="replace"))
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


def _start_local(bindir: Path, *, timeout: float) -> _LocalServer:
    """initdb + pg_ctl start in a fresh temp dir; raises _LocalFailure (temp dir removed)."""
    run_as = _unprivileged_user()
    tmpdir = Path(tempfile.mkdtemp(prefix="sessionerror-pg-"))
    server = _LocalServer(bindir=bindir, tmpdir=tmpdir, port=0, run_as=run_as)
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
            raise _LocalFailure(reason, _tail(initdb.stdout))
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
            log = _read_log_tail(server.logfile) or _tail(started.stdout)
            if not any("already in use" in line for line in log):
                raise _LocalFailure(f"pg_ctl start failed (exit {started.returncode})", log)
        raise _LocalFailure("pg_ctl start failed: no free port after 3 tries", log)
    except BaseException:
        _stop_local(server)
        raise


def _stop_local(server: _LocalServer) -> None:
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
        except _LocalFailure:
            stopped = False
        if not stopped:
            _kill_postmaster(pidfile)
    shutil.rmtree(server.tmpdir, ignore_errors=True)


def _kill_postmaster(pidfile: Path) -> None:
    import signal

    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pidfile.read_text().split()[0])
        if pid > 0:
            os.kill(pid, signal.SIGKILL)


# -- provider -----------------------------------------------------------------------------------


class PostgresProvider:
    """Find or start a PostgreSQL server: explicit URL, else local pg_ctl, else a container.

    A context manager (``with PostgresProvider() as server: ...``), usable outside pytest.
    :meth:`stop` stops and removes only what :meth:`start` started. ``attempts`` lists what
    the last :meth:`start` tried and why each step failed.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        pg_bin_dir: str | None = None,
        allow_local: bool = True,
        allow_container: bool = True,
        container_image: str = "postgres:15-alpine",
        connect_timeout: float = 5.0,
    ) -> None:
        self.url = url.strip() if url and url.strip() else None
        self.pg_bin_dir = pg_bin_dir
        self.allow_local = allow_local
        self.allow_container = allow_container
        self.container_image = container_image
        self.connect_timeout = connect_timeout
        #: One line per step tried by the last :meth:`start`, e.g. ``"local: disabled"``.
        self.attempts: list[str] = []
        #: The server provided by :meth:`start`, until :meth:`stop`.
        self.server: PostgresServer | None = None
        self._local: _LocalServer | None = None
        self._local_finalizer: weakref.finalize[Any, Any] | None = None
        self._container: Any = None

    # -- public ------------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        """Provide a server (see the module docstring for the order); idempotent.

        Raises :class:`PostgresUnavailableError` (a ``BackendUnavailableError``).
        """
        if self.server is not None:
            return self.server
        self.attempts = []
        if self.url is not None:
            server = self._from_url(self.url)
        else:
            self.attempts.append(f"url: no URL given ({URL_HINT})")
            found = self._try_local() or self._try_container()
            if found is None:
                tried = "; ".join(self.attempts).removeprefix("url: ")
                raise PostgresUnavailableError(
                    f"PostgreSQL unavailable: {tried}. {ENABLE_HINT}", attempts=self.attempts
                )
            server = found
        self.server = server
        return server

    def stop(self) -> None:
        """Stop and remove the local server or container :meth:`start` started; idempotent."""
        local, self._local = self._local, None
        container, self._container = self._container, None
        finalizer, self._local_finalizer = self._local_finalizer, None
        self.server = None
        if finalizer is not None:
            finalizer.detach()
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop()
        if local is not None:
            _stop_local(local)

    @property
    def local_dir(self) -> Path | None:
        """Temp dir of the local server from :meth:`start` (data, ``server.log``), else None."""
        return self._local.tmpdir if self._local is not None else None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        source = self.server.source if self.server else "not started"
        return f"<PostgresProvider {source}>"

    # -- steps -------------------------------------------------------------------------------

    def _fail(self, message: str, cause: BaseException | None = None) -> PostgresUnavailableError:
        return PostgresUnavailableError(message, attempts=self.attempts, cause=cause)

    def _from_url(self, url: str) -> PostgresServer:
        try:
            normalised = normalise_postgres_url(url)
            version = check_server(normalised, timeout=self.connect_timeout)
        except ValueError as exc:
            self.attempts.append(f"url: {exc}")
            raise self._fail(f"PostgreSQL: {exc}; fix {URL_HINT}") from None
        except PostgresUnavailableError as exc:
            self.attempts.append(f"url: {exc.message}")
            raise self._fail(exc.message, exc.cause) from None
        masked = mask_postgres_url(normalised)
        self.attempts.append(f"url: ok ({masked})")
        return PostgresServer(
            url=normalised,
            source="url",
            description=f"server PostgreSQL {_short_version(version)} at {masked}",
        )

    def _try_local(self) -> PostgresServer | None:
        if not self.allow_local:
            self.attempts.append("local: disabled")
            return None
        bindir, looked = _locate_pg_binaries(self.pg_bin_dir)
        if bindir is None:
            if self.pg_bin_dir is not None:
                reason = f"no initdb and pg_ctl in {looked[0]} (the given {PG_BIN_DIR_HINT})"
                self.attempts.append(f"local: {reason}")
                raise self._fail(
                    f"PostgreSQL: {reason}: point it at PostgreSQL's bin directory "
                    "(see `pg_config --bindir`), or leave it unset to search, or "
                    f"{ENABLE_HINT[0].lower()}{ENABLE_HINT[1:]}"
                )
            self.attempts.append(f"local: no initdb/pg_ctl found (looked in: {', '.join(looked)})")
            return None
        try:
            local = _start_local(bindir, timeout=self.connect_timeout)
        except _LocalFailure as exc:
            self.attempts.append(f"local: {exc.reason}")
            tail = "".join(f"\n    {line}" for line in exc.log_tail)
            raise self._fail(
                f"PostgreSQL: could not start a local server with {bindir}: {exc.reason}. "
                f"{ENABLE_HINT}{tail}"
            ) from None
        self._local = local
        # A forgotten stop() must not leave a server running after the interpreter exits.
        self._local_finalizer = weakref.finalize(self, _stop_local, local)
        try:
            version = check_server(local.url, timeout=self.connect_timeout)
        except PostgresUnavailableError as exc:
            self.stop()
            self.attempts.append(f"local: started but not usable: {exc.message}")
            raise self._fail(exc.message, exc.cause) from None
        self.attempts.append(f"local: ok ({bindir})")
        return PostgresServer(
            url=local.url,
            source="local",
            description=(
                f"local server PostgreSQL {_short_version(version)} (pg_ctl) "
                f"on 127.0.0.1:{local.port}"
            ),
        )

    def _try_container(self) -> PostgresServer | None:
        if not self.allow_container:
            self.attempts.append("docker: disabled")
            return None
        from sessionerror.testdb.postgres.container import (
            ContainerFailure,
            DockerUnavailable,
            start_postgres_container,
        )

        try:
            running = start_postgres_container(
                self.container_image, connect_timeout=self.connect_timeout
            )
        except DockerUnavailable as exc:
            self.attempts.append(f"docker: {exc.reason}")
            return None
        except ContainerFailure as exc:
            # Docker answers but the container tier is broken: say so, no quiet skip of a step.
            self.attempts.append(f"docker: {exc.reason}")
            tail = "".join(f"\n    {line}" for line in exc.log_tail)
            raise self._fail(f"PostgreSQL container: {exc.reason}{tail}") from None
        self._container = running
        self.attempts.append(f"docker: ok ({self.container_image})")
        return PostgresServer(
            url=running.url,
            source="container",
            description=(
                f"container {self.container_image} PostgreSQL {_short_version(running.version)} "
                f"on 127.0.0.1:{running.port} ({running.container_id[:12]})"
            ),
        )
