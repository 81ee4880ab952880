"""The reference model: schema, types, enums, validation, redaction and the contract.

Names are loaded lazily so that ``import sessionerror.models.enums`` (used by the plugin and the
error classes) does not import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionerror.models.base import NAMING_CONVENTION, Base, seed_sqlite_planner_statistics
    from sessionerror.models.contract import USER_MESSAGE_CHECK
    from sessionerror.models.mixin import SessionErrorMixin
    from sessionerror.models.parents import Ticket, UploadedFile, WorkflowSession
    from sessionerror.models.session_error import SessionError

#: Where each public name lives.
_HOMES: dict[str, str] = {
    "NAMING_CONVENTION": "base",
    "Base": "base",
    "seed_sqlite_planner_statistics": "base",
    "USER_MESSAGE_CHECK": "contract",
    "SessionErrorMixin": "mixin",
    "Ticket": "parents",
    "UploadedFile": "parents",
    "WorkflowSession": "parents",
    "SessionError": "session_error",
}

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
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sessionerror.models' has no attribute {name!r}")
    # The parent models' relationships name SessionError: register every model class together.
    # The mixin and the contract map nothing: a team importing them gets no kit model mapped
    # beside its own (the repositories then find the team's model alone).
    if home not in ("mixin", "contract"):
        importlib.import_module(f"{__name__}.session_error")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
