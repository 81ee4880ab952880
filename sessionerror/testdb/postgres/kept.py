"""Kept databases (``--sessionerror-reuse-schema``): one per role, project, worker and schema.

They outlive the run so an unchanged schema is not rebuilt. A run holds its kept database
through a session-level advisory lock (:func:`kept_lock_key`) taken on a dedicated connection
inside it; a held or busy kept database is never dropped. :class:`KeptDatabaseMixin` gives
:class:`~sessionerror.testdb.postgres.janitor.DatabaseJanitor` its :meth:`keep`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import TYPE_CHECKING, Any

from sessionerror.testdb.postgres.server import server_error_line

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy.engine import Connection, Engine

    from sessionerror.errors import BackendUnavailableError

__all__ = [
    "KEEP_MARKER",
    "KEEP_PREFIX",
    "KeptDatabase",
    "KeptDatabaseMixin",
    "is_kept_comment",
    "kept_lock_key",
    "kept_owner_tag",
]

#: Prefix and comment of the databases kept between runs (``--sessionerror-reuse-schema``).
KEEP_PREFIX = "sessionerror_keep_"
KEEP_MARKER = "kept by sessionerror for schema reuse"
#: Kept databases named before the owner part existed: ``sessionerror_keep_<worker>_<fp>``.
_OLD_KEEP_PATTERN = re.compile(rf"^{KEEP_PREFIX}[a-z0-9]+_[0-9a-f]{{8,32}}$")
_DUPLICATE_DATABASE = "42P04"
_INVALID_CATALOG_NAME = "3D000"
_VANISHED = object()

_log = logging.getLogger("sessionerror.testdb")


def is_kept_comment(comment: str | None) -> bool:
    """True for the kit's kept comment (a kept worker database adds its recorded state)."""
    if comment is None:
        return False
    return comment == KEEP_MARKER or comment.startswith(KEEP_MARKER + "\n")


def kept_owner_tag(user: str, project: str) -> str:
    """The owner part of kept database names: 8 hex digits of the role and the project."""
    return hashlib.sha256(f"{user}\0{project}".encode()).hexdigest()[:8]


def kept_lock_key(name: str) -> int:
    """The advisory-lock key (signed 64 bit) a run holds while it uses kept database ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


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


class KeptDatabaseMixin:
    """:meth:`keep` for a janitor; the host class provides the connection primitives below."""

    worker: str
    #: A kept database is created as a copy of this database, when set.
    template: str | None

    @property
    def _masked(self) -> str:
        raise NotImplementedError

    def _connect(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _autocommit_engine(self, url: str) -> Engine:
        raise NotImplementedError

    def _database_url(self, name: str) -> str:
        raise NotImplementedError

    def _quote(self, connection: Connection, name: str) -> str:
        raise NotImplementedError

    def _comment_database(self, connection: Connection, name: str, comment: str) -> None:
        raise NotImplementedError

    def _create_failed(self, name: str, exc: BaseException) -> BackendUnavailableError:
        raise NotImplementedError

    def _drop_database(self, connection: Connection, name: str, *, force: bool) -> None:
        raise NotImplementedError

    def _warn(self, message: str) -> None:
        raise NotImplementedError

    def _raise_if_full(self, exc: BaseException) -> None:
        raise NotImplementedError

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
                    elif is_kept_comment(comment) and (
                        existing.startswith(group) or _OLD_KEEP_PATTERN.match(existing)
                    ):
                        self._drop_kept_if_free(connection, existing)
                created = False
                if not exists:
                    quoted = self._quote(connection, name)
                    statement = f"CREATE DATABASE {quoted}"
                    if self.template is not None:
                        statement += f" TEMPLATE {self._quote(connection, self.template)}"
                    try:
                        connection.execute(text(statement))
                    except DBAPIError as exc:
                        if getattr(exc.orig, "pgcode", None) != _DUPLICATE_DATABASE:
                            raise self._create_failed(name, exc) from None
                    else:
                        created = True
                        self._comment_database(connection, name, KEEP_MARKER)
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
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        engine = self._autocommit_engine(self._database_url(name))
        try:
            connection = engine.connect()
        except DBAPIError as exc:
            engine.dispose()
            self._raise_if_full(exc)
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
            self._warn(f"left kept database {name}: {server_error_line(exc)}")
