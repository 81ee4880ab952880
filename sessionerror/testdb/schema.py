"""The test schema: built from migrations, a setup callable or ``create_all``, and fingerprinted.

:class:`Schema` is what every backend builds into its databases and templates; its
:meth:`Schema.fingerprint` names kept databases and templates, so a changed schema is never
reused.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionerror.testdb.migration_guard import SQLITE_APPLICATION_ID
from sessionerror.testdb.settings import SchemaSettings

if TYPE_CHECKING:
    from sqlalchemy import Dialect, Engine, MetaData

__all__ = ["Schema", "build_schema", "reuse_or_build", "schema_fingerprint"]


@functools.cache
def _kit_version() -> str:
    """The installed kit's version (its distribution metadata), "unknown" when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sessionerror")
    except PackageNotFoundError:
        return "unknown"


def schema_fingerprint(
    metadata: MetaData, dialect: Dialect, setup: Callable[..., Any] | None = None
) -> str:
    """Hash of the DDL ``metadata`` produces on ``dialect``.

    With a setup callable, the source of its module counts instead of the metadata: editing the
    migrations changes the fingerprint.
    """
    from sqlalchemy.schema import CreateIndex, CreateTable

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


class Schema:
    """The schema of the test databases: ``settings`` loaded on first use.

    ``metadata`` / ``setup`` given here win over the settings (a fixture factory's own
    schema). With a setup callable (or migrations) the metadata is never imported.
    """

    def __init__(
        self,
        settings: SchemaSettings | None = None,
        *,
        metadata: MetaData | None = None,
        setup: Callable[..., Any] | None = None,
    ) -> None:
        #: Where the schema comes from, and whether databases are kept between runs.
        self.settings = settings or SchemaSettings()
        self._metadata = metadata
        self._setup = setup
        self._setup_loaded = setup is not None

    @property
    def setup(self) -> Callable[..., Any] | None:
        """The schema-setup callable (the Alembic runner with migrations), else None."""
        if not self._setup_loaded:
            self._setup = self.settings.load_schema_setup()
            self._setup_loaded = True
        return self._setup

    @property
    def metadata(self) -> MetaData:
        """The configured MetaData (imported once)."""
        if self._metadata is None:
            self._metadata = self.settings.load_metadata()
        return self._metadata

    def _source(self) -> tuple[MetaData, Callable[..., Any] | None]:
        setup = self.setup
        if setup is None:
            return self.metadata, None
        from sqlalchemy import MetaData

        return MetaData(), setup

    def fingerprint(self, dialect: Dialect) -> str:
        """Hash of what the schema is built from, for ``dialect``, and of the kit's version
        (a new kit may build or mark its databases differently: nothing kept is reused)."""
        metadata, setup = self._source()
        inner = schema_fingerprint(metadata, dialect, setup)
        return hashlib.sha256(f"{_kit_version()}\0{inner}".encode()).hexdigest()[:16]

    def build(self, engine: Engine) -> None:
        """Build the schema into the empty database of ``engine``."""
        metadata, setup = self._source()
        build_schema(engine, metadata, setup)


def reuse_or_build(engine: Engine, schema: Schema) -> None:
    """A kept database: emptied of rows when its schema is there, else built now."""
    from sqlalchemy import MetaData

    from sessionerror.testdb.isolation import delete_all_rows

    # Schema builds are transactional, so any table at all means a complete earlier build.
    existing = MetaData()
    existing.reflect(engine)
    if existing.tables:
        with engine.begin() as connection:  # a killed run may have left committed rows
            delete_all_rows(connection, existing)
    else:
        schema.build(engine)
