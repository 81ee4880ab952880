"""SessionErrorRepository's queries: the async repository's, same names, one statement each."""

from __future__ import annotations

import inspect
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sessionerror import AsyncSessionErrorRepository, SessionError, SessionErrorRepository
from sessionerror.errors import ErrorDataValidationError
from sessionerror.factories import SessionErrorFactory
from sessionerror.models.enums import ErrorCategory


def _public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if name[0] != "_"}


def test_the_sync_repository_has_every_method_of_the_async_one() -> None:
    assert _public_methods(SessionErrorRepository) == _public_methods(AsyncSessionErrorRepository)


def test_queries_answer_right_in_one_statement_each(
    sessionerror_db: Session, sessionerror_assert_num_queries: Any
) -> None:
    blocked = SessionErrorFactory.create(blocking=True, user_fixable=True)
    warned = SessionErrorFactory.create(warning=True, user_fixable=True)
    temporary = SessionErrorFactory.create(info=True, temporary=True, session_id=warned.session_id)
    repo = SessionErrorRepository(sessionerror_db)

    with sessionerror_assert_num_queries(1):
        assert repo.has_blocking_errors(blocked.session_id) is True
    with sessionerror_assert_num_queries(1):
        assert repo.has_blocking_errors(warned.session_id) is False
    with sessionerror_assert_num_queries(1):
        found = repo.find_by_category(warned.session_id, "user_fixable")
    assert [e.id for e in found] == [warned.id]
    assert repo.find_by_category(warned.session_id, ErrorCategory.TEMPORARY) == [temporary]
    assert repo.find_by_category(uuid.uuid4(), "user_fixable") == []
    assert repo.has_blocking_errors(uuid.uuid4()) is False


def test_an_unknown_category_is_a_validation_error(sessionerror_db: Session) -> None:
    # model= named: other test modules map team models in this process, and a repository
    # that cannot tell which model to use refuses rather than guess.
    repo = SessionErrorRepository(sessionerror_db, model=SessionError)
    with pytest.raises(ErrorDataValidationError) as info:
        repo.find_by_category(uuid.uuid4(), "not_a_category")
    assert info.value.field == "error_category"
