"""Committed mode's keeper of one test database: its template rows, its connections' session
state, and a cleanup that could not run.

One :class:`CommittedGuard` per database (the plugin keeps them per run). It

* reads the template's rows once per driver, when the first committed test starts
  (:mod:`sessionerror.testdb.template_state`), and puts them back after each committed test;
* resets every pooled connection a committed test checked out when it goes back to the pool,
  so settings the test committed (``SET TIME ZONE``, ``search_path``, ``statement_timeout``,
  PRAGMAs) do not reach the next test;
* retries a failed cleanup once on a fresh connection and, when that fails too, keeps the
  reason in :attr:`CommittedGuard.problem` so the next test fails instead of seeing the rows.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, StaticPool

from sessionerror.errors import DatabaseUnavailableError, first_line
from sessionerror.redaction import hide_url_secrets
from sessionerror.testdb.template_state import TemplateSnapshot, capture_template, restore_template

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["POSTGRES_RESET", "CommittedGuard", "TemplateRestoreError"]

#: What a PostgreSQL connection a committed test used runs before the next test gets it: the
#: parts of DISCARD ALL that keep the driver's prepared statements (asyncpg caches them, and
#: DISCARD ALL cannot run inside the transaction the drivers open).
POSTGRES_RESET = (
    "SET SESSION AUTHORIZATION DEFAULT",  # also ends SET ROLE, which RESET ALL keeps
    "RESET ALL",
    "UNLISTEN *",
    "SELECT pg_advisory_unlock_all()",
    "DISCARD TEMP",
    "DISCARD SEQUENCES",
)
_DIRTY = "sessionerror_committed_dirty"

Reset = Callable[[Any, Any], None]


class TemplateRestoreError(DatabaseUnavailableError):
    """A committed test's cleanup could not bring the database back to the template's rows."""


class CommittedGuard:
    """Template rows, connection resets and a failed cleanup of one test database."""

    def __init__(self) -> None:
        #: Why the database is not back in the template's state (one line), or None.
        self.problem: str | None = None
        self._snapshots: dict[str, TemplateSnapshot] = {}
        self._active = False
        self._tracked: weakref.WeakSet[Engine] = weakref.WeakSet()

    # -- the template's rows --------------------------------------------------------------

    def snapshot_for(self, engine: Engine, metadata: MetaData) -> TemplateSnapshot:
        """The template rows as ``engine``'s driver reads them; read now on first use.

        Taken when the first committed test starts: the database is a fresh copy of the
        template then (rollback-mode tests leave nothing behind).
        """
        snapshot = self._snapshots.get(engine.dialect.driver)
        if snapshot is None:
            self.raise_if_broken()
            with engine.connect() as connection:
                snapshot = self._capture(connection, metadata)
        return snapshot

    async def snapshot_for_async(self, engine: AsyncEngine, metadata: MetaData) -> TemplateSnapshot:
        """:meth:`snapshot_for` for an AsyncEngine (asyncpg may return other Python types)."""
        snapshot = self._snapshots.get(engine.dialect.driver)
        if snapshot is None:
            self.raise_if_broken()
            async with engine.connect() as connection:
                snapshot = await connection.run_sync(self._capture, metadata)
        return snapshot

    def _capture(self, connection: Connection, metadata: MetaData) -> TemplateSnapshot:
        snapshot = capture_template(connection, metadata)
        self._snapshots[connection.dialect.driver] = snapshot
        return snapshot

    # -- connection session state ---------------------------------------------------------

    def track(self, engine: Engine) -> None:
        """Reset connections of ``engine`` a committed test used when they are checked in."""
        if engine in self._tracked:
            return
        self._tracked.add(engine)
        pool = engine.pool
        if isinstance(pool, NullPool):  # every checkin closes the connection: nothing carries
            return
        reset = _resetter(engine)

        def on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            if self._active:
                record.info[_DIRTY] = True

        def on_checkin(dbapi_connection: Any, record: Any) -> None:
            if record is None or not record.info.pop(_DIRTY, False) or dbapi_connection is None:
                return
            try:
                reset(dbapi_connection, record)
            except Exception as exc:  # a connection that cannot be reset is not reused
                record.invalidate(exc)

        event.listen(engine, "checkout", on_checkout)
        event.listen(engine, "checkin", on_checkin)

    @contextmanager
    def dirtying(self) -> Iterator[None]:
        """While the block runs, every connection checked out is reset at its checkin."""
        self._active = True
        try:
            yield
        finally:
            self._active = False

    @staticmethod
    def mark_dirty(connection: Connection) -> None:
        """Reset ``connection`` (checked out before the committed test began) at checkin."""
        connection.connection.info[_DIRTY] = True

    # -- cleanup --------------------------------------------------------------------------

    def restore(self, engine: Engine, snapshot: TemplateSnapshot, *, test: str = "") -> None:
        """Put the template rows back; once more on a fresh connection if that fails.

        Raises :class:`TemplateRestoreError` (and keeps the reason in :attr:`problem`) when
        the second try fails too.
        """
        failures: list[Exception] = []
        for _ in range(2):
            try:
                with engine.begin() as connection:
                    restore_template(connection, snapshot)
                return
            except Exception as exc:  # any failure: the next test must not see the rows
                failures.append(exc)
                if not _invalidated(exc):
                    engine.dispose()  # a fresh connection for the second try
        self._fail(engine, test, failures)

    async def restore_async(
        self, engine: AsyncEngine, snapshot: TemplateSnapshot, *, test: str = ""
    ) -> None:
        """:meth:`restore` on an AsyncEngine."""
        failures: list[Exception] = []
        for _ in range(2):
            try:
                async with engine.begin() as connection:
                    await connection.run_sync(restore_template, snapshot)
                return
            except Exception as exc:
                failures.append(exc)
                if not _invalidated(exc):
                    await engine.dispose()
        self._fail(engine.sync_engine, test, failures)

    def _fail(self, engine: Engine, test: str, failures: list[Exception]) -> None:
        first, second = (_describe(exc) for exc in failures)
        second = "the same error" if second == first else second
        self.problem = hide_url_secrets(
            f"the cleanup of committed test {test or '(outside pytest)'} could not bring "
            f"{engine.url.render_as_string()} back to the template's rows ({first}; retried on "
            f"a fresh connection: {second}), so its rows may still be there"
        )
        raise TemplateRestoreError(f"sessionerror: {self.problem}")

    def raise_if_broken(self) -> None:
        """Raise :class:`TemplateRestoreError` if a cleanup failed and was not repaired."""
        if self.problem is not None:
            raise TemplateRestoreError(f"sessionerror: {self.problem}")

    def repair(self, engine: Engine) -> None:
        """After a failed cleanup, try once more (fresh connection); raise if it still fails."""
        if self.problem is None:
            return
        snapshot = self._snapshots.get(engine.dialect.driver)
        if snapshot is None:
            self.raise_if_broken()
            return
        engine.dispose()
        try:
            with engine.begin() as connection:
                restore_template(connection, snapshot)
        except Exception as exc:
            raise TemplateRestoreError(
                f"sessionerror: {self.problem}; trying again before this test failed too: "
                f"{hide_url_secrets(_describe(exc))}"
            ) from None
        self.problem = None


def _invalidated(exc: Exception) -> bool:
    """True when SQLAlchemy saw the connection die (it then hands out fresh ones)."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _describe(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    return f"{type(original).__name__}: {first_line(original)}"


def _resetter(engine: Engine) -> Reset:
    """How a connection of ``engine`` forgets what a test set on it."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        joined = engine.dialect.driver in ("psycopg2", "psycopg")  # several statements at once

        def reset_postgres(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                if joined:
                    cursor.execute("; ".join(POSTGRES_RESET))
                else:  # asyncpg prepares each statement: one at a time
                    for statement in POSTGRES_RESET:
                        cursor.execute(statement)
            finally:
                cursor.close()
            dbapi_connection.commit()

        return reset_postgres
    if dialect == "sqlite" and isinstance(engine.pool, StaticPool):
        pool = engine.pool

        def reset_shared(dbapi_connection: Any, record: Any) -> None:
            # The one in-memory connection cannot be replaced: re-apply the engine's settings
            # (foreign keys, busy timeout); a PRAGMA those do not set stays as the test left it.
            pool.dispatch.connect(dbapi_connection, record)

        return reset_shared

    def reconnect(_dbapi_connection: Any, record: Any) -> None:
        # SQLite (and other backends): a new connection is cheap and forgets PRAGMAs, temp
        # tables and attached databases; the engine's connect listeners set it up again.
        record.invalidate()

    return reconnect
