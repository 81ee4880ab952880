"""Internal: the ``sessionerror`` and ``sessionerror_data`` markers, signatures and validation.

Each marker is checked through a signature function (as pytest-django's ``validate_django_db``),
so a typo is one line with the accepted usage instead of being ignored: at the end of collection
(:mod:`sessionerror.plugin.usage_checks` stops the run), else when the test sets up. A misspelt
backend is named (``'postgres'`` -> did you mean ``'postgresql'``?), an unknown data set lists
the known ones.
"""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Callable
from typing import Any

import pytest

from sessionerror.testdb.settings import BACKENDS

__all__ = [
    "MarkerOptions",
    "backend_params",
    "backend_suggestion",
    "function_id",
    "marker_backends",
    "marker_options",
    "marker_options_key",
    "marker_problems",
    "validate_sessionerror_marker",
]

_BACKENDS: tuple[str, ...] = BACKENDS
#: Spellings people use for a backend; difflib alone does not map "pg" to "postgresql".
_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "psql": "postgresql"}
_ALIASES |= {"pgsql": "postgresql", "sqlite3": "sqlite", "pysqlite": "sqlite"}


def backend_suggestion(name: object, choices: tuple[str, ...] = _BACKENDS) -> str | None:
    """The backend ``name`` was probably meant to be (``"postgres"`` -> ``"postgresql"``)."""
    if not isinstance(name, str):
        return None
    lowered = name.strip().lower()
    if lowered in choices:
        return lowered
    alias = _ALIASES.get(lowered)
    if alias in choices:
        return alias
    close = difflib.get_close_matches(lowered, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _sessionerror_marker(
    *, committed: bool = False, backends: tuple[str, ...] | list[str] | None = None
) -> tuple[bool, tuple[str, ...] | None]:
    """Signature of ``@pytest.mark.sessionerror``: used to validate its arguments."""
    if not isinstance(committed, bool):
        raise TypeError(f"committed must be True or False, got {committed!r}")
    return committed, marker_backends(backends)


def validate_sessionerror_marker(marker: pytest.Mark) -> tuple[bool, tuple[str, ...] | None]:
    """``(committed, backends)`` of a ``sessionerror`` mark; TypeError names the mistake."""
    try:
        return _sessionerror_marker(*marker.args, **marker.kwargs)
    except TypeError as exc:
        raise TypeError(str(exc).replace("_sessionerror_marker() ", "")) from None


def marker_backends(backends: object) -> tuple[str, ...] | None:
    """Validate the ``backends=`` marker argument: a list of 'sqlite' / 'postgresql'."""
    if backends is None:
        return None
    names = (backends,) if isinstance(backends, str) else backends
    if not isinstance(names, list | tuple) or not names:
        raise TypeError(f"backends must list 'sqlite' and/or 'postgresql', got {backends!r}")
    for name in names:
        if name not in _BACKENDS:
            guess = backend_suggestion(name)
            hint = f" did you mean {guess!r}?" if guess else ""
            raise TypeError(
                f"unknown backend {name!r} in backends={backends!r}:{hint} "
                "backends must list 'sqlite' and/or 'postgresql'"
            )
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


_USAGES = {
    "sessionerror": "sessionerror(committed=True, backends=['sqlite', 'postgresql'])",
    "sessionerror_data": "sessionerror_data('name', ...)",
}


def _validated(node: pytest.Item) -> tuple[MarkerOptions, list[str]]:
    """The test's marker options and one line per invalid sessionerror marker."""
    committed = False
    datasets: tuple[str, ...] = ()
    problems: list[str] = []
    validators: tuple[tuple[str, Callable[[pytest.Mark], Any]], ...] = (
        ("sessionerror", validate_sessionerror_marker),
        ("sessionerror_data", lambda mark: _data_marker(*mark.args, **mark.kwargs)),
    )
    for name, validator in validators:
        for marker in node.iter_markers(name):
            try:
                value = validator(marker)
            except TypeError as exc:
                problem = str(exc).replace("_data_marker() ", "")
                problems.append(
                    f"Invalid @pytest.mark.{name} on {function_id(node)}: {problem}. "
                    f"Usage: @pytest.mark.{_USAGES[name]}"
                )
                continue
            if name == "sessionerror":
                committed = committed or value[0]
            else:
                datasets = datasets + tuple(value)
    problems.extend(_dataset_problems(node, datasets))
    return MarkerOptions(committed, datasets), problems


def _dataset_problems(node: pytest.Item, names: tuple[str, ...]) -> list[str]:
    """One line per data set of ``names`` that does not exist (listing the known ones) or whose
    file is invalid (naming the file, record and problem)."""
    if not names:
        return []
    from sessionerror.datasets import DatasetError, available_datasets, dataset_path

    problems = []
    for name in dict.fromkeys(names):
        try:
            path = dataset_path(name)
        except DatasetError:
            known = available_datasets()
            close = difflib.get_close_matches(name, known, 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"Invalid @pytest.mark.sessionerror_data on {function_id(node)}: unknown data "
                f"set {name!r}{hint}; known data sets: {', '.join(known)}, or a .json file's path"
            )
            continue
        problem = _invalid_dataset(name, path)
        if problem is not None:
            problems.append(
                f"Invalid @pytest.mark.sessionerror_data on {function_id(node)}: data set "
                f"{name!r} is invalid: {problem}"
            )
    return problems


def _invalid_dataset(name: str, path: str) -> str | None:
    """Why data set ``name`` (read from ``path``) is invalid (file, record, field, problem),
    else None; read once per version of the file (every test using it is checked)."""
    try:
        stat = os.stat(path)
    except OSError:
        key: tuple[str, int, int] = (name, -1, -1)  # a packaged resource: never changes
    else:
        key = (name, stat.st_mtime_ns, stat.st_size)
    return _checked(key)


@functools.lru_cache(maxsize=64)
def _checked(key: tuple[str, int, int]) -> str | None:
    from sessionerror.datasets import DatasetError, check_dataset

    try:
        check_dataset(key[0])
    except DatasetError as exc:
        return str(exc)
    return None


def function_id(node: pytest.Item) -> str:
    """The test's node id without its parameters: one mistake is one line, not one per backend."""
    return node.nodeid.split("[", 1)[0]


def marker_problems(node: pytest.Item) -> list[str]:
    """One line per invalid sessionerror marker of the test (checked at collection)."""
    return _validated(node)[1]


def marker_options(node: pytest.Item) -> MarkerOptions:
    """Validate the test's sessionerror markers; a typo fails with the accepted signature."""
    options, problems = _validated(node)
    if problems:
        pytest.fail(problems[0], pytrace=False)
    return options


def backend_params(definition: pytest.Item, selected: tuple[str, ...]) -> list[Any]:
    """The ``sessionerror_backend`` parameters of a test: the selected backends it allows.

    An invalid ``backends=`` limits nothing here: collection reports it (:func:`marker_problems`).
    A test whose ``backends=`` keeps none of the run's backends is one skipped case that says how
    to run it, instead of pytest's "got empty parameter set".
    """
    only: tuple[str, ...] | None = None
    marker = definition.get_closest_marker("sessionerror")
    if marker is not None:
        try:
            only = validate_sessionerror_marker(marker)[1]
        except TypeError:
            only = None
    kept = [name for name in selected if only is None or name in only]
    if kept:
        return [pytest.param(name, id=name, marks=getattr(pytest.mark, name)) for name in kept]
    assert only is not None  # kept is empty only when the marker excluded every backend
    reason = (
        f"sessionerror: @pytest.mark.sessionerror(backends={list(only)!r}) runs this test on "
        f"{' or '.join(only)} only and this run's backend is {' and '.join(selected)}: "
        f"run with --sessionerror-backend {only[0]} or all"
    )
    # No backend mark: --sessionerror-require-postgres must not turn this skip into a failure.
    return [pytest.param(only[0], id=only[0], marks=pytest.mark.skip(reason=reason))]
