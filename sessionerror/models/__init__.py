"""The reference model: schema, types, enums, validation, redaction and the contract.

Names are loaded lazily so that ``import sessionerror.models.enums`` (used by the plugin and the
error classes) does not import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionerror.models.session_error import (
        NAMING_CONVENTION,
        USER_MESSAGE_CHECK,
        Base,
        SessionError,
        SessionErrorMixin,
        Ticket,
        UploadedFile,
        WorkflowSession,
        seed_sqlite_planner_statistics,
    )

_HOME = "sessionerror.models.session_error"

__all__ = [
    "NAMING_CONVENTION",
    "USER_MESSAGE_CHECK",
    "Base",
    "SessionError",
    "SessionErrorMixin",
    "Ticket",
    "UploadedFile",
    "WorkflowSession",
    "seed_sqlite_planner_statistics",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'sessionerror.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
