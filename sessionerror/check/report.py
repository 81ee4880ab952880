"""The checker's report: one :class:`CheckResult` per check, gathered in a :class:`ContractReport`.

Plain data with no database imports, so the schema and behaviour checks and the entry points in
:mod:`sessionerror.check.api` all build on it without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["CheckResult", "CheckStatus", "ContractReport", "Fix"]

#: A fix statement that is SQL to run as it stands (not advice such as a SQLite rebuild).
_SQL = re.compile(r"(ALTER|CREATE|DROP|UPDATE)\s", re.IGNORECASE)


class CheckStatus(str, Enum):
    """Outcome of one check."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Fix:
    """How to repair a failed check: DDL for the backend and the SQLAlchemy declaration."""

    ddl: str
    sqlalchemy: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"ddl": self.ddl, "sqlalchemy": self.sqlalchemy}


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: what was found, what the contract wants, and the fix."""

    id: str
    title: str
    status: CheckStatus
    found: str = ""
    expected: str = ""
    fix: Fix | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "found": self.found,
            "expected": self.expected,
            "fix": self.fix.to_dict() if self.fix else None,
            "reason": self.reason,
        }

    def format(self) -> str:
        """Human-readable lines (one for PASS/SKIP, more for FAIL)."""
        head = f"{self.status.value:<4}  {self.id:<36} {self.title}"
        if self.status is CheckStatus.SKIP:
            return f"{head} (skipped: {self.reason})"
        if self.status is CheckStatus.PASS:
            return head
        lines = [head, f"      found:    {self.found}", f"      expected: {self.expected}"]
        if self.fix:
            lines.append(f"      fix (DDL):        {self.fix.ddl}")
            lines.append(f"      fix (SQLAlchemy): {self.fix.sqlalchemy}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ContractReport:
    """All check results for one database."""

    database: str
    dialect: str
    results: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> list[CheckResult]:
        """The failed checks."""
        return [r for r in self.results if r.status is CheckStatus.FAIL]

    @property
    def ok(self) -> bool:
        """True when no check failed (skips allowed)."""
        return not self.failures

    def counts(self) -> dict[str, int]:
        """Number of checks per status: ``{"pass": .., "fail": .., "skip": ..}``."""
        return {s.value.lower(): sum(r.status is s for r in self.results) for s in CheckStatus}

    def get(self, check_id: str) -> CheckResult:
        """The result of check ``check_id`` (KeyError if absent)."""
        for result in self.results:
            if result.id == check_id:
                return result
        raise KeyError(check_id)

    def fix_script(self) -> list[str]:
        """The SQL of the failed checks' fixes, each statement once, in report order.

        Several checks can print the same fix (``schema.enum.error_category`` and
        ``behaviour.rejects_unknown_category``); run in this order, each statement once, the
        list makes the next check pass. Advice that is not SQL (SQLite rebuilds, PRAGMAs,
        placeholders) is left out.
        """
        statements: list[str] = []
        for result in self.failures:
            ddl = result.fix.ddl if result.fix is not None else ""
            # Advice text may quote SQL (a SQLite rebuild's DROP TABLE): whole fixes only.
            if not _SQL.match(ddl) or "<" in ddl:
                continue
            for statement in ddl.split("; "):
                if statement.strip() not in statements:
                    statements.append(statement.strip())
        return statements

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: database, dialect, checks, summary counts and the fix script."""
        return {
            "database": self.database,
            "dialect": self.dialect,
            "checks": [r.to_dict() for r in self.results],
            "summary": self.counts(),
            "fix_script": self.fix_script(),
        }

    def format(self) -> str:
        """The text report: one line per check and a summary line."""
        counts = self.counts()
        verdict = "contract satisfied" if self.ok else "contract VIOLATED"
        lines = [f"SessionError contract check: {self.database} ({self.dialect})"]
        lines += [r.format() for r in self.results]
        lines.append(
            f"{verdict}: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
        )
        script = self.fix_script()
        if script:
            lines.append("fix script (the SQL above, each statement once, in order):")
            lines += [f"  {statement};" for statement in script]
        return "\n".join(lines)
