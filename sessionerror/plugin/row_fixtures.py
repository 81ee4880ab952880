"""Internal: pytest fixtures for the factories, named as pytest-factoryboy names them.

``<model>_factory`` returns the factory class; ``<model>`` creates one row with it. Every
fixture depends on ``sessionerror_db``, so the factories always write to the current test's
session (and run once per selected backend). factory-boy and Faker are imported inside the
fixture bodies: loading this module (or the plugin) does not import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sessionerror.factories.classes import (
        SessionErrorFactory,
        TicketFactory,
        UploadedFileFactory,
        WorkflowSessionFactory,
    )
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


@pytest.fixture
def workflow_session_factory(sessionerror_db: Session) -> type[WorkflowSessionFactory]:
    """The ``WorkflowSessionFactory`` class, writing to ``sessionerror_db``."""
    from sessionerror.factories.classes import WorkflowSessionFactory

    return WorkflowSessionFactory


@pytest.fixture
def workflow_session(workflow_session_factory: type[WorkflowSessionFactory]) -> WorkflowSession:
    """One flushed workflow session."""
    created: WorkflowSession = workflow_session_factory.create()
    return created


@pytest.fixture
def uploaded_file_factory(sessionerror_db: Session) -> type[UploadedFileFactory]:
    """The ``UploadedFileFactory`` class, writing to ``sessionerror_db``."""
    from sessionerror.factories.classes import UploadedFileFactory

    return UploadedFileFactory


@pytest.fixture
def uploaded_file(
    uploaded_file_factory: type[UploadedFileFactory], workflow_session: WorkflowSession
) -> UploadedFile:
    """One flushed uploaded file of ``workflow_session``."""
    created: UploadedFile = uploaded_file_factory.create(session=workflow_session)
    return created


@pytest.fixture
def ticket_factory(sessionerror_db: Session) -> type[TicketFactory]:
    """The ``TicketFactory`` class, writing to ``sessionerror_db``."""
    from sessionerror.factories.classes import TicketFactory

    return TicketFactory


@pytest.fixture
def ticket(ticket_factory: type[TicketFactory], workflow_session: WorkflowSession) -> Ticket:
    """One flushed ticket of ``workflow_session``."""
    created: Ticket = ticket_factory.create(session=workflow_session)
    return created


@pytest.fixture
def session_error_factory(sessionerror_db: Session) -> type[SessionErrorFactory]:
    """The ``SessionErrorFactory`` class, writing to ``sessionerror_db``."""
    from sessionerror.factories.classes import SessionErrorFactory

    return SessionErrorFactory


@pytest.fixture
def session_error(
    session_error_factory: type[SessionErrorFactory], workflow_session: WorkflowSession
) -> SessionError:
    """One flushed (warning, user-fixable, upload) error of ``workflow_session``."""
    # A stated kind: a default factory error varies its stage and category.
    created: SessionError = session_error_factory.create(
        session=workflow_session, user_fixable=True, upload=True
    )
    return created
