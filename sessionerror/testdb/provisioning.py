"""Per-worker test databases: created on first use, schema built once, removed at the end."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Dialect, Engine, MetaData, create_engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from sessionerror.engines.sqlite import MEMORY, create_sqlite_engine
from sessionerror.errors import BackendUnavailableError
from sessionerror.testdb.isolation import delete_all_rows
from sessionerror.testdb.migration_guard import SQLITE_APPLICATION_ID
from sessionerror.testdb.querycount import StatementRecorder
from sessionerror.testdb.sqlite import FileLock
from sessionerror.testdb.template_copy import copy_sqlite
from sessionerror.urls import DatabaseURL as SecretURL

if TYPE_CHECKING:  # typing only: testdb never imports the plugin at run time
    from sessionerror.plugin.config import Backend, SessionErrorConfig
    from sessionerror.testdb.postgres.janitor import DatabaseJanitor
    from sessionerror.testdb.postgres.server import PostgresServer
    from sessionerror.testdb.template_copy import BuiltTemplates

__all__ = ["DatabaseProvisioner", "ProvidedDatabase", "build_schema", "schema_fingerprint"]


@dataclass
class ProvidedDatabase:
    """One backend's test database for this worker."""

    backend: Backend
    engine: Engine
    #: Masked URL, for messages.
    location: str
    #: Sees every statement sent through ``engine`` (for the query-count assertions).
    recorder: StatementRecorder = field(init=False)
    _tables: MetaData | None = field(default=None, init=False, repr=False)
    _cleanup: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.recorder = StatementRecorder.attach(self.engine)

    @property
    def tables(self) -> MetaData:
        """The tables really in the database, reflected on first use (committed mode).

        Lazy (issue 11): reflecting a migrated schema of a hundred tables cost each worker
        about a second at start-up, also when no test used committed mode.
        """
        if self._tables is None:
            self._tables = MetaData()
            self._tables.reflect(self.engine)
        return self._tables


def schema_fingerprint(
    metadata: MetaData, dialect: Dialect, setup: Callable[..., Any] | None = None
) -> str:
    """Hash of the DDL ``metadata`` produces on ``dialect``.

    With a setup callable, the source of its module counts instead of the metadata: editing the
    migrations changes the fingerprint.
    """
    digest = hashlib.sha256()
    own = getattr(setup, "sessionerror_fingerprint", None)  # migrations (issue 11)
    if callable(own):
        return str(own())
    if setup is not None:
        digest.update(f"{setup.__module__}:{setup.__qualname__}".encode())
        source = inspect.getsourcefile(setup)
        if source:
            digest.update(Path(source).read_bytes())
        return digest.hexdigest()[:16]
    for table in metadata.sorted_tables:
        digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            digest.update(str(CreateIndex(index).compile(dialect=dialect)).encode())
    return digest.hexdigest()[:16]


def build_schema(
    engine: Engine, metadata: MetaData, setup: Callable[..., Any] | None = None
) -> None:
    """Create the schema: ``setup(connection)`` when given, else ``metadata.create_all``.

    A SQLite file gets the kit's ``application_id`` first (copies keep it): the mark that lets
    the kit's downgrade checks tell its own files from a team's.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(f"PRAGMA application_id = {SQLITE_APPLICATION_ID}")
        if setup is not None:
            setup(connection)
        else:
            metadata.create_all(connection)


class DatabaseProvisioner:
    """Creates this worker's database per backend on first use and removes it in :meth:`close`."""

    def __init__(
        self,
        config: SessionErrorConfig,
        *,
        worker: str,
        tmp_dir: Path,
        cache_dir: Path | None,
        postgres: PostgresServer | None,
        postgres_problem: str | None,
        metadata: MetaData | None = None,
        schema_setup: Callable[..., Any] | None = None,
        project: str = "",
        templates: BuiltTemplates | None = None,
    ) -> None:
        self.config = config
        self.worker = worker
        self.tmp_dir = tmp_dir
        self.cache_dir = cache_dir
        self.postgres = postgres
        self.postgres_problem = postgres_problem
        #: Names the project in kept databases (e.g. the rootdir), so projects do not share.
        self.project = project
        #: One line per thing left alone that the run should mention (masked).
        self.warnings: list[str] = []
        self._databases: dict[str, ProvidedDatabase] = {}
        self._metadata = metadata
        self._schema_setup = schema_setup
        #: The run's templates to copy instead of building the schema (issue 11).
        self.templates = templates

    @property
    def metadata(self) -> MetaData:
        """The configured MetaData (imported once)."""
        if self._metadata is None:
            self._metadata = self.config.load_metadata()
        return self._metadata

    def schema_setup(self) -> Callable[..., Any] | None:
        """The schema-setup callable: given explicitly, else from the configuration."""
        return self._schema_setup or self.config.load_schema_setup()

    def get(self, backend: Backend) -> ProvidedDatabase:
        """Return (creating on first use) the database for ``backend``."""
        if backend not in self._databases:
            template = self.templates.for_backend(backend) if self.templates else None
            if template is not None:  # built once per run: copy it (issue 11)
                self._databases[backend] = self._from_template(backend, template)
            elif backend == "sqlite":
                self._databases[backend] = self._create_sqlite()
            else:
                self._databases[backend] = self._create_postgres()
        return self._databases[backend]

    def close(self) -> None:
        """Dispose every engine and drop every database this provisioner created."""
        for database in self._databases.values():
            database.engine.dispose()
            for step in reversed(database._cleanup):
                step()
        self._databases.clear()

    def _from_template(self, backend: Backend, template: str) -> ProvidedDatabase:
        """This worker's database for ``backend``, copied from the run's template."""
        if backend == "sqlite":
            if self.config.sqlite_path == MEMORY:
                engine = create_sqlite_engine(MEMORY)
                raw = engine.raw_connection()
                try:
                    copy_sqlite(template, raw.driver_connection)
                finally:
                    raw.close()
                return ProvidedDatabase("sqlite", engine, "sqlite:// (in memory, from template)")
            path = self.tmp_dir / f"sessionerror-{self.worker}.db"
            path.unlink(missing_ok=True)
            try:
                copy_sqlite(template, path)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            engine = create_sqlite_engine(path, throwaway=True)
            database = ProvidedDatabase("sqlite", engine, f"sqlite:///{path}")
            database._cleanup.append(lambda: path.unlink(missing_ok=True))
            return database
        if self.postgres is None:
            raise BackendUnavailableError(self.postgres_problem or "PostgreSQL is not available")
        from sessionerror.testdb.postgres.janitor import DatabaseJanitor

        janitor = DatabaseJanitor(self.postgres.url, worker=self.worker, template=template)
        url = SecretURL(janitor.create())
        try:
            database = ProvidedDatabase("postgresql", create_engine(url.reveal()), str(url))
        except BaseException:
            janitor.drop()
            raise
        database._cleanup.append(janitor.drop)
        return database

    def _create_sqlite(self) -> ProvidedDatabase:
        setup = self.schema_setup()
        if self.config.sqlite_path == MEMORY:
            engine = create_sqlite_engine(MEMORY)
            build_schema(engine, self.metadata, setup)
            return ProvidedDatabase("sqlite", engine, "sqlite:// (in memory)")
        suffix = ""
        if self.config.reuse_schema and self.cache_dir is not None:
            reused = self._reuse_sqlite(setup)
            if reused is not None:
                return reused
            suffix = " (the kept file is in use by another run: a fresh one)"
        path = self.tmp_dir / f"sessionerror-{self.worker}.db"
        path.unlink(missing_ok=True)
        engine = create_sqlite_engine(path, throwaway=True)
        build_schema(engine, self.metadata, setup)
        database = ProvidedDatabase("sqlite", engine, f"sqlite:///{path}{suffix}")
        database._cleanup.append(lambda: path.unlink(missing_ok=True))
        return database

    def _reuse_sqlite(self, setup: Callable[..., Any] | None) -> ProvidedDatabase | None:
        """This worker's kept SQLite file, locked for this run; None if another run holds it."""
        assert self.cache_dir is not None
        fingerprint = schema_fingerprint(self.metadata, sqlite.dialect(), setup)
        path = self.cache_dir / f"sqlite-{fingerprint}-{self.worker}.db"
        lock = FileLock.try_acquire(path.with_name(path.name + ".lock"))
        if lock is None:
            return None
        try:
            for stale in self.cache_dir.glob(f"sqlite-*-{self.worker}.db"):
                if stale != path:
                    self._remove_stale_sqlite(stale)
            engine = create_sqlite_engine(path)
            self._reuse_or_build(engine, setup)
        except BaseException:
            lock.release()
            raise
        database = ProvidedDatabase("sqlite", engine, f"sqlite:///{path} (reused)")
        database._cleanup.append(lock.release)
        return database

    @staticmethod
    def _remove_stale_sqlite(stale: Path) -> None:
        # Only a file no run holds; the lock file stays, so no two runs ever lock different
        # files of the same name.
        lock = FileLock.try_acquire(stale.with_name(stale.name + ".lock"))
        if lock is None:
            return
        try:
            stale.unlink(missing_ok=True)
        finally:
            lock.release()

    def _reuse_or_build(self, engine: Engine, setup: Callable[..., Any] | None) -> None:
        # Schema builds are transactional, so any table at all means a complete earlier build.
        existing = MetaData()
        existing.reflect(engine)
        if existing.tables:
            with engine.begin() as connection:  # a killed run may have left committed rows
                delete_all_rows(connection, existing)
        else:
            build_schema(engine, self.metadata, setup)

    def _create_postgres(self) -> ProvidedDatabase:
        if self.postgres is None:
            raise BackendUnavailableError(self.postgres_problem or "PostgreSQL is not available")
        from sessionerror.testdb.postgres.janitor import DatabaseJanitor

        janitor = DatabaseJanitor(self.postgres.url, worker=self.worker)
        suffix = ""
        if self.config.reuse_schema:
            reused = self._reuse_postgres(janitor)
            if reused is not None:
                return reused
            suffix = " (the kept database is in use by another run: a fresh one)"
        url = SecretURL(janitor.create())
        try:
            engine = create_engine(url.reveal())
            build_schema(engine, self.metadata, self.schema_setup())
        except BaseException:
            janitor.drop()
            raise
        database = ProvidedDatabase("postgresql", engine, f"{url}{suffix}")
        database._cleanup.append(janitor.drop)
        return database

    def _reuse_postgres(self, janitor: DatabaseJanitor) -> ProvidedDatabase | None:
        """The kept database for this schema, held for this run; None if another run holds it."""
        setup = self.schema_setup()
        dialect = postgresql.psycopg2.dialect()  # type: ignore[no-untyped-call]
        fingerprint = schema_fingerprint(self.metadata, dialect, setup)
        try:
            kept = janitor.keep(fingerprint, project=self.project)
        finally:
            self.warnings.extend(janitor.warnings)
        if kept is None:
            return None
        url = SecretURL(kept.reveal_url())
        try:
            engine = create_engine(url.reveal())
            if kept.created:
                build_schema(engine, self.metadata, setup)
            else:
                self._reuse_or_build(engine, setup)
            database = ProvidedDatabase("postgresql", engine, f"{url} (reused)")
        except BaseException:
            kept.release()
            raise
        database._cleanup.append(kept.release)
        return database
