"""Fixtures of the example tests: a scratch PostgreSQL database the scenarios must leave empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect

from sessionerror.scenarios import engine_from_url


@pytest.fixture
def empty_postgres_url(sessionerror_engine: Engine) -> Iterator[str]:
    """URL (bare ``postgresql://``) of a new database on the test server; after the test it
    must still hold no table and no enum type (the scenarios roll everything back); dropped."""
    server = sessionerror_engine.url.set(drivername="postgresql")
    name = f"{server.database}_empty"
    with sessionerror_engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
        check = engine_from_url(url)
        try:
            inspector = inspect(check)
            assert inspector.get_table_names() == []  # everything was rolled back
            assert inspector.get_enums() == []
        finally:
            check.dispose()
    finally:
        with sessionerror_engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
