"""A full PostgreSQL server in one line (issue 20): which refusals count, and the line's parts."""

from __future__ import annotations

import time

import pytest

from sessionerror.testdb.postgres import capacity
from sessionerror.testdb.postgres.capacity import (
    ServerLimits,
    find_too_many_connections,
    limits_key,
    too_many_connections_line,
)


class _Driver(Exception):
    """A driver error with the attributes psycopg2 (pgcode) or asyncpg (sqlstate) give."""

    def __init__(self, message: str, *, pgcode: str | None = None, sqlstate: str | None = None):
        super().__init__(message)
        self.pgcode = pgcode
        self.sqlstate = sqlstate


class _Wrapped(Exception):
    """SQLAlchemy's DBAPIError keeps the driver's error as ``orig``."""

    def __init__(self, orig: BaseException) -> None:
        super().__init__(f"(wrapped) {orig}")
        self.orig = orig


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            _Driver(
                'connection to server at "127.0.0.1", port 5432 failed: FATAL:  sorry, too many '
                "clients already\n"
            ),
            "sorry, too many clients already",
        ),
        (
            _Driver(
                "FATAL:  remaining connection slots are reserved for non-replication superuser "
                "connections"
            ),
            "remaining connection slots are reserved for non-replication superuser connections",
        ),
        (_Driver('too many connections for role "ci"'), 'too many connections for role "ci"'),
        (_Driver("sorry, too many clients already", sqlstate="53300"), None),
        (_Driver("ERROR: no slot", pgcode="53300"), "no slot"),
    ],
)
def test_each_refusal_of_a_full_server_is_found(error: _Driver, words: str | None) -> None:
    expected = words or str(error)
    assert find_too_many_connections(error) == expected
    assert find_too_many_connections(_Wrapped(error)) == expected


def test_a_refusal_found_in_the_cause_and_other_errors_left_alone() -> None:
    try:
        try:
            raise _Driver("FATAL: sorry, too many clients already")
        except _Driver as exc:
            raise RuntimeError("the fixture failed") from exc
    except RuntimeError as exc:
        assert find_too_many_connections(exc) == "sorry, too many clients already"
    assert find_too_many_connections(_Driver('password authentication failed for user "x"')) is None
    assert find_too_many_connections(None) is None


def test_the_line_names_the_limits_the_need_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    key = limits_key("postgresql+psycopg2://ci:pw@db:6543/postgres")
    assert key == "ci@db:6543"
    monkeypatch.setitem(capacity._known, key, ServerLimits(20, 3, "ci", -1))
    monkeypatch.setattr(capacity, "_budget", [2])
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    assert too_many_connections_line("db:6543", "sorry, too many clients already", key=key) == (
        "PostgreSQL at db:6543 has no connection slot left (sorry, too many clients already; "
        "max_connections = 20, 3 of them for superusers only): this run needs up to 2 "
        "connections per worker (-n 2: 5 in all); run fewer concurrent runs or workers (-n), "
        "raise max_connections, or put a pooler such as PgBouncer in front"
    )


def test_unknown_limits_still_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.delenv("_SESSIONERROR_SERVER_LIMITS", raising=False)
    monkeypatch.setattr(capacity, "_budget", [3])
    line = too_many_connections_line("db", "sorry, too many clients already", key="nobody@db:1")
    assert "(sorry, too many clients already; the server's max_connections)" in line
    assert "this run needs up to 3 connections per worker (4 in all)" in line


def test_connect_waiting_tries_again_then_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity, "SLOT_WAIT", 0.2)
    monkeypatch.setattr(capacity, "_gave_up", [])
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
    calls = []

    def refused_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _Driver("FATAL: sorry, too many clients already")
        return "connection"

    assert capacity.connect_waiting(refused_twice) == "connection"
    assert len(calls) == 3

    def always_refused() -> str:
        raise _Driver("FATAL: sorry, too many clients already")

    with pytest.raises(_Driver):
        capacity.connect_waiting(always_refused)
    assert capacity._gave_up  # the next refusal is not waited for


def test_other_connect_errors_are_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity, "_gave_up", [])
    calls = []

    def refused() -> str:
        calls.append(1)
        raise _Driver("connection refused")

    with pytest.raises(_Driver):
        capacity.connect_waiting(refused)
    assert len(calls) == 1
