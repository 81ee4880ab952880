"""Import the team's class from ``module:Class``; every problem is one UsageError line."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from sessionerror.errors import UsageError, first_line

__all__ = ["load_model", "model_name"]

_FORMAT = "Fix: give MODULE:CLASS, e.g. myapp.models:SessionError"


def model_name(model: type[Any]) -> str:
    """``module:Class`` of ``model``."""
    return f"{model.__module__}:{model.__qualname__}"


def load_model(path: str) -> type[Any]:
    """The mapped class named by ``path`` (``module:Class``); UsageError (one line) otherwise.

    The current directory is importable (as for ``python -m``), so ``myapp.models:Error``
    works from the project's root.
    """
    module_name, colon, attribute = path.strip().partition(":")
    if not colon or not module_name or not attribute:
        raise UsageError(f"conformance: {path!r} is not an import path MODULE:CLASS. {_FORMAT}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or the team's module failing while importing
        raise UsageError(
            f"conformance: cannot import {module_name!r}: {type(exc).__name__}: "
            f"{first_line(exc)}. Fix: check the module path and that it imports "
            "(run from your project's root or set PYTHONPATH)"
        ) from None
    value: Any = module
    for part in attribute.split("."):
        value = getattr(value, part, None)
        if value is None:
            raise UsageError(
                f"conformance: module {module_name!r} has no attribute {attribute!r}. {_FORMAT}"
            )
    if not isinstance(value, type) or getattr(value, "__table__", None) is None:
        raise UsageError(
            f"conformance: {path} is not a mapped SQLAlchemy class (no __table__). "
            "Fix: name your SessionError model class"
        )
    return value
