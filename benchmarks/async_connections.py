"""What a new asyncpg connection per test costs, option by option (used by async_isolation.py).

One process, no pytest: each "test" is one ``asyncio.run`` (a fresh event loop, as with
pytest-asyncio's default function-scoped loops) that takes the kit's AsyncEngine for the loop
from an ``AsyncEngineRegistry``, opens a connection, runs the rolled-back session with a small
write and read of enum columns, and closes. The registry's two switches are turned on and off,
so each option's saving shows on its own; a pooled connection on one loop and a raw asyncpg
connection give the bounds.

    python benchmarks/async_connections.py [--pg-url URL]
"""

from __future__ import annotations

import json
import subprocess
import sys

CONNECTION_CODE = """
import asyncio, json, statistics, sys, time
from dataclasses import dataclass
import asyncpg
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sessionerror import Base, SessionError, WorkflowSession
from sessionerror.testing import async_rolled_back_session
from sessionerror.testdb.isolation_async import AsyncEngineRegistry

sync = create_engine(sys.argv[1])
Base.metadata.create_all(sync)
ACTIONS = {"actions": ["Check the file"]}


@dataclass
class Database:  # what the registry reads of a provided database
    engine: Engine
    location: str = "bench"
    backend: str = "postgresql"


POOLER = Database(create_engine(sys.argv[2]), "pooler") if len(sys.argv) > 2 else None


async def one_test(registry, i, database=Database(sync)):
    engine = await registry.engine_for(database)
    async with engine.connect() as connection, async_rolled_back_session(connection) as db:
        workflow = WorkflowSession(name=f"bench {i}")
        db.add(workflow)
        db.add(SessionError(session=workflow, error_category="user_fixable", severity="blocking",
                            operation_stage="upload", user_message="Not a CSV",
                            recovery_actions=ACTIONS))
        await db.flush()
        found = await db.scalars(select(SessionError).where(SessionError.session_id == workflow.id))
        assert found.one().error_category.value == "user_fixable"


def fresh_loops(preset, throwaway, n, database=Database(sync)):
    registry = AsyncEngineRegistry()
    registry.preset_types, registry.throwaway_connections = preset, throwaway
    times = []
    for i in range(n + 3):  # the first loop builds the pooled engine and looks the types up
        started = time.perf_counter()
        asyncio.run(one_test(registry, i, database))
        times.append(time.perf_counter() - started)
    registry.close()
    return statistics.median(times[3:])


def one_loop(n):
    registry = AsyncEngineRegistry()

    async def main():
        times = []
        for i in range(n + 3):
            started = time.perf_counter()
            await one_test(registry, i)
            times.append(time.perf_counter() - started)
        return statistics.median(times[3:])

    with asyncio.Runner() as runner:
        result = runner.run(main())
    registry.close()
    return result


dsn = sync.url.set(drivername="postgresql").render_as_string(hide_password=False)


def raw(terminate, n):
    async def main():
        started = time.perf_counter()
        connection = await asyncpg.connect(dsn)
        if terminate:
            connection.terminate()
        else:
            await connection.close()
        return time.perf_counter() - started

    return statistics.median(asyncio.run(main()) for _ in range(n))


CELLS = {
    "fresh loop: introspection, graceful close (before)": lambda n: fresh_loops(False, False, n),
    "fresh loop: enum types preset": lambda n: fresh_loops(True, False, n),
    "fresh loop: socket dropped at close": lambda n: fresh_loops(False, True, n),
    "fresh loop: both (the kit)": lambda n: fresh_loops(True, True, n),
    "one loop, pooled connection": one_loop,
    "raw asyncpg connect + close": lambda n: raw(False, n),
    "raw asyncpg connect + terminate": lambda n: raw(True, n),
}
if POOLER is not None:
    CELLS["fresh loop through PgBouncer (session pooling): before"] = (
        lambda n: fresh_loops(False, False, n, POOLER)
    )
    CELLS["fresh loop through PgBouncer (session pooling): the kit"] = (
        lambda n: fresh_loops(True, True, n, POOLER)
    )
best = {}
for _round in range(3):  # interleaved, best round per cell: the machine's load drifts
    for name, cell in CELLS.items():
        best[name] = min(best.get(name, float("inf")), cell(80) * 1000)
Base.metadata.drop_all(sync)
sync.dispose()
print(json.dumps(best))
"""


def connection_cycles(database_url: str, pooler_url: str | None = None) -> dict[str, float]:
    """Median ms per new-connection test cycle for each option, on ``database_url`` (a sync
    PostgreSQL URL of a scratch database; the kit's schema is created and dropped in it), and
    through a connection pooler in front of it when ``pooler_url`` names the same database."""
    command = [sys.executable, "-c", CONNECTION_CODE, database_url]
    process = subprocess.run(
        command + [pooler_url] * bool(pooler_url), capture_output=True, text=True
    )
    if process.returncode != 0:
        raise RuntimeError(process.stderr.strip().splitlines()[-1])
    result: dict[str, float] = json.loads(process.stdout.strip().splitlines()[-1])
    return result


def connection_lines(cycles: dict[str, float]) -> list[str]:
    """The markdown table of :func:`connection_cycles`."""
    lines = [
        "",
        "A new connection per test, option by option (one process, no pytest: one `asyncio.run`",
        "per test takes the registry's engine, writes and reads a row with enum columns in the",
        "rolled-back session; median ms per test, best of three interleaved rounds):",
        "",
        "| per test | ms |",
        "| --- | --: |",
    ]
    lines += [f"| {name} | {ms:.2f} |" for name, ms in cycles.items()]
    return lines


if __name__ == "__main__":
    import argparse
    import os
    import uuid

    from sqlalchemy import create_engine

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from sessionerror.urls import DatabaseURL

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "SESSIONERROR_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--pooler-url", default="", help="a pooler (PgBouncer) in front of --pg-url's server"
    )
    args = parser.parse_args()
    admin_url = DatabaseURL(args.pg_url).to_sync().parse()
    name = f"sessionerror_bench_conn_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        pooler = args.pooler_url and DatabaseURL(args.pooler_url).to_sync().parse().set(
            database=name
        )
        pooler_url = pooler.render_as_string(hide_password=False) if pooler else None
        print("\n".join(connection_lines(connection_cycles(url, pooler_url))))
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
