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

from pathlib import Path
from typing import TYPE_CHECKING

from sessionerror.errors import BackendUnavailableError
from sessionerror.testdb.backend import Availability, BuiltTemplate, DatabaseBackend
from sessionerror.testdb.postgres import kept_templates
from sessionerror.testdb.postgres.capacity import SYNC_POOL
from sessionerror.testdb.provided import ProvidedDatabase
from sessionerror.testdb.schema import reuse_or_build
from sessionerror.urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy import Connection, Dialect, Engine

    from sessionerror.testdb.postgres.janitor import DatabaseJanitor
    from sessionerror.testdb.schema import Schema

__all__ = ["PostgresBackend"]


class PostgresBackend(DatabaseBackend):
    """PostgreSQL on the run's server (:class:`~sessionerror.testdb.backend.Availability`)."""

    name = "postgresql"

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

    @property
    def problem(self) -> str | None:
        """None with a server, else why there is none."""
        if self.availability.server is not None:
            return None
        return self.availability.problem or "PostgreSQL is not available"

    @property
    def url(self) -> str:
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
        """The kept database for this schema, held for this run; None if another run holds it."""
        from sqlalchemy import create_engine

        janitor = self._janitor(worker)
        try:
            kept = janitor.keep(self.fingerprint(), project=project)
        finally:
            self.warnings.extend(janitor.warnings)
        if kept is None:
            return None
        url = DatabaseURL(kept.reveal_url())
        try:
            engine = create_engine(url.reveal(), **SYNC_POOL)
            if kept.created:
                self.schema.build(engine)
            else:
                reuse_or_build(engine, self.schema)
            database = ProvidedDatabase("postgresql", engine, f"{url} (reused)")
        except BaseException:
            kept.release()
            raise
        database.on_close(kept.release)
        return database

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
            self._build_database(janitor)
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

        engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            return engine, engine.connect()
        except BaseException:
            engine.dispose()
            raise

    def close(self) -> None:
        """Release the held kept templates and drop this run's templates; idempotent."""
        while self._holders:
            engine, connection = self._holders.pop()
            connection.close()  # releases the shared lock on the kept template
            engine.dispose()
        while self._janitors:
            self._janitors.pop().drop()
