"""The session_errors table as the database sees it (spec §4, §6), on every backend."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from sessionerror.models import SessionError, Ticket, UploadedFile, WorkflowSession
from sessionerror.models.enums import ErrorCategory, ErrorSeverity

from .conftest import SPEC_COLUMNS, MakeError, count_errors, raw_id, raw_insert

COLUMNS = SPEC_COLUMNS
NULLABLE = {"related_file_id", "related_ticket_id", "error_code"}

# Compiled type names per backend (what inspect() reports).
TYPES: dict[str, dict[str, str]] = {
    "postgresql": {
        "id": "UUID",
        "session_id": "UUID",
        "error_category": "ENUM",
        "severity": "ENUM",
        "operation_stage": "VARCHAR",
        "related_file_id": "UUID",
        "related_ticket_id": "UUID",
        "user_message": "TEXT",
        "recovery_actions": "JSONB",
        "technical_details": "JSONB",
        "error_code": "VARCHAR",
        "created_at": "TIMESTAMP",
    },
    "sqlite": {
        "id": "CHAR",
        "session_id": "CHAR",
        "error_category": "VARCHAR",
        "severity": "VARCHAR",
        "operation_stage": "VARCHAR",
        "related_file_id": "CHAR",
        "related_ticket_id": "CHAR",
        "user_message": "TEXT",
        "recovery_actions": "JSON",
        "technical_details": "JSON",
        "error_code": "VARCHAR",
        "created_at": "DATETIME",
    },
}


def _columns(engine: Engine) -> dict[str, dict[str, Any]]:
    return {column["name"]: column for column in inspect(engine).get_columns("session_errors")}


def test_table_has_exactly_the_twelve_columns_in_order(sessionerror_engine: Engine) -> None:
    assert [c["name"] for c in inspect(sessionerror_engine).get_columns("session_errors")] == (
        COLUMNS
    )


@pytest.mark.parametrize("name", COLUMNS)
def test_column_type_and_nullability(
    sessionerror_engine: Engine, sessionerror_backend: str, name: str
) -> None:
    column = _columns(sessionerror_engine)[name]
    assert type(column["type"]).__name__.upper() == TYPES[sessionerror_backend][name]
    assert column["nullable"] is (name in NULLABLE)


@pytest.mark.sessionerror(backends=["postgresql"])
def test_created_at_is_timestamptz_on_postgresql(
    sessionerror_engine: Engine, sessionerror_backend: str
) -> None:
    assert _columns(sessionerror_engine)["created_at"]["type"].timezone is True
    with sessionerror_engine.connect() as connection:
        data_types = dict(
            connection.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'session_errors'"
                )
            ).all()
        )
    assert data_types["created_at"] == "timestamp with time zone"
    assert data_types["id"] == "uuid"
    assert data_types["recovery_actions"] == "jsonb"
    assert data_types["technical_details"] == "jsonb"
    assert data_types["error_category"] == "USER-DEFINED"


@pytest.mark.parametrize(
    ("type_name", "labels"),
    [
        ("error_category", ["user_fixable", "admin_required", "temporary"]),
        ("error_severity", ["blocking", "warning", "info"]),
    ],
)
@pytest.mark.sessionerror(backends=["postgresql"])
def test_native_enum_labels_are_values_on_postgresql(
    sessionerror_engine: Engine, sessionerror_backend: str, type_name: str, labels: list[str]
) -> None:
    with sessionerror_engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                "WHERE t.typname = :name ORDER BY e.enumsortorder"
            ),
            {"name": type_name},
        ).scalars()
        assert list(found) == labels
        column_type = connection.execute(
            text(
                "SELECT udt_name FROM information_schema.columns WHERE table_name = "
                "'session_errors' AND column_name = :column"
            ),
            {"column": "error_category" if type_name == "error_category" else "severity"},
        ).scalar_one()
    assert column_type == type_name


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("error_category", "'user_fixable', 'admin_required', 'temporary'"),
        ("severity", "'blocking', 'warning', 'info'"),
        ("operation_stage", "'upload', 'processing', 'review', 'jira_export'"),
    ],
)
@pytest.mark.sessionerror(backends=["sqlite"])
def test_sqlite_check_constraints_list_the_values(
    sessionerror_engine: Engine, sessionerror_backend: str, column: str, values: str
) -> None:
    checks = [
        c["sqltext"] for c in inspect(sessionerror_engine).get_check_constraints("session_errors")
    ]
    assert f"{column} IN ({values})" in checks


def test_the_three_indexes(sessionerror_engine: Engine) -> None:
    indexes = {
        index["name"]: (index["column_names"], bool(index["unique"]))
        for index in inspect(sessionerror_engine).get_indexes("session_errors")
    }
    assert indexes == {
        "idx_session_errors_session_id": (["session_id"], False),
        "idx_session_errors_category": (["error_category"], False),
        "idx_session_errors_severity": (["severity"], False),
    }


def test_foreign_keys_and_their_delete_rules(sessionerror_engine: Engine) -> None:
    fks = {
        tuple(fk["constrained_columns"]): (
            fk["referred_table"],
            fk["referred_columns"],
            (fk["options"] or {}).get("ondelete"),
        )
        for fk in inspect(sessionerror_engine).get_foreign_keys("session_errors")
    }
    assert fks == {
        ("session_id",): ("sessions", ["id"], "CASCADE"),
        ("related_file_id",): ("uploaded_files", ["id"], "SET NULL"),
        ("related_ticket_id",): ("tickets", ["id"], "SET NULL"),
    }


def test_primary_key_is_id(sessionerror_engine: Engine) -> None:
    pk = inspect(sessionerror_engine).get_pk_constraint("session_errors")
    assert pk["constrained_columns"] == ["id"]


def test_relationship_session_back_populates_session_errors() -> None:
    relationship = inspect(SessionError).relationships["session"]
    assert relationship.mapper.class_ is WorkflowSession
    assert relationship.back_populates == "session_errors"
    reverse = inspect(WorkflowSession).relationships["session_errors"]
    assert reverse.back_populates == "session"
    assert reverse.passive_deletes is True


def test_relationship_works_both_ways(
    sessionerror_db: Session, make_error: MakeError, parents: Any
) -> None:
    error = make_error()
    sessionerror_db.expire_all()
    assert error.session.id == parents.session.id
    assert [e.id for e in parents.session.session_errors] == [error.id]


def test_parent_models_are_named_and_tabled() -> None:
    assert WorkflowSession.__tablename__ == "sessions"
    assert UploadedFile.__tablename__ == "uploaded_files"
    assert Ticket.__tablename__ == "tickets"
    assert WorkflowSession.__name__ != "Session"
    for model in (WorkflowSession, Ticket):
        assert {"created_at", "updated_at"} <= set(inspect(model).columns.keys())
    assert "created_at" in inspect(UploadedFile).columns


def test_parent_timestamps_are_set_and_updated(sessionerror_db: Session) -> None:
    ticket_session = WorkflowSession(name="t")
    ticket = Ticket(session=ticket_session, summary="first")
    sessionerror_db.add(ticket)
    sessionerror_db.flush()
    assert ticket.created_at.tzinfo is not None
    first = ticket.updated_at
    ticket.summary = "second"
    sessionerror_db.flush()
    sessionerror_db.expire(ticket)
    assert ticket.updated_at >= first


def test_enums_are_stored_as_values_not_names(
    sessionerror_db: Session, make_error: MakeError
) -> None:
    error = make_error(error_category=ErrorCategory.ADMIN_REQUIRED, severity=ErrorSeverity.WARNING)
    row = sessionerror_db.execute(
        text(
            "SELECT CAST(error_category AS TEXT), CAST(severity AS TEXT), operation_stage "
            "FROM session_errors WHERE id = :id"
        ),
        {"id": raw_id(sessionerror_db, error.id)},
    ).one()
    assert tuple(row) == ("admin_required", "warning", "upload")


def test_raw_enum_name_is_refused_by_database(sessionerror_db: Session, parents: Any) -> None:
    before = count_errors(sessionerror_db)
    with pytest.raises((IntegrityError, DataError)), sessionerror_db.begin_nested():
        raw_insert(sessionerror_db, parents.session.id, error_category="USER_FIXABLE")
    assert count_errors(sessionerror_db) == before
