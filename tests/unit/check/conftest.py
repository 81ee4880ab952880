"""Fixtures for the contract checker tests: an empty SQLite or PostgreSQL database per test.

On PostgreSQL every test gets the same database of this test process, emptied before the test
(the ``public`` schema dropped and created again): creating and dropping a database per test
cost a checkpoint each (1-2 s of waiting per test on a busy machine), an emptied schema a few
milliseconds. The plugin's own ``sessionerror_empty_database_url`` (a new database per test) is
still what the SQLite cases use, and is tested by tests/integration/async_/test_async_cli.py and
the probes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from broken_schemas import make_engine
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from sessionerror.testdb.postgres.janitor import DatabaseJanitor


@pytest.fixture(scope="session")
def checker_postgres_url(server_url: str) -> Iterator[str]:
    """URL of one PostgreSQL database for this process's checker tests, dropped at the end."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    janitor = DatabaseJanitor(server_url, worker=f"{worker}c")
    janitor.create()
    try:
        yield janitor.database_url()
    finally:
        janitor.drop()


def empty_public_schema(url: str) -> None:
    """Drop everything a test created (tables, enum types, sequences...) with its schema."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            # A connection a test left inside a transaction would make this wait: fail instead.
            connection.exec_driver_sql("SET lock_timeout = '20s'")
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
            leftover = connection.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
                    " AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'"
                )
            ).scalar_one()
            assert leftover == 0, f"{leftover} relations outside the public schema"
    finally:
        engine.dispose()


@pytest.fixture
def blank_db_url(request: pytest.FixtureRequest, sessionerror_backend: str) -> str:
    """URL of an empty database of the current backend."""
    if sessionerror_backend == "sqlite":
        url: str = request.getfixturevalue("sessionerror_empty_database_url")
        return url
    url = request.getfixturevalue("checker_postgres_url")
    empty_public_schema(url)
    return url


@pytest.fixture
def reference_db_url(blank_db_url: str) -> str:
    """``blank_db_url`` with the reference schema created by ``Base.metadata.create_all``."""
    from sessionerror.models import Base

    engine = make_engine(blank_db_url)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()
    return blank_db_url
