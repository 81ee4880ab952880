"""Runnable scenarios that show (and check) how the database treats SessionErrors.

Each scenario takes an Engine or a Connection, creates the reference schema if it is missing,
does its work inside one transaction that is rolled back at the end (so it leaves the database
as it found it), and returns a :class:`ScenarioResult`: ``ok`` plus the lines of what it checked
and saw. ``examples/*.py`` are thin command-line wrappers around :func:`main`.

On SQLite, pass an engine from :func:`sessionerror.testdb.sqlite.create_sqlite_engine`: a plain
``create_engine("sqlite://...")`` leaves foreign keys off, and the scenarios say so and fail.

The package: :mod:`~sessionerror.scenarios.common` (the result, a rolled-back session, row
builders, :func:`engine_from_url`), one module per scenario, and
:mod:`~sessionerror.scenarios.command` (:func:`main`, the examples' command line).
"""

from sessionerror.scenarios.blocking_gate import jira_export_allowed, run_blocking_gate
from sessionerror.scenarios.cascade import run_cascade
from sessionerror.scenarios.cleanup_7_day import run_cleanup_7_day
from sessionerror.scenarios.command import SCENARIOS, main
from sessionerror.scenarios.common import ScenarioResult, engine_from_url
from sessionerror.scenarios.set_null import run_set_null

__all__ = [
    "SCENARIOS",
    "ScenarioResult",
    "engine_from_url",
    "jira_export_allowed",
    "main",
    "run_blocking_gate",
    "run_cascade",
    "run_cleanup_7_day",
    "run_set_null",
]
