"""find_by_category and has_blocking_errors: db=, bound sessions, single queries."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from sessionerror.errors import ErrorDataValidationError, NoSessionBoundError
from sessionerror.models import SessionError
from sessionerror.models.binding import bind_session, bound_session
from sessionerror.models.enums import ErrorCategory, ErrorSeverity
from sessionerror.models.types import utcnow

from .conftest import MakeError, Parents, make_parents, valid_fields

AssertQueries = Callable[[int], AbstractContextManager[list[str]]]


@pytest.fixture
def mixed(sessionerror_db: Session, parents: Parents) -> dict[str, list[uuid.UUID]]:
    """Errors of every category in ``parents.session``, plus noise in another session."""
    now = utcnow()
    made: dict[str, list[uuid.UUID]] = {c.value: [] for c in ErrorCategory}
    specs = [
        ("user_fixable", "warning", 5),
        ("admin_required", "info", 4),
        ("user_fixable", "info", 3),
        ("temporary", "warning", 2),
    ]
    for category, severity, minutes_ago in specs:
        error = SessionError(
            **valid_fields(
                parents.session.id,
                error_category=category,
                severity=severity,
                created_at=now - timedelta(minutes=minutes_ago),
            )
        )
        sessionerror_db.add(error)
        made[category].append(error.id)
    other = make_parents(sessionerror_db, "other")
    sessionerror_db.add(
        SessionError(**valid_fields(other.session.id, error_category="user_fixable"))
    )
    sessionerror_db.flush()
    return made


@pytest.mark.parametrize("category", [*ErrorCategory, *(c.value for c in ErrorCategory)])
def test_find_by_category_with_db(
    sessionerror_db: Session,
    parents: Parents,
    mixed: dict[str, list[uuid.UUID]],
    category: ErrorCategory | str,
) -> None:
    found = SessionError.find_by_category(parents.session.id, category, db=sessionerror_db)
    wanted = ErrorCategory(category).value
    assert [e.id for e in found] == mixed[wanted]  # oldest first
    assert all(e.session_id == parents.session.id for e in found)


def test_find_by_category_uses_the_bound_session(
    parents: Parents, mixed: dict[str, list[uuid.UUID]]
) -> None:
    found = SessionError.find_by_category(parents.session.id, ErrorCategory.USER_FIXABLE)
    assert [e.id for e in found] == mixed["user_fixable"]


def test_find_by_category_of_unknown_session_is_empty(sessionerror_db: Session) -> None:
    assert SessionError.find_by_category(uuid.uuid4(), "temporary") == []


@pytest.mark.parametrize("bad", ["USER_FIXABLE", "nope", "", None, 3])
def test_find_by_category_unknown_category_is_a_validation_error(
    parents: Parents, bad: object
) -> None:
    with pytest.raises(ErrorDataValidationError) as info:
        SessionError.find_by_category(parents.session.id, bad)  # type: ignore[arg-type]
    assert info.value.field == "error_category"
    assert "user_fixable" in info.value.message


def test_find_by_category_is_one_query(
    sessionerror_assert_num_queries: AssertQueries,
    parents: Parents,
    mixed: dict[str, list[uuid.UUID]],
) -> None:
    with sessionerror_assert_num_queries(1) as statements:
        found = SessionError.find_by_category(parents.session.id, "user_fixable")
        assert [e.user_message for e in found] == ["The file has no header row"] * 2
    assert statements[0].lstrip().upper().startswith("SELECT")


def test_has_blocking_errors(
    sessionerror_db: Session, make_error: MakeError, parents: Parents
) -> None:
    make_error(severity="warning")
    make_error(severity="info")
    assert SessionError.has_blocking_errors(parents.session.id) is False
    assert SessionError.has_blocking_errors(parents.session.id, db=sessionerror_db) is False
    other = make_parents(sessionerror_db, "other")
    sessionerror_db.add(SessionError(**valid_fields(other.session.id, severity="blocking")))
    sessionerror_db.flush()
    assert SessionError.has_blocking_errors(parents.session.id) is False
    make_error(severity=ErrorSeverity.BLOCKING)
    assert SessionError.has_blocking_errors(parents.session.id) is True
    assert SessionError.has_blocking_errors(parents.session.id, db=sessionerror_db) is True
    assert SessionError.has_blocking_errors(uuid.uuid4()) is False


def test_has_blocking_errors_is_one_exists_query_loading_no_rows(
    sessionerror_db: Session,
    sessionerror_assert_num_queries: AssertQueries,
    make_error: MakeError,
    parents: Parents,
) -> None:
    make_error(severity="blocking")
    make_error(severity="blocking")
    sessionerror_db.expunge_all()
    with sessionerror_assert_num_queries(1) as statements:
        assert SessionError.has_blocking_errors(parents.session.id) is True
    assert "EXISTS" in statements[0].upper()
    # nothing was loaded into the identity map
    assert not any(isinstance(obj, SessionError) for obj in sessionerror_db.identity_map.values())


def test_bind_session_nesting_restores_the_outer_session(
    sessionerror_db: Session, sessionerror_engine: Engine, make_error: MakeError, parents: Parents
) -> None:
    make_error(severity="blocking")
    assert bound_session() is sessionerror_db
    with Session(sessionerror_engine) as other:  # does not see the uncommitted row
        with bind_session(other):
            assert bound_session() is other
            assert SessionError.has_blocking_errors(parents.session.id) is False
            assert SessionError.find_by_category(parents.session.id, "user_fixable") == []
            with bind_session(sessionerror_db):
                assert SessionError.has_blocking_errors(parents.session.id) is True
            assert bound_session() is other
        assert bound_session() is sessionerror_db
    assert SessionError.has_blocking_errors(parents.session.id) is True


def test_bind_session_refuses_non_sessions(sessionerror_engine: Engine) -> None:
    with pytest.raises(TypeError, match=r"sqlalchemy\.orm\.Session"):  # noqa: SIM117
        with bind_session(sessionerror_engine):  # type: ignore[arg-type]
            pass


@pytest.mark.parametrize(
    "call",
    [
        lambda sid: SessionError.find_by_category(sid, "temporary"),
        lambda sid: SessionError.has_blocking_errors(sid),
    ],
    ids=["find_by_category", "has_blocking_errors"],
)
def test_no_session_bound_says_how_to_bind(
    sessionerror_db: Session, call: Callable[[uuid.UUID], object]
) -> None:
    # The plugin bound sessionerror_db in this context: run in a brand-new one.
    def run() -> object:
        assert bound_session() is None
        return call(uuid.uuid4())

    with pytest.raises(NoSessionBoundError) as info:
        contextvars.Context().run(run)
    message = str(info.value)
    assert "db=" in message
    assert "bind_session" in message
    assert info.value.category is ErrorCategory.ADMIN_REQUIRED


def test_db_argument_works_without_a_bound_session(
    sessionerror_db: Session, make_error: MakeError, parents: Parents
) -> None:
    error = make_error(error_category="temporary", severity="blocking")

    def run() -> tuple[list[uuid.UUID], bool]:
        found = SessionError.find_by_category(parents.session.id, "temporary", db=sessionerror_db)
        return [e.id for e in found], SessionError.has_blocking_errors(
            parents.session.id, db=sessionerror_db
        )

    assert contextvars.Context().run(run) == ([error.id], True)


def _sqlite_plan(connection: Any, statement: Any) -> str:
    compiled = statement.compile(connection)
    params = tuple(
        value.hex if isinstance(value, uuid.UUID) else value
        for value in (compiled.params[name] for name in compiled.positiontup)
    )
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
    return " | ".join(row[-1] for row in rows)


def test_sqlite_planner_uses_the_session_id_index_whatever_the_creation_order(
    tmp_path: Any,
) -> None:
    from sqlalchemy import exists, select

    from sessionerror.engines.sqlite import create_sqlite_engine
    from sessionerror.models import Base, seed_sqlite_planner_statistics

    engine = create_sqlite_engine(tmp_path / "plan.db")
    Base.metadata.create_all(engine)
    table = SessionError.__table__
    queries = [
        select(
            exists().where(
                SessionError.session_id == uuid.uuid4(), SessionError.severity == "blocking"
            )
        ),
        select(SessionError).where(
            SessionError.session_id == uuid.uuid4(), SessionError.error_category == "user_fixable"
        ),
    ]
    with engine.begin() as connection:
        # The order that misled the planner: session_id index first, no statistics.
        for name in ("session_id", "category", "severity"):
            connection.exec_driver_sql(f"DROP INDEX idx_session_errors_{name}")
        for name, column in (
            ("session_id", "session_id"),
            ("category", "error_category"),
            ("severity", "severity"),
        ):
            connection.exec_driver_sql(
                f"CREATE INDEX idx_session_errors_{name} ON session_errors ({column})"
            )
        connection.exec_driver_sql("DELETE FROM sqlite_stat1")
        connection.exec_driver_sql("ANALYZE sqlite_schema")
        unseeded = [_sqlite_plan(connection, query) for query in queries]
        seed_sqlite_planner_statistics(table, connection)
        seeded = [_sqlite_plan(connection, query) for query in queries]
    engine.dispose()
    assert any("idx_session_errors_session_id" not in plan for plan in unseeded), unseeded
    assert all("USING INDEX idx_session_errors_session_id" in plan for plan in seeded), seeded
