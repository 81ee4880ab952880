"""Internal: AsyncEngine, AsyncConnection and a rolled-back AsyncSession per test.

Parametrised per backend exactly like the sync fixtures (they depend on
``sessionerror_database``). They are pytest-asyncio fixtures in strict and auto mode (marked the
way ``pytest_asyncio.fixture`` marks them, so this module imports neither pytest-asyncio nor
SQLAlchemy's asyncio extension) and run on the loop pytest-asyncio gives fixtures
(``asyncio_default_fixture_loop_scope``). The AsyncEngine is cached per running event loop and
disposed when that loop shuts down: with a session-scoped loop every test reuses its pool.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from sessionerror.engines.kinds import async_kind
from sessionerror.plugin.committed import committed_guard, require_template_state
from sessionerror.plugin.markers import marker_options, marker_options_key
from sessionerror.plugin.state_async import async_registry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

    from sessionerror.plugin.config import Backend
    from sessionerror.testdb.provisioning import ProvidedDatabase

__all__ = [
    "asyncio_fixture",
    "sessionerror_async_connection",
    "sessionerror_async_db",
    "sessionerror_async_engine",
    "sessionerror_async_support",
]

F = TypeVar("F", bound=Callable[..., Any])


def asyncio_fixture(function: F) -> F:
    """Register ``function`` as a pytest-asyncio fixture without importing pytest-asyncio."""
    function._force_asyncio_fixture = True  # type: ignore[attr-defined]
    function._loop_scope = None  # type: ignore[attr-defined]  # the ini default applies
    return pytest.fixture(function)  # type: ignore[return-value]


@pytest.fixture(scope="session")
def sessionerror_async_support(pytestconfig: pytest.Config, sessionerror_backend: Backend) -> None:
    """Fail in one line when pytest-asyncio or the ``async`` extra is missing."""
    from sessionerror.testdb.isolation_async import require_async_extra

    if not pytestconfig.pluginmanager.hasplugin("asyncio"):
        pytest.fail(
            "the sessionerror async fixtures run on pytest-asyncio, which is not installed "
            '(or disabled with -p no:asyncio): pip install "sessionerror[async]" pytest-asyncio',
            pytrace=False,
        )
    problem = None
    try:
        require_async_extra(sessionerror_backend, what="the sessionerror async fixtures")
    except ImportError as exc:
        problem = str(exc)
    if problem is not None:  # outside the except: no "during handling..." chain in the report
        pytest.fail(problem, pytrace=False)


@asyncio_fixture
async def sessionerror_async_engine(
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
    sessionerror_async_support: None,
    sessionerror_database: ProvidedDatabase,
) -> AsyncEngine:
    """AsyncEngine (asyncpg / aiosqlite) on the same per-worker database as
    ``sessionerror_engine``, one per running event loop, disposed when the loop ends."""
    _require_one_loop(request)
    return await _engine(pytestconfig, sessionerror_database)


def _require_one_loop(request: pytest.FixtureRequest) -> None:
    """Fail clearly when the test would run on another event loop than the async fixtures.

    The fixtures run on the loop of ``asyncio_default_fixture_loop_scope``; an async test runs
    on its marker's ``loop_scope`` or ``asyncio_default_test_loop_scope``. asyncpg connections
    cannot cross loops, so a mismatch would fail later with "attached to a different loop".
    """
    node = getattr(request, "node", None)
    if node is None or not inspect.iscoroutinefunction(getattr(node, "obj", None)):
        return
    try:
        fixture_scope = request.config.getini("asyncio_default_fixture_loop_scope") or "function"
        test_scope = request.config.getini("asyncio_default_test_loop_scope") or "function"
    except ValueError:  # pytest-asyncio not registered: sessionerror_async_support says so
        return
    marker = node.get_closest_marker("asyncio")
    if marker is not None:
        test_scope = marker.kwargs.get("loop_scope") or marker.kwargs.get("scope") or test_scope
    if fixture_scope != test_scope:
        pytest.fail(
            f"the sessionerror async fixtures run on the {fixture_scope!r} event loop "
            f"(asyncio_default_fixture_loop_scope) but this test runs on the {test_scope!r} "
            "loop; asyncpg connections cannot cross loops. Fix: set "
            f"asyncio_default_test_loop_scope = {fixture_scope} (or mark the test "
            f"@pytest.mark.asyncio(loop_scope={fixture_scope!r}))",
            pytrace=False,
        )


async def _engine(config: pytest.Config, database: ProvidedDatabase) -> AsyncEngine:
    """The registry's AsyncEngine for the running loop; a usage problem fails in one line."""
    try:
        engine = await async_registry(config).engine_for(database)
    except ValueError as exc:  # e.g. an in-memory SQLite database cannot be shared
        problem = str(exc)
    else:
        if database.backend == "postgresql":  # a full shared server: wait for a slot
            from sessionerror.testdb.postgres.capacity import wait_for_slots

            wait_for_slots(engine.sync_engine, pooled=False)
        return engine
    pytest.fail(problem, pytrace=False)


@asyncio_fixture
async def sessionerror_async_db(
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
    sessionerror_async_support: None,
    sessionerror_database: ProvidedDatabase,
) -> AsyncIterator[AsyncSession]:
    """AsyncSession for the test (``expire_on_commit=False``); everything is rolled back after.

    ``await db.commit()`` / ``await db.rollback()`` are allowed. With
    ``@pytest.mark.sessionerror(committed=True)`` commits are real, and afterwards the database
    is brought back to the template's rows (seeded rows and ``alembic_version`` kept) and the
    connections the test used are reset. Bound for ``create_async()`` of the factories;
    ``@pytest.mark.sessionerror_data("name")`` loads data sets first.
    """
    from sessionerror.testdb.isolation_async import (
        async_committed_session,
        async_rolled_back_session,
    )

    # One async fixture per test (each costs the event loop a task at setup and at teardown):
    # the engine comes from the per-loop registry and the connection is opened right here.
    _require_one_loop(request)
    # A committed test whose cleanup failed twice left rows: fail here, not on stale data.
    require_template_state(pytestconfig, sessionerror_database)
    engine = await _engine(pytestconfig, sessionerror_database)
    options = request.node.stash.get(marker_options_key, None) or marker_options(request.node)
    if options.committed:
        from sessionerror.testdb.committed_guard import TemplateRestoreError

        guard = committed_guard(pytestconfig, sessionerror_database)
        # The sync snapshot too: a later test repairs a failed cleanup with the sync engine.
        guard.snapshot_for(sessionerror_database.engine, sessionerror_database.tables)
        scope = async_committed_session(
            engine, sessionerror_database.tables, guard=guard, test=request.node.nodeid
        )
        try:
            async with scope as db:
                await _load_datasets(db, options.datasets)
                yield db
        except TemplateRestoreError as exc:
            problem = str(exc)  # failed outside the except: no "during handling" chain
        else:
            return
        pytest.fail(problem, pytrace=False)
    async with engine.connect() as connection, async_rolled_back_session(connection) as db:
        await _load_datasets(db, options.datasets)
        yield db


async def _load_datasets(db: AsyncSession, names: tuple[str, ...]) -> None:
    """Load ``names`` into ``db``; a data set that fails fails the test in one line."""
    if names:
        from sessionerror.datasets import DatasetError, load_dataset

        for name in names:
            try:
                await db.run_sync(load_dataset, name)
            except DatasetError as exc:
                problem = str(exc)  # failed outside the except: no "during handling" chain
            else:
                continue
            pytest.fail(f"sessionerror: data set {name!r}: {problem}", pytrace=False)


@pytest.fixture
def sessionerror_async_connection(sessionerror_async_db: AsyncSession) -> AsyncConnection:
    """The AsyncConnection ``sessionerror_async_db``'s transaction runs on (rollback mode)."""
    bind = sessionerror_async_db.bind
    if async_kind(bind) != "AsyncConnection":
        pytest.fail(
            "sessionerror_async_connection has no shared connection in committed mode; "
            "use `async with sessionerror_async_engine.connect() as connection:`",
            pytrace=False,
        )
    return bind  # type: ignore[return-value]
