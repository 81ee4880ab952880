"""The SQLite backend: a file per worker (or one in memory), kept files, template copies.

Kept files live in the pytest cache as ``sqlite-<fingerprint>-<worker>.db``, each held by a
:class:`~sessionerror.testdb.sqlite.lock.FileLock` while a run uses it. The run's template is
``sqlite-template.db`` in a run directory (:mod:`sessionerror.testdb.sqlite.run_dir`), or
``sqlite-<fingerprint>-template.db`` in the cache with reuse (written under a temporary name,
then renamed).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from sessionerror.engines.sqlite import MEMORY, create_sqlite_engine
from sessionerror.testdb.backend import BuiltTemplate, DatabaseBackend
from sessionerror.testdb.provided import ProvidedDatabase
from sessionerror.testdb.schema import reuse_or_build
from sessionerror.testdb.sqlite.copy import copy_sqlite
from sessionerror.testdb.sqlite.lock import FileLock
from sessionerror.testdb.sqlite.run_dir import make_run_dir

if TYPE_CHECKING:
    from sqlalchemy import Dialect

__all__ = ["SqliteBackend", "drop_kept_files"]

_SQLITE_TEMPLATE = "sqlite-template.db"


class SqliteBackend(DatabaseBackend):
    """SQLite: needs no server, so it is always available."""

    name = "sqlite"
    kept_in_use = " (the kept file is in use by another run: a fresh one)"

    #: This run's directory holding the per-run template, once made.
    _run_dir: Path | None = None
    #: The run directory is another process's (:meth:`share`): never removed here.
    _shared = False

    @property
    def in_memory(self) -> bool:
        """True when the settings ask for ``:memory:`` (one shared connection, never kept)."""
        return self.schema.settings.sqlite_path == MEMORY

    @staticmethod
    def dialect() -> Dialect:
        """SQLite's dialect."""
        from sqlalchemy.dialects import sqlite

        return sqlite.dialect()

    def fresh(self, worker: str, tmp_dir: Path, *, note: str = "") -> ProvidedDatabase:
        """A new file in ``tmp_dir`` (or a database in memory), schema built."""
        if self.in_memory:
            engine = create_sqlite_engine(MEMORY)
            self.schema.build(engine)
            return ProvidedDatabase("sqlite", engine, "sqlite:// (in memory)")
        path = tmp_dir / f"sessionerror-{worker}.db"
        path.unlink(missing_ok=True)
        engine = create_sqlite_engine(path, throwaway=True)
        self.schema.build(engine)
        database = ProvidedDatabase("sqlite", engine, f"sqlite:///{path}{note}")
        database.on_close(lambda: path.unlink(missing_ok=True))
        return database

    def can_keep(self, cache_dir: Path | None) -> bool:
        """A file in the pytest cache: not in memory, and not without a cache."""
        return cache_dir is not None and not self.in_memory

    def kept(self, worker: str, cache_dir: Path | None, project: str) -> ProvidedDatabase | None:
        """This worker's kept file, locked for this run; None if another run holds it."""
        assert cache_dir is not None
        path = cache_dir / f"sqlite-{self.fingerprint()}-{worker}.db"
        lock = FileLock.try_acquire(path.with_name(path.name + ".lock"))
        if lock is None:
            return None
        try:
            for stale in cache_dir.glob(f"sqlite-*-{worker}.db"):
                if stale != path:
                    _remove_stale(stale)
            engine = create_sqlite_engine(path)
            reuse_or_build(engine, self.schema)
        except BaseException:
            lock.release()
            raise
        database = ProvidedDatabase("sqlite", engine, f"sqlite:///{path} (reused)")
        database.on_close(lock.release)
        return database

    def from_template(self, template: str, worker: str, tmp_dir: Path) -> ProvidedDatabase:
        """A copy of the template file (into memory with ``:memory:``)."""
        if self.in_memory:
            engine = create_sqlite_engine(MEMORY)
            raw = engine.raw_connection()
            try:
                copy_sqlite(template, raw.driver_connection)
            finally:
                raw.close()
            return ProvidedDatabase("sqlite", engine, "sqlite:// (in memory, from template)")
        path = tmp_dir / f"sessionerror-{worker}.db"
        path.unlink(missing_ok=True)
        try:
            copy_sqlite(template, path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        engine = create_sqlite_engine(path, throwaway=True)
        database = ProvidedDatabase("sqlite", engine, f"sqlite:///{path}")
        database.on_close(lambda: path.unlink(missing_ok=True))
        return database

    def build_template(
        self, token: str, *, keep: bool, cache_dir: Path | None, project: str
    ) -> BuiltTemplate:
        """The template file: in the run directory, or kept in the cache with ``keep``."""
        if keep and cache_dir is not None:
            path = cache_dir / f"sqlite-{self.fingerprint()}-template.db"
            if path.is_file():
                return BuiltTemplate(str(path), reused=True)
            self._build_file(path)
            for stale in cache_dir.glob("sqlite-*-template.db"):
                if stale != path:
                    stale.unlink(missing_ok=True)
            return BuiltTemplate(str(path))
        if self._run_dir is None:
            self._run_dir = make_run_dir(token)
        path = self._run_dir / _SQLITE_TEMPLATE
        self._build_file(path)
        return BuiltTemplate(str(path))

    def _build_file(self, path: Path) -> None:
        building = path.with_name(f".{path.name}.{os.getpid()}.building")
        building.unlink(missing_ok=True)
        engine = create_sqlite_engine(building, throwaway=True)
        try:
            self.schema.build(engine)
            engine.dispose()
            os.replace(building, path)
        except BaseException:
            engine.dispose()
            building.unlink(missing_ok=True)
            raise

    def share(self, owner_pid: int, run_dir: Path) -> None:
        """The per-run template goes into the owner's ``run_dir``, which the owner removes."""
        self._run_dir = run_dir
        self._shared = True

    def close(self) -> None:
        """Remove the run directory (the per-run template) unless shared; idempotent."""
        if self._shared:
            self._run_dir = None
        elif self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None


def _remove_stale(stale: Path) -> None:
    # Only a file no run holds; the lock file stays, so no two runs ever lock different
    # files of the same name.
    lock = FileLock.try_acquire(stale.with_name(stale.name + ".lock"))
    if lock is None:
        return
    try:
        stale.unlink(missing_ok=True)
    finally:
        lock.release()


def drop_kept_files(cache_dir: Path) -> list[str]:
    """Remove the kept SQLite templates and files in ``cache_dir`` no run holds; their names."""
    dropped: list[str] = []
    for path in sorted(cache_dir.glob("sqlite-*.db")):
        if path.name.endswith("-template.db"):
            path.unlink(missing_ok=True)
        else:
            _remove_stale(path)
        if not path.exists():
            dropped.append(path.name)
    return dropped
