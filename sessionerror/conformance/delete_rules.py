"""Spec §6 "Foreign Keys": CASCADE with the session, SET NULL with a file or a ticket.

Parents are deleted with Core statements (as a cleanup job or raw SQL would), so the database's
rules act, not the ORM's cascades.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError

from sessionerror.conformance.harness import Harness, parent_table
from sessionerror.conformance.report import ClauseResult, fail, passed, skipped

__all__ = ["check_delete_rules"]

_FIX = {
    "session_id": "ForeignKey('sessions.id', ondelete='CASCADE'), nullable=False",
    "related_file_id": "ForeignKey('uploaded_files.id', ondelete='SET NULL'), nullable=True",
    "related_ticket_id": "ForeignKey('tickets.id', ondelete='SET NULL'), nullable=True",
}
_SQLITE = "; on SQLite also PRAGMA foreign_keys=ON in the engine's connect event"


def _declared(harness: Harness, link: str) -> str:
    column = harness.table.c[link]
    rules = [str(fk.ondelete) for fk in column.foreign_keys]
    return f"declared ondelete={rules[0] if rules else 'none'}"


def _outcome(harness: Harness, link: str) -> tuple[bool, Any] | str:
    """(row kept, the link's value) after deleting the parent; a string when it was refused."""
    with harness.orm() as db:
        parents = harness.parents(db)
        error = harness.add_error(
            db,
            parents.session_1,
            related_file_id=parents.file_1,
            related_ticket_id=parents.ticket_1,
        )
        error_id = error.id
        parent_id = {
            "session_id": parents.session_1,
            "related_file_id": parents.file_1,
            "related_ticket_id": parents.ticket_1,
        }[link]
        db.expunge_all()
        try:
            with db.begin_nested():
                harness.delete_parent(db, link, parent_id)
        except DBAPIError as exc:
            orig = exc.orig if exc.orig is not None else exc
            return f"deleting the parent was refused: {str(orig).strip().splitlines()[0]}"
        return harness.exists(db, error_id), harness.stored(db, error_id, link)


def check_delete_rules(harness: Harness) -> list[ClauseResult]:
    """The three foreign keys, each on its own rows."""
    results = []
    for link, rule in (
        ("session_id", "CASCADE"),
        ("related_file_id", "SET NULL"),
        ("related_ticket_id", "SET NULL"),
    ):
        clause = f"§6.{link}"
        parent = parent_table(harness.model, link)
        title = f"{link}: ON DELETE {rule}"
        if parent is None:
            results.append(
                fail(clause, title, f"{link} has no foreign key", rule, _FIX[link] + _SQLITE)
            )
            continue
        title = f"{link} -> {parent.name}: ON DELETE {rule}"
        expected = (
            "the error is deleted with its session"
            if rule == "CASCADE"
            else f"the error is kept with {link} = NULL"
        )
        try:
            outcome = _outcome(harness, link)
        except LookupError as exc:
            results.append(skipped(clause, title, str(exc)))
            continue
        if isinstance(outcome, str):
            found = outcome
        elif rule == "CASCADE":
            found = "" if not outcome[0] else "the error survived its session"
        elif not outcome[0]:
            found = f"the error was deleted with its {parent.name} row"
        else:
            found = "" if outcome[1] is None else f"{link} still points at the deleted row"
        if found:
            fix = _FIX[link] + _SQLITE
            results.append(
                fail(clause, title, f"{found} ({_declared(harness, link)})", expected, fix)
            )
        else:
            results.append(passed(clause, title, expected))
    return results
