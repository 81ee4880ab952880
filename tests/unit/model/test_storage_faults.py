"""SessionErrorRepository.record against real database faults (spec §8, meta-level categories)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.errors import (
    ErrorDataValidationError,
    StorageTimeoutError,
    StorageUnavailableError,
)
from sessionerror.models import Base, SessionError, WorkflowSession
from sessionerror.models.enums import ErrorCategory
from sessionerror.runtime.repository import SessionErrorRepository

from .conftest import Parents, count_errors, make_parents

# -- the normal path ----------------------------------------------------------------------


def test_record_stores_and_flushes_without_committing(
    sessionerror_db: Session, parents: Parents, timeout_record: dict[str, Any]
) -> None:
    before = count_errors(sessionerror_db)
    error = SessionErrorRepository(sessionerror_db).record(
        session_id=parents.session.id, related_file_id=parents.file.id, **timeout_record
    )
    assert isinstance(error, SessionError)
    assert count_errors(sessionerror_db) == before + 1
    assert error.recovery_actions == {"actions": ["Wait a minute", "Export again"]}
    assert error.get_recovery_action_list() == ["Wait a minute", "Export again"]
    assert error.related_file_id == parents.file.id
    assert sessionerror_db.in_transaction()


def test_record_with_invalid_data_writes_nothing(
    sessionerror_db: Session, parents: Parents, timeout_record: dict[str, Any]
) -> None:
    before = count_errors(sessionerror_db)
    with pytest.raises(ErrorDataValidationError, match="user-friendly"):
        SessionErrorRepository(sessionerror_db).record(
            session_id=parents.session.id, **{**timeout_record, "user_message": "  "}
        )
    assert count_errors(sessionerror_db) == before


def test_record_failure_rolls_back_only_its_savepoint(
    sessionerror_db: Session, parents: Parents, timeout_record: dict[str, Any]
) -> None:
    """An integrity error is not a storage fault: re-raised as is; earlier work survives."""
    repository = SessionErrorRepository(sessionerror_db)
    kept = repository.record(session_id=parents.session.id, **timeout_record)
    with pytest.raises(IntegrityError):
        repository.record(session_id=uuid.uuid4(), **timeout_record)
    assert sessionerror_db.get(SessionError, kept.id) is not None
    assert count_errors(sessionerror_db) == 1


# -- PostgreSQL: timeouts, terminated backend, refused connection ---------------------------


@pytest.fixture
def committed_parents(sessionerror_db: Session) -> Parents:
    parents = make_parents(sessionerror_db, "faults")
    sessionerror_db.commit()
    return parents


@pytest.fixture
def table_locked(sessionerror_engine: Engine, committed_parents: Parents) -> Iterator[None]:
    """A second connection holds ACCESS EXCLUSIVE on session_errors until the test ends."""
    with sessionerror_engine.connect() as locker:
        transaction = locker.begin()
        locker.execute(text("LOCK TABLE session_errors IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            transaction.rollback()


@pytest.mark.postgresql
@pytest.mark.sessionerror(committed=True, backends=["postgresql"])
@pytest.mark.parametrize("setting", ["lock_timeout", "statement_timeout"])
def test_timeout_while_recording_is_temporary(
    sessionerror_db: Session,
    committed_parents: Parents,
    table_locked: None,
    setting: str,
    timeout_record: dict[str, Any],
) -> None:
    sessionerror_db.execute(text(f"SET LOCAL {setting} = '200ms'"))
    with pytest.raises(StorageTimeoutError) as info:
        SessionErrorRepository(sessionerror_db).record(
            session_id=committed_parents.session.id, **timeout_record
        )
    assert info.value.category is ErrorCategory.TEMPORARY
    assert str(committed_parents.session.id) in str(info.value)
    assert "StorageTimeoutError" in str(info.value)
    # the caller's transaction is still usable after the savepoint rolled back
    assert sessionerror_db.execute(text("SELECT 1")).scalar_one() == 1
    sessionerror_db.rollback()


@pytest.mark.postgresql
@pytest.mark.sessionerror(committed=True, backends=["postgresql"])
def test_terminated_backend_is_unavailable(
    sessionerror_db: Session,
    sessionerror_engine: Engine,
    committed_parents: Parents,
    timeout_record: dict[str, Any],
) -> None:
    session_id = committed_parents.session.id  # loaded before the connection dies
    pid = sessionerror_db.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with sessionerror_engine.connect() as killer:
        assert killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    with pytest.raises(StorageUnavailableError) as info:
        SessionErrorRepository(sessionerror_db).record(session_id=session_id, **timeout_record)
    assert info.value.category is ErrorCategory.ADMIN_REQUIRED
    sessionerror_db.rollback()
    # nothing was written
    with sessionerror_engine.connect() as check:
        assert check.execute(text("SELECT count(*) FROM session_errors")).scalar_one() == 0


@pytest.mark.postgresql
def test_refused_connection_is_unavailable(timeout_record: dict[str, Any]) -> None:
    pytest.importorskip("psycopg2")
    engine = create_engine(
        "postgresql+psycopg2://postgres@127.0.0.1:1/postgres", connect_args={"connect_timeout": 3}
    )
    try:
        with Session(engine) as db, pytest.raises(StorageUnavailableError) as info:
            SessionErrorRepository(db, model=SessionError).record(
                session_id=uuid.uuid4(), **timeout_record
            )
    finally:
        engine.dispose()
    assert info.value.category is ErrorCategory.ADMIN_REQUIRED
    assert "refused" in str(info.value).lower() or "connect" in str(info.value).lower()


# -- SQLite: database is locked -------------------------------------------------------------


@pytest.mark.sqlite
def test_sqlite_database_is_locked_is_temporary(
    tmp_path: Path, timeout_record: dict[str, Any]
) -> None:
    path = tmp_path / "locked.db"
    engine = create_sqlite_engine(path)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as setup:
            session = WorkflowSession(name="locked")
            setup.add(session)
            setup.commit()
            session_id = session.id
        locker = sqlite3.connect(path, isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")
            with Session(engine) as db:
                db.execute(text("PRAGMA busy_timeout = 100"))
                with pytest.raises(StorageTimeoutError) as info:
                    SessionErrorRepository(db, model=SessionError).record(
                        session_id=session_id, **timeout_record
                    )
                assert info.value.category is ErrorCategory.TEMPORARY
                assert "database is locked" in str(info.value)
                db.rollback()
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        with engine.connect() as check:
            assert check.execute(text("SELECT count(*) FROM session_errors")).scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("message", "is_fault"),
    [
        ('cannot switch to state 11; protocol is in the "failed" state', True),
        ("cannot switch to state 11; another operation (2) is in progress", True),
        # Two coroutines sharing one connection: a bug in the caller, not the storage.
        ("cannot switch to state 12; another operation (11) is in progress", False),
    ],
)
def test_asyncpg_protocol_errors_are_faults_only_when_the_server_ended_it(
    message: str, is_fault: bool
) -> None:
    from asyncpg.exceptions import InternalClientError

    from sessionerror.runtime.faults import classify_storage_fault

    expected = StorageUnavailableError if is_fault else None
    assert classify_storage_fault(InternalClientError(message)) is expected
