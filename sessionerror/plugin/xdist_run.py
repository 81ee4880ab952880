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

A throwaway local server or container (PostgreSQL selected, no URL) needs one owner that
outlives every worker: then the controller still resolves and builds eagerly
(:mod:`sessionerror.plugin.schema_build`).
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
    from sessionerror.testdb.templates import BuiltTemplates, TemplateBuilder
    from sessionerror.urls import DatabaseURL

__all__ = ["WORKERINPUT_KEY", "WORKEROUTPUT_KEY", "SharedRun", "controller_is_lazy"]

#: ``workerinput`` key of the :class:`SharedRun` a lazy controller hands to its workers.
WORKERINPUT_KEY = "sessionerror_shared_run"
#: ``workeroutput`` key of a worker's header lines (where PostgreSQL is, the templates it built).
WORKEROUTPUT_KEY = "sessionerror_header_lines"
_MANIFEST = "templates.json"
_LOCK = "build.lock"


def controller_is_lazy(settings: SessionErrorConfig) -> bool:
    """True if an xdist controller with these settings can leave everything to its workers."""
    owns_server = settings.wants_postgres and not settings.postgres_url
    return not owns_server and not settings.drop_kept


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

    def finish(self, settings: SessionErrorConfig) -> list[str]:
        """On the controller, at the end: drop the per-run templates a worker built and remove
        the run directory; lines for what could not be dropped (masked)."""
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
        shutil.rmtree(run_dir, ignore_errors=True)
        return warnings


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
