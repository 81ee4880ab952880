"""Per-test isolation: a session whose work is always rolled back, or committed and then deleted.

Plain context managers, usable outside pytest; the fixtures in
:mod:`sessionerror.plugin.fixtures` are thin wrappers around them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, MetaData, delete
from sqlalchemy.orm import Session

from sessionerror.models.binding import bind_session
from sessionerror.models.session_guard import require_sync_connection

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
def committed_session(engine: Engine, metadata: MetaData) -> Iterator[Session]:
    """Yield a plain ORM session whose commits are real; delete every row of ``metadata`` after.

    For tests that need real commits or several connections. Deletion (not a re-create) keeps
    this fast; it runs even when the test fails.
    """
    db = Session(bind=engine)
    try:
        with bind_session(db):
            yield db
    finally:
        db.close()
        with engine.begin() as connection:
            delete_all_rows(connection, metadata)


def delete_all_rows(connection: Connection, metadata: MetaData) -> None:
    """Delete all rows from the tables of ``metadata``, children before parents."""
    for table in reversed(metadata.sorted_tables):
        connection.execute(delete(table))
