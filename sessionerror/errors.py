"""Exceptions raised by sessionerror, each carrying the spec's "who can fix it" category."""

from __future__ import annotations

from sessionerror.models.enums import ErrorCategory

__all__ = [
    "BackendUnavailableError",
    "DatabaseUnavailableError",
    "ErrorDataValidationError",
    "ExportError",
    "NoSessionBoundError",
    "SessionErrorKitError",
    "StorageError",
    "StorageTimeoutError",
    "StorageUnavailableError",
    "UsageError",
    "first_line",
]


def first_line(exc: BaseException | None, *, default: str | None = None) -> str:
    """The first non-blank line of ``str(exc)``, stripped, for one-line error messages.

    Falls back to ``default`` (or the exception's class name) when the message is empty, and
    to ``default`` or ``""`` when ``exc`` is None. Secrets are not masked here: callers that
    show a URL-bearing message pass the result through ``urls`` masking.
    """
    if exc is None:
        return default or ""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return default if default is not None else type(exc).__name__


class SessionErrorKitError(Exception):
    """Base class of every error the kit raises; ``category`` says who can fix it."""

    default_category: ErrorCategory = ErrorCategory.ADMIN_REQUIRED

    def __init__(self, message: str, category: ErrorCategory | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.category = ErrorCategory(category) if category is not None else self.default_category

    def __str__(self) -> str:
        return self.message


class ErrorDataValidationError(SessionErrorKitError, ValueError):
    """Invalid error data (spec §8): nothing is written when this is raised."""

    def __init__(
        self,
        message: str,
        category: ErrorCategory | str = ErrorCategory.ADMIN_REQUIRED,
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message, category)
        self.field = field


class NoSessionBoundError(SessionErrorKitError, RuntimeError):
    """A class-level query ran with no ``db=`` argument and no session bound to the context."""


class DatabaseUnavailableError(SessionErrorKitError):
    """A database cannot be reached or provided: unusable URL, missing driver, server down.

    The one "cannot reach the database" error: the checker, the export, the scenarios and the
    test-database backends raise it (or a subclass); the message is one line, passwords masked.
    """

    default_category = ErrorCategory.ADMIN_REQUIRED


#: The 0.1.0 name of :class:`DatabaseUnavailableError`, kept because it is public.
BackendUnavailableError = DatabaseUnavailableError


class UsageError(SessionErrorKitError, ValueError):
    """Bad command-line usage; the message is one line naming the problem and the fix."""

    default_category = ErrorCategory.USER_FIXABLE


class ExportError(SessionErrorKitError):
    """An export or summary cannot run (missing tables, unwritable target); nothing was written."""


class StorageError(SessionErrorKitError):
    """Recording an error failed in the database layer (spec §8, meta-level categories)."""


class StorageUnavailableError(StorageError, DatabaseUnavailableError):
    """The database refused or lost the connection while recording: an administrator must act."""

    default_category = ErrorCategory.ADMIN_REQUIRED


class StorageTimeoutError(StorageError):
    """A statement or lock timeout while recording: retrying later may succeed."""

    default_category = ErrorCategory.TEMPORARY
