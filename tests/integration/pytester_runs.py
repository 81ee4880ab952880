"""Helpers of the integration tests: pytest run inline (in this process) on a pytester project.

An inline run is a whole run of its own (the plugin keeps its run state on ``config.stash``); it
saves the interpreter start and the plugin's import of a subprocess where that start is not what
is tested. Imports, signals, xdist, sitecustomize blockers and killed runs need a subprocess.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Imported here, before any inline run: pytester drops the modules a run imported when it ends,
# and importing them again warns (SQLAlchemy's dialects; an error here), maps a table twice (the
# kit's models) or crashes the interpreter (the C extensions of asyncpg and greenlet).
import aiosqlite
import asyncpg
import greenlet
import psycopg2
import pytest
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.postgresql.asyncpg
import sqlalchemy.dialects.sqlite
import sqlalchemy.dialects.sqlite.aiosqlite
import sqlalchemy.ext.asyncio

import sessionerror.datasets
from sessionerror.models import Base, SessionError
from sessionerror.plugin.config import SessionErrorConfig

_PRELOADED = (
    aiosqlite,
    asyncpg,
    greenlet,
    psycopg2,
    sqlalchemy.dialects.postgresql.asyncpg,
    sqlalchemy.dialects.sqlite.aiosqlite,
    sqlalchemy.dialects.postgresql,
    sqlalchemy.dialects.sqlite,
    sqlalchemy.ext.asyncio,
    sessionerror.datasets,
)
_MAPPED = (Base, SessionError)  # every kit model class, mapped once

RunPytest = Callable[..., pytest.RunResult]
Resolve = Callable[..., SessionErrorConfig]

#: pytest-asyncio warns when this is unset; in this process the warning would land in the outer run.
QUIET_ASYNCIO = ("-o", "asyncio_default_fixture_loop_scope=function")


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No inherited sessionerror settings, and no sign of the outer run's xdist worker."""
    for name in list(os.environ):
        if name.startswith(("SESSIONERROR_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)


def run_order(random_order: bool) -> tuple[str, ...]:
    """pytest-randomly on (without the cache) or off."""
    return ("-p", "randomly", "-p", "no:cacheprovider") if random_order else ("-p", "no:randomly")


def inline(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> RunPytest:
    """``pytester.runpytest_inprocess`` returning the run's result; see the module docstring."""
    # A module the test rewrites within the same second must be read again, not its .pyc.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return pytester.runpytest_inprocess


def kill_when_ready(args: list[str], *, cwd: Path, ready: Path, timeout: float = 90) -> None:
    """Start ``python -m pytest *args`` in ``cwd``, SIGKILL it once ``ready`` exists.

    What a killed run leaves behind is the point of the tests that use it: a subprocess, no
    cleanup of any kind. Fails if the run never reaches its test (never writes ``ready``).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ready.exists(), "the run never reached its test"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
