"""Per-worker test databases: created on first use, schema built once, removed at the end.

Orchestration only: which database a worker gets (a copy of the run's template, a kept one, or
a fresh one) is decided here; how each kind makes it is its backend object's business
(:mod:`sessionerror.testdb.backends`). Usable without pytest::

    provisioner = DatabaseProvisioner(SchemaSettings(), worker="main", tmp_dir=tmp, cache_dir=None)
    engine = provisioner.get("sqlite").engine
    provisioner.close()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionerror.errors import BackendUnavailableError
from sessionerror.testdb.backend import Availability, DatabaseBackend
from sessionerror.testdb.backends import create_backend
from sessionerror.testdb.provided import ProvidedDatabase
from sessionerror.testdb.schema import Schema, build_schema, schema_fingerprint
from sessionerror.testdb.settings import Backend, SchemaSettings

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from sessionerror.testdb.template_copy import BuiltTemplates

__all__ = ["DatabaseProvisioner", "ProvidedDatabase", "build_schema", "schema_fingerprint"]


class DatabaseProvisioner:
    """Creates this worker's database per backend on first use and removes it in :meth:`close`.

    ``availability`` holds the server of each backend that needs one (``{"postgresql": ...}``);
    ``metadata`` / ``schema_setup`` given here win over ``settings``; ``project`` names the
    project in kept databases (e.g. the rootdir), so projects do not share; ``templates`` are
    the run's templates to copy instead of building the schema (issue 11).
    """

    def __init__(
        self,
        settings: SchemaSettings,
        *,
        worker: str,
        tmp_dir: Path,
        cache_dir: Path | None,
        availability: Mapping[str, Availability] | None = None,
        metadata: MetaData | None = None,
        schema_setup: Callable[..., Any] | None = None,
        project: str = "",
        templates: BuiltTemplates | None = None,
    ) -> None:
        self.settings = settings
        self.worker = worker
        self.tmp_dir = tmp_dir
        self.cache_dir = cache_dir
        self.availability = dict(availability or {})
        self.project = project
        #: One line per thing left alone that the run should mention (masked).
        self.warnings: list[str] = []
        #: What the schema is built from (loaded on first use).
        self.schema = Schema(settings, metadata=metadata, setup=schema_setup)
        self.templates = templates
        self._backends: dict[str, DatabaseBackend] = {}
        self._databases: dict[str, ProvidedDatabase] = {}

    @property
    def metadata(self) -> MetaData:
        """The configured MetaData (imported once)."""
        return self.schema.metadata

    def schema_setup(self) -> Callable[..., Any] | None:
        """The schema-setup callable: given explicitly, else from the settings."""
        return self.schema.setup

    def backend(self, name: str) -> DatabaseBackend:
        """The backend object of kind ``name`` for this worker (made on first use)."""
        if name not in self._backends:
            self._backends[name] = create_backend(
                name, self.schema, self.availability.get(name), warnings=self.warnings
            )
        return self._backends[name]

    def get(self, backend: Backend) -> ProvidedDatabase:
        """Return (creating on first use) the database for ``backend``.

        BackendUnavailableError when the backend has no server.
        """
        if backend not in self._databases:
            self._databases[backend] = self._create(self.backend(backend))
        return self._databases[backend]

    def _create(self, backend: DatabaseBackend) -> ProvidedDatabase:
        if backend.problem is not None:
            raise BackendUnavailableError(backend.problem)
        template = self.templates.for_backend(backend.name) if self.templates else None
        if self.templates and backend.name in self.templates.databases:  # kept, built once
            return self.templates.databases[backend.name]  # type: ignore[no-any-return]
        if template is not None and self.templates and backend.name in self.templates.adoptable:
            return backend.adopt_template(template, self.worker, self.tmp_dir)  # issue 20
        if template is not None:  # built once per run (or kept): copy it (issue 11)
            if self.settings.reuse_schema:  # issue 20: keep the copy too, no CREATE/DROP
                kept_copy = backend.kept_copy(template, self.worker, self.project)
                if kept_copy is not None:
                    return kept_copy
            return backend.from_template(template, self.worker, self.tmp_dir)
        note = ""
        if self.settings.reuse_schema and backend.can_keep(self.cache_dir):
            kept = backend.kept(self.worker, self.cache_dir, self.project)
            if kept is not None:
                return kept
            note = backend.kept_in_use
        return backend.fresh(self.worker, self.tmp_dir, note=note)

    def close(self) -> None:
        """Dispose every engine and drop every database this provisioner created."""
        for database in self._databases.values():
            database.close()
        self._databases.clear()
        for backend in self._backends.values():
            backend.close()
