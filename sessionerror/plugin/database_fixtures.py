"""Internal: the pytest fixtures of the sessionerror plugin (databases, isolation, assertions).

Annotate with the fixture types from :mod:`sessionerror.testing` (``ContractAssertion``, ...).

Markers are validated in :mod:`sessionerror.plugin.markers`; the fixture factories for other
schemas are in :mod:`sessionerror.plugin.database_factories`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from sessionerror.plugin.committed import committed_guard, require_template_state
from sessionerror.plugin.lazy import ensure_for_test
from sessionerror.plugin.markers import marker_options, marker_options_key
from sessionerror.plugin.query_assertions import QueryAssertion, make_query_assertion
from sessionerror.plugin.schema_build import templates_key
from sessionerror.plugin.state import get_state, postgres_unavailable, provided_database

if TYPE_CHECKING:  # SQLAlchemy is imported when a fixture first runs, not when pytest starts.
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from sessionerror.check.report import ContractReport
    from sessionerror.plugin.config import Backend, SessionErrorConfig
    from sessionerror.testdb.provisioning import DatabaseProvisioner, ProvidedDatabase

__all__ = [
    "ContractAssertion",
    "QueryAssertion",
    "sessionerror_assert_contract",
    "sessionerror_assert_max_queries",
    "sessionerror_assert_num_queries",
    "sessionerror_backend",
    "sessionerror_config",
    "sessionerror_connection",
    "sessionerror_database",
    "sessionerror_databases",
    "sessionerror_db",
    "sessionerror_empty_database_url",
    "sessionerror_engine",
    "sessionerror_provisioner",
]


# -- session-wide -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sessionerror_config(pytestconfig: pytest.Config) -> SessionErrorConfig:
    """The resolved sessionerror settings of this run."""
    return get_state(pytestconfig).config


@pytest.fixture(scope="session")
def sessionerror_provisioner(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseProvisioner]:
    """This worker's test databases, one per backend, created on first use, removed at the end."""
    from sessionerror.testdb.provisioning import DatabaseProvisioner

    ensure_for_test(pytestconfig)  # issue 19: the server and templates of the first use
    state = get_state(pytestconfig)
    cache = getattr(pytestconfig, "cache", None)  # absent under -p no:cacheprovider
    cache_dir = cache.mkdir("sessionerror") if cache is not None else None
    provisioner = DatabaseProvisioner(
        state.config.schema,
        worker=state.worker,
        tmp_dir=tmp_path_factory.mktemp("sessionerror"),
        cache_dir=cache_dir,
        availability=state.availability,
        project=str(pytestconfig.rootpath),
        templates=pytestconfig.stash.get(templates_key, None),  # issue 11: copy, not rebuild
    )
    try:
        yield provisioner
    finally:
        try:
            provisioner.close()
        finally:
            state.warnings.extend(provisioner.warnings)


@pytest.fixture(scope="session")
def sessionerror_databases(sessionerror_provisioner: DatabaseProvisioner) -> DatabaseProvisioner:
    """The 0.1.0 name of ``sessionerror_provisioner``: the same object."""
    return sessionerror_provisioner


@pytest.fixture(scope="session")
def sessionerror_backend(request: pytest.FixtureRequest) -> Backend:
    """The backend of the current test: ``sqlite`` or ``postgresql`` (tests are parametrised)."""
    backend: Backend = (
        getattr(request, "param", None) or get_state(request.config).config.backends[0]
    )
    return backend


@pytest.fixture(scope="session")
def sessionerror_database(
    sessionerror_provisioner: DatabaseProvisioner,
    sessionerror_backend: Backend,
    pytestconfig: pytest.Config,
) -> ProvidedDatabase:
    """The current backend's database: ``engine``, masked ``location`` and statement recorder."""
    return provided_database(sessionerror_provisioner, sessionerror_backend, pytestconfig)


@pytest.fixture(scope="session")
def sessionerror_engine(sessionerror_database: ProvidedDatabase) -> Engine:
    """Engine of this worker's database for the current backend, schema already built."""
    return sessionerror_database.engine


@pytest.fixture
def sessionerror_empty_database_url(
    request: pytest.FixtureRequest,
    sessionerror_backend: Backend,
    tmp_path: Path,
) -> Iterator[str]:
    """URL of a new, EMPTY database of the current backend, removed after the test.

    For testing your own migrations or DDL (the contract checker's tests use it): a SQLite file
    in ``tmp_path``, or a fresh PostgreSQL database created by the kit on its server.
    """
    ensure_for_test(request.config)  # issue 19: the server of the first use
    state = get_state(request.config)
    if sessionerror_backend == "sqlite":
        from sessionerror.testdb.migration_guard import mark_sqlite_file

        path = tmp_path / "empty.db"
        mark_sqlite_file(path)  # no tables; the header says the kit made it
        yield f"sqlite:///{path}"
        return
    server = state.postgres.server
    if server is None:
        postgres_unavailable(request.config, state.postgres.problem or "PostgreSQL unavailable")
    from sessionerror.errors import BackendUnavailableError
    from sessionerror.testdb.postgres.janitor import DatabaseJanitor

    janitor = DatabaseJanitor(server.url, worker=f"{state.worker}e")
    try:
        janitor.create()
    except BackendUnavailableError as exc:
        pytest.fail(f"sessionerror: {exc}", pytrace=False)
    try:
        yield janitor.database_url()
    finally:
        janitor.drop()


# -- per test -----------------------------------------------------------------------------


@pytest.fixture
def sessionerror_connection(
    request: pytest.FixtureRequest, sessionerror_database: ProvidedDatabase
) -> Iterator[Connection]:
    """A connection of the current backend; ``sessionerror_db`` runs its transaction on it."""
    # A committed test whose cleanup failed twice left rows: fail here, not on stale data.
    require_template_state(request.config, sessionerror_database)
    with sessionerror_database.engine.connect() as connection:
        yield connection


@pytest.fixture
def sessionerror_db(
    request: pytest.FixtureRequest, sessionerror_database: ProvidedDatabase
) -> Iterator[Session]:
    """ORM session for the test; everything it does is rolled back afterwards.

    ``commit()`` and ``rollback()`` may be called freely. With
    ``@pytest.mark.sessionerror(committed=True)`` the data is really committed, and afterwards
    the database is brought back to the template's rows (seeded rows and ``alembic_version``
    kept) and the connections the test used are reset. The session is bound for
    ``SessionError``'s class methods and the factories; ``@pytest.mark.sessionerror_data("name")``
    loads a data set into it first.
    """
    from sessionerror.testdb.isolation import rolled_back_session

    options = request.node.stash.get(marker_options_key, None) or marker_options(request.node)
    if options.committed:
        # A committed test holds no connection of its own unless it asks for one: one
        # connection per worker at a time (the budget in docs, "CI and sharding").
        held = None
        if "sessionerror_connection" in request.fixturenames:
            held = request.getfixturevalue("sessionerror_connection")
        yield from _committed_db(request, sessionerror_database, held, options.datasets)
        return
    connection: Connection = request.getfixturevalue("sessionerror_connection")
    with rolled_back_session(connection) as db:
        _load_datasets(db, options.datasets)
        yield db


def _committed_db(
    request: pytest.FixtureRequest,
    database: ProvidedDatabase,
    connection: Connection | None,
    datasets: tuple[str, ...],
) -> Iterator[Session]:
    from sessionerror.testdb.committed_guard import TemplateRestoreError
    from sessionerror.testdb.isolation import committed_session

    guard = committed_guard(request.config, database)
    if connection is not None:
        guard.mark_dirty(connection)  # checked out before the test: the test may use it
    scope = committed_session(
        database.engine, database.tables, guard=guard, test=request.node.nodeid
    )
    try:
        with scope as db:
            _load_datasets(db, datasets)
            yield db
    except TemplateRestoreError as exc:
        problem = str(exc)  # failed outside the except: no "during handling" chain
    else:
        return
    pytest.fail(problem, pytrace=False)


def _load_datasets(db: Session, names: tuple[str, ...]) -> None:
    """Load ``names`` into ``db``; a data set that fails (e.g. rows the database refuses)
    fails the test in one line naming the file and the problem."""
    if names:
        from sessionerror.datasets import DatasetError, load_dataset

        for name in names:
            try:
                load_dataset(db, name)
            except DatasetError as exc:
                problem = str(exc)  # failed outside the except: no "during handling" chain
            else:
                continue
            pytest.fail(f"sessionerror: data set {name!r}: {problem}", pytrace=False)


# -- query counting: watches the sync and async engines of the current database, or engine=
# (sessionerror.plugin.query_assertions / sessionerror.testdb.querywatch)


@pytest.fixture
def sessionerror_assert_max_queries(
    pytestconfig: pytest.Config, sessionerror_database: ProvidedDatabase
) -> QueryAssertion:
    """``with sessionerror_assert_max_queries(n, engine=None):`` fails, listing them, if more
    than n statements run.

    Watches ``sessionerror_engine`` and the AsyncEngine of ``sessionerror_async_engine`` (or only
    ``engine=``, an Engine or AsyncEngine); fails too when none ran there but another engine ran
    some, instead of passing without measuring anything.
    """
    return make_query_assertion(pytestconfig, sessionerror_database, exact=False)


@pytest.fixture
def sessionerror_assert_num_queries(
    pytestconfig: pytest.Config, sessionerror_database: ProvidedDatabase
) -> QueryAssertion:
    """``with sessionerror_assert_num_queries(n, engine=None):`` fails unless exactly n
    statements run (same engines as ``sessionerror_assert_max_queries``)."""
    return make_query_assertion(pytestconfig, sessionerror_database, exact=True)


class ContractAssertion(Protocol):
    """``sessionerror_assert_contract(bind=None, *, behaviour=True)``."""

    def __call__(
        self, bind: Engine | Connection | str | None = None, *, behaviour: bool = True
    ) -> ContractReport:
        """Fail listing every contract violation of ``bind``; else return the report."""
        ...


@pytest.fixture
def sessionerror_assert_contract(sessionerror_engine: Engine) -> ContractAssertion:
    """``sessionerror_assert_contract(bind=None)`` fails listing every contract violation.

    Checks the database your fixtures built (default: ``sessionerror_engine``; pass your own
    Engine, Connection or URL) with the same checks as ``sessionerror check``. Behaviour checks
    run inside a transaction that is rolled back. Returns the report when all checks pass.
    """
    from sessionerror.check.api import assert_contract

    def check(
        bind: Engine | Connection | str | None = None, *, behaviour: bool = True
    ) -> ContractReport:
        return assert_contract(sessionerror_engine if bind is None else bind, behaviour=behaviour)

    return check
