"""The PostgreSQL backend: the kit's own databases on a server, kept ones, template clones.

Databases are made and dropped by the :class:`~sessionerror.testdb.postgres.janitor.DatabaseJanitor`
(named and marked so a killed run's leftovers are removed at the next start); kept databases by
:mod:`sessionerror.testdb.postgres.kept`; the run's template is a database the workers clone with
``CREATE DATABASE ... TEMPLATE``:

* per run: ``sessionerror_<pid>_tpl<run token>_<hex>`` with the janitor's marker comment,
  dropped at the end of the run (a killed run's at the next start);
* with reuse: a kept template (:mod:`sessionerror.testdb.postgres.kept_templates`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sessionerror.errors import BackendUnavailableError
from sessionerror.testdb.backend import (
    KEPT_REUSED,
    Availability,
    BuiltTemplate,
    DatabaseBackend,
)
from sessionerror.testdb.postgres import kept_templates
from sessionerror.testdb.postgres.capacity import SYNC_POOL
from sessionerror.testdb.provided import ProvidedDatabase
from sessionerror.urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy import Connection, Dialect, Engine

    from sessionerror.testdb.postgres.janitor import DatabaseJanitor
    from sessionerror.testdb.postgres.kept import KeptDatabase
    from sessionerror.testdb.schema import Schema

__all__ = ["PostgresBackend"]


class PostgresBackend(DatabaseBackend):
    """PostgreSQL on the run's server (:class:`~sessionerror.testdb.backend.Availability`)."""

    name = "postgresql"
    keeps_worker_databases = True

    def __init__(
        self,
        schema: Schema,
        availability: Availability | None = None,
        *,
        warnings: list[str] | None = None,
    ) -> None:
        super().__init__(schema, availability, warnings=warnings)
        self._janitors: list[DatabaseJanitor] = []
        self._holders: list[tuple[Engine, Connection]] = []
        #: The pid owning this run's per-run templates when another process drops them.
        self._owner_pid: int | None = None

    @property
    def problem(self) -> str | None:
        """None with a server, else why there is none."""
        if self.availability.server is not None:
            return None
        return self.availability.problem or "PostgreSQL is not available"

    @property
    def url(self) -> DatabaseURL:
        """The server's URL (a maintenance database); BackendUnavailableError without one."""
        server = self.availability.server
        if server is None:
            raise BackendUnavailableError(self.problem or "PostgreSQL is not available")
        return server.url

    @staticmethod
    def dialect() -> Dialect:
        """PostgreSQL's dialect (psycopg2: the fingerprint does not depend on the driver)."""
        from sqlalchemy.dialects import postgresql

        return postgresql.psycopg2.dialect()  # type: ignore[no-untyped-call]

    def _janitor(self, worker: str, template: str | None = None) -> DatabaseJanitor:
        from sessionerror.testdb.postgres.janitor import DatabaseJanitor

        return DatabaseJanitor(self.url, worker=worker, template=template)

    def fresh(self, worker: str, tmp_dir: Path, *, note: str = "") -> ProvidedDatabase:
        """A new database on the server, schema built, dropped when it is closed."""
        from sqlalchemy import create_engine

        janitor = self._janitor(worker)
        url = DatabaseURL(janitor.create())
        try:
            engine = create_engine(url.reveal(), **SYNC_POOL)
            self.schema.build(engine)
        except BaseException:
            janitor.drop()
            raise
        database = ProvidedDatabase("postgresql", engine, f"{url}{note}")
        database.on_close(janitor.drop)
        return database

    def kept(self, worker: str, cache_dir: Path | None, project: str) -> ProvidedDatabase | None:
        """The kept database for this schema, held for this run; None if another run holds it.

        Built the first time; later runs use it as is when unchanged, else build it again
        (seeded rows are never lost, as for :meth:`kept_copy`).
        """
        return self._kept(self._janitor, worker, project)

    def kept_copy(self, template: str, worker: str, project: str) -> ProvidedDatabase | None:
        """This worker's kept copy of kept ``template``: no CREATE or DROP when it is unchanged.

        Copied from the template the first time, its state recorded
        (:mod:`~sessionerror.testdb.postgres.kept_state`); later runs check it is unchanged
        and set its sequences back, or drop it and copy the template again. None when another
        run holds it (or it cannot be dropped): the caller copies a fresh database.
        """
        return self._kept(lambda name: self._janitor(name, template=template), worker, project)

    def _kept(
        self, janitor_for: Callable[[str], DatabaseJanitor], worker: str, project: str
    ) -> ProvidedDatabase | None:
        for _attempt in range(2):
            janitor = janitor_for(worker)
            try:
                kept = janitor.keep(self.fingerprint(), project=project)
            finally:
                self.warnings.extend(janitor.warnings)
            if kept is None:
                return None
            try:
                database = self._checked_kept(kept, build=janitor.template is None)
            except BaseException:
                kept.release()
                if kept.created:  # half built: never left for the next run to find
                    self._drop_changed(kept.name)
                raise
            if database is not None:
                return database
            kept.release()
            if not self._drop_changed(kept.name):
                return None
        return None

    def _checked_kept(self, kept: KeptDatabase, *, build: bool) -> ProvidedDatabase | None:
        """The kept database, state recorded (new; its schema built with ``build``) or checked
        and its sequences reset; None when it changed since it was recorded."""
        from sqlalchemy import create_engine

        from sessionerror.testdb.postgres import kept_state

        url = DatabaseURL(kept.reveal_url())
        engine = create_engine(url.reveal(), **SYNC_POOL)
        try:
            if kept.created and build:
                self.schema.build(engine)
            unchanged = True
            with engine.begin() as connection:
                now = kept_state.snapshot(connection)
                if kept.created:
                    kept_state.record_state(connection, kept.name, now)
                else:
                    comment = connection.exec_driver_sql(
                        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                        "WHERE datname = current_database()"
                    ).scalar()
                    recorded = kept_state.read_state(comment)
                    unchanged = recorded is not None and recorded.digest == now.digest
                    if recorded is not None and unchanged:
                        kept_state.restore_sequences(connection, recorded)
        except BaseException:
            engine.dispose()
            raise
        if not unchanged:
            engine.dispose()  # every connection closed: it is dropped next
            return None
        note = "" if kept.created else KEPT_REUSED
        database = ProvidedDatabase("postgresql", engine, f"{url}{note}")
        database.on_close(kept.release)
        return database

    def _drop_changed(self, name: str) -> bool:
        """Drop a kept copy that changed since it was recorded; False if someone uses it."""
        from sqlalchemy.exc import DBAPIError

        engine, connection = self._connect()
        try:
            quoted = connection.dialect.identifier_preparer.quote(name)
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")  # never FORCE
        except DBAPIError:
            return False
        finally:
            connection.close()
            engine.dispose()
        return True

    def adopt_template(self, template: str, worker: str, tmp_dir: Path) -> ProvidedDatabase:
        """The per-run template itself (dropped by :meth:`close`, with the template): a run
        with one process pays one CREATE DATABASE and one DROP, as a hand-written conftest."""
        from sqlalchemy import create_engine

        url = DatabaseURL(self.url.parse().set(database=template))
        return ProvidedDatabase("postgresql", create_engine(url.reveal(), **SYNC_POOL), str(url))

    def from_template(self, template: str, worker: str, tmp_dir: Path) -> ProvidedDatabase:
        """A clone of the template database (``CREATE DATABASE ... TEMPLATE``)."""
        from sqlalchemy import create_engine

        janitor = self._janitor(worker, template=template)
        url = DatabaseURL(janitor.create())
        try:
            engine = create_engine(url.reveal(), **SYNC_POOL)  # one connection kept open
            database = ProvidedDatabase("postgresql", engine, str(url))
        except BaseException:
            janitor.drop()
            raise
        database.on_close(janitor.drop)
        return database

    def build_template(
        self, token: str, *, keep: bool, cache_dir: Path | None, project: str
    ) -> BuiltTemplate:
        """The template database: built for this run, or kept (found or built) with ``keep``."""
        janitor = self._janitor(f"tpl{token}")
        if not keep:
            if self._owner_pid is not None:  # named for the owner, who drops it (issue 19)
                janitor.pid = self._owner_pid
            self._build_database(janitor)
            if self._owner_pid is None:
                self._janitors.append(janitor)
            assert janitor.name is not None
            return BuiltTemplate(janitor.name)
        # One connection serves the build lock and then holds the template for the run.
        engine, connection = self._connect()
        try:
            prefix = kept_templates.kept_template_prefix(connection, project)
            name = prefix + self.fingerprint()[:16]
            # Concurrent runs building the same kept template wait for each other.
            kept_templates.lock_build(connection, name)
            try:
                # Before looking: no run drops it as stale from now on (until close()).
                kept_templates.hold_shared(connection, name)
                if kept_templates.kept_exists(connection, name):
                    self._holders.append((engine, connection))
                    return BuiltTemplate(name, reused=True)
                self._build_database(janitor)
                kept_templates.mark_kept(connection, str(janitor.name), name)
                janitor.name = None  # kept now: never dropped by this run
                kept_templates.drop_stale_kept(connection, prefix=prefix, keep=name)
            except BaseException:
                janitor.drop()
                raise
            finally:
                kept_templates.unlock_build(connection, name)
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        self._holders.append((engine, connection))
        return BuiltTemplate(name)

    def _build_database(self, janitor: DatabaseJanitor) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        url = janitor.create()
        # NullPool: no connection may stay open on a template while workers copy it.
        engine = create_engine(url, poolclass=NullPool)
        try:
            self.schema.build(engine)
        except BaseException:
            engine.dispose()
            janitor.drop()
            raise
        engine.dispose()

    def _connect(self) -> tuple[Engine, Connection]:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        engine = create_engine(self.url.reveal(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            return engine, engine.connect()
        except BaseException:
            engine.dispose()
            raise

    def share(self, owner_pid: int, run_dir: Path) -> None:
        """The per-run template is named and marked for ``owner_pid``, which drops it."""
        self._owner_pid = owner_pid

    def close(self) -> None:
        """Release the held kept templates and drop this run's templates; idempotent."""
        while self._holders:
            engine, connection = self._holders.pop()
            connection.close()  # releases the shared lock on the kept template
            engine.dispose()
        while self._janitors:
            self._janitors.pop().drop()
