"""Many CI shards on one PostgreSQL server (issue 20): concurrent ``pytest -n 2`` runs, one server.

Starts a throwaway PostgreSQL (the kit's ``initdb`` + ``pg_ctl`` code, as an unprivileged user
when we are root) with ``max_connections = 20``, makes a role of the kind CI uses (LOGIN CREATEDB,
not a superuser: it gets the 17 slots that are not reserved for superusers), generates a project
(sync and async tests, rolled back and committed; a second one with an Alembic history) and, per
mode, launches ``--runs`` concurrent ``pytest -n --workers`` runs in the same checkout (CI shards
share the checkout path, hence the project and its reused schema):

* ``no reuse``: ``SESSIONERROR_REUSE_SCHEMA=false`` (a template built and dropped per run);
* ``reuse``: a kept template, none there before; ``reuse again``: the same, kept from the last;
* ``alembic + reuse``: ``SESSIONERROR_ALEMBIC_INI`` with reuse, none kept before.

Per mode: runs passed, runs failed with the kit's one line about ``max_connections`` and runs
failed otherwise; the peak number of the role's connections (``pg_stat_activity`` sampled every
20 ms by a superuser, who uses a reserved slot); schema builds (the header lines, and in the
Alembic mode a line the first migration appends to a file); wall time; what is left on the
server (``sessionerror_%`` databases; kept ones are listed, then dropped). Then stops the server.

    python benchmarks/shards.py [--runs 8] [--workers 2] [--max-connections 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from sessionerror.testdb.postgres.binaries import find_pg_binaries
from sessionerror.testdb.postgres.local_server import (
    LocalServer,
    start_local_server,
    stop_local_server,
)

HERE = Path(__file__).resolve().parent
ROLE = "shard"
ONE_LINE = "has no connection slot left"

PYTEST_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
asyncio_default_test_loop_scope = function
"""

SYNC_TESTS = """\
import time
import pytest
from sqlalchemy import text


@pytest.mark.parametrize("i", range({rolled}))
def test_rolled_back(sessionerror_db, i):
    sessionerror_db.execute(text("CREATE TEMP TABLE t (n int)"))
    sessionerror_db.execute(text("INSERT INTO t VALUES (:n)"), {{"n": i}})
    assert sessionerror_db.execute(text("SELECT count(*) FROM t")).scalar() == 1
    time.sleep(0.02)  # some work of the test's own


@pytest.mark.sessionerror(committed=True)
@pytest.mark.parametrize("i", range({committed}))
def test_committed(sessionerror_db, i):
    assert sessionerror_db.execute(text("SELECT 1")).scalar() == 1
    sessionerror_db.commit()
"""

ASYNC_TESTS = """\
import asyncio
import pytest
from sqlalchemy import text


@pytest.mark.parametrize("i", range({rolled}))
async def test_async_rolled_back(sessionerror_async_db, i):
    result = await sessionerror_async_db.execute(text("SELECT CAST(:i AS int)"), {{"i": i}})
    assert result.scalar() == i
    await asyncio.sleep(0.02)


@pytest.mark.sessionerror(committed=True)
async def test_async_committed(sessionerror_async_db):
    await sessionerror_async_db.execute(text("SELECT 1"))
    await sessionerror_async_db.commit()
"""

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
"""

ENV_PY = """\
from alembic import context

config = context.config
context.configure(connection=config.attributes["connection"], target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
"""

REVISION = '''\
"""revision {number}"""
import os

import sqlalchemy as sa
from alembic import op

revision = "r{number}"
down_revision = {down!r}


def upgrade():
    if {first}:  # one line per schema build, in the file the benchmark reads
        with open(os.environ["SHARD_BUILD_LOG"], "a") as log:
            log.write("built\\n")
    op.create_table("t{number}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t{number}")
'''


@dataclass
class Mode:
    """One row of the table."""

    name: str
    project: Path
    reuse: bool
    alembic: bool = False
    clean_before: bool = True


@dataclass
class Outcome:
    """What a mode's concurrent runs did."""

    passed: int
    one_line: int
    other: int
    peak: int
    builds: int
    wall: float
    leftovers: list[str]
    kept: list[str]


def write_project(root: Path, *, alembic: bool, revisions: int = 3) -> Path:
    """A small project: sync and async tests, and with ``alembic`` a history of ``revisions``."""
    root.mkdir(parents=True)
    (root / "pytest.ini").write_text(PYTEST_INI)
    (root / "test_sync.py").write_text(SYNC_TESTS.format(rolled=24, committed=4))
    (root / "test_async.py").write_text(ASYNC_TESTS.format(rolled=10))
    if alembic:
        (root / "alembic.ini").write_text(ALEMBIC_INI)
        versions = root / "migrations" / "versions"
        versions.mkdir(parents=True)
        (root / "migrations" / "env.py").write_text(ENV_PY)
        for number in range(1, revisions + 1):
            down = f"r{number - 1}" if number > 1 else None
            (versions / f"r{number}.py").write_text(
                REVISION.format(number=number, down=down, first=number == 1)
            )
    return root


def start_server(max_connections: int) -> LocalServer:
    """The kit's throwaway server, restarted with ``max_connections``."""
    bindir = find_pg_binaries()
    if bindir is None:
        sys.exit("no initdb/pg_ctl found (install PostgreSQL or set SESSIONERROR_PG_BIN_DIR)")
    server = start_local_server(bindir, timeout=10.0)
    admin = create_engine(server.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"ALTER SYSTEM SET max_connections = {max_connections}")
        connection.exec_driver_sql(f"CREATE ROLE {ROLE} LOGIN CREATEDB")
    admin.dispose()
    privileges: dict[str, object] = {}
    if server.run_as is not None:
        privileges = {"user": server.run_as.uid, "group": server.run_as.gid, "extra_groups": []}
    pg_ctl = [str(server.bindir / "pg_ctl"), "-D", str(server.datadir)]
    subprocess.run(
        [*pg_ctl, "-l", str(server.logfile), "-w", "restart"],  # -l: no pipe of ours kept open
        cwd=server.tmpdir,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **privileges,  # type: ignore[arg-type]
    )
    return server


def sample_peak(admin: Engine, stop: threading.Event, peak: list[int]) -> None:
    """Keep the highest number of the role's connections seen until ``stop`` is set."""
    with admin.connect() as connection:
        while not stop.is_set():
            count = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE usename = :role"),
                {"role": ROLE},
            ).scalar_one()
            peak[0] = max(peak[0], int(count))
            time.sleep(0.02)


def kit_databases(admin: Engine) -> tuple[list[str], list[str]]:
    """(left over, kept) databases of the kit on the server."""
    with admin.connect() as connection:
        names = connection.execute(
            text("SELECT datname FROM pg_database WHERE starts_with(datname, 'sessionerror_')")
        ).scalars()
        found = sorted(names)
    kept = [name for name in found if name.startswith("sessionerror_keep_")]
    return [name for name in found if name not in kept], kept


def drop_databases(admin: Engine, names: list[str]) -> None:
    """Drop the kit's kept databases after a mode (they are the benchmark's own)."""
    with admin.connect() as connection:
        for name in names:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_mode(mode: Mode, server: LocalServer, admin: Engine, args: argparse.Namespace) -> Outcome:
    """Launch the concurrent runs of ``mode`` and measure them."""
    logs = Path(args.logs) / mode.name.replace(" ", "-").replace("+", "and")
    logs.mkdir(parents=True, exist_ok=True)
    build_log = logs / "builds.txt"
    build_log.write_text("")
    url = server.url.replace("//postgres@", f"//{ROLE}@")
    env = {key: value for key, value in os.environ.items() if not key.startswith("SESSIONERROR_")}
    env.update(
        SESSIONERROR_POSTGRES_URL=url,
        SESSIONERROR_BACKEND="postgresql",
        SESSIONERROR_REQUIRE_POSTGRES="1",
        SESSIONERROR_REUSE_SCHEMA="true" if mode.reuse else "false",
        SHARD_BUILD_LOG=str(build_log),
    )
    if mode.alembic:
        env["SESSIONERROR_ALEMBIC_INI"] = str(mode.project / "alembic.ini")
    command = [sys.executable, "-m", "pytest", "-n", str(args.workers), "-p", "no:randomly"]
    command += ["-p", "no:cacheprovider", "-rfE"]
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=sample_peak, args=(admin, stop, peak), daemon=True)
    sampler.start()
    started = time.perf_counter()
    runs = []
    for index in range(args.runs):
        out = (logs / f"run{index}.txt").open("w")
        runs.append(
            (subprocess.Popen(command, cwd=mode.project, env=env, stdout=out, stderr=out), out)
        )
    passed = one_line = other = 0
    builds_in_headers = 0
    for index, (process, out) in enumerate(runs):
        process.wait()
        out.close()
        output = (logs / f"run{index}.txt").read_text()
        builds_in_headers += output.count("(built once for this run)")
        if process.returncode == 0:
            passed += 1
        elif ONE_LINE in output and "Traceback" not in output:
            one_line += 1
        else:
            other += 1
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    time.sleep(0.5)  # the last backends exit after their clients
    leftovers, kept = kit_databases(admin)
    marked = len(build_log.read_text().splitlines())
    builds = marked if mode.alembic else builds_in_headers
    return Outcome(passed, one_line, other, peak[0], builds, wall, leftovers, kept)


def table(rows: list[tuple[Mode, Outcome]], args: argparse.Namespace) -> str:
    """The results as a markdown table."""
    lines = [
        f"{args.runs} concurrent `pytest -n {args.workers}` runs, one server with "
        f"max_connections = {args.max_connections} (role without superuser: "
        f"{args.max_connections - 3} slots); per run {args.tests_per_run} tests.",
        "",
        "| mode | runs passed | failed, one line | failed, other | peak connections "
        "| schema builds | wall time | left on the server |",
        "| --- | --: | --: | --: | --: | --: | --: | --- |",
    ]
    for mode, outcome in rows:
        left = str(len(outcome.leftovers))
        if outcome.kept:
            left += f" (+{len(outcome.kept)} kept for reuse, then dropped)"
        lines.append(
            f"| {mode.name} | {outcome.passed}/{args.runs} | {outcome.one_line} "
            f"| {outcome.other} | {outcome.peak} | {outcome.builds} | {outcome.wall:.1f} s "
            f"| {left} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run every mode, print and write the table, stop the server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-connections", type=int, default=20)
    parser.add_argument("--output", default=str(HERE / "shards-results.md"))
    parser.add_argument("--logs", default=None, help="where each run's output goes")
    args = parser.parse_args()
    args.tests_per_run = 24 + 4 + 10 + 1
    workdir = Path(tempfile.mkdtemp(prefix="sessionerror-shards-"))
    args.logs = args.logs or str(workdir / "logs")
    plain = write_project(workdir / "app", alembic=False)
    migrated = write_project(workdir / "app-alembic", alembic=True)
    modes = [
        Mode("no reuse", plain, reuse=False),
        Mode("reuse", plain, reuse=True),
        Mode("reuse again", plain, reuse=True, clean_before=False),
        Mode("alembic + reuse", migrated, reuse=True, alembic=True),
    ]
    server = start_server(args.max_connections)
    admin = create_engine(server.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    rows: list[tuple[Mode, Outcome]] = []
    try:
        for mode in modes:
            if mode.clean_before:
                drop_databases(admin, kit_databases(admin)[1])
            outcome = run_mode(mode, server, admin, args)
            rows.append((mode, outcome))
            print(f"{mode.name}: {outcome}", flush=True)
        drop_databases(admin, kit_databases(admin)[1])
        leftovers, kept = kit_databases(admin)
    finally:
        admin.dispose()
        stop_local_server(server)
    result = table(rows, args)
    print(result)
    print(f"after the cleanup: {len(leftovers) + len(kept)} kit databases; logs in {args.logs}")
    Path(args.output).write_text(
        "# Many CI shards on one server\n\n`python benchmarks/shards.py`\n\n" + result + "\n"
    )


if __name__ == "__main__":
    main()
