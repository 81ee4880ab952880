"""Shared by the project's own tests: the real PostgreSQL server the kit may use."""

from __future__ import annotations

import os

import pytest

from sessionerror.backends.postgres import PostgresUnavailableError, check_server


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the maintenance database of the real server (``SESSIONERROR_POSTGRES_URL``).

    Skips when it does not answer; with PostgreSQL required (as in CI) that skip is a failure.
    """
    url = os.environ.get(
        "SESSIONERROR_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    try:
        check_server(url, timeout=3)
    except PostgresUnavailableError as exc:
        pytest.skip(f"no test server: {exc}")
    return url
