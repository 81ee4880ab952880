"""Test tooling: everything a test suite imports from sessionerror, in one place.

The fixtures themselves need no import (the ``pytest11`` plugin provides them); a conftest
or a test imports from here:

- **fixture factories** for a team's own schema: :func:`sessionerror_engine_factory`,
  :func:`sessionerror_db_factory` (and the fixture types they return, :data:`EngineFixture`,
  :data:`SessionFixture`);
- **fixture types** to annotate a test's arguments: :class:`ContractAssertion`
  (``sessionerror_assert_contract``), :class:`QueryAssertion`
  (``sessionerror_assert_max_queries`` / ``..._num_queries``), :class:`MigrationChecks`
  (``sessionerror_migrations``), :class:`SessionErrorConfig` (``sessionerror_config``),
  :data:`Backend` (``sessionerror_backend``), :class:`ProvidedDatabase`
  (``sessionerror_database``), :class:`DatabaseProvisioner` (``sessionerror_provisioner``);
- **isolation outside pytest**: :func:`rolled_back_session`, :func:`committed_session`,
  :func:`delete_all_rows` and the async :func:`async_rolled_back_session`,
  :func:`async_committed_session`, :func:`create_async_test_engine`;
- **data sets** (``fixtures/<name>.json``, shipped in the wheel): :func:`load_dataset`,
  :func:`available_datasets` (in a test: ``@pytest.mark.sessionerror_data("name")``).

The factory-boy factories are in :mod:`sessionerror.factories`.

An application imports :mod:`sessionerror` instead; everything under
:mod:`sessionerror.plugin` and :mod:`sessionerror.testdb` is internal. Names are loaded on first
use, so importing this module in a conftest loads no SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionerror.datasets import available_datasets, load_dataset
    from sessionerror.plugin.config import SessionErrorConfig
    from sessionerror.plugin.database_factories import (
        EngineFixture,
        SessionFixture,
        sessionerror_db_factory,
        sessionerror_engine_factory,
    )
    from sessionerror.plugin.database_fixtures import ContractAssertion
    from sessionerror.plugin.migration_fixtures import MigrationChecks
    from sessionerror.plugin.query_assertions import QueryAssertion
    from sessionerror.testdb.isolation import (
        committed_session,
        delete_all_rows,
        rolled_back_session,
    )
    from sessionerror.testdb.isolation_async import (
        async_committed_session,
        async_rolled_back_session,
        create_async_test_engine,
    )
    from sessionerror.testdb.provided import ProvidedDatabase
    from sessionerror.testdb.provisioning import DatabaseProvisioner
    from sessionerror.testdb.settings import Backend

_EXPORTS: dict[str, str] = {
    # -- fixture factories
    "sessionerror_db_factory": "plugin.database_factories",
    "sessionerror_engine_factory": "plugin.database_factories",
    "EngineFixture": "plugin.database_factories",
    "SessionFixture": "plugin.database_factories",
    # -- fixture types
    "ContractAssertion": "plugin.database_fixtures",
    "QueryAssertion": "plugin.query_assertions",
    "MigrationChecks": "plugin.migration_fixtures",
    "SessionErrorConfig": "plugin.config",
    "Backend": "testdb.settings",
    "ProvidedDatabase": "testdb.provided",
    "DatabaseProvisioner": "testdb.provisioning",
    # -- isolation outside pytest
    "rolled_back_session": "testdb.isolation",
    "committed_session": "testdb.isolation",
    "delete_all_rows": "testdb.isolation",
    "async_rolled_back_session": "testdb.isolation_async",
    "async_committed_session": "testdb.isolation_async",
    "create_async_test_engine": "testdb.isolation_async",
    # -- data sets
    "available_datasets": "datasets",
    "load_dataset": "datasets",
}

__all__ = [
    "Backend",
    "ContractAssertion",
    "DatabaseProvisioner",
    "EngineFixture",
    "MigrationChecks",
    "ProvidedDatabase",
    "QueryAssertion",
    "SessionErrorConfig",
    "SessionFixture",
    "async_committed_session",
    "async_rolled_back_session",
    "available_datasets",
    "committed_session",
    "create_async_test_engine",
    "delete_all_rows",
    "load_dataset",
    "rolled_back_session",
    "sessionerror_db_factory",
    "sessionerror_engine_factory",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionerror.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sessionerror.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
