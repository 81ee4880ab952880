"""factory-boy factories for the reference schema, their content templates and a bulk history.

The factories create rows in the ORM session bound to the current context, looked up on every
create, so they always follow the current test's session. In pytest, use the ``sessionerror_db``
fixture (or the ``session_error_factory`` / ``session_error`` fixtures, which depend on it).
Outside pytest, bind a session with one call::

    from sqlalchemy.orm import Session
    import sessionerror
    from sessionerror.factories import SessionErrorFactory

    with Session(engine) as db, sessionerror.bind_session(db):
        error = SessionErrorFactory(blocking=True, jira_export=True, with_ticket=True)
        db.commit()

For a team's own model (its own Base, its own parents with NOT NULL columns the kit does not
know), one call gives the same factories on the team's classes, built once and cached::

    from sessionerror.factories import factories_for

    factories = factories_for(AppError)
    with Session(engine) as db, sessionerror.bind_session(db):
        error = factories.session_error(blocking=True, with_ticket=True)

Rows are flushed, never committed: the caller's transaction decides. With no session bound, a
create raises :class:`~sessionerror.errors.NoSessionBoundError` saying how to bind one.

- :mod:`~sessionerror.factories.base`: the abstract base holding the session wiring;
- :mod:`~sessionerror.factories.classes`: the factories and their traits;
- :mod:`~sessionerror.factories.content`: what an error says, per stage and category;
- :mod:`~sessionerror.factories.team`: :func:`factories_for`, the factories of a team's model;
- :mod:`~sessionerror.factories.bulk`: :func:`bulk_create_history`, Core ``INSERT`` batches;
- :mod:`~sessionerror.factories.seeding`: :func:`seed_factories`, reproducible data.
"""

from sessionerror.factories.base import SessionErrorKitFactory
from sessionerror.factories.bulk import HistoryStats, bulk_create_history
from sessionerror.factories.classes import (
    SessionErrorFactory,
    TicketFactory,
    UploadedFileFactory,
    WorkflowSessionFactory,
)
from sessionerror.factories.content import ErrorTemplate, error_template
from sessionerror.factories.seeding import seed_factories
from sessionerror.factories.team import ModelFactories, factories_for
from sessionerror.models.filling import UnfillableColumnError

__all__ = [
    "ErrorTemplate",
    "HistoryStats",
    "ModelFactories",
    "SessionErrorFactory",
    "SessionErrorKitFactory",
    "TicketFactory",
    "UnfillableColumnError",
    "UploadedFileFactory",
    "WorkflowSessionFactory",
    "bulk_create_history",
    "error_template",
    "factories_for",
    "seed_factories",
]
