"""Create and drop throwaway test databases; only ever touch databases this kit created.

A database is ours when its name matches ``sessionerror_<pid>_<worker>_<8 hex>`` AND its
comment is ``created by sessionerror on host <hostname> pid <pid>`` (see :data:`MARKER`).
:meth:`DatabaseJanitor.remove_leftovers` drops such databases of runs that were killed: same
host, the pid no longer alive, nobody connected. Anything else is never touched.

Kept databases (``--sessionerror-reuse-schema``, :meth:`DatabaseJanitor.keep`) are held by one
run at a time through a session-level advisory lock (:func:`kept_lock_key`) taken on a connection
inside the database; a held or busy kept database is never dropped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sessionerror.errors import BackendUnavailableError
from sessionerror.models.redaction import redact_text
from sessionerror.testdb.postgres.server import URL_HINT, check_server
from sessionerror.urls import mask_url, normalise_postgres_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "KEEP_MARKER",
    "KEEP_PREFIX",
    "MARKER",
    "NAME_PATTERN",
    "PREFIX",
    "DatabaseJanitor",
    "KeptDatabase",
    "kept_lock_key",
    "kept_owner_tag",
    "parse_marker",
]

#: Every database the kit creates starts with this.
PREFIX = "sessionerror_"
#: ``sessionerror_<pid>_<worker>_<8 hex>``; worker is ``[a-z0-9]`` only.
NAME_PATTERN = re.compile(
    rf"^{PREFIX}(?P<pid>[0-9]+)_(?P<worker>[a-z0-9]+)_(?P<token>[0-9a-f]{{8}})$"
)
#: The comment set on each database the kit creates.
MARKER = "created by sessionerror on host {host} pid {pid}"
#: Prefix and comment of the databases kept between runs (``--sessionerror-reuse-schema``).
KEEP_PREFIX = "sessionerror_keep_"
KEEP_MARKER = "kept by sessionerror for schema reuse"
_MARKER_PATTERN = re.compile(r"^created by sessionerror on host (?P<host>\S+) pid (?P<pid>[0-9]+)$")
#: Kept databases named before the owner part existed: ``sessionerror_keep_<worker>_<fp>``.
_OLD_KEEP_PATTERN = re.compile(rf"^{KEEP_PREFIX}[a-z0-9]+_[0-9a-f]{{8,32}}$")
_MAX_WORKER = 16
_CONNECT_TIMEOUT = 5
_DUPLICATE_DATABASE = "42P04"
_INVALID_CATALOG_NAME = "3D000"
_VANISHED = object()

_log = logging.getLogger("sessionerror.testdb")


def parse_marker(comment: str | None) -> tuple[str, int] | None:
    """``(hostname, pid)`` from a database comment written by the kit, else ``None``."""
    if comment is None:
        return None
    match = _MARKER_PATTERN.match(comment)
    if match is None:
        return None
    return match.group("host"), int(match.group("pid"))


def kept_owner_tag(user: str, project: str) -> str:
    """The owner part of kept database names: 8 hex digits of the role and the project."""
    return hashlib.sha256(f"{user}\0{project}".encode()).hexdigest()[:8]


def kept_lock_key(name: str) -> int:
    """The advisory-lock key (signed 64 bit) a run holds while it uses kept database ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _masked_text(text: str) -> str:
    """A server message safe to show: URL passwords and other secrets masked."""
    return redact_text(mask_url(text))


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return _masked_text(" ".join(str(orig).split()).removeprefix("ERROR: ").strip())


class _LockHolder:
    """The dedicated connection holding a kept database's advisory lock."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self.engine = engine
        self.connection = connection

    def close(self) -> None:
        # Closing the session releases its session-level advisory lock.
        try:
            self.connection.close()
        finally:
            self.engine.dispose()


class KeptDatabase:
    """A kept database this run holds (advisory lock) until :meth:`release`."""

    def __init__(self, name: str, url: str, created: bool, holder: _LockHolder) -> None:
        #: The database name.
        self.name = name
        #: True when this run created it (the schema must be built).
        self.created = created
        self._url = url
        self._holder: _LockHolder | None = holder

    def reveal_url(self) -> str:
        """The SQLAlchemy URL, password included: only for connecting, never for printing."""
        return self._url

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return self._holder is not None

    def release(self) -> None:
        """Give the database back (release the lock, close its connection); idempotent."""
        holder, self._holder = self._holder, None
        if holder is not None:
            holder.close()

    def __repr__(self) -> str:
        return f"<KeptDatabase {self.name} {'held' if self.held else 'released'}>"


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


class DatabaseJanitor:
    """Create one uniquely named database on a server and drop it again; a context manager.

    ``with DatabaseJanitor(server_url, worker="gw0") as url: ...`` yields the new database's
    SQLAlchemy URL (same credentials) and drops the database on exit. Usable outside pytest.
    """

    def __init__(
        self, server_url: str, *, worker: str = "main", template: str | None = None
    ) -> None:
        try:
            self.server_url = normalise_postgres_url(server_url)
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
        return mask_url(self.server_url)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """An AUTOCOMMIT connection to the maintenance database; the engine is disposed after."""
        from sqlalchemy import create_engine
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.pool import NullPool

        engine = create_engine(
            self.server_url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": _CONNECT_TIMEOUT},
        )
        try:
            try:
                connection = engine.connect()
            except DBAPIError:
                # Let check_server word the reason (masked URL, cause, fix).
                check_server(self.server_url, timeout=_CONNECT_TIMEOUT)
                raise
            with connection:
                yield connection
        finally:
            engine.dispose()

    def _quote(self, connection: Connection, name: str) -> str:
        return connection.dialect.identifier_preparer.quote_identifier(name)

    def _new_name(self) -> str:
        return f"{PREFIX}{self.pid}_{self.worker}_{secrets.token_hex(4)}"

    def _marker(self) -> str:
        return MARKER.format(host=self.hostname, pid=self.pid)

    def _database_url(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

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
                cause = " ".join(str(exc.orig).split()).removeprefix("ERROR: ").strip()
                raise BackendUnavailableError(
                    f"PostgreSQL at {self._masked}: could not create database {name}: {cause}"
                ) from None
            self.name = name
            try:
                connection.execute(
                    text(f"COMMENT ON DATABASE {quoted} IS {_sql_literal(self._marker())}")
                )
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
                    self._warn(f"left database {name}: {_one_line(exc)}")
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

    def kept_name(self, connection: Connection, fingerprint: str, project: str) -> str:
        """Name of the kept database of this role, project, worker and schema fingerprint."""
        from sqlalchemy import text

        if not re.fullmatch(r"[0-9a-f]{8,32}", fingerprint):
            raise ValueError(f"fingerprint must be 8-32 hex digits, got {fingerprint!r}")
        user = connection.execute(text("SELECT current_user")).scalar_one()
        return f"{KEEP_PREFIX}{kept_owner_tag(user, project)}_{self.worker}_{fingerprint[:16]}"

    def keep(self, fingerprint: str, *, project: str = "") -> KeptDatabase | None:
        """Take this run's kept database for a schema, or ``None`` when another run holds it.

        Kept databases (``sessionerror_keep_<owner>_<worker>_<fingerprint>``, ``owner`` a hash
        of the role and ``project``) outlive the run so an unchanged schema is not rebuilt. A
        run holds its kept database through a session-level advisory lock taken on a dedicated
        connection inside it, until :meth:`KeptDatabase.release` or the process ends. ``None``
        means another run holds it: use a fresh database and leave that one alone. Kept
        databases of this worker for other fingerprints are dropped only when nobody is
        connected to them and no run holds them (never with FORCE).
        """
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        for _attempt in range(3):
            with self._connect() as connection:
                name = self.kept_name(connection, fingerprint, project)
                group = name[: -len(fingerprint[:16])]
                rows = connection.execute(
                    text(
                        "SELECT d.datname, shobj_description(d.oid, 'pg_database') "
                        "FROM pg_database d WHERE starts_with(d.datname, :prefix) "
                        "AND pg_has_role(d.datdba, 'USAGE')"
                    ),
                    {"prefix": KEEP_PREFIX},
                ).all()
                exists = False
                for existing, comment in rows:
                    if existing == name:
                        exists = True
                    elif comment == KEEP_MARKER and (
                        existing.startswith(group) or _OLD_KEEP_PATTERN.match(existing)
                    ):
                        self._drop_kept_if_free(connection, existing)
                created = False
                if not exists:
                    quoted = self._quote(connection, name)
                    try:
                        connection.execute(text(f"CREATE DATABASE {quoted}"))
                    except DBAPIError as exc:
                        if getattr(exc.orig, "pgcode", None) != _DUPLICATE_DATABASE:
                            cause = " ".join(str(exc.orig).split()).removeprefix("ERROR: ")
                            raise BackendUnavailableError(
                                f"PostgreSQL at {self._masked}: could not create database "
                                f"{name}: {cause.strip()}"
                            ) from None
                    else:
                        created = True
                        connection.execute(
                            text(f"COMMENT ON DATABASE {quoted} IS {_sql_literal(KEEP_MARKER)}")
                        )
            held = self._lock_kept(name)
            if held is _VANISHED:
                continue  # dropped between our look and our connect: look again
            if held is None:
                _log.debug("kept database %s is held by another run", name)
                return None
            return KeptDatabase(name, self._database_url(name), created, held)
        return None

    def _lock_kept(self, name: str) -> Any:
        """Connect to ``name`` and take its advisory lock: the holder, None if held, or
        :data:`_VANISHED` if the database no longer exists."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.pool import NullPool

        engine = create_engine(
            self._database_url(name),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": _CONNECT_TIMEOUT},
        )
        try:
            connection = engine.connect()
        except DBAPIError as exc:
            engine.dispose()
            if getattr(exc.orig, "pgcode", None) == _INVALID_CATALOG_NAME or (
                "does not exist" in str(exc.orig)
            ):
                return _VANISHED
            raise
        try:
            locked = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": kept_lock_key(name)}
            ).scalar_one()
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        if not locked:
            connection.close()
            engine.dispose()
            return None
        return _LockHolder(engine, connection)

    def _drop_kept_if_free(self, connection: Connection, name: str) -> None:
        """Drop a stale kept database unless a run holds it or anyone is connected."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        busy = connection.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = :name) "
                "OR EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON l.database = d.oid "
                "WHERE l.locktype = 'advisory' AND d.datname = :name)"
            ),
            {"name": name},
        ).scalar_one()
        if busy:
            _log.debug("left kept database %s: in use by another run", name)
            return
        try:
            # Never FORCE: a run that holds it is connected, so the drop fails instead.
            self._drop_database(connection, name, force=False)
        except DBAPIError as exc:
            self._warn(f"left kept database {name}: {_one_line(exc)}")

    def _warn(self, message: str) -> None:
        masked = _masked_text(message)
        self.warnings.append(masked)
        _log.debug("%s", masked)

    def __enter__(self) -> str:
        return self.create()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.drop()

    def __repr__(self) -> str:
        return f"<DatabaseJanitor {self.name or 'no database'} on {self._masked}>"
