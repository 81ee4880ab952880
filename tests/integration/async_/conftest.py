"""Helpers for driving the async fixtures through pytester, the way a user's project runs them."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

RunAsync = Callable[..., pytest.RunResult]

#: ini settings of the suites: pytest-asyncio's loop scopes and mode per run.
LOOP_SETTINGS = {
    "function": "asyncio_default_fixture_loop_scope = function\n",
    "session": (
        "asyncio_default_fixture_loop_scope = session\nasyncio_default_test_loop_scope = session\n"
    ),
    # fixtures on a session loop, tests on pytest-asyncio's default function loops
    "mixed": "asyncio_default_fixture_loop_scope = session\n",
}


@pytest.fixture
def run_async(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server_url: str
) -> RunAsync:
    """Run pytest in a subprocess on both backends with PostgreSQL required.

    ``loop`` picks pytest-asyncio's loop scopes, ``mode`` strict or auto; ``xdist`` runs two
    workers; ``random_order`` shuffles with pytest-randomly.
    """
    for name in list(os.environ):
        if name.startswith(("SESSIONERROR_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)

    def run(
        *args: str,
        loop: str = "function",
        mode: str = "strict",
        xdist: bool = False,
        random_order: bool = False,
        ini: str = "",
    ) -> pytest.RunResult:
        pytester.makeini(
            "[pytest]\nfilterwarnings = error\nsessionerror_backend = all\n"
            f"asyncio_mode = {mode}\n{LOOP_SETTINGS[loop]}{ini}"
        )
        order = (
            ("-p", "randomly", "-p", "no:cacheprovider") if random_order else ("-p", "no:randomly")
        )
        workers = ("-n", "2") if xdist else ("-p", "no:xdist")
        return pytester.runpytest_subprocess(
            *order,
            *workers,
            "--sessionerror-postgres-url",
            server_url,
            "--sessionerror-require-postgres",
            *args,
        )

    return run
