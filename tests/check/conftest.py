"""Fixtures for the contract checker tests: an empty SQLite or PostgreSQL database per test."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from broken_schemas import make_engine
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "SESSIONERROR_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite: test runs against an embedded SQLite file")
    config.addinivalue_line("markers", "postgresql: test needs the PostgreSQL server")


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgresql", marks=pytest.mark.postgresql),
    ]
)
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """URL of an empty database: a SQLite file, or a fresh PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        path = tmp_path / "blank.db"
        sqlite3.connect(path).close()
        yield f"sqlite:///{path}"
        return
    name = f"sessionerror_chk_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        pytest.skip(f"PostgreSQL not available at {make_url(ADMIN_URL)!r}: {exc}")
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


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
