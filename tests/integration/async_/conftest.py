"""Helpers for driving the async fixtures through pytester, the way a user's project runs them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytester_runs import clean_environment, inline, run_order

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
    """Run pytest on both backends with PostgreSQL required: inline (in this process), or in a
    subprocess with ``fresh_interpreter`` (what is imported at start is tested) or ``xdist`` (two
    workers).

    ``loop`` picks pytest-asyncio's loop scopes, ``mode`` strict or auto; ``random_order``
    shuffles with pytest-randomly.
    """
    clean_environment(monkeypatch)
    run_inline = inline(pytester, monkeypatch)

    def run(
        *args: str,
        loop: str = "function",
        mode: str = "strict",
        xdist: bool = False,
        fresh_interpreter: bool = False,
        random_order: bool = False,
        ini: str = "",
    ) -> pytest.RunResult:
        pytester.makeini(
            "[pytest]\nfilterwarnings = error\nsessionerror_backend = all\n"
            f"asyncio_mode = {mode}\n{LOOP_SETTINGS[loop]}{ini}"
        )
        run = pytester.runpytest_subprocess if xdist or fresh_interpreter else run_inline
        workers = ("-n", "2") if xdist else ("-p", "no:xdist")
        return run(
            *run_order(random_order),
            *workers,
            "--sessionerror-postgres-url",
            server_url,
            "--sessionerror-require-postgres",
            *args,
        )

    return run
