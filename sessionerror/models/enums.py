"""Enumerations of the SessionError contract (spec §4)."""

from __future__ import annotations

from enum import Enum

__all__ = ["ErrorCategory", "ErrorSeverity", "OperationStage", "enum_values"]


class ErrorCategory(str, Enum):
    """Who can fix the error."""

    USER_FIXABLE = "user_fixable"
    ADMIN_REQUIRED = "admin_required"
    TEMPORARY = "temporary"


class ErrorSeverity(str, Enum):
    """How much the error gets in the user's way."""

    BLOCKING = "blocking"
    WARNING = "warning"
    INFO = "info"


class OperationStage(str, Enum):
    """The workflow stage in which the error happened."""

    UPLOAD = "upload"
    PROCESSING = "processing"
    REVIEW = "review"
    JIRA_EXPORT = "jira_export"


def enum_values(enum_cls: type[Enum]) -> list[str]:
    """Return the stored values of ``enum_cls`` (what the database holds, never the names)."""
    return [str(member.value) for member in enum_cls]
