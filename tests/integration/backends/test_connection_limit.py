"""A server with no connection slot left (issue 20, many CI shards on one server): the kit says
so in one line naming max_connections, what the run needs per worker, and what to change.

A role of its own with ``CONNECTION LIMIT 1`` on the shared server stands in for a full server
(the same SQLSTATE 53300 as "too many clients already"; cheaper than a server of its own).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from sessionerror.testdb.postgres import capacity
from sessionerror.testdb.postgres.capacity import TooManyConnectionsError
from sessionerror.testdb.postgres.janitor import DatabaseJanitor
from sessionerror.urls import DatabaseURL

pytestmark = pytest.mark.postgresql


@pytest.fixture
def limited_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """URL of a new role that may hold one connection; the role and its databases go after."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)  # the outer run's -n
    monkeypatch.setattr(capacity, "SLOT_WAIT", 0.3)  # the other connection never ends here
    monkeypatch.setattr(capacity, "_gave_up", [])
    monkeypatch.setattr(capacity, "_budget", [capacity.PER_WORKER])  # no kept copies
    role = f"sessionerror_limit_{secrets.token_hex(4)}"
    admin = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN CREATEDB CONNECTION LIMIT 1'))
    try:
        url = make_url(server_url).set(username=role, password=None)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            owned = connection.execute(
                text(
                    "SELECT d.datname FROM pg_database d JOIN pg_roles r ON d.datdba = r.oid "
                    "WHERE r.rolname = :role"
                ),
                {"role": role},
            ).scalars()
            for name in list(owned):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def expected_line(server_url: str, url: str) -> str:
    """The line for a role with CONNECTION LIMIT 1 on this server, one process."""
    role = make_url(url).username
    admin = create_engine(server_url, poolclass=NullPool)
    with admin.connect() as connection:
        limit = connection.exec_driver_sql("SHOW max_connections").scalar_one()
        reserved = connection.exec_driver_sql("SHOW superuser_reserved_connections").scalar_one()
    admin.dispose()
    return (
        f"PostgreSQL at {DatabaseURL(url).require_postgres()} has no connection slot left "
        f'(too many connections for role "{role}"; max_connections = {limit}, {reserved} of '
        f"them for superusers only; role {role} CONNECTION LIMIT 1): this run needs up to 2 "
        "connections per worker (3 in all); run fewer concurrent runs or workers (-n), raise "
        "the role's CONNECTION LIMIT, or put a pooler such as PgBouncer in front"
    )


def test_janitor_refused_by_a_full_server_says_it_in_one_line(
    server_url: str, limited_url: str
) -> None:
    janitor = DatabaseJanitor(limited_url)
    janitor.require_createdb()  # a first connection, while a slot is free, reads the limits
    other = create_engine(limited_url, poolclass=NullPool)
    try:
        with other.connect(), pytest.raises(TooManyConnectionsError) as caught:
            janitor.create()
    finally:
        other.dispose()
    assert str(caught.value) == expected_line(server_url, limited_url)
    assert janitor.name is None


def test_a_test_refused_by_a_full_server_fails_in_one_line(
    pytester: pytest.Pytester,
    run_inprocess: object,
    monkeypatch: pytest.MonkeyPatch,
    server_url: str,
    limited_url: str,
) -> None:
    monkeypatch.setenv("SESSIONERROR_REUSE_SCHEMA", "false")  # nothing held for the run
    pytester.makepyfile(
        test_two_connections="""
        def test_second_connection(sessionerror_connection, sessionerror_engine):
            with sessionerror_engine.connect():
                pass

        def test_one_connection(sessionerror_db):
            pass
        """
    )
    result = run_inprocess(  # type: ignore[operator]
        "--sessionerror-backend=postgresql",
        f"--sessionerror-postgres-url={limited_url}",
    )
    result.assert_outcomes(passed=1, failed=1)
    line = "sessionerror: " + expected_line(server_url, limited_url)
    assert line in result.outlines
    assert "Traceback" not in result.stdout.str()


def test_a_connection_waits_for_a_slot_another_run_gives_back(
    limited_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capacity, "SLOT_WAIT", 10.0)
    other = create_engine(limited_url, poolclass=NullPool)
    held = other.connect()  # another run's connection, closed half a second later
    timer = threading.Timer(0.5, held.close)
    timer.start()
    janitor = DatabaseJanitor(limited_url)
    try:
        janitor.create()  # refused at first, then gets the slot
    finally:
        timer.join()
        other.dispose()
        janitor.drop()
    assert janitor.name is None
