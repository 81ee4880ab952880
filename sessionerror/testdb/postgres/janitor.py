"""Create and drop throwaway test databases; only ever touch databases this kit created.

A database is ours when its name matches ``sessionerror_<pid>_<worker>_<8 hex>`` AND its
comment is ``created by sessionerror on host <hostname> pid <pid>`` (see :data:`MARKER`).
:meth:`DatabaseJanitor.remove_leftovers` drops such databases of runs that were killed: same
host, the pid no longer alive, nobody connected. Anything else is never touched.

Kept databases (``--sessionerror-reuse-schema``, :meth:`DatabaseJanitor.keep`) live in
:mod:`sessionerror.testdb.postgres.kept`.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sessionerror.errors import BackendUnavailableError
from sessionerror.redaction import mask_url, redact_text
from sessionerror.testdb.postgres.capacity import (
    TooManyConnectionsError,
    find_too_many_connections,
    limits_key,
    remember_limits,
    too_many_connections_line,
    wait_for_slots,
)
from sessionerror.testdb.postgres.kept import KeptDatabaseMixin
from sessionerror.testdb.postgres.scoped import Scoped
from sessionerror.testdb.postgres.server import URL_HINT, check_server, server_error_line
from sessionerror.urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["MARKER", "NAME_PATTERN", "PREFIX", "DatabaseJanitor", "parse_marker"]

#: Every database the kit creates starts with this.
PREFIX = "sessionerror_"
#: ``sessionerror_<pid>_<worker>_<8 hex>``; worker is ``[a-z0-9]`` only.
NAME_PATTERN = re.compile(
    rf"^{PREFIX}(?P<pid>[0-9]+)_(?P<worker>[a-z0-9]+)_(?P<token>[0-9a-f]{{8}})$"
)
#: The comment set on each database the kit creates.
MARKER = "created by sessionerror on host {host} pid {pid}"
_MARKER_PATTERN = re.compile(r"^created by sessionerror on host (?P<host>\S+) pid (?P<pid>[0-9]+)$")
_MAX_WORKER = 16
_CONNECT_TIMEOUT = 5

_log = logging.getLogger("sessionerror.testdb")


def parse_marker(comment: str | None) -> tuple[str, int] | None:
    """``(hostname, pid)`` from a database comment written by the kit, else ``None``."""
    if comment is None:
        return None
    match = _MARKER_PATTERN.match(comment)
    if match is None:
        return None
    return match.group("host"), int(match.group("pid"))


def _masked_text(text: str) -> str:
    """A server message safe to show: URL passwords and other secrets masked."""
    return redact_text(mask_url(text))


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a real pid: treat as alive, i.e. leave the database alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but is not ours (EPERM), or unknown: keep
    return True


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DatabaseJanitor(KeptDatabaseMixin, Scoped[str]):
    """Create one uniquely named database on a server and drop it again; a context manager.

    ``with DatabaseJanitor(server_url, worker="gw0") as url: ...`` yields the new database's
    SQLAlchemy URL (same credentials) and drops the database on exit. Usable outside pytest.
    """

    def __init__(
        self, server_url: str | DatabaseURL, *, worker: str = "main", template: str | None = None
    ) -> None:
        try:
            #: The maintenance database's URL, driver spelled out (prints masked).
            self.server_url = DatabaseURL(server_url).require_postgres()
        except ValueError as exc:
            raise BackendUnavailableError(f"DatabaseJanitor: {exc}") from None
        cleaned = re.sub(r"[^a-z0-9]", "", worker.lower())[:_MAX_WORKER]
        #: The worker id as used in names (``[a-z0-9]``, e.g. ``gw0``).
        self.worker = cleaned or "main"
        #: Database to copy (``CREATE DATABASE ... TEMPLATE``), or the server default.
        self.template = template
        #: The pid written into the name and the marker: this process.
        self.pid = os.getpid()
        #: The host written into the marker.
        self.hostname = socket.gethostname()
        #: Name of the database created by :meth:`create`, until :meth:`drop`.
        self.name: str | None = None
        #: One line per database left alone because dropping it failed (masked), for the
        #: caller to report (the plugin shows them in the terminal summary).
        self.warnings: list[str] = []

    # -- helpers -----------------------------------------------------------------------------

    @property
    def _masked(self) -> str:
        return str(self.server_url)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """An AUTOCOMMIT connection to the maintenance database; the engine is disposed after."""
        from sqlalchemy.exc import DBAPIError

        engine = self._autocommit_engine(self.server_url.reveal())
        try:
            try:
                connection = engine.connect()
            except DBAPIError as exc:
                self._raise_if_full(exc)
                # Let check_server word the reason (masked URL, cause, fix).
                check_server(self.server_url, timeout=_CONNECT_TIMEOUT)
                raise
            with connection:
                # Once per process: the line of a full server names max_connections.
                remember_limits(limits_key(self.server_url.reveal()), connection)
                yield connection
        finally:
            engine.dispose()

    def _raise_if_full(self, exc: BaseException) -> None:
        """A one-line :class:`TooManyConnectionsError` when the server has no slot left."""
        words = find_too_many_connections(exc)
        if words is not None:
            line = too_many_connections_line(
                self._masked, _masked_text(words), key=limits_key(self.server_url.reveal())
            )
            raise TooManyConnectionsError(line) from None

    def _autocommit_engine(self, url: str) -> Engine:
        """A pool-less AUTOCOMMIT engine (CREATE/DROP DATABASE need it); dispose it after use."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        engine = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": _CONNECT_TIMEOUT},
        )
        wait_for_slots(engine, pooled=False)  # a full server: wait for other runs' to end
        return engine

    def _comment_database(self, connection: Connection, name: str, comment: str) -> None:
        from sqlalchemy import text

        quoted = self._quote(connection, name)
        connection.execute(text(f"COMMENT ON DATABASE {quoted} IS {_sql_literal(comment)}"))

    def _create_failed(self, name: str, exc: BaseException) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"PostgreSQL at {self._masked}: could not create database {name}: "
            f"{_masked_text(server_error_line(exc))}"
        )

    def _quote(self, connection: Connection, name: str) -> str:
        return connection.dialect.identifier_preparer.quote_identifier(name)

    def _new_name(self) -> str:
        return f"{PREFIX}{self.pid}_{self.worker}_{secrets.token_hex(4)}"

    def _marker(self) -> str:
        return MARKER.format(host=self.hostname, pid=self.pid)

    def _database_url(self, name: str) -> str:
        return self.server_url.parse().set(database=name).render_as_string(hide_password=False)

    def _drop_database(self, connection: Connection, name: str, *, force: bool) -> None:
        from sqlalchemy import text

        quoted = self._quote(connection, name)
        version = connection.dialect.server_version_info or (0,)
        if force and version >= (13,):
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            return
        if force:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))

    # -- public ------------------------------------------------------------------------------

    def create(self) -> str:
        """Create a new database, mark it as ours, return its SQLAlchemy URL.

        Raises ``BackendUnavailableError`` (URL masked) when the server refuses.
        """
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        if self.name is not None:
            raise RuntimeError(f"DatabaseJanitor already created {self.name}; drop() it first")
        name = self._new_name()
        with self._connect() as connection:
            quoted = self._quote(connection, name)
            statement = f"CREATE DATABASE {quoted}"
            if self.template is not None:
                statement += f" TEMPLATE {self._quote(connection, self.template)}"
            try:
                connection.execute(text(statement))
            except DBAPIError as exc:
                raise self._create_failed(name, exc) from None
            self.name = name
            try:
                self._comment_database(connection, name, self._marker())
            except BaseException:
                self._drop_database(connection, name, force=True)
                self.name = None
                raise
        _log.debug("created database %s on %s", name, self._masked)
        return self._database_url(name)

    def drop(self) -> None:
        """Drop the database :meth:`create` made, disconnecting its sessions first; idempotent."""
        if self.name is None:
            return
        with self._connect() as connection:
            self._drop_database(connection, self.name, force=True)
        _log.debug("dropped database %s on %s", self.name, self._masked)
        self.name = None

    def database_url(self) -> str:
        """URL of the database :meth:`create` made (password included: never print it)."""
        if self.name is None:
            raise RuntimeError("DatabaseJanitor has no database; call create() first")
        return self._database_url(self.name)

    def remove_leftovers(self) -> list[str]:
        """Drop databases of killed earlier runs on this host; return their names.

        A database is dropped only if its name matches :data:`NAME_PATTERN`, its comment is our
        marker with the same pid, the marker names this host, that pid is no longer alive and
        nobody is connected to it. Nothing else is touched.
        """
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        dropped: list[str] = []
        with self._connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT d.datname, shobj_description(d.oid, 'pg_database'), "
                    "(SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname) "
                    "FROM pg_database d WHERE starts_with(d.datname, :prefix) "
                    "AND pg_has_role(d.datdba, 'USAGE') ORDER BY d.datname"
                ),
                {"prefix": PREFIX},
            ).all()
            for name, comment, connections in rows:
                match = NAME_PATTERN.match(name)
                marker = parse_marker(comment)
                if match is None or marker is None or name == self.name:
                    continue
                host, pid = marker
                if host != self.hostname or int(match.group("pid")) != pid:
                    continue
                if connections or _pid_alive(pid):
                    continue
                try:
                    self._drop_database(connection, name, force=False)
                except DBAPIError as exc:
                    # Someone connected meanwhile, or it is a template: leave it.
                    self._warn(f"left database {name}: {server_error_line(exc)}")
                    continue
                dropped.append(name)
        if dropped:
            _log.info("dropped %d leftover database(s): %s", len(dropped), ", ".join(dropped))
        return dropped

    def require_createdb(self) -> None:
        """Fail early, in one line, when the URL's role may not create databases.

        The kit creates its own test databases; without CREATEDB every PostgreSQL test would
        fail (or skip) later. Raises ``BackendUnavailableError`` naming the role and the fix.
        """
        from sqlalchemy import text

        with self._connect() as connection:
            user, allowed = connection.execute(
                text(
                    "SELECT current_user, rolcreatedb OR rolsuper FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            ).one()
        if not allowed:
            raise BackendUnavailableError(
                f"PostgreSQL at {self._masked}: role {user!r} may not create databases "
                f"(the kit creates its own test databases): run ALTER ROLE {user} CREATEDB, "
                f"or name a role that may in {URL_HINT}"
            )

    def _warn(self, message: str) -> None:
        masked = _masked_text(message)
        self.warnings.append(masked)
        _log.debug("%s", masked)

    def _acquire(self) -> str:
        return self.create()

    def _release(self) -> None:
        self.drop()

    def __repr__(self) -> str:
        return f"<DatabaseJanitor {self.name or 'no database'} on {self._masked}>"
