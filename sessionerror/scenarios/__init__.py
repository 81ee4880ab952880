"""Runnable scenarios that show (and check) how the database treats SessionErrors.

Each scenario takes an Engine or a Connection, creates the reference schema if it is missing,
does its work inside one transaction that is rolled back at the end (so it leaves the database
as it found it), and returns a :class:`ScenarioResult`: ``ok`` plus the lines of what it checked
and saw. ``sessionerror example NAME [--db URL]`` runs one (``--list`` names them), as does
``python -m sessionerror.scenarios.NAME``; ``examples/*.py`` in the repository are thin wrappers
around :func:`main`.

On SQLite, pass an engine from :func:`sessionerror.engines.sqlite.create_sqlite_engine`: a plain
``create_engine("sqlite://...")`` leaves foreign keys off, and the scenarios say so and fail.

The package: :mod:`~sessionerror.scenarios.common` (the result, a rolled-back session, row
builders, :func:`engine_from_url`), one module per scenario,
:mod:`~sessionerror.scenarios.registry` (the examples by name, :func:`run_example`) and
:mod:`~sessionerror.scenarios.command` (:func:`main`, the examples' command line).

The names below are loaded on first use: ``python -m sessionerror.scenarios.cascade`` imports
this package before it runs the module, and an eager import here would load that module twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionerror.scenarios.blocking_gate import jira_export_allowed, run_blocking_gate
    from sessionerror.scenarios.cascade import run_cascade
    from sessionerror.scenarios.cleanup_7_day import run_cleanup_7_day
    from sessionerror.scenarios.command import SCENARIOS, main
    from sessionerror.scenarios.common import ScenarioResult, engine_from_url
    from sessionerror.scenarios.registry import EXAMPLES, run_example
    from sessionerror.scenarios.set_null import run_set_null

__all__ = [
    "EXAMPLES",
    "SCENARIOS",
    "ScenarioResult",
    "engine_from_url",
    "jira_export_allowed",
    "main",
    "run_blocking_gate",
    "run_cascade",
    "run_cleanup_7_day",
    "run_example",
    "run_set_null",
]

#: The module of the package that defines each public name.
_HOMES = {
    "EXAMPLES": "registry",
    "SCENARIOS": "command",
    "ScenarioResult": "common",
    "engine_from_url": "common",
    "jira_export_allowed": "blocking_gate",
    "main": "command",
    "run_blocking_gate": "blocking_gate",
    "run_cascade": "cascade",
    "run_cleanup_7_day": "cleanup_7_day",
    "run_example": "registry",
    "run_set_null": "set_null",
}


def __getattr__(name: str) -> Any:
    """Load public ``name`` from its module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
