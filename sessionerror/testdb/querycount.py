"""Count the SQL statements a block of code sends, ignoring the kit's own transaction control."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from sessionerror.errors import SessionErrorKitError

__all__ = ["QueryCountError", "StatementRecorder", "assert_queries"]

# Statements the isolation machinery sends on the test's behalf: not the code's queries.
_INTERNAL = re.compile(
    r"^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN|COMMIT|ROLLBACK)\b",
    re.IGNORECASE,
)


class QueryCountError(SessionErrorKitError, AssertionError):
    """More (or, for exact counts, other) statements ran than allowed."""


class StatementRecorder:
    """Collects statements sent through one engine while at least one capture is open.

    The engine listener exists only while a capture is open: an always-on listener would put
    every statement of every test on SQLAlchemy's slower event path.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._captures: list[list[str]] = []

    @classmethod
    def attach(cls, engine: Engine) -> StatementRecorder:
        """Create a recorder for the statements ``engine`` sends inside :meth:`capture`."""
        return cls(engine)

    def _on_execute(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        if _INTERNAL.match(statement):
            return
        text = " ".join(statement.split())
        if executemany:
            text += "  [executemany]"
        for capture in self._captures:
            capture.append(text)

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Yield the list that receives each statement sent inside the block."""
        statements: list[str] = []
        if not self._captures:
            event.listen(self.engine, "before_cursor_execute", self._on_execute)
        self._captures.append(statements)
        try:
            yield statements
        finally:
            self._captures.remove(statements)
            if not self._captures:
                event.remove(self.engine, "before_cursor_execute", self._on_execute)


@contextmanager
def assert_queries(
    recorder: StatementRecorder, limit: int, *, exact: bool = False
) -> Iterator[list[str]]:
    """Fail if the block sends more than ``limit`` statements (or not exactly ``limit``)."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"query limit must be a non-negative int, got {limit!r}")
    with recorder.capture() as statements:
        yield statements
    count = len(statements)
    if count > limit or (exact and count != limit):
        wanted = f"exactly {limit}" if exact else f"at most {limit}"
        listing = "\n".join(f"  {number}. {sql}" for number, sql in enumerate(statements, 1))
        raise QueryCountError(
            f"Expected {wanted} queries, {count} were executed:\n{listing or '  (none)'}"
        )
