"""Build each backend's schema once per run, then copy it for every worker.

The run's owner (the xdist controller, or the only process) builds one template per backend:
a PostgreSQL database the workers clone with ``CREATE DATABASE ... TEMPLATE``, and a SQLite
file each worker copies with the sqlite3 backup API. Migrations, a schema-setup callable or
``create_all`` therefore run once per backend and run, whatever the number of workers.

Templates are the kit's own databases and files, named and marked like the rest:

* PostgreSQL, per run: ``sessionerror_<pid>_tpl<run token>_<hex>`` with the janitor's marker
  comment, so a killed run's template is removed at the next start; dropped by the owner at the
  end of the run.
* PostgreSQL, with ``--sessionerror-reuse-schema``: ``sessionerror_keep_<owner>_tpl_<fingerprint>``
  (``owner`` as for every kept database: a hash of the role and the project, see
  :mod:`sessionerror.testdb.postgres.kept`) with the kit's ``kept by sessionerror`` comment. It
  is built under a throwaway name and renamed only when complete, so a killed build never
  leaves a kept template behind; kept templates of the same owner and another fingerprint are
  dropped when nobody uses them (never with FORCE).
* SQLite: ``sqlite-template.db`` in a run directory ``sessionerror-run-<pid>-<hex>`` (removed at
  the end; a killed run's directory at the next start), or ``sqlite-<fingerprint>-template.db``
  in the pytest cache with reuse (written under a temporary name, then renamed).

Workers copy them in :class:`~sessionerror.testdb.provisioning.DatabaseProvisioner`, with
:mod:`sessionerror.testdb.template_copy`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionerror.errors import BackendUnavailableError
from sessionerror.testdb.postgres.kept import (
    KEEP_MARKER,
    KEEP_PREFIX,
    kept_lock_key,
    kept_owner_tag,
)
from sessionerror.testdb.provisioning import build_schema, schema_fingerprint
from sessionerror.testdb.template_copy import BuiltTemplates, copy_sqlite

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, MetaData

    from sessionerror.plugin.config import Backend, SessionErrorConfig
    from sessionerror.testdb.postgres.janitor import DatabaseJanitor
    from sessionerror.testdb.postgres.server import PostgresServer

__all__ = [
    "KEPT_TEMPLATE_WORKER",
    "RUN_DIR_PREFIX",
    "BuiltTemplates",
    "TemplateBuilder",
    "copy_sqlite",
    "kept_template_prefix",
    "remove_stale_run_dirs",
]

#: The worker part of kept template names: ``sessionerror_keep_<owner>_tpl_<fingerprint>``.
KEPT_TEMPLATE_WORKER = "tpl"
#: Per-run directories holding the SQLite template: ``<prefix><pid>-<hex>``.
RUN_DIR_PREFIX = "sessionerror-run-"
_RUN_MARKER_FILE = ".sessionerror-run"
_SQLITE_TEMPLATE = "sqlite-template.db"


# -- the owner's build --------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_run_dirs(parent: Path | None = None) -> list[Path]:
    """Remove run directories of killed runs on this host (dead pid, our marker file inside)."""
    parent = Path(parent or tempfile.gettempdir())
    removed: list[Path] = []
    host = socket.gethostname()
    for path in parent.glob(f"{RUN_DIR_PREFIX}*"):
        match = re.fullmatch(rf"{re.escape(RUN_DIR_PREFIX)}(\d+)-[0-9a-z_]+", path.name)
        marker = path / _RUN_MARKER_FILE
        if match is None or not marker.is_file():
            continue
        try:
            if marker.read_text().strip() != host or _pid_alive(int(match.group(1))):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


class TemplateBuilder:
    """Builds the schema of each backend once (the run's owner) and removes it in :meth:`close`.

    ``metadata`` / ``schema_setup`` default to the configuration (migrations, a setup callable,
    else the metadata's ``create_all``). ``project`` names the project in kept templates (the
    rootdir, as for the workers' kept databases), so projects never share one.
    """

    def __init__(
        self,
        config: SessionErrorConfig,
        *,
        postgres: PostgresServer | None,
        cache_dir: Path | None,
        metadata: MetaData | None = None,
        schema_setup: Callable[[Connection], Any] | None = None,
        project: str = "",
    ) -> None:
        self.config = config
        self.project = project
        self.postgres = postgres
        self.cache_dir = cache_dir
        self._metadata = metadata
        self._setup = schema_setup
        self._setup_loaded = schema_setup is not None
        #: Short random token naming this run's templates.
        self.token = secrets.token_hex(3)
        self._run_dir: Path | None = None
        self._janitors: list[DatabaseJanitor] = []
        self._holders: list[tuple[Engine, Connection]] = []
        #: What was built (or found kept) per backend.
        self.built: dict[str, str] = {}
        #: Backends whose template was reused from an earlier run (no build at all).
        self.reused: set[str] = set()

    # -- schema source ----------------------------------------------------------------------

    @property
    def setup(self) -> Callable[[Connection], Any] | None:
        """The schema-setup callable (the Alembic runner with migrations), else None."""
        if not self._setup_loaded:
            self._setup = self.config.load_schema_setup()
            self._setup_loaded = True
        return self._setup

    @property
    def metadata(self) -> MetaData:
        """The configured MetaData."""
        if self._metadata is None:
            self._metadata = self.config.load_metadata()
        return self._metadata

    def fingerprint(self, backend: Backend) -> str:
        """Hash of what the schema is built from, for ``backend``'s dialect."""
        from sqlalchemy.dialects import postgresql, sqlite

        setup = self.setup
        metadata = self.metadata if setup is None else _empty_metadata()
        dialect = sqlite.dialect() if backend == "sqlite" else postgresql.psycopg2.dialect()  # type: ignore[no-untyped-call]
        return schema_fingerprint(metadata, dialect, setup)

    def _build_into(self, engine: Engine) -> None:
        setup = self.setup
        build_schema(engine, self.metadata if setup is None else _empty_metadata(), setup)

    # -- public -----------------------------------------------------------------------------

    def build(self, backends: tuple[Backend, ...]) -> BuiltTemplates:
        """Build (or find kept) the template of every backend that can be provided."""
        for backend in backends:
            if backend == "sqlite":
                self.built["sqlite"] = self.build_sqlite()
            elif self.postgres is not None:
                self.built["postgresql"] = self.build_postgres()
        return BuiltTemplates(self.built.get("sqlite"), self.built.get("postgresql"))

    @property
    def run_dir(self) -> Path:
        """This run's directory for the SQLite template (created on first use)."""
        if self._run_dir is None:
            remove_stale_run_dirs()
            self._run_dir = Path(
                tempfile.mkdtemp(prefix=f"{RUN_DIR_PREFIX}{os.getpid()}-{self.token}")
            )
            (self._run_dir / _RUN_MARKER_FILE).write_text(socket.gethostname())
        return self._run_dir

    def build_sqlite(self) -> str:
        """Path of the SQLite template file, built now unless a kept one matches."""
        if self.config.reuse_schema and self.cache_dir is not None:
            fingerprint = self.fingerprint("sqlite")
            path = self.cache_dir / f"sqlite-{fingerprint}-template.db"
            if path.is_file():
                self.reused.add("sqlite")
                return str(path)
            self._build_sqlite_file(path)
            for stale in self.cache_dir.glob("sqlite-*-template.db"):
                if stale != path:
                    stale.unlink(missing_ok=True)
            return str(path)
        path = self.run_dir / _SQLITE_TEMPLATE
        self._build_sqlite_file(path)
        return str(path)

    def _build_sqlite_file(self, path: Path) -> None:
        from sessionerror.engines.sqlite import create_sqlite_engine

        building = path.with_name(f".{path.name}.{os.getpid()}.building")
        building.unlink(missing_ok=True)
        engine = create_sqlite_engine(building, throwaway=True)
        try:
            self._build_into(engine)
            engine.dispose()
            os.replace(building, path)
        except BaseException:
            engine.dispose()
            building.unlink(missing_ok=True)
            raise

    def build_postgres(self) -> str:
        """Name of the PostgreSQL template database, built now unless a kept one matches."""
        from sessionerror.testdb.postgres.janitor import DatabaseJanitor

        if self.postgres is None:
            raise BackendUnavailableError("PostgreSQL is not available")
        if not self.config.reuse_schema:
            janitor = DatabaseJanitor(self.postgres.url, worker=f"tpl{self.token}")
            self._build_postgres_database(janitor)
            self._janitors.append(janitor)
            assert janitor.name is not None
            return janitor.name
        janitor = DatabaseJanitor(self.postgres.url, worker=f"tpl{self.token}")
        with self._maintenance() as connection:
            prefix = kept_template_prefix(connection, self.project)
            name = prefix + self.fingerprint("postgresql")[:16]
            # Concurrent runs building the same kept template wait for each other.
            connection.exec_driver_sql("SELECT pg_advisory_lock(hashtext(%s))", (name,))
            try:
                self._hold(name)  # before looking: no run drops it as stale from now on
                if _kept_exists(connection, name):
                    self.reused.add("postgresql")
                    return name
                self._build_postgres_database(janitor)
                quoted = connection.dialect.identifier_preparer.quote(name)
                built = connection.dialect.identifier_preparer.quote(str(janitor.name))
                connection.exec_driver_sql(f"ALTER DATABASE {built} RENAME TO {quoted}")
                janitor.name = None  # kept now: never dropped by this run
                connection.exec_driver_sql(
                    f"COMMENT ON DATABASE {quoted} IS '{KEEP_MARKER}'"  # a constant, no quotes
                )
                _drop_stale_kept(connection, prefix=prefix, keep=name)
            except BaseException:
                janitor.drop()
                raise
            finally:
                connection.exec_driver_sql("SELECT pg_advisory_unlock(hashtext(%s))", (name,))
        return name

    def _build_postgres_database(self, janitor: DatabaseJanitor) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        url = janitor.create()
        # NullPool: no connection may stay open on a template while workers copy it.
        engine = create_engine(url, poolclass=NullPool)
        try:
            self._build_into(engine)
        except BaseException:
            engine.dispose()
            janitor.drop()
            raise
        engine.dispose()

    @contextlib.contextmanager
    def _maintenance(self) -> Iterator[Connection]:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        assert self.postgres is not None
        engine = create_engine(self.postgres.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def _hold(self, name: str) -> None:
        """Hold kept template ``name`` for this run: a shared advisory lock (its key as for kept
        databases) on a maintenance connection, until :meth:`close`. Held templates are never
        dropped as stale, so workers still to copy one never find it gone."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        assert self.postgres is not None
        engine = create_engine(self.postgres.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        connection = engine.connect()
        try:
            connection.exec_driver_sql("SELECT pg_advisory_lock_shared(%s)", (kept_lock_key(name),))
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        self._holders.append((engine, connection))

    def close(self) -> None:
        """Drop this run's PostgreSQL templates and remove its run directory; idempotent."""
        while self._holders:
            engine, connection = self._holders.pop()
            connection.close()  # releases the shared lock on the kept template
            engine.dispose()
        while self._janitors:
            self._janitors.pop().drop()
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None


def _empty_metadata() -> MetaData:
    from sqlalchemy import MetaData

    return MetaData()


def kept_template_prefix(connection: Connection, project: str) -> str:
    """``sessionerror_keep_<owner>_tpl_``: the kept templates of this role and project."""
    user = connection.exec_driver_sql("SELECT current_user").scalar_one()
    return f"{KEEP_PREFIX}{kept_owner_tag(user, project)}_{KEPT_TEMPLATE_WORKER}_"


def _kept_exists(connection: Connection, name: str) -> bool:
    comment = connection.exec_driver_sql(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (name,),
    ).scalar()
    return comment == KEEP_MARKER


def _drop_stale_kept(connection: Connection, *, prefix: str, keep: str) -> None:
    """Drop this owner's kept templates of other fingerprints that nobody uses.

    Only those carrying the kit's comment; never with FORCE. A template a run holds (see
    :meth:`TemplateBuilder._hold`) or anyone is connected to is left alone, as
    :mod:`sessionerror.testdb.postgres.kept` does for kept databases.
    """
    from sqlalchemy.exc import DBAPIError

    rows = connection.exec_driver_sql(
        "SELECT d.datname FROM pg_database d WHERE starts_with(d.datname, %s) "
        "AND shobj_description(d.oid, 'pg_database') = %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
        (prefix, KEEP_MARKER),
    ).scalars()
    for name in list(rows):
        if name == keep:
            continue
        key = kept_lock_key(name)
        free = connection.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (key,)).scalar()
        if not free:
            continue  # a run holds it: a later run drops it
        try:
            quoted = connection.dialect.identifier_preparer.quote(name)
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
        except DBAPIError:
            pass  # in use meanwhile: a later run drops it
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
