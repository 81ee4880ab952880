"""Fixtures for the contract checker tests: an empty SQLite or PostgreSQL database per test."""

from __future__ import annotations

import pytest
from broken_schemas import make_engine


@pytest.fixture
def blank_db_url(sessionerror_empty_database_url: str) -> str:
    """URL of an empty database of the current backend (the plugin creates and drops it)."""
    return sessionerror_empty_database_url


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
