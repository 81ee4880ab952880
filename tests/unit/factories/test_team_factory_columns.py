"""factories_for() on columns the kit cannot fill: one line naming table.column and the fix."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from factory.declarations import Sequence
from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import UserDefinedType

from sessionerror import SessionErrorMixin, bind_session
from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.errors import UsageError
from sessionerror.factories import UnfillableColumnError, factories_for
from sessionerror.models.enums import ErrorCategory


class Point(UserDefinedType[Any]):
    """A custom type: the kit knows no value of it."""

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "TEXT"


class OddBase(DeclarativeBase):
    """A schema with columns no type tells the kit how to fill."""


class Region(OddBase):
    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)


class OddSession(OddBase):
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    location: Mapped[Any] = mapped_column(Point(), nullable=False)
    owner: Mapped[str] = mapped_column(String(40))
    session_errors: Mapped[list[OddError]] = relationship(back_populates="session")


class OddFile(OddBase):
    __tablename__ = "uploaded_files"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class OddTicket(OddBase):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class OddError(SessionErrorMixin, OddBase):
    sessionerror_session_model = "OddSession"


def test_a_not_null_foreign_key_to_an_unknown_table_is_one_line_with_the_fix() -> None:
    with pytest.raises(UnfillableColumnError) as caught:
        factories_for(OddError, values={})  # not the cached build of another test
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("sessions.region_id is a NOT NULL foreign key to regions.id")
    assert 'factories_for(OddError, values={"sessions.region_id": ...})' in message
    assert isinstance(caught.value, UsageError)


def test_a_custom_type_is_one_line_naming_the_column() -> None:
    with pytest.raises(UnfillableColumnError, match=r"^sessions\.location is NOT NULL of type"):
        factories_for(OddError, values={"sessions.region_id": 1})


def test_values_declare_what_the_kit_cannot_fill_and_the_rows_are_written() -> None:
    values = {
        "sessions.region_id": 1,  # a constant
        "sessions.location": lambda: "POINT(0 0)",  # a callable, called per row
        "sessions.owner": Sequence(lambda n: f"owner-{n}"),  # a factory-boy declaration
    }
    factories = factories_for(OddError, values=values)
    assert factories_for(OddError, values=values) is factories  # same values: cached
    assert factories_for(OddError) is factories
    assert factories.uploaded_file is not None and factories.ticket is not None
    engine = create_sqlite_engine(":memory:")
    OddBase.metadata.create_all(engine)
    with Session(engine) as db, bind_session(db):
        db.add(Region(id=1))
        db.flush()
        errors = factories.session_error.create_batch(2, with_file=True, with_ticket=True)
        assert [type(e) for e in errors] == [OddError, OddError]
        assert {e.session.location for e in errors} == {"POINT(0 0)"}
        assert len({e.session.owner for e in errors}) == 2
        assert all(e.related_file_id and e.related_ticket_id for e in errors)
        db.rollback()
    engine.dispose()


def test_a_value_for_a_column_that_does_not_exist_is_refused() -> None:
    with pytest.raises(UsageError, match=r"no column sessions\.nope in its tables"):
        factories_for(
            OddError,
            values={"sessions.region_id": 1, "sessions.location": "x", "sessions.nope": 1},
        )


def _conformance_models() -> Any:
    """The conformance suite's team classes (tests/unit/check), loaded from their file."""
    path = Path(__file__).resolve().parents[1] / "check" / "conformance_models.py"
    spec = importlib.util.spec_from_file_location("factories_conformance_models", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # SQLAlchemy resolves the annotations through it
    spec.loader.exec_module(module)
    return module


def test_a_team_class_written_without_the_mixin_gets_factories_too() -> None:
    models = _conformance_models()
    factories = factories_for(models.HandWrittenError)
    engine = create_sqlite_engine(":memory:")
    models.HandWrittenError.metadata.create_all(engine)
    with Session(engine) as db, bind_session(db):
        error = factories.session_error(
            blocking=True, review=True, with_file=True, with_ticket=True
        )
        assert type(error) is models.HandWrittenError and error.is_blocking()
        assert error.session.jira_user_id and error.related_file_id and error.related_ticket_id
        batch = factories.session_error.create_batch(3, session=error.session, temporary=True)
        assert {e.error_category for e in batch} == {ErrorCategory.TEMPORARY}
        db.rollback()
    engine.dispose()
