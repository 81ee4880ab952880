"""Internal: pytest fixtures for the factories, named as pytest-factoryboy names them.

``<model>_factory`` returns the factory class; ``<model>`` creates one row with it. Every
fixture depends on ``sessionerror_db``, so the factories always write to the current test's
session (and run once per selected backend). factory-boy and Faker are imported inside the
fixture bodies: loading this module (or the plugin) does not import them.

With ``sessionerror_model`` set, the factories are those of the team's class and its parents
(:func:`sessionerror.factories.factories_for`): ``session_error`` is a row of the team's class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sessionerror.factories.base import SessionErrorKitFactory
    from sessionerror.factories.team import ModelFactories
    from sessionerror.models import (
        SessionError,
        Ticket,
        UploadedFile,
        WorkflowSession,
    )

__all__ = [
    "session_error",
    "session_error_factory",
    "ticket",
    "ticket_factory",
    "uploaded_file",
    "uploaded_file_factory",
    "workflow_session",
    "workflow_session_factory",
]


def model_factories() -> ModelFactories:
    """The factories of the ``sessionerror_model`` class (default: the kit's own)."""
    from sessionerror.factories.team import configured_factories

    return configured_factories()


def _parent(
    factory: type[SessionErrorKitFactory] | None, table: str
) -> type[SessionErrorKitFactory]:
    if factory is None:
        from sessionerror.errors import UsageError

        raise UsageError(f"the sessionerror_model class has no foreign key to {table}")
    return factory


@pytest.fixture
def workflow_session_factory(sessionerror_db: Session) -> type[SessionErrorKitFactory]:
    """``WorkflowSessionFactory`` (for the ``sessionerror_model``), on ``sessionerror_db``."""
    return model_factories().session


@pytest.fixture
def workflow_session(workflow_session_factory: type[SessionErrorKitFactory]) -> WorkflowSession:
    """One flushed workflow session."""
    created: WorkflowSession = workflow_session_factory.create()
    return created


@pytest.fixture
def uploaded_file_factory(sessionerror_db: Session) -> type[SessionErrorKitFactory]:
    """``UploadedFileFactory`` (for the ``sessionerror_model``), on ``sessionerror_db``."""
    return _parent(model_factories().uploaded_file, "uploaded_files")


@pytest.fixture
def uploaded_file(
    uploaded_file_factory: type[SessionErrorKitFactory], workflow_session: WorkflowSession
) -> UploadedFile:
    """One flushed uploaded file of ``workflow_session``."""
    created: UploadedFile = uploaded_file_factory.create(session=workflow_session)
    return created


@pytest.fixture
def ticket_factory(sessionerror_db: Session) -> type[SessionErrorKitFactory]:
    """``TicketFactory`` (for the ``sessionerror_model``), on ``sessionerror_db``."""
    return _parent(model_factories().ticket, "tickets")


@pytest.fixture
def ticket(
    ticket_factory: type[SessionErrorKitFactory], workflow_session: WorkflowSession
) -> Ticket:
    """One flushed ticket of ``workflow_session``."""
    created: Ticket = ticket_factory.create(session=workflow_session)
    return created


@pytest.fixture
def session_error_factory(sessionerror_db: Session) -> type[SessionErrorKitFactory]:
    """``SessionErrorFactory`` (for the ``sessionerror_model``), on ``sessionerror_db``."""
    return model_factories().session_error


@pytest.fixture
def session_error(
    session_error_factory: type[SessionErrorKitFactory], workflow_session: WorkflowSession
) -> SessionError:
    """One flushed (warning, user-fixable, upload) error of ``workflow_session``."""
    # A stated kind: a default factory error varies its stage and category.
    created: SessionError = session_error_factory.create(
        session=workflow_session, user_fixable=True, upload=True
    )
    return created
