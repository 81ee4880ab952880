"""ORM deletes, bulk deletes and raw SQL deletes end in the same database state."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.orm import Session

from sessionerror.models import Base, SessionError, Ticket, UploadedFile, WorkflowSession

from .conftest import Parents, make_parents, raw_id, valid_fields

Deleter = Callable[[Session, Any, Any], None]


def _orm_delete(db: Session, model: Any, obj: Any) -> None:
    db.delete(obj)
    db.flush()


def _bulk_delete(db: Session, model: Any, obj: Any) -> None:
    db.execute(delete(model).where(model.id == obj.id))


def _raw_delete(db: Session, model: Any, obj: Any) -> None:
    db.execute(
        text(f"DELETE FROM {model.__tablename__} WHERE id = :id"), {"id": raw_id(db, obj.id)}
    )


DELETERS = pytest.mark.parametrize(
    "deleter", [_orm_delete, _bulk_delete, _raw_delete], ids=["orm", "bulk", "raw_sql"]
)


def _count(db: Session, model: Any, **where: uuid.UUID) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    return int(db.scalar(statement) or 0)


def _add_errors(db: Session, parents: Parents) -> SessionError:
    linked = SessionError(
        **valid_fields(
            parents.session.id,
            related_file_id=parents.file.id,
            related_ticket_id=parents.ticket.id,
        )
    )
    plain = SessionError(**valid_fields(parents.session.id, user_message="second"))
    db.add_all([linked, plain])
    db.flush()
    return linked


@DELETERS
@pytest.mark.parametrize("loaded", [True, False], ids=["children_loaded", "children_unloaded"])
def test_deleting_a_session_removes_its_errors_files_and_tickets(
    sessionerror_db: Session, deleter: Deleter, loaded: bool
) -> None:
    doomed = make_parents(sessionerror_db, "doomed")
    kept = make_parents(sessionerror_db, "kept")
    _add_errors(sessionerror_db, doomed)
    kept_error_id = _add_errors(sessionerror_db, kept).id
    doomed_id, kept_id = doomed.session.id, kept.session.id
    sessionerror_db.expire_all()
    if loaded:
        assert len(doomed.session.session_errors) == 2
        target = doomed.session
    else:
        sessionerror_db.expunge_all()
        target = sessionerror_db.get_one(WorkflowSession, doomed_id)

    deleter(sessionerror_db, WorkflowSession, target)
    sessionerror_db.expire_all()

    assert _count(sessionerror_db, WorkflowSession, id=doomed_id) == 0
    for model in (SessionError, UploadedFile, Ticket):
        assert _count(sessionerror_db, model, session_id=doomed_id) == 0, model.__name__
    # the other session is untouched
    assert _count(sessionerror_db, SessionError, session_id=kept_id) == 2
    assert sessionerror_db.get(SessionError, kept_error_id) is not None
    assert _count(sessionerror_db, UploadedFile, session_id=kept_id) == 1


@DELETERS
@pytest.mark.parametrize(
    ("target", "link"),
    [("file", "related_file_id"), ("ticket", "related_ticket_id")],
)
def test_deleting_a_file_or_ticket_keeps_the_error_with_a_null_link(
    sessionerror_db: Session, parents: Parents, deleter: Deleter, target: str, link: str
) -> None:
    error = _add_errors(sessionerror_db, parents)
    obj = getattr(parents, target)
    obj_id, session_id = obj.id, parents.session.id
    other_link = "related_ticket_id" if target == "file" else "related_file_id"
    expected_other = getattr(error, other_link)
    # the relationship is loaded: the ORM must neither hide nor fight the database rule
    assert getattr(error, f"related_{target}") is obj

    deleter(sessionerror_db, type(obj), obj)
    sessionerror_db.expire_all()

    reloaded = sessionerror_db.get_one(SessionError, error.id)
    assert getattr(reloaded, link) is None
    assert getattr(reloaded, other_link) == expected_other
    assert reloaded.user_message == "The file has no header row"
    assert _count(sessionerror_db, type(obj), id=obj_id) == 0
    assert _count(sessionerror_db, SessionError, session_id=session_id) == 2


@pytest.fixture
def engine_without_pragma(tmp_path: Path) -> Any:
    """A plain SQLite engine: no foreign-keys PRAGMA, as a careless integration has."""
    engine = create_engine(f"sqlite:///{tmp_path / 'no_pragma.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("target", ["session", "file", "ticket"])
def test_sqlite_without_foreign_keys_pragma_does_not_apply_rules(
    engine_without_pragma: Any, target: str
) -> None:
    """A plain engine does nothing on delete: the ORM is not hiding a missing rule."""
    with Session(engine_without_pragma) as db:
        parents = make_parents(db)
        error_id = _add_errors(db, parents).id
        session_id, file_id, ticket_id = parents.ids
        db.commit()
        obj = getattr(parents, target)
        db.execute(
            text(f"DELETE FROM {type(obj).__tablename__} WHERE id = :id"), {"id": obj.id.hex}
        )
        db.commit()
        db.expire_all()
        row = db.get(SessionError, error_id)
        assert row is not None  # no CASCADE
        assert row.session_id == session_id
        assert row.related_file_id == file_id  # no SET NULL
        assert row.related_ticket_id == ticket_id


def test_sqlite_without_pragma_orm_delete_of_file_does_not_null_link(
    engine_without_pragma: Any,
) -> None:
    with Session(engine_without_pragma) as db:
        parents = make_parents(db)
        error_id = _add_errors(db, parents).id
        file_id = parents.file.id
        db.commit()
        db.delete(parents.file)
        db.commit()
        db.expire_all()
        assert db.get_one(SessionError, error_id).related_file_id == file_id


@pytest.mark.sessionerror(backends=["sqlite"])
def test_fixture_engine_has_foreign_keys_on(
    sessionerror_db: Session, sessionerror_backend: str
) -> None:
    assert sessionerror_db.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
