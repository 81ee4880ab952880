"""Shared fixtures of the backend tests: the URL of a real PostgreSQL server."""

from __future__ import annotations

import os

import pytest

from sessionerror.backends.postgres import PostgresUnavailableError, check_server

#: The server the tests use; override with SESSIONERROR_TEST_POSTGRES_URL.
DEFAULT_TEST_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def pytest_configure(config: pytest.Config) -> None:
    # Harmless if the sessionerror plugin registers the same marker.
    config.addinivalue_line("markers", "postgresql: the test needs a PostgreSQL server")


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the maintenance database of a reachable PostgreSQL server."""
    url = os.environ.get("SESSIONERROR_TEST_POSTGRES_URL", DEFAULT_TEST_URL)
    try:
        check_server(url, timeout=3)
    except PostgresUnavailableError as exc:
        pytest.skip(f"no test server: {exc}")
    return url
