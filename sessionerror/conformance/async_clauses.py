"""The class through an AsyncSession: writing, reading back without I/O, and validation.

The same database, reached through its async driver (aiosqlite, asyncpg) after the sync clauses
have rolled back; everything runs in one transaction rolled back again. An attribute expired by
the flush (a server-only default, say) cannot be read outside an ``await``: the async clause
reports it. Skipped, with the reason, when the async extra or driver is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect

from sessionerror.conformance.harness import Harness
from sessionerror.conformance.report import ClauseResult, fail, passed, skipped
from sessionerror.errors import first_line

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["ASYNC_CLAUSES", "run_async_clauses"]

#: (clause, title) of the async clauses.
ASYNC_CLAUSES = (
    ("async.write", "through an AsyncSession: written, then methods and properties need no I/O"),
    ("async.validation", "through an AsyncSession: validation needs no I/O of its own"),
)
_TITLES = dict(ASYNC_CLAUSES)
#: The columns the spec's methods and properties read.
_READ_COLUMNS = {"severity", "error_category", "recovery_actions", "created_at"}
_READS: dict[str, Callable[[Any], Any]] = {
    "is_blocking()": lambda e: e.is_blocking(),
    "get_recovery_action_list()": lambda e: e.get_recovery_action_list(),
    "is_user_fixable": lambda e: e.is_user_fixable,
    "requires_admin": lambda e: e.requires_admin,
    "age_minutes": lambda e: e.age_minutes,
}
_FIX = (
    "give created_at a Python-side default (default=utcnow) or set __mapper_args__ = "
    "{'eager_defaults': True}; in the methods read loaded columns only (no lazy relationships)"
)


def _raised(exc: BaseException) -> str:
    return f"raised {type(exc).__name__}: {first_line(exc)[:160]}"


async def _write(harness: Harness, conn: AsyncConnection) -> ClauseResult:
    """Wrong answers are the sync clauses' business: here only what async makes fail."""
    from sqlalchemy.ext.asyncio import AsyncSession

    clause, expected = "async.write", "flushed; the methods and properties read without I/O"
    problems: list[str] = []
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as db:
        parents = await db.run_sync(harness.parents)
        error = harness.new_error(parents.session_1)
        db.add(error)
        try:
            await db.flush()
        except Exception as exc:
            problems.append(f"the flush {_raised(exc)}")
        unloaded = sorted(_READ_COLUMNS & inspect(error).unloaded) if not problems else []
        if unloaded:
            problems.append(
                f"{', '.join(unloaded)} expired by the flush: reading it outside an await "
                "raises MissingGreenlet"
            )
        for label, read in _READS.items() if not problems else ():
            try:
                read(error)
            except Exception as exc:  # MissingGreenlet: something needed I/O
                problems.append(f"{label} {_raised(exc)}")
        await db.rollback()
    if problems:
        return fail(clause, _TITLES[clause], "; ".join(problems), expected, _FIX)
    return passed(clause, _TITLES[clause], expected)


async def _validation(harness: Harness, conn: AsyncConnection) -> ClauseResult:
    """A blank user_message must fail as validation (or be stored: §8 reports that), never
    with an error of the async machinery (a hook doing sync I/O)."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import AsyncSession

    clause, expected = "async.validation", "refused as validation, as with a sync Session"
    raised: BaseException | None = None
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as db:
        parents = await db.run_sync(harness.parents)
        try:
            db.add(harness.new_error(parents.session_1, user_message="  "))
            await db.flush()
        except Exception as exc:
            raised = exc
        await db.rollback()
    names = {cls.__name__ for cls in type(raised).__mro__}
    if raised is None or isinstance(raised, DBAPIError) or "ErrorDataValidationError" in names:
        return passed(clause, _TITLES[clause], expected)
    fix = "validate in __init__, @validates or a before_insert event, without queries of its own"
    return fail(clause, _TITLES[clause], _raised(raised), expected, fix)


async def _run(model: type[Any], url: URL, throwaway: bool) -> list[ClauseResult]:
    from sessionerror.testdb.isolation_async import create_async_test_engine

    engine = create_async_test_engine(url, throwaway=throwaway)
    try:
        async with engine.connect() as conn:
            outer = await conn.begin()
            try:
                harness = Harness(model, conn.sync_connection)  # type: ignore[arg-type]
                return [await _write(harness, conn), await _validation(harness, conn)]
            finally:
                await outer.rollback()
    finally:
        await engine.dispose()


def run_async_clauses(model: type[Any], url: URL, *, throwaway: bool) -> list[ClauseResult]:
    """The async clauses on the database at ``url`` (its async driver), rolled back."""
    from sessionerror.testdb.isolation_async import require_async_extra

    try:
        require_async_extra(url.get_backend_name(), what="the async clauses")
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database cannot be shared with an async driver")
    except (ImportError, ValueError) as exc:
        return [skipped(clause, title, first_line(exc)) for clause, title in ASYNC_CLAUSES]
    coroutine = _run(model, url, throwaway)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:  # called from async code: its own loop
        return pool.submit(asyncio.run, coroutine).result()
