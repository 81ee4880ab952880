"""Which database failures are storage faults, and the kit error each one becomes.

One rule for the sync and the async repositories. psycopg2 reports a refused server as a DBAPI
``OperationalError``; asyncpg raises a plain ``ConnectionRefusedError`` / ``OSError`` on connect
(and ``TimeoutError`` for its own timeouts), so both shapes are classified here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from sessionerror.errors import StorageError, StorageTimeoutError, StorageUnavailableError
from sessionerror.redaction import mask_url_password

__all__ = [
    "STORAGE_FAULTS",
    "classify_storage_fault",
    "mapped_storage_faults",
    "storage_error",
]

# SQLSTATEs: 57014 query_canceled (statement_timeout), 55P03 lock_not_available (lock_timeout),
# 40P01 deadlock_detected. Class 08 = connection exception; 57P01-57P03 = server shut down;
# 53 insufficient resources; 28 invalid authorization; 3D000 unknown database (asyncpg reports
# it as a plain DBAPIError where psycopg2 raises OperationalError: the code decides, not the type).
_TIMEOUT_CODES = {"57014", "55P03", "40P01"}
_UNAVAILABLE_PREFIXES = ("08", "57P", "53", "28", "3D")
_SQLITE_TIMEOUT = ("database is locked", "database table is locked")
# asyncpg's protocol states 1-4 (failed, error-consume, cancelled, terminating): what a connection
# is left in when the server ended it between statements (pg_terminate_backend, shutdown). With
# SQLAlchemy 2.0 the InternalClientError saying so reaches the caller unwrapped.
_ASYNCPG_ENDED = re.compile(r'protocol is in the "failed" state|another operation \([1-4]\) is in')

#: The exception types a repository must catch to classify every storage fault. Exception is
#: included because asyncpg's own errors reach the caller unwrapped on connect with SQLAlchemy
#: 2.0 (classified by their SQLSTATE); whatever is not a storage fault is re-raised unchanged.
STORAGE_FAULTS: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, OSError, Exception)


def classify_storage_fault(error: BaseException) -> type[StorageError] | None:
    """Return the kit error class for a database failure, or None if it is not a storage fault.

    Refused or lost connections give StorageUnavailableError, statement/lock timeouts and
    deadlocks StorageTimeoutError; anything else (constraint violations...) None.
    """
    if isinstance(error, TimeoutError):  # asyncio.TimeoutError is TimeoutError on 3.11
        return StorageTimeoutError
    if isinstance(error, OSError):  # asyncpg on connect: ConnectionRefusedError, gaierror...
        return StorageUnavailableError
    if _ended_asyncpg_protocol(error):
        return StorageUnavailableError
    if not isinstance(error, sa_exc.DBAPIError):
        raw_code = getattr(error, "sqlstate", None)  # a driver error SQLAlchemy did not wrap
        if isinstance(raw_code, str) and raw_code.startswith(_UNAVAILABLE_PREFIXES):
            return StorageUnavailableError
        if raw_code in _TIMEOUT_CODES:
            return StorageTimeoutError
        return None
    orig = error.orig
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    text = str(orig).lower()
    if code in _TIMEOUT_CODES or any(marker in text for marker in _SQLITE_TIMEOUT):
        return StorageTimeoutError
    cause = getattr(orig, "__cause__", None)
    if isinstance(orig, TimeoutError) or isinstance(cause, TimeoutError):
        return StorageTimeoutError
    if error.connection_invalidated or (code and code.startswith(_UNAVAILABLE_PREFIXES)):
        return StorageUnavailableError
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return StorageUnavailableError
    return None


def _ended_asyncpg_protocol(error: BaseException) -> bool:
    """True for asyncpg's InternalClientError about a protocol the server has ended, raw or
    wrapped by SQLAlchemy (2.1 wraps it as InternalError)."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    kind = type(orig)
    return (
        kind.__name__ == "InternalClientError"
        and kind.__module__.startswith("asyncpg")
        and _ASYNCPG_ENDED.search(str(orig)) is not None
    )


def storage_error(error: BaseException, session_id: uuid.UUID) -> StorageError | None:
    """The kit error to raise (from ``error``) when recording failed, or None to re-raise.

    The message is one line, names the session and the kind, and never shows a password.
    """
    kind = classify_storage_fault(error)
    if kind is None:
        return None
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    return kind(
        f"Could not record the error for session {session_id}: "
        f"{_first_line(orig)} ({kind.__name__})"
    )


@contextmanager
def mapped_storage_faults(session_id: uuid.UUID) -> Iterator[None]:
    """Re-raise a storage fault inside the block as its kit error (:func:`storage_error`).

    Anything that is not a storage fault propagates unchanged. Used around the SAVEPOINT of
    both repositories' ``record()``.
    """
    try:
        yield
    except STORAGE_FAULTS as exc:
        mapped = storage_error(exc, session_id)
        if mapped is None:
            raise
        raise mapped from exc


def _first_line(error: BaseException | None) -> str:
    if error is None:
        return ""
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return mask_url_password(line)
