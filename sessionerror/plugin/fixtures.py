"""The pytest fixtures and fixture factories of the sessionerror plugin."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from sessionerror.plugin.state import get_state

if TYPE_CHECKING:  # SQLAlchemy is imported when a fixture first runs, not when pytest starts.
    from sqlalchemy import Connection, Engine, MetaData
    from sqlalchemy.orm import Session

    from sessionerror.plugin.config import Backend, SessionErrorConfig
    from sessionerror.testdb.provisioning import DatabaseProvisioner, ProvidedDatabase

__all__ = [
    "MarkerOptions",
    "marker_backends",
    "marker_options",
    "marker_options_key",
    "sessionerror_assert_contract",
    "sessionerror_assert_max_queries",
    "sessionerror_assert_num_queries",
    "sessionerror_backend",
    "sessionerror_config",
    "sessionerror_connection",
    "sessionerror_database",
    "sessionerror_databases",
    "sessionerror_db",
    "sessionerror_db_factory",
    "sessionerror_empty_database_url",
    "sessionerror_engine",
    "sessionerror_engine_factory",
]


# -- markers --------------------------------------------------------------------------------


def _sessionerror_marker(
    *, committed: bool = False, backends: tuple[str, ...] | list[str] | None = None
) -> bool:
    """Signature of ``@pytest.mark.sessionerror``: used to validate its arguments."""
    if not isinstance(committed, bool):
        raise TypeError(f"committed must be True or False, got {committed!r}")
    marker_backends(backends)
    return committed


def marker_backends(backends: object) -> tuple[str, ...] | None:
    """Validate the ``backends=`` marker argument: a list of 'sqlite' / 'postgresql'."""
    if backends is None:
        return None
    names = (backends,) if isinstance(backends, str) else backends
    if (
        not isinstance(names, list | tuple)
        or not names
        or any(name not in ("sqlite", "postgresql") for name in names)
    ):
        raise TypeError(f"backends must list 'sqlite' and/or 'postgresql', got {backends!r}")
    return tuple(names)


def _data_marker(*names: str) -> tuple[str, ...]:
    """Signature of ``@pytest.mark.sessionerror_data``: data-set names to load."""
    if not names or not all(isinstance(name, str) and name for name in names):
        raise TypeError(
            "give one or more data-set names, e.g. sessionerror_data('upload_rejected')"
        )
    return names


class MarkerOptions:
    """The validated marker arguments of one test."""

    def __init__(self, committed: bool, datasets: tuple[str, ...]) -> None:
        self.committed = committed
        self.datasets = datasets


#: Where ``pytest_runtest_setup`` leaves the validated options for the fixtures.
marker_options_key = pytest.StashKey[MarkerOptions]()


def marker_options(node: pytest.Item) -> MarkerOptions:
    """Validate the test's sessionerror markers; a typo fails with the accepted signature."""
    committed = False
    datasets: tuple[str, ...] = ()
    validators: tuple[tuple[str, Callable[..., Any], str], ...] = (
        (
            "sessionerror",
            _sessionerror_marker,
            "sessionerror(committed=True, backends=['sqlite', 'postgresql'])",
        ),
        ("sessionerror_data", _data_marker, "sessionerror_data('name', ...)"),
    )
    for name, validator, usage in validators:
        for marker in node.iter_markers(name):
            problem: str | None = None
            try:
                value = validator(*marker.args, **marker.kwargs)
            except TypeError as exc:
                problem = str(exc).replace(f"{validator.__name__}() ", "")
            if problem is not None:
                pytest.fail(
                    f"Invalid @pytest.mark.{name} on {node.nodeid}: {problem}. "
                    f"Usage: @pytest.mark.{usage}",
                    pytrace=False,
                )
            if name == "sessionerror":
                committed = committed or bool(value)
            else:
                datasets = datasets + tuple(value)
    return MarkerOptions(committed, datasets)


# -- session-wide -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sessionerror_config(pytestconfig: pytest.Config) -> SessionErrorConfig:
    """The resolved sessionerror settings of this run."""
    return get_state(pytestconfig).config


@pytest.fixture(scope="session")
def sessionerror_databases(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseProvisioner]:
    """This worker's test databases, one per backend, created on first use, removed at the end."""
    from sessionerror.testdb.provisioning import DatabaseProvisioner

    state = get_state(pytestconfig)
    cache = getattr(pytestconfig, "cache", None)  # absent under -p no:cacheprovider
    cache_dir = cache.mkdir("sessionerror") if cache is not None else None
    provisioner = DatabaseProvisioner(
        state.config,
        worker=state.worker,
        tmp_dir=tmp_path_factory.mktemp("sessionerror"),
        cache_dir=cache_dir,
        postgres=state.postgres,
        postgres_problem=state.postgres_problem,
        project=str(pytestconfig.rootpath),
    )
    try:
        yield provisioner
    finally:
        try:
            provisioner.close()
        finally:
            state.warnings.extend(provisioner.warnings)


@pytest.fixture(scope="session")
def sessionerror_backend(request: pytest.FixtureRequest) -> Backend:
    """The backend of the current test: ``sqlite`` or ``postgresql`` (tests are parametrised)."""
    backend: Backend = (
        getattr(request, "param", None) or get_state(request.config).config.backends[0]
    )
    return backend


def _provided(
    provisioner: DatabaseProvisioner, backend: Backend, config: pytest.Config
) -> ProvidedDatabase:
    from sessionerror.errors import BackendUnavailableError

    try:
        return provisioner.get(backend)
    except BackendUnavailableError as exc:
        if provisioner.postgres is not None:
            # There is a server, and it refused (e.g. CREATE DATABASE): an error, never a skip.
            pytest.fail(f"sessionerror: {exc}", pytrace=False)
        _postgres_unavailable(config, str(exc))


def _postgres_unavailable(config: pytest.Config, problem: str) -> NoReturn:
    """Skip the test, or fail it when the run requires PostgreSQL."""
    if get_state(config).config.require_postgres:
        pytest.fail(problem, pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def sessionerror_database(
    sessionerror_databases: DatabaseProvisioner,
    sessionerror_backend: Backend,
    pytestconfig: pytest.Config,
) -> ProvidedDatabase:
    """The current backend's database: ``engine``, masked ``location`` and statement recorder."""
    return _provided(sessionerror_databases, sessionerror_backend, pytestconfig)


@pytest.fixture(scope="session")
def sessionerror_engine(sessionerror_database: ProvidedDatabase) -> Engine:
    """Engine of this worker's database for the current backend, schema already built."""
    return sessionerror_database.engine


@pytest.fixture
def sessionerror_empty_database_url(
    request: pytest.FixtureRequest,
    sessionerror_backend: Backend,
    tmp_path: Any,
) -> Iterator[str]:
    """URL of a new, EMPTY database of the current backend, removed after the test.

    For testing your own migrations or DDL (the contract checker's tests use it): a SQLite file
    in ``tmp_path``, or a fresh PostgreSQL database created by the kit on its server.
    """
    state = get_state(request.config)
    if sessionerror_backend == "sqlite":
        path = tmp_path / "empty.db"
        path.touch()
        yield f"sqlite:///{path}"
        return
    if state.postgres is None:
        _postgres_unavailable(request.config, state.postgres_problem or "PostgreSQL unavailable")
    from sessionerror.errors import BackendUnavailableError
    from sessionerror.testdb.postgres.janitor import DatabaseJanitor

    janitor = DatabaseJanitor(state.postgres.url, worker=f"{state.worker}e")
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
def sessionerror_connection(sessionerror_database: ProvidedDatabase) -> Iterator[Connection]:
    """A connection of the current backend; ``sessionerror_db`` runs its transaction on it."""
    with sessionerror_database.engine.connect() as connection:
        yield connection


@pytest.fixture
def sessionerror_db(
    request: pytest.FixtureRequest,
    sessionerror_database: ProvidedDatabase,
    sessionerror_connection: Connection,
) -> Iterator[Session]:
    """ORM session for the test; everything it does is rolled back afterwards.

    ``commit()`` and ``rollback()`` may be called freely. With
    ``@pytest.mark.sessionerror(committed=True)`` the data is really committed and deleted after
    the test instead. The session is bound for ``SessionError``'s class methods and the factories;
    ``@pytest.mark.sessionerror_data("name")`` loads a data set into it first.
    """
    from sessionerror.testdb.isolation import committed_session, rolled_back_session

    options = request.node.stash.get(marker_options_key, None) or marker_options(request.node)
    scope: AbstractContextManager[Session]
    if options.committed:
        scope = committed_session(sessionerror_database.engine, sessionerror_database.tables)
    else:
        scope = rolled_back_session(sessionerror_connection)
    with scope as db:
        if options.datasets:
            from sessionerror.datasets import load_dataset

            for name in options.datasets:
                load_dataset(db, name)
        yield db


QueryAssertion = Callable[[int], AbstractContextManager[list[str]]]


@pytest.fixture
def sessionerror_assert_max_queries(sessionerror_database: ProvidedDatabase) -> QueryAssertion:
    """``with sessionerror_assert_max_queries(n):`` fails, listing them, if > n statements run."""
    from sessionerror.testdb.querycount import assert_queries

    def assert_max(limit: int) -> AbstractContextManager[list[str]]:
        return assert_queries(sessionerror_database.recorder, limit)

    return assert_max


@pytest.fixture
def sessionerror_assert_num_queries(sessionerror_database: ProvidedDatabase) -> QueryAssertion:
    """``with sessionerror_assert_num_queries(n):`` fails unless exactly n statements run."""
    from sessionerror.testdb.querycount import assert_queries

    def assert_exact(limit: int) -> AbstractContextManager[list[str]]:
        return assert_queries(sessionerror_database.recorder, limit, exact=True)

    return assert_exact


ContractAssertion = Callable[..., Any]


@pytest.fixture
def sessionerror_assert_contract(sessionerror_engine: Engine) -> ContractAssertion:
    """``sessionerror_assert_contract(bind=None)`` fails listing every contract violation.

    Checks the database your fixtures built (default: ``sessionerror_engine``; pass your own
    Engine, Connection or URL) with the same checks as ``sessionerror check``. Behaviour checks
    run inside a transaction that is rolled back. Returns the report when all checks pass.
    """
    from sessionerror.check.api import assert_contract

    def check(bind: Any = None, *, behaviour: bool = True) -> Any:
        return assert_contract(sessionerror_engine if bind is None else bind, behaviour=behaviour)

    return check


# -- fixture factories --------------------------------------------------------------------


def sessionerror_engine_factory(
    *,
    metadata: MetaData | None = None,
    schema_setup: Callable[[Connection], Any] | None = None,
    backend: Backend | None = None,
) -> Any:
    """Build a session-scoped engine fixture for another schema.

    ``metadata``/``schema_setup`` default to the configuration; ``backend`` defaults to the
    current test's backend (so the fixture is parametrised like ``sessionerror_engine``).
    The database is separate from the default one and removed at the end of the run.
    """

    def provide(request: pytest.FixtureRequest, tmp_path_factory: Any, chosen: Backend) -> Any:
        from sessionerror.testdb.provisioning import DatabaseProvisioner

        state = get_state(request.config)
        provisioner = DatabaseProvisioner(
            replace(state.config, reuse_schema=False),
            worker=f"{state.worker}-{request.fixturename}",
            tmp_dir=tmp_path_factory.mktemp("sessionerror-factory"),
            cache_dir=None,
            postgres=state.postgres,
            postgres_problem=state.postgres_problem,
            metadata=metadata,
            schema_setup=schema_setup,
        )
        try:
            yield _provided(provisioner, chosen, request.config).engine
        finally:
            provisioner.close()

    if backend is not None:
        fixed: Backend = backend

        @pytest.fixture(scope="session")
        def engine_fixture(
            request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Engine]:
            yield from provide(request, tmp_path_factory, fixed)

        return engine_fixture

    # Depending on sessionerror_backend statically makes the fixture parametrised per backend.
    @pytest.fixture(scope="session")
    def engine_fixture_per_backend(
        request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory,
        sessionerror_backend: Backend,
    ) -> Iterator[Engine]:
        yield from provide(request, tmp_path_factory, sessionerror_backend)

    return engine_fixture_per_backend


def sessionerror_db_factory(*, engine: str = "sessionerror_engine", committed: bool = False) -> Any:
    """Build a function-scoped ORM-session fixture on the engine fixture named ``engine``.

    Rolled back after each test (or, with ``committed=True``, committed and deleted after).
    """

    if not engine.isidentifier():
        raise ValueError(f"engine must be the name of an engine fixture, got {engine!r}")

    def db_fixture(**fixtures: Any) -> Iterator[Session]:
        from sqlalchemy import MetaData

        from sessionerror.testdb.isolation import committed_session, rolled_back_session

        bound: Engine = fixtures[engine]
        if committed:
            metadata = MetaData()
            metadata.reflect(bound)
            with committed_session(bound, metadata) as db:
                yield db
            return
        with bound.connect() as connection, rolled_back_session(connection) as db:
            yield db

    # Request the engine fixture by name in the signature pytest reads, so the session fixture
    # is parametrised per backend exactly like the engine it uses.
    db_fixture.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(engine, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    )
    db_fixture.__doc__ = f"ORM session on ``{engine}``, isolated per test."
    return pytest.fixture(db_fixture)
