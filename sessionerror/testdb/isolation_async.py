"""Async test databases: per-event-loop engines and rollback/committed AsyncSessions.

The async counterpart of :mod:`sessionerror.testdb.isolation`, usable outside pytest.

asyncpg (and aiosqlite) connections belong to the event loop that opened them, so an
:class:`AsyncEngineRegistry` keeps one pooled AsyncEngine per running loop and disposes it,
inside that loop, when the loop shuts down (``loop.shutdown_asyncgens()``, which
``asyncio.run`` and pytest-asyncio's runners call). With one loop for the whole run the pool is
reused by every test; with a loop per test every test pays for a new connection.

``sqlalchemy.ext.asyncio`` and the drivers are imported only when an engine is made;
:func:`require_async_extra` says in one line what to install when they are missing.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import URL

from sessionerror.engines.kinds import async_kind
from sessionerror.models.binding_async import bind_async_session
from sessionerror.testdb.committed_guard import CommittedGuard
from sessionerror.urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

    from sessionerror.testdb.postgres.asyncpg_connections import ConnectionPresets
    from sessionerror.testdb.provided import ProvidedDatabase

__all__ = [
    "ASYNC_EXTRA",
    "AsyncEngineRegistry",
    "async_committed_session",
    "async_rolled_back_session",
    "create_async_test_engine",
    "install_async_sqlite_listeners",
    "require_async_extra",
]

#: How to install what the async fixtures need.
ASYNC_EXTRA = 'pip install "sessionerror[async]"'
_DRIVER_MODULE = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}


class AsyncExtraMissingError(ImportError):
    """The ``async`` extra (greenlet, asyncpg, aiosqlite) is not installed."""


def require_async_extra(backend: str, *, what: str = "the async fixtures") -> None:
    """Import SQLAlchemy's asyncio extension and the backend's async driver, or raise
    :class:`AsyncExtraMissingError` with one line naming the extra."""
    modules = ["greenlet", "sqlalchemy.ext.asyncio", _DRIVER_MODULE.get(backend, "")]
    missing = []
    for name in filter(None, modules):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise AsyncExtraMissingError(
            f"{what} need the async extra: {ASYNC_EXTRA} (cannot import {', '.join(missing)})"
        )


def install_async_sqlite_listeners(engine: AsyncEngine, *, throwaway: bool = False) -> None:
    """Foreign keys on and a real BEGIN for an aiosqlite engine (listeners on ``sync_engine``).

    aiosqlite inherits pysqlite's missing BEGIN: without it the first RELEASE SAVEPOINT commits
    and rollback isolation leaks rows. ``throwaway`` also keeps the journal in memory.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the "begin" listener emits BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            if throwaway:
                cursor.execute("PRAGMA journal_mode=MEMORY")
                cursor.execute("PRAGMA synchronous=OFF")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def create_async_test_engine(url: URL, *, throwaway: bool = False, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine on the database of the sync ``url`` (psycopg2 -> asyncpg, sqlite ->
    aiosqlite), with the SQLite listeners installed."""
    from sqlalchemy.ext.asyncio import create_async_engine

    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError(
            "the async fixtures cannot share an in-memory SQLite database with the sync ones; "
            "set sessionerror_sqlite_path = file (the default)"
        )
    engine = create_async_engine(DatabaseURL(url).to_async().parse(), **kwargs)
    if url.get_backend_name() == "sqlite":
        install_async_sqlite_listeners(engine, throwaway=throwaway)
    return engine


@dataclass
class _LoopEngine:
    loop: asyncio.AbstractEventLoop
    engine: AsyncEngine
    closer: Any  # the async generator that disposes the engine when the loop shuts down


class AsyncEngineRegistry:
    """The AsyncEngines of the run's databases, fitted to how long the event loops live.

    An asyncpg connection belongs to the loop that opened it. On a long-lived loop (pytest-asyncio
    with session-scoped loops) each database gets a pooled engine per loop, disposed inside that
    loop when it shuts down. Once a loop of a database has ended, loops are evidently short-lived
    (the default function-scoped loops): from then on one engine without a pool serves every loop
    of that database — each checkout opens a connection on the running loop and closes it at
    checkin — so a test pays for a connection, not for a new engine and its dialect set-up.

    On PostgreSQL a new connection also skips asyncpg's per-connection enum introspection (looked
    up once per database, preset on each connection) and, without a pool, drops its socket
    instead of a graceful close and skips a TLS request the server refused the first
    connection (:mod:`sessionerror.testdb.postgres.asyncpg_connections`).
    ``preset_types`` (with it the TLS shortcut) and ``throwaway_connections`` turn each off (the
    benchmark compares).
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], _LoopEngine] = {}
        self._loops_ended: set[str] = set()
        self._unpooled: dict[str, AsyncEngine] = {}
        self._presets: dict[str, ConnectionPresets] = {}
        self.preset_types = True
        self.throwaway_connections = True

    async def engine_for(self, database: ProvidedDatabase) -> AsyncEngine:
        """The AsyncEngine of ``database`` for the running loop (created on first use)."""
        loop = asyncio.get_running_loop()
        location = database.location
        key = (location, id(loop))
        entry = self._entries.get(key)
        if entry is not None and entry.loop is loop:
            return entry.engine
        unpooled = self._unpooled.get(location)
        if unpooled is not None:
            return unpooled
        require_async_extra(database.backend)
        throwaway = not location.endswith("(reused)")
        from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

        if location in self._loops_ended:
            engine = create_async_test_engine(
                database.engine.url,
                throwaway=throwaway,
                poolclass=NullPool,
                **self._unpooled_options(database),
            )
            self._unpooled[location] = engine
            self._install_presets(location, engine)
            return engine
        # Pooled on both backends (SQLAlchemy 2.0 defaults aiosqlite files to NullPool).
        engine = create_async_test_engine(
            database.engine.url, throwaway=throwaway, poolclass=AsyncAdaptedQueuePool
        )
        closer = self._dispose_at_shutdown(key, engine)
        await closer.__anext__()  # registers it with the loop's shutdown_asyncgens()
        self._entries[key] = _LoopEngine(loop, engine, closer)
        self._install_presets(location, engine)
        return engine

    def _unpooled_options(self, database: ProvidedDatabase) -> dict[str, Any]:
        """Engine options for connections that live one checkout: asyncpg drops the socket, and
        skips the TLS request a server without TLS refused the first connection."""
        if database.backend != "postgresql":
            return {}
        from sessionerror.testdb.postgres.asyncpg_connections import ThrowawayConnection

        connect_args: dict[str, Any] = {}
        if self.throwaway_connections:
            connect_args["connection_class"] = ThrowawayConnection
        presets = self._presets.get(database.location)
        tls_named = {"ssl", "sslmode"} & set(database.engine.url.query) or os.getenv("PGSSLMODE")
        if presets is not None and presets.plaintext and not tls_named:
            connect_args["ssl"] = False
        return {"connect_args": connect_args} if connect_args else {}

    def _install_presets(self, location: str, engine: AsyncEngine) -> None:
        """Preset the database's enum types on each new asyncpg connection of ``engine``; the
        first connection to the database looks them up."""
        if engine.dialect.name != "postgresql" or not self.preset_types:
            return
        from sessionerror.testdb.postgres.asyncpg_connections import ConnectionPresets

        presets = self._presets.setdefault(location, ConnectionPresets())
        event.listen(engine.sync_engine, "connect", presets.on_connect)

    async def _dispose_at_shutdown(
        self, key: tuple[str, int], engine: AsyncEngine
    ) -> AsyncIterator[None]:
        try:
            yield
        finally:
            self._entries.pop(key, None)
            self._loops_ended.add(key[0])
            await engine.dispose()

    def engines(self, backend: str | None = None) -> list[AsyncEngine]:
        """The live AsyncEngines (of one backend's database, when given)."""
        live = [entry.engine for entry in self._entries.values()]
        live += self._unpooled.values()
        return [engine for engine in live if backend is None or engine.dialect.name == backend]

    def close(self) -> None:
        """Forget every engine; those of loops that ended without shutting down their async
        generators are dropped without touching their connections."""
        for entry in list(self._entries.values()):
            entry.engine.sync_engine.dispose(close=False)
        for engine in self._unpooled.values():
            engine.sync_engine.dispose(close=False)  # no pool: nothing is open
        self._entries.clear()
        self._unpooled.clear()


@asynccontextmanager
async def async_rolled_back_session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """Yield an AsyncSession inside an outer transaction on ``connection`` that is rolled back.

    ``await db.commit()`` / ``await db.rollback()`` are allowed (SAVEPOINTs); attributes stay
    loaded after a commit (``expire_on_commit=False``, as FastAPI apps configure it). The
    session is bound (:func:`~sessionerror.bind_async_session`) while the block runs.
    """
    from sqlalchemy.ext.asyncio import AsyncSession

    if async_kind(connection) != "AsyncConnection":
        raise TypeError(
            f"async_rolled_back_session() needs an AsyncConnection, got "
            f"{type(connection).__name__}; for a sync Connection use rolled_back_session()"
        )
    outer = await connection.begin()
    db = AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        with bind_async_session(db):
            yield db
    finally:
        try:
            if outer.is_active:
                await outer.rollback()
        finally:
            await db.close()


@asynccontextmanager
async def async_committed_session(
    engine: AsyncEngine,
    metadata: MetaData,
    *,
    guard: CommittedGuard | None = None,
    test: str = "",
) -> AsyncIterator[AsyncSession]:
    """Yield an AsyncSession whose commits are real; bring the template's rows back after.

    As :func:`~sessionerror.testdb.isolation.committed_session`: rows the test added are
    deleted, seeded rows put back, connections it used reset at checkin; a cleanup whose
    connection died is retried once on a fresh one (SQLAlchemy 2.0 does not always see an
    asyncpg connection break, so the session may hand a dead one back to the pool).
    """
    from sqlalchemy.ext.asyncio import AsyncSession

    if guard is None:  # a one-off guard: no listeners to pile up on a long-lived engine
        guard = CommittedGuard()
    else:
        guard.track(engine.sync_engine)
    snapshot = await guard.snapshot_for_async(engine, metadata)
    db = AsyncSession(bind=engine, expire_on_commit=False)
    try:
        with guard.dirtying(), bind_async_session(db):
            yield db
    finally:
        await db.close()
        await guard.restore_async(engine, snapshot, test=test)
