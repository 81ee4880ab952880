"""Helpers for driving the plugin through pytester, the way a user's project runs it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

# Imported here, before any inline run: pytester drops the modules a run imported when it ends,
# and importing SQLAlchemy's postgresql dialect (or the kit's models) again warns, an error here.
import pytest
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite

import sessionerror.datasets
from sessionerror.models import Base, SessionError
from sessionerror.plugin.config import SessionErrorConfig
from sessionerror.plugin.state import get_state

_PRELOADED = (sqlalchemy.dialects.postgresql, sqlalchemy.dialects.sqlite, sessionerror.datasets)
_MAPPED = (Base, SessionError)  # every kit model class, mapped once

RunPytest = Callable[..., pytest.RunResult]
Resolve = Callable[..., SessionErrorConfig]


def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No inherited sessionerror settings, and no sign of the outer run's xdist worker."""
    for name in list(os.environ):
        if name.startswith(("SESSIONERROR_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)


#: pytest-asyncio warns when this is unset; in this process the warning would land in the outer run.
QUIET_ASYNCIO = ("-o", "asyncio_default_fixture_loop_scope=function")


def _order(random_order: bool) -> tuple[str, ...]:
    return ("-p", "randomly", "-p", "no:cacheprovider") if random_order else ("-p", "no:randomly")


@pytest.fixture
def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> RunPytest:
    """Run pytest in a subprocess with a clean sessionerror environment (no inherited settings).

    For what needs a fresh interpreter: the installed entry point, imports, signals, xdist.
    """
    _clean_environment(monkeypatch)

    def run(*args: str, random_order: bool = False) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*_order(random_order), "-p", "no:xdist", *args)

    return run


@pytest.fixture
def run_inprocess(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> RunPytest:
    """Run pytest in this process (pytester's inline run), with a clean sessionerror environment.

    The plugin keeps its run state on ``config.stash``, so an inline run is a whole run of its
    own; it saves the interpreter start of :func:`run_pytest` where that start is not under test.
    """
    _clean_environment(monkeypatch)
    # A module the test rewrites within the same second must be read again, not its .pyc.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)

    def run(*args: str, random_order: bool = False) -> pytest.RunResult:
        return pytester.runpytest_inprocess(
            *_order(random_order), "-p", "no:xdist", *QUIET_ASYNCIO, *args
        )

    return run


@pytest.fixture
def resolve(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Resolve:
    """The settings the plugin resolves for these command-line arguments (and the project's
    ini file and environment), through pytest's own option parsing, without running tests."""
    _clean_environment(monkeypatch)

    def run(*args: str) -> SessionErrorConfig:
        config = pytester.parseconfigure(
            "-p", "no:randomly", "-p", "no:xdist", *QUIET_ASYNCIO, *args
        )
        return get_state(config).config

    return run
