"""Per-test isolation: a session whose work is always rolled back, or committed and then undone.

Plain context managers, usable outside pytest; the fixtures in
:mod:`sessionerror.plugin.database_fixtures` are thin wrappers around them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, MetaData, delete
from sqlalchemy.orm import Session

from sessionerror.models.binding import bind_session
from sessionerror.models.session_guard import require_sync_connection
from sessionerror.testdb.committed_guard import CommittedGuard

__all__ = ["committed_session", "delete_all_rows", "rolled_back_session"]


@contextmanager
def rolled_back_session(connection: Connection) -> Iterator[Session]:
    """Yield an ORM session inside an outer transaction on ``connection`` that is rolled back.

    The session joins the outer transaction through SAVEPOINTs, so code under test may call
    ``commit()`` and ``rollback()`` freely; nothing outlives the block. The session is bound for
    the model's class methods and the factories while the block runs.
    """
    # -- an AsyncConnection is refused naming the async API (issue 10)
    connection = require_sync_connection(
        connection, "rolled_back_session()", async_api="async_rolled_back_session(connection)"
    )
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with bind_session(db):
            yield db
    finally:
        # Rolling back the outer transaction first discards every SAVEPOINT with it, so closing
        # the session afterwards sends no ROLLBACK TO SAVEPOINT: one round trip less per test.
        try:
            if outer.is_active:
                outer.rollback()
        finally:
            db.close()


@contextmanager
def committed_session(
    engine: Engine, metadata: MetaData, *, guard: CommittedGuard | None = None, test: str = ""
) -> Iterator[Session]:
    """Yield a plain ORM session whose commits are real; bring the template's rows back after.

    For tests that need real commits or several connections. The rows of ``metadata``'s tables
    are read when ``guard``'s first committed session starts (without a guard: when this one
    starts); afterwards rows the test added are deleted and rows it deleted or changed put back
    (``alembic_version``, seeded lookup rows). With a ``guard`` (one per database, kept for
    the run) the rows are read once and every connection the test checked out is reset when
    it goes back to the pool. This runs even when the test fails; a cleanup that
    fails twice raises :class:`~sessionerror.testdb.committed_guard.TemplateRestoreError`
    and leaves the reason in ``guard.problem``.
    """
    if guard is None:  # a one-off guard: no listeners to pile up on a long-lived engine
        guard = CommittedGuard()
    else:
        guard.track(engine)
    snapshot = guard.snapshot_for(engine, metadata)
    db = Session(bind=engine)
    try:
        with guard.dirtying(), bind_session(db):
            yield db
    finally:
        db.close()
        guard.restore(engine, snapshot, test=test)


def delete_all_rows(connection: Connection, metadata: MetaData) -> None:
    """Delete all rows from the tables of ``metadata``, children before parents."""
    for table in reversed(metadata.sorted_tables):
        connection.execute(delete(table))
