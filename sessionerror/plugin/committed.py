"""Internal: committed mode's per-database guards, kept on ``config.stash`` for the run.

A guard (:class:`~sessionerror.testdb.committed_guard.CommittedGuard`) exists only once a
committed test has used its database: rollback-mode runs pay one dictionary lookup per test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sessionerror.testdb.committed_guard import CommittedGuard
    from sessionerror.testdb.provisioning import ProvidedDatabase

__all__ = ["committed_guard", "require_template_state"]

_guards_key = pytest.StashKey["dict[str, CommittedGuard]"]()


def committed_guard(config: pytest.Config, database: ProvidedDatabase) -> CommittedGuard:
    """The guard of ``database`` (created on first use); fails the test if it is broken."""
    guards = config.stash.setdefault(_guards_key, {})
    guard = guards.get(database.location)
    if guard is None:
        from sessionerror.testdb.committed_guard import CommittedGuard

        guard = guards[database.location] = CommittedGuard()
    require_template_state(config, database)
    return guard


def require_template_state(config: pytest.Config, database: ProvidedDatabase) -> None:
    """Fail the test in one line when a committed test's cleanup left ``database`` dirty.

    One more try comes first: if the database can be restored now, the test runs.
    """
    guard = config.stash.get(_guards_key, {}).get(database.location)
    if guard is None or guard.problem is None:
        return
    from sessionerror.testdb.committed_guard import TemplateRestoreError

    try:
        guard.repair(database.engine)
    except TemplateRestoreError as exc:
        problem = str(exc)
    else:
        return
    pytest.fail(problem, pytrace=False)
