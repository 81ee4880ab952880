"""The pytest plugin (``pytest11`` entry point ``sessionerror``).

Hooks live in :mod:`sessionerror.plugin.hooks`; the fixture modules are registered through
``pytest_plugins`` so no fixture name is listed twice.
"""

from sessionerror.plugin.hooks import *  # noqa: F403  (pytest collects hooks by name)
from sessionerror.plugin.hooks import __all__ as _hooks

pytest_plugins = ["sessionerror.plugin.fixtures", "sessionerror.plugin.factory_fixtures"]

__all__ = [*_hooks, "pytest_plugins"]
