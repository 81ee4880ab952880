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
import importlib
import weakref
from pathlib import Path
from typing import Any

from sessionerror.testdb.postgres.binaries import locate_pg_binaries
from sessionerror.testdb.postgres.local_server import (
    LocalServer,
    LocalServerFailure,
    start_local_server,
    stop_local_server,
)
from sessionerror.testdb.postgres.scoped import Scoped
from sessionerror.testdb.postgres.server import (
    ENABLE_HINT,
    PG_BIN_DIR_HINT,
    URL_HINT,
    PostgresServer,
    PostgresUnavailableError,
    check_server,
    short_version,
)
from sessionerror.urls import DatabaseURL

__all__ = ["PostgresProvider"]

#: What to install for each sync driver the kit talks to PostgreSQL through.
_INSTALL = {"psycopg2": '"sessionerror[postgres]"', "psycopg": '"psycopg[binary]"'}


class PostgresProvider(Scoped[PostgresServer]):
    """Find or start a PostgreSQL server: explicit URL, else local pg_ctl, else a container.

    A context manager (``with PostgresProvider() as server: ...``), usable outside pytest.
    :meth:`stop` stops and removes only what :meth:`start` started. ``attempts`` lists what
    the last :meth:`start` tried and why each step failed.
    """

    def __init__(
        self,
        *,
        url: str | DatabaseURL | None = None,
        pg_bin_dir: str | None = None,
        allow_local: bool = True,
        allow_container: bool = True,
        container_image: str = "postgres:15-alpine",
        connect_timeout: float = 5.0,
    ) -> None:
        given = DatabaseURL(url) if url is not None else None
        #: The explicit server URL, read once (None when none was given).
        self.url = given if given is not None and not given.is_empty else None
        self.pg_bin_dir = pg_bin_dir
        self.allow_local = allow_local
        self.allow_container = allow_container
        self.container_image = container_image
        self.connect_timeout = connect_timeout
        #: One line per step tried by the last :meth:`start`, e.g. ``"local: disabled"``.
        self.attempts: list[str] = []
        #: The server provided by :meth:`start`, until :meth:`stop`.
        self.server: PostgresServer | None = None
        self._local: LocalServer | None = None
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
        self._require_driver()  # before initdb, pg_ctl or docker: nothing starts without it
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
            stop_local_server(local)

    def release_local(self) -> LocalServer | None:
        """The local server :meth:`start` started, now the caller's to stop (else None)."""
        local, self._local = self._local, None
        finalizer, self._local_finalizer = self._local_finalizer, None
        if finalizer is not None:
            finalizer.detach()
        return local

    @property
    def local_dir(self) -> Path | None:
        """Temp dir of the local server from :meth:`start` (data, ``server.log``), else None."""
        return self._local.tmpdir if self._local is not None else None

    def _acquire(self) -> PostgresServer:
        return self.start()

    def _release(self) -> None:
        self.stop()

    def __repr__(self) -> str:
        source = self.server.source if self.server else "not started"
        return f"<PostgresProvider {source}>"

    # -- steps -------------------------------------------------------------------------------

    def _fail(self, message: str, cause: BaseException | None = None) -> PostgresUnavailableError:
        return PostgresUnavailableError(message, attempts=self.attempts, cause=cause)

    def _require_driver(self) -> None:
        """Raise (one line naming the install command) if the sync driver cannot be imported.

        The kit creates and drops its databases through it; without it a started server would
        only make every PostgreSQL test skip.
        """
        driver = (self.url or DatabaseURL("postgresql://")).to_sync().driver.partition("+")[2]
        if driver not in ("psycopg2", "psycopg"):
            return  # not a PostgreSQL URL: _from_url says so
        try:
            importlib.import_module(driver)
        except ImportError as exc:
            problem = f"{exc}"
        else:
            return
        self.attempts.append(f"driver: {driver} is not installed")
        raise self._fail(
            f"PostgreSQL: the {driver} driver is not installed ({problem}), so no server was "
            f"started or used: pip install {_INSTALL[driver]}"
        )

    def _from_url(self, url: DatabaseURL) -> PostgresServer:
        # url.hide(): the driver may quote a piece of a password holding a raw "@" as the host.
        try:
            # The app's async URL (postgresql+asyncpg://) reaches the same server through the
            # sync driver the kit uses, as `sessionerror check` does.
            normalised = url.to_sync().require_postgres()
            version = check_server(normalised, timeout=self.connect_timeout)
        except ValueError as exc:
            message = url.hide(str(exc))
            self.attempts.append(f"url: {message}")
            raise self._fail(f"PostgreSQL: {message}; fix {URL_HINT}") from None
        except PostgresUnavailableError as exc:
            message = url.hide(exc.message)
            self.attempts.append(f"url: {message}")
            raise self._fail(message, exc.cause) from None
        self.attempts.append(f"url: ok ({normalised})")
        return PostgresServer(
            url=normalised,
            source="url",
            description=f"server PostgreSQL {short_version(version)} at {normalised}",
        )

    def _try_local(self) -> PostgresServer | None:
        if not self.allow_local:
            self.attempts.append("local: disabled")
            return None
        bindir, looked = locate_pg_binaries(self.pg_bin_dir)
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
            local = start_local_server(bindir, timeout=self.connect_timeout)
        except LocalServerFailure as exc:
            self.attempts.append(f"local: {exc.reason}")
            tail = "".join(f"\n    {line}" for line in exc.log_tail)
            raise self._fail(
                f"PostgreSQL: could not start a local server with {bindir}: {exc.reason}. "
                f"{ENABLE_HINT}{tail}"
            ) from None
        self._local = local
        # A forgotten stop() must not leave a server running after the interpreter exits.
        self._local_finalizer = weakref.finalize(self, stop_local_server, local)
        try:
            version = check_server(local.url, timeout=self.connect_timeout)
        except PostgresUnavailableError as exc:
            self.stop()
            self.attempts.append(f"local: started but not usable: {exc.message}")
            raise self._fail(exc.message, exc.cause) from None
        self.attempts.append(f"local: ok ({bindir})")
        return PostgresServer(
            url=DatabaseURL(local.url),
            source="local",
            description=(
                f"local server PostgreSQL {short_version(version)} (pg_ctl) "
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
                f"container {self.container_image} PostgreSQL {short_version(running.version)} "
                f"on 127.0.0.1:{running.port} ({running.container_id[:12]})"
            ),
        )
