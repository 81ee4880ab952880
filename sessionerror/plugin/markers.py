"""The ``sessionerror`` and ``sessionerror_data`` markers: their signatures and validation.

Each marker is checked through a signature function, so a typo fails the test with the
accepted usage instead of being ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["MarkerOptions", "marker_backends", "marker_options", "marker_options_key"]


def _sessionerror_marker(
    *, committed: bool = False, backends: tuple[str, ...] | list[str] | None = None
) -> bool:
    """Signature of ``@pytest.mark.sessionerror``: used to validate its arguments."""
    if not isinstance(committed, bool):
        raise TypeError(f"committed must be True or False, got {committed!r}")
    marker_backends(backends)
    return committed


def marker_backends(backends: object) -> tuple[str, ...] | None:
    """Validate the ``backends=`` marker argument: a list of 'sqlite' / 'postgresql'."""
    if backends is None:
        return None
    names = (backends,) if isinstance(backends, str) else backends
    if (
        not isinstance(names, list | tuple)
        or not names
        or any(name not in ("sqlite", "postgresql") for name in names)
    ):
        raise TypeError(f"backends must list 'sqlite' and/or 'postgresql', got {backends!r}")
    return tuple(names)


def _data_marker(*names: str) -> tuple[str, ...]:
    """Signature of ``@pytest.mark.sessionerror_data``: data-set names to load."""
    if not names or not all(isinstance(name, str) and name for name in names):
        raise TypeError(
            "give one or more data-set names, e.g. sessionerror_data('upload_rejected')"
        )
    return names


class MarkerOptions:
    """The validated marker arguments of one test."""

    def __init__(self, committed: bool, datasets: tuple[str, ...]) -> None:
        self.committed = committed
        self.datasets = datasets


#: Where ``pytest_runtest_setup`` leaves the validated options for the fixtures.
marker_options_key = pytest.StashKey[MarkerOptions]()


def marker_options(node: pytest.Item) -> MarkerOptions:
    """Validate the test's sessionerror markers; a typo fails with the accepted signature."""
    committed = False
    datasets: tuple[str, ...] = ()
    validators: tuple[tuple[str, Callable[..., Any], str], ...] = (
        (
            "sessionerror",
            _sessionerror_marker,
            "sessionerror(committed=True, backends=['sqlite', 'postgresql'])",
        ),
        ("sessionerror_data", _data_marker, "sessionerror_data('name', ...)"),
    )
    for name, validator, usage in validators:
        for marker in node.iter_markers(name):
            problem: str | None = None
            try:
                value = validator(*marker.args, **marker.kwargs)
            except TypeError as exc:
                problem = str(exc).replace(f"{validator.__name__}() ", "")
            if problem is not None:
                pytest.fail(
                    f"Invalid @pytest.mark.{name} on {node.nodeid}: {problem}. "
                    f"Usage: @pytest.mark.{usage}",
                    pytrace=False,
                )
            if name == "sessionerror":
                committed = committed or bool(value)
            else:
                datasets = datasets + tuple(value)
    return MarkerOptions(committed, datasets)
