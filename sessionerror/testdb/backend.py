"""What every database kind offers the provisioner and the template builder.

One subclass per kind, each in its own folder with all of its SQL (``testdb/sqlite/``,
``testdb/postgres/``), registered by name in :mod:`sessionerror.testdb.backends`. The
provisioner and the template builder only orchestrate: they never ask which kind they hold.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, NamedTuple

if TYPE_CHECKING:
    from sqlalchemy import Dialect

    from sessionerror.testdb.postgres.server import PostgresServer
    from sessionerror.testdb.provided import ProvidedDatabase
    from sessionerror.testdb.schema import Schema

__all__ = ["KEPT_REUSED", "Availability", "BuiltTemplate", "DatabaseBackend"]

#: Ends the location of a kept database an earlier run left unchanged (no build, no copy).
KEPT_REUSED = " (kept, unchanged: reused)"


@dataclass(frozen=True)
class Availability:
    """A backend's server, or the one line saying why there is none.

    ``Availability()`` is "not resolved": a backend that needs a server reports it unavailable.
    """

    server: PostgresServer | None = None
    #: Why there is no server (one line, masked), when there is none.
    problem: str | None = None


class BuiltTemplate(NamedTuple):
    """Where a template is (a path or a database name), and whether an earlier run built it."""

    location: str
    reused: bool = False


class DatabaseBackend(ABC):
    """One database kind: its databases for a worker, its templates, and their clean-up.

    Made per provisioner (or template builder) with the run's :class:`Schema`, the
    :class:`Availability` of its server, and the list collecting lines for the run's summary.
    """

    #: The backend's name (``--sessionerror-backend``), the registry key.
    name: ClassVar[str]
    #: True when the run's only process is best served by its kept database itself (a copy
    #: costs a CREATE DATABASE); False when copies cost next to nothing (files).
    keeps_worker_databases: ClassVar[bool] = False
    #: Appended to a fresh database's location when the kept one is held by another run.
    kept_in_use: ClassVar[str] = " (the kept database is in use by another run: a fresh one)"

    def __init__(
        self,
        schema: Schema,
        availability: Availability | None = None,
        *,
        warnings: list[str] | None = None,
    ) -> None:
        self.schema = schema
        self.availability = availability or Availability()
        #: Lines for the run's summary: things left alone and why (masked).
        self.warnings: list[str] = [] if warnings is None else warnings

    @property
    def problem(self) -> str | None:
        """Why this backend cannot provide databases (one line), or None when it can."""
        return None

    @staticmethod
    @abstractmethod
    def dialect() -> Dialect:
        """The SQLAlchemy dialect the schema's fingerprint is computed for."""

    def fingerprint(self) -> str:
        """Hash of the schema on this backend: names kept databases and templates."""
        return self.schema.fingerprint(self.dialect())

    @abstractmethod
    def fresh(self, worker: str, tmp_dir: Path, *, note: str = "") -> ProvidedDatabase:
        """A new database for ``worker`` with the schema built, removed when it is closed."""

    def can_keep(self, cache_dir: Path | None) -> bool:
        """True if this backend can keep a database between runs (with ``cache_dir``)."""
        return True

    @abstractmethod
    def kept(self, worker: str, cache_dir: Path | None, project: str) -> ProvidedDatabase | None:
        """The kept database of this schema for ``worker``, held for this run; None if another
        run holds it. ``project`` names the project in kept databases."""

    @abstractmethod
    def from_template(self, template: str, worker: str, tmp_dir: Path) -> ProvidedDatabase:
        """A database for ``worker`` copied from the run's ``template``."""

    def adopt_template(self, template: str, worker: str, tmp_dir: Path) -> ProvidedDatabase:
        """The run's only process works in its per-run ``template`` itself (removed with the
        template); kinds whose copies cost little copy it instead."""
        return self.from_template(template, worker, tmp_dir)

    def kept_copy(self, template: str, worker: str, project: str) -> ProvidedDatabase | None:
        """A copy of kept ``template`` for ``worker`` kept between runs, or None (the caller then
        copies one for this run). Kinds whose copies cost little keep none."""
        return None

    @abstractmethod
    def build_template(
        self, token: str, *, keep: bool, cache_dir: Path | None, project: str
    ) -> BuiltTemplate:
        """Build the run's template (``token`` names it), or find the kept one with ``keep``."""

    def share(self, owner_pid: int, run_dir: Path) -> None:
        """Build per-run templates for a run process ``owner_pid`` owns (an xdist controller
        whose first worker builds, issue 19): named for it, in its ``run_dir``, and left by
        :meth:`close` for the owner to remove."""
        return None  # a kind that builds nothing per run has nothing to share

    def close(self) -> None:
        """Remove what this object built for the run (its per-run templates); idempotent."""
        return None  # a kind that builds nothing per run has nothing to remove
