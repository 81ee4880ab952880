"""New asyncpg connections on short-lived loops: enum codecs preset, sockets dropped, nothing kept.

Drives :class:`~sessionerror.testdb.isolation_async.AsyncEngineRegistry` directly, one
``asyncio.run`` per "test" the way pytest-asyncio's default function-scoped loops do, on a
scratch database holding the kit's schema and a team's own enum type.
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Column, Enum, Integer, MetaData, Table, create_engine, select, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from sessionerror import Base, SessionError, WorkflowSession
from sessionerror.models.enums import ErrorCategory, ErrorSeverity
from sessionerror.testdb.isolation_async import AsyncEngineRegistry, async_rolled_back_session
from sessionerror.testdb.postgres.asyncpg_connections import ConnectionPresets, ThrowawayConnection
from sessionerror.urls import DatabaseURL


class TeamPriority(enum.Enum):
    """A team's own enum, stored by value under a type name of its own."""

    LOW = "low-prio"
    URGENT = "urgent-prio"


team_metadata = MetaData()
team_tickets = Table(
    "team_tickets",
    team_metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "priority",
        Enum(TeamPriority, name="team_priority", values_callable=lambda e: [m.value for m in e]),
    ),
)


@dataclass
class ScratchDatabase:
    """What the registry reads of a provided database."""

    engine: Engine
    location: str
    backend: str = "postgresql"


@pytest.fixture
def scratch(server_url: str) -> Iterator[ScratchDatabase]:
    """A database with the kit's schema and the team's table, dropped after the test."""
    admin_url = DatabaseURL(server_url).to_sync().parse()
    name = f"sessionerror_asyncpg_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine = create_engine(admin_url.set(database=name))
    Base.metadata.create_all(engine)
    team_metadata.create_all(engine)
    try:
        yield ScratchDatabase(engine, f"postgresql:{name}")
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def introspections(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The type OIDs asyncpg looks up itself (its per-connection introspection), in order."""
    seen: list[list[int]] = []
    original = asyncpg.Connection._introspect_types

    async def counting(self: Any, typeoids: Any, timeout: Any) -> Any:
        seen.append(sorted(typeoids))
        return await original(self, typeoids, timeout)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", counting)
    return seen


Body = Callable[[Any], Coroutine[Any, Any, Any]]


def run_tests(registry: AsyncEngineRegistry, database: ScratchDatabase, *bodies: Body) -> list[Any]:
    """Run each body as one rolled-back test on its own event loop; return what each returned."""
    results = []
    for body in bodies:

        async def one_test(body: Body = body) -> Any:
            engine = await registry.engine_for(database)  # type: ignore[arg-type]
            async with engine.connect() as connection, async_rolled_back_session(connection) as db:
                return await body(db)

        results.append(asyncio.run(one_test()))
    return results


def engines_of(registry: AsyncEngineRegistry) -> list[AsyncEngine]:
    """The registry's live PostgreSQL engines."""
    return registry.engines("postgresql")


async def write_and_read_enums(db: Any) -> tuple[Any, ...]:
    workflow = WorkflowSession(name="enums")
    db.add(workflow)
    db.add(
        SessionError(
            session=workflow,
            error_category="admin_required",
            severity="warning",
            operation_stage="upload",
            user_message="Ask an admin",
            recovery_actions={"actions": ["Ask"]},
        )
    )
    await db.flush()
    await db.execute(team_tickets.insert().values(id=1, priority=TeamPriority.URGENT))
    row = (await db.execute(select(SessionError.error_category, SessionError.severity))).one()
    priority = await db.scalar(select(team_tickets.c.priority))
    raw = await db.scalar(text("select priority from team_tickets"))
    return row.error_category, row.severity, priority, raw


def test_enum_values_decode_on_every_new_connection_without_introspection(
    scratch: ScratchDatabase, introspections: list[list[int]]
) -> None:
    registry = AsyncEngineRegistry()
    try:
        results = run_tests(registry, scratch, *[write_and_read_enums] * 4)
    finally:
        registry.close()
    expected = (ErrorCategory.ADMIN_REQUIRED, ErrorSeverity.WARNING, TeamPriority.URGENT)
    for category, severity, priority, raw in results:
        assert (category, severity, priority) == expected
        assert raw == "urgent-prio"  # the database's label, decoded as text
    # One lookup per database (the cache's own, for every enum type and its array): no test
    # connection introspects, whether pooled (first loop) or not (later loops).
    assert len(introspections) == 1
    names = {record["name"] for record in registry._presets[scratch.location].records or ()}
    assert {"error_category", "error_severity", "team_priority", "_team_priority"} <= names


def test_without_the_preset_every_new_connection_introspects(
    scratch: ScratchDatabase, introspections: list[list[int]]
) -> None:
    registry = AsyncEngineRegistry()
    registry.preset_types = False
    try:
        results = run_tests(registry, scratch, *[write_and_read_enums] * 3)
    finally:
        registry.close()
    assert {result[:3] for result in results} == {
        (ErrorCategory.ADMIN_REQUIRED, ErrorSeverity.WARNING, TeamPriority.URGENT)
    }
    assert len(introspections) >= 3  # what the preset saves: one lookup per connection


async def new_enum_type_in_the_transaction(db: Any) -> tuple[Any, ...]:
    await db.execute(text("CREATE TYPE mood AS ENUM ('calm', 'tense')"))
    await db.execute(text("CREATE TABLE moods (id int PRIMARY KEY, mood mood, moods mood[])"))
    moods = Table(
        "moods",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("mood", Enum("calm", "tense", name="mood")),
    )
    await db.execute(moods.insert().values(id=1, mood="tense"))
    await db.execute(text("UPDATE moods SET moods = ARRAY['calm', 'tense']::mood[]"))
    single = await db.scalar(select(moods.c.mood))
    many = await db.scalar(text("select moods from moods"))
    return single, many


async def team_enum_recreated(db: Any) -> Any:
    """The team's type dropped and made again: same name, a new OID the cache does not know."""
    await db.execute(text("DROP TABLE team_tickets"))
    await db.execute(text("DROP TYPE team_priority"))
    await db.execute(text("CREATE TYPE team_priority AS ENUM ('low-prio', 'urgent-prio')"))
    await db.execute(text("CREATE TABLE team_tickets (id int PRIMARY KEY, priority team_priority)"))
    await db.execute(team_tickets.insert().values(id=2, priority=TeamPriority.LOW))
    return await db.scalar(select(team_tickets.c.priority))


def test_types_the_cache_does_not_know_fall_back_to_introspection(
    scratch: ScratchDatabase, introspections: list[list[int]]
) -> None:
    registry = AsyncEngineRegistry()
    try:
        results = run_tests(
            registry,
            scratch,
            write_and_read_enums,  # loads the cache
            new_enum_type_in_the_transaction,
            team_enum_recreated,
            write_and_read_enums,  # both rolled back: the original types again
        )
    finally:
        registry.close()
    assert results[1] == ("tense", ["calm", "tense"])
    assert results[2] is TeamPriority.LOW
    assert results[3][:3] == (
        ErrorCategory.ADMIN_REQUIRED,
        ErrorSeverity.WARNING,
        TeamPriority.URGENT,
    )
    # The cache's one lookup; after it, asyncpg looks up only OIDs the cache does not hold.
    cached = {record["oid"] for record in registry._presets[scratch.location].records or ()}
    assert len(introspections) >= 3
    assert all(cached.isdisjoint(oids) for oids in introspections[1:])
    with scratch.engine.connect() as connection:
        assert connection.scalar(text("select count(*) from pg_type where typname = 'mood'")) == 0


def _backends(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                text(
                    "select count(*) from pg_stat_activity "
                    "where datname = current_database() and pid <> pg_backend_pid()"
                )
            )
        )


def _settled_backends(engine: Engine, baseline: int) -> int:
    """The backends on the database once those whose client left have exited (up to 3 s)."""
    deadline = time.monotonic() + 3
    count = _backends(engine)
    while count > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
        count = _backends(engine)
    return count


def test_no_connection_is_left_after_many_loops(scratch: ScratchDatabase) -> None:
    baseline = _backends(scratch.engine)
    registry = AsyncEngineRegistry()
    try:
        run_tests(registry, scratch, *[write_and_read_enums] * 12)
        pools = [type(engine.sync_engine.pool).__name__ for engine in engines_of(registry)]
        assert pools == ["NullPool"]  # the first loop's pooled engine went with its loop
    finally:
        registry.close()
    assert _settled_backends(scratch.engine, baseline) == baseline


def test_a_throwaway_connection_closes_gracefully_inside_a_transaction(
    scratch: ScratchDatabase,
) -> None:
    url: URL = scratch.engine.url

    async def main() -> tuple[bool, bool]:
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn, connection_class=ThrowawayConnection)
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO team_tickets (id) VALUES (9)")
        await connection.close()  # graceful: the server rolls back on Terminate
        idle = await asyncpg.connect(dsn, connection_class=ThrowawayConnection)
        await idle.close()  # no transaction: the socket is dropped
        return connection.is_closed(), idle.is_closed()

    assert asyncio.run(main()) == (True, True)
    with scratch.engine.connect() as connection:
        assert connection.scalar(text("select count(*) from team_tickets")) == 0


def test_the_installed_asyncpg_has_the_hooks_the_preset_uses(scratch: ScratchDatabase) -> None:
    """The preset degrades to asyncpg's own introspection when its hooks go: say so here."""
    url = scratch.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def main() -> ConnectionPresets:
        cache = ConnectionPresets()
        connection = await asyncpg.connect(url)
        try:
            await cache.load(connection)
        finally:
            await connection.close()
        return cache

    cache = asyncio.run(main())
    assert cache.problem is None
    assert cache.records


def test_later_connections_skip_only_a_tls_request_the_server_refused(
    scratch: ScratchDatabase,
) -> None:
    registry = AsyncEngineRegistry()
    try:
        run_tests(registry, scratch, write_and_read_enums, write_and_read_enums)
        presets = registry._presets[scratch.location]
        options = registry._unpooled_options(scratch)  # type: ignore[arg-type]
        with scratch.engine.connect() as connection:
            server_tls = connection.exec_driver_sql("show ssl").scalar() == "on"
        assert presets.plaintext is not server_tls  # asyncpg's default: TLS when offered
        assert options["connect_args"].get("ssl", "asked") == ("asked" if server_tls else False)
        # A URL that names its TLS mode keeps it, whatever the first connection saw.
        named = create_engine(scratch.engine.url.update_query_dict({"sslmode": "prefer"}))
        options = registry._unpooled_options(ScratchDatabase(named, scratch.location))  # type: ignore[arg-type]
        assert "ssl" not in options["connect_args"]
        with pytest.MonkeyPatch.context() as patch:  # so does PGSSLMODE, which asyncpg reads
            patch.setenv("PGSSLMODE", "prefer")
            options = registry._unpooled_options(scratch)  # type: ignore[arg-type]
        assert "ssl" not in options["connect_args"]
    finally:
        registry.close()
