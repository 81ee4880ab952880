"""Internal: engine and session fixture factories for another schema or another engine.

Import them from :mod:`sessionerror.testing`.

Used in a conftest (``my_engine = sessionerror_engine_factory(metadata=MyBase.metadata)``);
both take keyword-only arguments, ``None`` meaning "read the configuration".
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from sessionerror.plugin.lazy import ensure_for_test
from sessionerror.plugin.state import get_state, provided_database

if TYPE_CHECKING:  # SQLAlchemy is imported when a fixture first runs, not when pytest starts.
    from sqlalchemy import Connection, Engine, MetaData
    from sqlalchemy.orm import Session

    from sessionerror.plugin.config import Backend

__all__ = [
    "EngineFixture",
    "SessionFixture",
    "sessionerror_db_factory",
    "sessionerror_engine_factory",
]

#: A session-scoped fixture function yielding an Engine (what ``pytest.fixture`` returns).
EngineFixture = Callable[..., Iterator["Engine"]]
#: A function-scoped fixture function yielding an ORM Session.
SessionFixture = Callable[..., Iterator["Session"]]

#: Per run: the reflected schema of each engine a committed session fixture cleans up.
_reflected_key = pytest.StashKey["weakref.WeakKeyDictionary[Engine, MetaData]"]()


def _reflected(config: pytest.Config, engine: Engine) -> MetaData:
    """``engine``'s tables, reflected on first use and kept for the run (per engine)."""
    from sqlalchemy import MetaData

    cache = config.stash.setdefault(_reflected_key, weakref.WeakKeyDictionary())
    metadata = cache.get(engine)
    if metadata is None:
        metadata = MetaData()
        metadata.reflect(engine)
        cache[engine] = metadata
    return metadata


def sessionerror_engine_factory(
    *,
    metadata: MetaData | None = None,
    schema_setup: Callable[[Connection], Any] | None = None,
    backend: Backend | None = None,
) -> EngineFixture:
    """Build a session-scoped engine fixture for another schema.

    ``metadata``/``schema_setup`` default to the configuration; ``backend`` defaults to the
    current test's backend (so the fixture is parametrised like ``sessionerror_engine``).
    The database is separate from the default one and removed at the end of the run.
    """

    def provide(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, chosen: Backend
    ) -> Iterator[Engine]:
        from sessionerror.testdb.provisioning import DatabaseProvisioner

        ensure_for_test(request.config)  # issue 19: the server may not be resolved yet
        state = get_state(request.config)
        provisioner = DatabaseProvisioner(
            replace(state.config.schema, reuse_schema=False),
            worker=f"{state.worker}-{request.fixturename}",
            tmp_dir=tmp_path_factory.mktemp("sessionerror-factory"),
            cache_dir=None,
            availability=state.availability,
            metadata=metadata,
            schema_setup=schema_setup,
        )
        try:
            yield provided_database(provisioner, chosen, request.config).engine
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


def sessionerror_db_factory(
    *, engine: str = "sessionerror_engine", committed: bool = False
) -> SessionFixture:
    """Build a function-scoped ORM-session fixture on the engine fixture named ``engine``.

    Rolled back after each test (or, with ``committed=True``, committed and the rows of every
    table deleted after; the tables are reflected once per engine).
    """

    if not engine.isidentifier():
        raise ValueError(f"engine must be the name of an engine fixture, got {engine!r}")

    def db_fixture(request: pytest.FixtureRequest, **fixtures: Any) -> Iterator[Session]:
        from sessionerror.testdb.isolation import committed_session, rolled_back_session

        bound: Engine = fixtures[engine]
        if committed:
            with committed_session(bound, _reflected(request.config, bound)) as db:
                yield db
            return
        with bound.connect() as connection, rolled_back_session(connection) as db:
            yield db

    # Request the engine fixture by name in the signature pytest reads, so the session fixture
    # is parametrised per backend exactly like the engine it uses.
    db_fixture.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter(engine, inspect.Parameter.KEYWORD_ONLY),
        ]
    )
    db_fixture.__doc__ = f"ORM session on ``{engine}``, isolated per test."
    return pytest.fixture(db_fixture)
