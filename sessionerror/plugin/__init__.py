"""The pytest plugin (``pytest11`` entry point ``sessionerror``).

Hooks live in :mod:`sessionerror.plugin.hooks`; the fixture modules are registered through
``pytest_plugins`` so no fixture name is listed twice. The fixture factories are exported here
for conftest files.
"""

from sessionerror.plugin.database_factories import (
    sessionerror_db_factory,
    sessionerror_engine_factory,
)
from sessionerror.plugin.hooks import *  # noqa: F403  (pytest collects hooks by name)
from sessionerror.plugin.hooks import __all__ as _hooks

pytest_plugins = [
    "sessionerror.plugin.database_fixtures",
    "sessionerror.plugin.row_fixtures",
    "sessionerror.plugin.database_fixtures_async",  # issue 10: async engine/connection/session
    "sessionerror.plugin.request_fixtures_async",  # a session per request of an async app
    # migrations (issue 11): build once per run, copy per worker; the migration checks
    "sessionerror.plugin.schema_build",
    "sessionerror.plugin.lazy",  # issue 19: resolve and build only when a test needs a database
    "sessionerror.plugin.migration_fixtures",
    "sessionerror.plugin.usage_checks",  # issue 19: each configuration mistake is one line
]

__all__ = [*_hooks, "pytest_plugins", "sessionerror_db_factory", "sessionerror_engine_factory"]
