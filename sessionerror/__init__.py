"""sessionerror: the SessionError reference model, pytest fixtures, factories and checker.

Names are re-exported lazily, so loading the pytest plugin does not import the ORM models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audit import AUDIT, audit_resolution_attempt, audit_user_action
    from .binding import bind_session, current_session
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
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionerror' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
