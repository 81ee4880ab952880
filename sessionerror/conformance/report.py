"""The conformance report: one :class:`ClauseResult` per clause, gathered in a report.

Plain data, no database imports. The outcome of each clause reuses the checker's
:class:`~sessionerror.check.report.CheckStatus`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sessionerror.check.report import CheckStatus

__all__ = ["ClauseResult", "ConformanceReport", "fail", "passed", "skipped"]


@dataclass(frozen=True)
class ClauseResult:
    """One clause of the spec: what the class did, what the spec wants, and the fix."""

    clause: str
    title: str
    status: CheckStatus
    found: str = ""
    expected: str = ""
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "clause": self.clause,
            "title": self.title,
            "status": self.status.value,
            "found": self.found,
            "expected": self.expected,
            "fix": self.fix,
        }

    def format(self) -> str:
        """One line for PASS/SKIP, four for FAIL."""
        head = f"{self.status.value:<4}  {self.clause:<34} {self.title}"
        if self.status is CheckStatus.SKIP:
            return f"{head} (skipped: {self.found})"
        if self.status is CheckStatus.PASS:
            return head
        return "\n".join(
            [
                head,
                f"      found:    {self.found}",
                f"      expected: {self.expected}",
                f"      fix:      {self.fix}",
            ]
        )


def passed(clause: str, title: str, expected: str = "") -> ClauseResult:
    """A clause the class honours."""
    return ClauseResult(clause, title, CheckStatus.PASS, expected=expected)


def fail(clause: str, title: str, found: str, expected: str, fix: str) -> ClauseResult:
    """A clause the class violates."""
    return ClauseResult(clause, title, CheckStatus.FAIL, found, expected, fix)


def skipped(clause: str, title: str, reason: str) -> ClauseResult:
    """A clause that could not be run (``reason`` says why)."""
    return ClauseResult(clause, title, CheckStatus.SKIP, found=reason)


@dataclass(frozen=True)
class ConformanceReport:
    """Every clause's result for one class on one database."""

    model: str
    database: str
    dialect: str
    results: tuple[ClauseResult, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> list[ClauseResult]:
        """The violated clauses."""
        return [r for r in self.results if r.status is CheckStatus.FAIL]

    @property
    def ok(self) -> bool:
        """True when no clause is violated (skips allowed)."""
        return not self.failures

    def get(self, clause: str) -> ClauseResult:
        """The result of ``clause`` (KeyError if absent)."""
        for result in self.results:
            if result.clause == clause:
                return result
        raise KeyError(clause)

    def counts(self) -> dict[str, int]:
        """Clauses per status: ``{"pass": .., "fail": .., "skip": ..}``."""
        return {s.value.lower(): sum(r.status is s for r in self.results) for s in CheckStatus}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: model, database, dialect, clauses and counts."""
        return {
            "model": self.model,
            "database": self.database,
            "dialect": self.dialect,
            "clauses": [r.to_dict() for r in self.results],
            "summary": self.counts(),
        }

    def format(self) -> str:
        """The text report: one line per clause (more for a violation) and a summary."""
        counts = self.counts()
        verdict = "conforms" if self.ok else "does NOT conform"
        lines = [f"SessionError conformance: {self.model} on {self.database} ({self.dialect})"]
        lines += [r.format() for r in self.results]
        lines.append(
            f"{self.model} {verdict}: {counts['pass']} passed, {counts['fail']} failed, "
            f"{counts['skip']} skipped"
        )
        return "\n".join(lines)
