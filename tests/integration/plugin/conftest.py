"""Helpers for driving the plugin through pytester, the way a user's project runs it."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

RunPytest = Callable[..., pytest.RunResult]


@pytest.fixture
def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> RunPytest:
    """Run pytest in a subprocess with a clean sessionerror environment (no inherited settings)."""
    for name in list(os.environ):
        if name.startswith(("SESSIONERROR_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)

    def run(*args: str, random_order: bool = False) -> pytest.RunResult:
        order = (
            ("-p", "randomly", "-p", "no:cacheprovider") if random_order else ("-p", "no:randomly")
        )
        return pytester.runpytest_subprocess(*order, "-p", "no:xdist", *args)

    return run
