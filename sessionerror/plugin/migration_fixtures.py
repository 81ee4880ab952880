"""Internal: the migration checks a team adds in one line each (``sessionerror_migrations``).

Annotate with :class:`MigrationChecks` from :mod:`sessionerror.testing`.

::

    def test_migrated_schema_holds_the_contract(sessionerror_migrations):
        sessionerror_migrations.assert_contract()

    def test_models_match_the_migrations(sessionerror_migrations):
        sessionerror_migrations.assert_no_drift()

    def test_downgrade_and_upgrade_again(sessionerror_migrations):
        sessionerror_migrations.assert_round_trip()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from sessionerror.plugin.state import get_state

if TYPE_CHECKING:
    from sqlalchemy import Engine, MetaData

    from sessionerror.plugin.config import Backend, SessionErrorConfig

__all__ = ["MigrationChecks", "sessionerror_migrations"]


@dataclass
class MigrationChecks:
    """The three checks on the current backend's migrated database (``sessionerror_engine``)."""

    backend: Backend
    #: This worker's database, built by your migrations.
    engine: Engine
    config: SessionErrorConfig
    request: pytest.FixtureRequest

    def assert_contract(self, *, behaviour: bool = True) -> Any:
        """Fail listing every contract violation of the migrated schema, with its fix."""
        from sessionerror.check.api import assert_contract

        return assert_contract(self.engine, behaviour=behaviour)

    def assert_no_drift(self, metadata: MetaData | None = None) -> None:
        """Fail listing each difference between your models (default: the configured
        ``sessionerror_metadata``) and the migrated schema (Alembic's ``compare_metadata``)."""
        from sessionerror.check.migrations import assert_no_drift

        assert_no_drift(self.engine, metadata if metadata is not None else self._metadata())

    def assert_round_trip(self) -> None:
        """On a new empty database: upgrade, downgrade to base, upgrade again; same schema."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        from sessionerror.check.migrations import assert_round_trip
        from sessionerror.engines.sqlite import create_sqlite_engine
        from sessionerror.testdb.migrations import load_alembic_config

        assert self.config.alembic_ini is not None
        alembic_config = load_alembic_config(self.config.alembic_ini)
        url: str = self.request.getfixturevalue("sessionerror_empty_database_url")
        engine = (
            create_sqlite_engine(url)
            if self.backend == "sqlite"
            else create_engine(url, poolclass=NullPool)
        )
        try:
            assert_round_trip(engine, alembic_config, self.config.alembic_target)
        finally:
            engine.dispose()

    def _metadata(self) -> MetaData:
        return self.config.load_metadata()


@pytest.fixture
def sessionerror_migrations(
    request: pytest.FixtureRequest, sessionerror_backend: Backend, sessionerror_engine: Engine
) -> MigrationChecks:
    """Checks of your Alembic migrations on the current backend, one line each:
    ``assert_contract()``, ``assert_no_drift()`` and ``assert_round_trip()``."""
    config = get_state(request.config).config
    if config.alembic_ini is None:
        pytest.fail(
            "sessionerror_migrations needs your migrations: set sessionerror_alembic_ini "
            "(--sessionerror-alembic-ini / SESSIONERROR_ALEMBIC_INI) to your alembic.ini",
            pytrace=False,
        )
    return MigrationChecks(sessionerror_backend, sessionerror_engine, config, request)
