"""Internal: the pytest plugin (``pytest11`` entry point ``sessionerror``).

Every hook is in :mod:`sessionerror.plugin.hooks` (each once, in a documented order); the
fixture modules are registered through ``pytest_plugins`` so no fixture name is listed twice.
What a test suite imports (fixture factories, fixture types, isolation helpers) is in
:mod:`sessionerror.testing`.
"""

from sessionerror.plugin.hooks import *  # noqa: F403  (pytest collects hooks by name)
from sessionerror.plugin.hooks import __all__ as _hooks

#: The fixture modules (only fixtures; their helpers are plain functions called by the hooks).
pytest_plugins = [
    "sessionerror.plugin.database_fixtures",
    "sessionerror.plugin.row_fixtures",
    "sessionerror.plugin.database_fixtures_async",  # issue 10: async engine/connection/session
    "sessionerror.plugin.row_fixtures_async",  # async_workflow_session, async_session_error
    "sessionerror.plugin.request_fixtures_async",  # a session per request of an async app
    "sessionerror.plugin.migration_fixtures",  # issue 11: the migration checks
]

__all__ = [*_hooks, "pytest_plugins"]
