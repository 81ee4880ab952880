"""The example scenarios by name, and running one on a URL: ``sessionerror example NAME``.

An installed wheel has no ``examples/`` folder: the ``sessionerror`` command runs the same
scenarios through :func:`run_example`, and ``python -m sessionerror.scenarios.NAME`` hands over
to it. Errors are raised (:class:`~sessionerror.errors.UsageError`, database errors) for the
command line to print as one line.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine

from sessionerror.connect import connect_url
from sessionerror.errors import UsageError
from sessionerror.scenarios.blocking_gate import run_blocking_gate
from sessionerror.scenarios.cascade import run_cascade
from sessionerror.scenarios.cleanup_7_day import run_cleanup_7_day
from sessionerror.scenarios.common import ScenarioResult, engine_from_url
from sessionerror.scenarios.set_null import run_set_null
from sessionerror.urls import DatabaseURL

__all__ = ["EXAMPLES", "describe_examples", "example_function", "run_example"]

#: Every example scenario, by the name ``sessionerror example NAME`` takes.
EXAMPLES: dict[str, Callable[[Engine | Connection], ScenarioResult]] = {
    "cascade": run_cascade,
    "set_null": run_set_null,
    "blocking_gate": run_blocking_gate,
    "cleanup_7_day": run_cleanup_7_day,
}


def describe_examples() -> list[tuple[str, str]]:
    """``(name, what it checks)`` of every example, in the order of :data:`EXAMPLES`."""
    return [(name, (run.__doc__ or "").strip().splitlines()[0]) for name, run in EXAMPLES.items()]


def example_function(name: str) -> Callable[[Engine | Connection], ScenarioResult]:
    """The scenario function named ``name``; :class:`UsageError` listing the names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"an example name is a str, got {type(name).__name__}")
    try:
        return EXAMPLES[name]
    except KeyError:
        raise UsageError(
            f"no example named {name!r}; the examples are {', '.join(EXAMPLES)}. "
            "Fix: sessionerror example --list"
        ) from None


def run_example(
    name: str, db: str | DatabaseURL | None = None, *, sqlite_foreign_keys: bool = True
) -> ScenarioResult:
    """Run example ``name`` on ``db`` (default: a temporary SQLite file, removed afterwards).

    The schema is created if missing and everything is rolled back. A bad URL, a missing SQLite
    file or an unreachable server raises before the scenario starts (SQLite files are never
    created).
    """
    scenario = example_function(name)
    with tempfile.TemporaryDirectory(prefix="sessionerror-example-") as tmp:
        url = DatabaseURL(db if db is not None else f"sqlite:///{Path(tmp) / 'example.db'}")
        if db is not None:
            connect_url(url).dispose()
        engine = engine_from_url(url, sqlite_foreign_keys=sqlite_foreign_keys)
        try:
            return scenario(engine)
        finally:
            engine.dispose()
