"""sessionerror: what an application imports (model, enums, errors, repositories, checks).

Names are re-exported lazily, so loading the pytest plugin does not import the ORM models. Test
tooling (fixture factories and types, isolation, data sets) is in :mod:`sessionerror.testing`;
factories in :mod:`sessionerror.factories`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionerror.check.api import assert_contract, run_checks

    # -- async API (issue 10): loaded on first use, needs the "async" extra to run
    from sessionerror.check.api_async import assert_contract_async
    from sessionerror.errors import (
        BackendUnavailableError,
        DatabaseUnavailableError,
        ErrorDataValidationError,
        NoSessionBoundError,
        SessionErrorKitError,
        StorageError,
        StorageTimeoutError,
        StorageUnavailableError,
    )
    from sessionerror.models import (
        Base,
        SessionError,
        SessionErrorMixin,
        Ticket,
        UploadedFile,
        WorkflowSession,
    )
    from sessionerror.models.audit import AUDIT, audit_resolution_attempt, audit_user_action
    from sessionerror.models.binding import bind_session, current_session
    from sessionerror.models.binding_async import bind_async_session, current_async_session
    from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
    from sessionerror.redaction import mask_url_password, redact
    from sessionerror.runtime.repository import SessionErrorRepository
    from sessionerror.runtime.repository_async import (
        AsyncSessionErrorRepository,
        purge_expired_sessions_async,
    )
    from sessionerror.runtime.retention import purge_expired_sessions

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AUDIT": "models.audit",
    "audit_resolution_attempt": "models.audit",
    "audit_user_action": "models.audit",
    "bind_session": "models.binding",
    "current_session": "models.binding",
    "ErrorCategory": "models.enums",
    "ErrorSeverity": "models.enums",
    "OperationStage": "models.enums",
    "BackendUnavailableError": "errors",
    "DatabaseUnavailableError": "errors",
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
    "assert_contract": "check.api",
    "run_checks": "check.api",
    "SessionErrorRepository": "runtime.repository",
    "purge_expired_sessions": "runtime.retention",
    # -- async API (issue 10)
    "AsyncSessionErrorRepository": "runtime.repository_async",
    "purge_expired_sessions_async": "runtime.repository_async",
    "bind_async_session": "models.binding_async",
    "assert_contract_async": "check.api_async",
    "current_async_session": "models.binding_async",
}

__all__ = [
    "AUDIT",
    "AsyncSessionErrorRepository",
    "BackendUnavailableError",
    "Base",
    "DatabaseUnavailableError",
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
    "assert_contract_async",
    "audit_resolution_attempt",
    "audit_user_action",
    "bind_async_session",
    "bind_session",
    "current_async_session",
    "current_session",
    "mask_url_password",
    "purge_expired_sessions",
    "purge_expired_sessions_async",
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
