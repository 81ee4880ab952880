"""Helpers for driving the plugin through pytester, the way a user's project runs it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytester_runs import clean_environment, run_order

RunPytest = Callable[..., pytest.RunResult]


@pytest.fixture
def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> RunPytest:
    """Run pytest in a subprocess with a clean sessionerror environment (no inherited settings).

    For what needs a fresh interpreter; everything else uses ``run_inprocess``
    (tests/integration/conftest.py).
    """
    clean_environment(monkeypatch)

    def run(*args: str, random_order: bool = False) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*run_order(random_order), "-p", "no:xdist", *args)

    return run
