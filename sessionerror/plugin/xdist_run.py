"""Internal (issue 19): an xdist run whose workers resolve and build on first use.

An xdist controller collects no test, so it cannot know whether one needs a database. When it
needs no server of its own to own (PostgreSQL not selected, or given by URL) and nothing asks
for work before the tests (``--sessionerror-drop-kept``), it resolves and builds nothing: it
hands each worker a :class:`SharedRun` (its pid and a run token) instead. A worker resolves
PostgreSQL on its first database test, like one process; the first worker that needs the
templates builds them under a blocking file lock in the run directory
(``sessionerror-run-<controller pid>-<token>``) and records them in ``templates.json`` there;
the others wait for the lock and copy what it records. Per-run templates are named for the
controller, which drops them and removes the run directory at the end of the run; kept
templates stay as with one process. A run that uses no database fixture makes neither.

With PostgreSQL selected and no URL, the first worker that needs it starts the throwaway local
server under a blocking file lock in the run directory and records how to reach and stop it
(URL, data directory, postmaster pid) in ``server.json`` there (or why it could not: the others
then fail or skip alike instead of trying again); the others wait for the lock and read it. The
controller outlives every worker: it stops the server and removes its data directory at the end
of the run (Ctrl-C and failures included); a killed run's is stopped with its run directory at
the next start (:func:`sessionerror.testdb.sqlite.run_dir.remove_stale_run_dirs`). A container
(no local ``initdb``/``pg_ctl`` found, containers allowed) is still started, and the templates
built, by the controller while it configures (:mod:`sessionerror.plugin.schema_build`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionerror.plugin.config import SessionErrorConfig

if TYPE_CHECKING:
    from sessionerror.testdb.postgres.provider import PostgresProvider
    from sessionerror.testdb.postgres.server import PostgresServer
    from sessionerror.testdb.templates import BuiltTemplates, TemplateBuilder
    from sessionerror.urls import DatabaseURL

__all__ = ["WORKERINPUT_KEY", "WORKEROUTPUT_KEY", "SharedRun", "controller_is_lazy"]

#: ``workerinput`` key of the :class:`SharedRun` a lazy controller hands to its workers.
WORKERINPUT_KEY = "sessionerror_shared_run"
#: ``workeroutput`` key of a worker's header lines (where PostgreSQL is, the templates it built).
WORKEROUTPUT_KEY = "sessionerror_header_lines"
_MANIFEST = "templates.json"
_LOCK = "build.lock"
_SERVER_LOCK = "server.lock"


def controller_is_lazy(settings: SessionErrorConfig) -> bool:
    """True if an xdist controller with these settings can leave everything to its workers."""
    return not _starts_container(settings) and not settings.drop_kept


def _starts_container(settings: SessionErrorConfig) -> bool:
    """True if PostgreSQL would come from a container: no URL, no local binaries to use."""
    if not settings.wants_postgres or settings.postgres_url or not settings.allow_containers:
        return False
    if not settings.allow_local_postgres:
        return True
    from sessionerror.testdb.postgres.binaries import locate_pg_binaries

    return locate_pg_binaries(settings.pg_bin_dir)[0] is None


@dataclass(frozen=True)
class SharedRun:
    """The run a lazy xdist controller owns: its pid and the token naming its templates."""

    owner_pid: int
    token: str

    @classmethod
    def new(cls) -> SharedRun:
        """The run of this process (the controller)."""
        return cls(os.getpid(), secrets.token_hex(3))

    def to_dict(self) -> dict[str, Any]:
        """Plain values for xdist's ``workerinput``."""
        return {"owner_pid": self.owner_pid, "token": self.token}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SharedRun:
        """Rebuild from :meth:`to_dict` output."""
        return cls(int(values["owner_pid"]), str(values["token"]))

    @property
    def run_dir(self) -> Path:
        """The run directory (not made by reading this)."""
        from sessionerror.testdb.sqlite.run_dir import shared_run_dir

        return shared_run_dir(self.owner_pid, self.token)

    def build_once(
        self, builder: TemplateBuilder, build: Callable[[], BuiltTemplates]
    ) -> tuple[BuiltTemplates, bool]:
        """On a worker: ``build()`` (with ``builder`` sharing this run) unless another worker
        did; the templates, and True when this worker built them."""
        from sessionerror.testdb.sqlite.lock import FileLock
        from sessionerror.testdb.sqlite.run_dir import open_shared_run_dir
        from sessionerror.testdb.template_copy import BuiltTemplates

        run_dir = open_shared_run_dir(self.owner_pid, self.token)
        builder.share(self.owner_pid, self.token, run_dir)
        lock = FileLock.acquire(run_dir / _LOCK)
        try:
            manifest = run_dir / _MANIFEST
            if manifest.is_file():
                recorded = json.loads(manifest.read_text())
                return BuiltTemplates.from_dict(recorded["locations"]), False
            built = build()
            per_run = {} if builder.settings.reuse_schema else dict(built.locations)
            record = {"locations": dict(built.locations), "per_run": per_run}
            building = manifest.with_name(f".{_MANIFEST}.{os.getpid()}")
            building.write_text(json.dumps(record))
            os.replace(building, manifest)
            return built, True
        finally:
            lock.release()

    def start_server_once(self, provider: PostgresProvider) -> PostgresServer:
        """On a worker: the run's local server, started by ``provider`` unless another worker
        did (or failed to: its error again); the controller stops it at the end of the run."""
        from sessionerror.errors import BackendUnavailableError
        from sessionerror.testdb.postgres.server import PostgresServer, PostgresUnavailableError
        from sessionerror.testdb.sqlite.lock import FileLock
        from sessionerror.testdb.sqlite.run_dir import SERVER_RECORD, open_shared_run_dir
        from sessionerror.urls import DatabaseURL

        run_dir = open_shared_run_dir(self.owner_pid, self.token)
        lock = FileLock.acquire(run_dir / _SERVER_LOCK)
        try:
            record_path = run_dir / SERVER_RECORD
            if record_path.is_file():
                record = json.loads(record_path.read_text())
                if "problem" in record:
                    provider.attempts = [str(step) for step in record["attempts"]]
                    raise PostgresUnavailableError(record["problem"], attempts=provider.attempts)
                return PostgresServer(
                    url=DatabaseURL(record["url"]),
                    source=record["source"],
                    description=str(record["description"]),
                )
            try:
                server = provider.start()
            except BackendUnavailableError as exc:
                _write_json(record_path, {"problem": str(exc), "attempts": provider.attempts})
                raise
            local = provider.release_local()
            try:
                record = {
                    "url": server.url.reveal(),  # a local server's URL has no password
                    "source": server.source,
                    "description": server.description,
                    "local": local.to_dict() if local is not None else None,
                }
                _write_json(record_path, record)
            except BaseException:
                _stop_recorded(record_path, local)
                raise
            return server
        finally:
            lock.release()

    def finish(self, settings: SessionErrorConfig) -> list[str]:
        """On the controller, at the end: drop the per-run templates a worker built and remove
        the run directory; lines for what could not be dropped (masked)."""
        from sessionerror.testdb.sqlite.run_dir import stop_recorded_server

        run_dir = self.run_dir
        if not run_dir.is_dir():
            return []  # no worker needed a template: nothing was made
        warnings: list[str] = []
        try:
            recorded = json.loads((run_dir / _MANIFEST).read_text())
        except (OSError, ValueError):
            recorded = {}
        name = (recorded.get("per_run") or {}).get("postgresql")
        if name and settings.postgres_url:
            warnings += _drop_database(settings.postgres_url, str(name))
        stop_recorded_server(run_dir)  # before its data directory goes with the run directory
        shutil.rmtree(run_dir, ignore_errors=True)
        return warnings


def _stop_recorded(record_path: Path | None, local: Any) -> None:
    """Stop ``local`` (a LocalServer, or None) and forget its record."""
    from sessionerror.testdb.postgres.local_server import stop_local_server

    if local is not None:
        stop_local_server(local)
    if record_path is not None:
        record_path.unlink(missing_ok=True)


def _write_json(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` to ``path`` at once (a reader never sees half of it)."""
    building = path.with_name(f".{path.name}.{os.getpid()}")
    building.write_text(json.dumps(record))
    os.replace(building, path)


def _drop_database(url: DatabaseURL, name: str) -> list[str]:
    """Drop the per-run template ``name`` a worker built for this run."""
    from sessionerror.errors import BackendUnavailableError
    from sessionerror.testdb.postgres.janitor import DatabaseJanitor

    janitor = DatabaseJanitor(url)
    janitor.name = name
    try:
        janitor.drop()
    except (BackendUnavailableError, OSError) as exc:  # a server gone meanwhile: next run
        return [f"left template database {name}: {exc}"]
    except Exception as exc:  # never fail the run's end over a leftover
        return [f"left template database {name}: {type(exc).__name__}"]
    return []
