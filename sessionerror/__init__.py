"""sessionerror: the SessionError reference model, pytest fixtures, factories and checker.

Names are re-exported lazily, so loading the pytest plugin does not import the ORM models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audit import AUDIT, audit_resolution_attempt, audit_user_action
    from .binding import bind_session, current_session
    from .check import assert_contract, run_checks
    from .datasets import available_datasets, load_dataset
    from .enums import ErrorCategory, ErrorSeverity, OperationStage
    from .errors import (
        BackendUnavailableError,
        ErrorDataValidationError,
        NoSessionBoundError,
        SessionErrorKitError,
        StorageError,
        StorageTimeoutError,
        StorageUnavailableError,
    )
    from .models import (
        Base,
        SessionError,
        SessionErrorMixin,
        Ticket,
        UploadedFile,
        WorkflowSession,
    )
    from .redaction import mask_url_password, redact
    from .repository import SessionErrorRepository
    from .retention import purge_expired_sessions

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AUDIT": "audit",
    "audit_resolution_attempt": "audit",
    "audit_user_action": "audit",
    "bind_session": "binding",
    "current_session": "binding",
    "ErrorCategory": "enums",
    "ErrorSeverity": "enums",
    "OperationStage": "enums",
    "BackendUnavailableError": "errors",
    "ErrorDataValidationError": "errors",
    "NoSessionBoundError": "errors",
    "SessionErrorKitError": "errors",
    "StorageError": "errors",
    "StorageTimeoutError": "errors",
    "StorageUnavailableError": "errors",
    "Base": "models",
    "SessionError": "models",
    "SessionErrorMixin": "models",
    "Ticket": "models",
    "UploadedFile": "models",
    "WorkflowSession": "models",
    "mask_url_password": "redaction",
    "redact": "redaction",
    "assert_contract": "check",
    "run_checks": "check",
    "available_datasets": "datasets",
    "load_dataset": "datasets",
    "SessionErrorRepository": "repository",
    "purge_expired_sessions": "retention",
}

__all__ = [
    "AUDIT",
    "BackendUnavailableError",
    "Base",
    "ErrorCategory",
    "ErrorDataValidationError",
    "ErrorSeverity",
    "NoSessionBoundError",
    "OperationStage",
    "SessionError",
    "SessionErrorKitError",
    "SessionErrorMixin",
    "SessionErrorRepository",
    "StorageError",
    "StorageTimeoutError",
    "StorageUnavailableError",
    "Ticket",
    "UploadedFile",
    "WorkflowSession",
    "__version__",
    "assert_contract",
    "audit_resolution_attempt",
    "audit_user_action",
    "available_datasets",
    "bind_session",
    "current_session",
    "load_dataset",
    "mask_url_password",
    "purge_expired_sessions",
    "redact",
    "run_checks",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionerror' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
