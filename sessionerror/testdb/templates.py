"""Build each backend's schema once per run, then copy it for every worker.

The run's owner (the xdist controller, or the only process) builds one template per backend
with :class:`TemplateBuilder`; workers copy them in
:class:`~sessionerror.testdb.provisioning.DatabaseProvisioner`. Migrations, a schema-setup
callable or ``create_all`` therefore run once per backend and run, whatever the number of
workers.

Templates are the kit's own databases and files, named and marked like the rest; each backend
says where its own are (:mod:`sessionerror.testdb.sqlite.backend`,
:mod:`sessionerror.testdb.postgres.backend`). This module only orchestrates.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionerror.testdb.backend import KEPT_REUSED, Availability, DatabaseBackend
from sessionerror.testdb.backends import create_backend
from sessionerror.testdb.schema import Schema
from sessionerror.testdb.settings import Backend, SchemaSettings
from sessionerror.testdb.template_copy import BuiltTemplates

if TYPE_CHECKING:
    from sqlalchemy import Connection, MetaData

    from sessionerror.testdb.provided import ProvidedDatabase

__all__ = ["BuiltTemplates", "TemplateBuilder"]


class TemplateBuilder:
    """Builds the schema of each backend once (the run's owner) and removes it in :meth:`close`.

    ``metadata`` / ``schema_setup`` default to the settings (migrations, a setup callable,
    else the metadata's ``create_all``). ``availability`` holds the server of each backend that
    needs one; a backend without one gets no template. ``project`` names the project in kept
    templates (the rootdir, as for the workers' kept databases), so projects never share one.
    """

    def __init__(
        self,
        settings: SchemaSettings,
        *,
        cache_dir: Path | None,
        availability: Mapping[str, Availability] | None = None,
        metadata: MetaData | None = None,
        schema_setup: Callable[[Connection], Any] | None = None,
        project: str = "",
    ) -> None:
        self.settings = settings
        self.project = project
        self.cache_dir = cache_dir
        self.availability = dict(availability or {})
        #: What the schema is built from (loaded on first use).
        self.schema = Schema(settings, metadata=metadata, setup=schema_setup)
        #: Short random token naming this run's templates.
        self.token = secrets.token_hex(3)
        self._backends: dict[str, DatabaseBackend] = {}
        #: What was built (or found kept) per backend.
        self.built: dict[str, str] = {}
        #: Backends whose template was reused from an earlier run (no build at all).
        self.reused: set[str] = set()
        #: The only process's kept databases, per backend, when it got them directly.
        self.adopted: dict[str, ProvidedDatabase] = {}
        self._share: tuple[int, Path] | None = None

    @property
    def setup(self) -> Callable[[Connection], Any] | None:
        """The schema-setup callable (the Alembic runner with migrations), else None."""
        return self.schema.setup

    @property
    def metadata(self) -> MetaData:
        """The configured MetaData."""
        return self.schema.metadata

    def backend(self, name: str) -> DatabaseBackend:
        """The backend object of kind ``name`` (made on first use)."""
        if name not in self._backends:
            backend = create_backend(name, self.schema, self.availability.get(name))
            if self._share is not None:
                backend.share(*self._share)
            self._backends[name] = backend
        return self._backends[name]

    def fingerprint(self, backend: Backend) -> str:
        """Hash of what the schema is built from, for ``backend``'s dialect."""
        return self.backend(backend).fingerprint()

    def build(
        self, backends: tuple[Backend, ...], *, adopt: bool = False, worker: str = "main"
    ) -> BuiltTemplates:
        """Build (or find kept) the template of every backend that can be provided.

        ``adopt``: the run has one process (``worker``), which uses a per-run template as its
        database (:meth:`~sessionerror.testdb.backend.DatabaseBackend.adopt_template`), not a
        copy; with reuse, a backend that keeps worker databases gives it its kept database
        directly (:meth:`~sessionerror.testdb.backend.DatabaseBackend.kept`: one CREATE on the
        first run, none after), no template at all unless another run holds it.
        """
        for name in backends:
            backend = self.backend(name)
            if backend.problem is not None:
                continue  # its tests skip (or fail) with the problem, not here
            if adopt and self.settings.reuse_schema and backend.keeps_worker_databases:
                database = backend.kept(worker, self.cache_dir, self.project)
                if database is not None:
                    self.adopted[name] = database
                    self.built[name] = str(database.engine.url.database)
                    if database.location.endswith(KEPT_REUSED):
                        self.reused.add(name)
                    continue
            built = backend.build_template(
                self.token,
                keep=self.settings.reuse_schema,
                cache_dir=self.cache_dir,
                project=self.project,
            )
            self.built[name] = built.location
            if built.reused:
                self.reused.add(name)
        per_run = adopt and not self.settings.reuse_schema  # kept templates stay clean
        adoptable = frozenset(self.built) if per_run else frozenset()
        return BuiltTemplates(dict(self.built), adoptable=adoptable, databases=dict(self.adopted))

    def share(self, owner_pid: int, token: str, run_dir: Path) -> None:
        """Build for a run another process owns (an xdist controller, issue 19): its ``token``
        names the templates, they go in its ``run_dir``, and :meth:`close` leaves them to it."""
        self.token = token
        self._share = (owner_pid, run_dir)
        for backend in self._backends.values():
            backend.share(owner_pid, run_dir)

    def close(self) -> None:
        """Remove this run's templates (kept ones stay); idempotent."""
        while self.adopted:  # given back (its provisioner closed it already, if it took it)
            self.adopted.popitem()[1].close()
        for backend in self._backends.values():
            backend.close()
