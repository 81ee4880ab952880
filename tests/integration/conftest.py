"""Fixtures shared by the integration tests: pytest run inline or just configured, on a
pytester project (helpers and the reasons in pytester_runs.py)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from _pytest.unraisableexception import gc_collect_iterations_key
from pytester_runs import QUIET_ASYNCIO, Resolve, RunPytest, clean_environment, inline, run_order

from sessionerror.plugin.config import SessionErrorConfig
from sessionerror.plugin.state import get_state


@pytest.fixture
def run_inprocess(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> RunPytest:
    """Run pytest inline with a clean sessionerror environment, without xdist."""
    clean_environment(monkeypatch)
    run_inline = inline(pytester, monkeypatch)

    def run(*args: str, random_order: bool = False) -> pytest.RunResult:
        return run_inline(*run_order(random_order), "-p", "no:xdist", *QUIET_ASYNCIO, *args)

    return run


@pytest.fixture
def resolve(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Resolve:
    """The settings the plugin resolves for these command-line arguments (and the project's
    ini file and environment), through pytest's own option parsing, without running tests."""
    clean_environment(monkeypatch)

    def run(*args: str) -> SessionErrorConfig:
        config = pytester.parseconfigure(
            "-p", "no:randomly", "-p", "no:xdist", *QUIET_ASYNCIO, *args
        )
        # As pytester does for inline runs: no gc.collect() when this config is unconfigured
        # (a second or more each in a worker whose heap holds many tests' objects).
        config.stash[gc_collect_iterations_key] = 0
        return get_state(config).config

    return run


@pytest.fixture(autouse=True)
def _drop_projects_kept_databases(request: pytest.FixtureRequest) -> Iterator[None]:
    """Schema reuse is on by default: a pytester project's kept PostgreSQL databases (its
    template and copies, named after its temporary folder) are dropped after its test."""
    if "pytester" not in request.fixturenames:
        yield
        return
    project = str(request.getfixturevalue("pytester").path)
    yield
    url = os.environ.get("SESSIONERROR_POSTGRES_URL")
    if url is None:
        server = get_state(request.config).availability.get("postgresql")
        url = (
            server.server.url.reveal() if server is not None and server.server is not None else None
        )
    if url is None:
        return
    from sessionerror.testdb.postgres.kept_cleanup import drop_kept_databases

    with contextlib.suppress(Exception):  # an unreachable server: the test itself said so
        drop_kept_databases(url, project=project)
