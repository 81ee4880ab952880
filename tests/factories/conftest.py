"""The factory fixtures, imported here until plugin.py registers sessionerror.factory_fixtures.

(A ``pytest_plugins`` line is only allowed in the root conftest, which is not ours.)
"""

from sessionerror.factory_fixtures import (
    session_error,
    session_error_factory,
    ticket,
    ticket_factory,
    uploaded_file,
    uploaded_file_factory,
    workflow_session,
    workflow_session_factory,
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
