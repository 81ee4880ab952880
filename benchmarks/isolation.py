"""Isolation benchmark: per-test overhead of the sessionerror fixtures against the alternatives.

Generates one 300-test suite per variant into a temporary directory (every test inserts a
WorkflowSession with three SessionErrors, flushes and queries them), runs each suite as its own
pytest process and prints a markdown table of the per-test overhead over a baseline that does the
same work on one shared session that is never rolled back. Also measures the raw
BEGIN / SAVEPOINT / ROLLBACK TO / ROLLBACK floor of each driver and the plugin's start-up cost.

    python benchmarks/isolation.py            # default: about 4-6 minutes on 2 cores
    python benchmarks/isolation.py --quick    # about 2 minutes, fewer runs and tests

Not a test: it prints numbers and writes ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
HERE = Path(__file__).resolve().parent
#: Every database this script (or its generated suites) creates starts with this.
DB_PREFIX = "sessionerror_bench_"
HEAVY_MODULES = (
    "sqlalchemy.dialects.postgresql",
    "psycopg2",
    "psycopg",
    "factory",
    "faker",
    "testcontainers",
)

# -- generated suites ------------------------------------------------------------------------

TEST_MODULE = """\
import pytest

from sessionerror.models.enums import ErrorCategory
from sessionerror.models import SessionError, WorkflowSession

ACTIONS = {{"actions": ["Check the file", "Upload it again"]}}


{marks}@pytest.mark.parametrize("i", range({n_tests}))
def test_session_errors(db, i):
    workflow = WorkflowSession(name=f"bench {{i}}")
    db.add(workflow)
    db.add_all(
        [
            SessionError(session=workflow, error_category=ErrorCategory.USER_FIXABLE,
                         severity="blocking", operation_stage="upload",
                         user_message="The file is not a CSV", recovery_actions=ACTIONS),
            SessionError(session=workflow, error_category=ErrorCategory.USER_FIXABLE,
                         severity="warning", operation_stage="processing",
                         user_message="Column 3 is empty", recovery_actions=ACTIONS),
            SessionError(session=workflow, error_category=ErrorCategory.TEMPORARY,
                         severity="info", operation_stage="jira_export",
                         user_message="Jira is slow", recovery_actions=ACTIONS),
        ]
    )
    db.flush()
    found = SessionError.find_by_category(workflow.id, ErrorCategory.USER_FIXABLE, db=db)
    assert len(found) == 2
    assert SessionError.has_blocking_errors(workflow.id, db=db)
    assert not SessionError.find_by_category(workflow.id, "admin_required", db=db)
"""

# Records when each test's setup starts and when the session finishes (read by the parent).
TIMING_CONFTEST = """\
import json
import os
import time

import pytest

_TIMES = {"conftest_wall": time.time(), "setup": [], "cpu": []}


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SESSIONERROR_BENCH_WARMUP"):
        del items[2:]  # a warm-up run: fills the bytecode cache, opens the database once


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if not _TIMES["setup"]:
        _TIMES["first_setup_wall"] = time.time()
    _TIMES["setup"].append(time.perf_counter())
    _TIMES["cpu"].append(time.process_time())


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    _TIMES["finish"] = time.perf_counter()
    _TIMES["exitstatus"] = int(exitstatus)
    with open(os.environ["SESSIONERROR_BENCH_OUT"], "w") as handle:
        json.dump(_TIMES, handle)
"""

PG_HELPERS = """\
import os

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

PG_URL = os.environ["SESSIONERROR_BENCH_PG_URL"]
DB_NAME = os.environ["SESSIONERROR_BENCH_DB"]


def _admin(statement):
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        admin.dispose()


def make_engine():
    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    return create_engine(make_url(PG_URL).set(database=DB_NAME))


def drop_engine(engine):
    engine.dispose()
    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
"""

SQLITE_HELPERS = """\
import os
from pathlib import Path

from sessionerror.engines.sqlite import create_sqlite_engine

DB_PATH = Path(os.environ["SESSIONERROR_BENCH_SQLITE"])


def make_engine():
    DB_PATH.unlink(missing_ok=True)
    return create_sqlite_engine(DB_PATH)


def drop_engine(engine):
    engine.dispose()
    DB_PATH.unlink(missing_ok=True)
"""

BASELINE_FIXTURES = '''\
import pytest
from sqlalchemy.orm import Session

from sessionerror.models import Base


@pytest.fixture(scope="session")
def _shared_session():
    engine = make_engine()
    Base.metadata.create_all(engine)
    shared = Session(engine)
    yield shared
    shared.close()
    drop_engine(engine)


@pytest.fixture
def db(_shared_session):
    """The same session for every test; never rolled back (the work's own cost)."""
    return _shared_session
'''

NAIVE_FIXTURES = '''\
import pytest
from sqlalchemy.orm import Session

from sessionerror.models import Base


@pytest.fixture(scope="session")
def _engine():
    engine = make_engine()
    yield engine
    drop_engine(engine)


@pytest.fixture
def db(_engine):
    """create_all, a session, drop_all: per test."""
    Base.metadata.create_all(_engine)
    session = Session(_engine)
    yield session
    session.close()
    Base.metadata.drop_all(_engine)
'''

PLUGIN_FIXTURES = """\
import pytest


@pytest.fixture
def db(sessionerror_db):
    return sessionerror_db
"""

# Diagnostic only: the plugin's isolation context manager in a minimal fixture of our own (no
# plugin fixtures, no statement recorder); the gap to "ours" is the plugin's fixture layer.
LIBRARY_FIXTURES = """\
import pytest

from sessionerror.testing import rolled_back_session
from sessionerror.models import Base


@pytest.fixture(scope="session")
def _engine():
    engine = make_engine()
    Base.metadata.create_all(engine)
    yield engine
    drop_engine(engine)


@pytest.fixture
def db(_engine):
    with _engine.connect() as connection, rolled_back_session(connection) as session:
        yield session
"""

# Diagnostic only: what the plugin's SQLite engine would cost with the rollback journal kept in
# memory instead of a -journal file created and deleted by every test's transaction.
JOURNAL_IN_MEMORY = """

@pytest.fixture(scope="session", autouse=True)
def _journal_in_memory(sessionerror_engine):
    from sqlalchemy import event

    def pragma(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

    event.listen(sessionerror_engine, "connect", pragma)
    sessionerror_engine.dispose()
"""

PGPP_FIXTURES = '''\
import os

import pytest
from pytest_postgresql import factories
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from sessionerror.models import Base

_PG = make_url(os.environ["SESSIONERROR_BENCH_PG_URL"])


def _psycopg_url(host, port, user, dbname, password):
    return URL.create("postgresql+psycopg", username=user, password=password or None,
                      host=host, port=int(port), database=dbname)


def load_schema(host, port, user, dbname, password, **_):
    """Builds the schema once, in pytest-postgresql's template database."""
    engine = create_engine(_psycopg_url(host, port, user, dbname, password), poolclass=NullPool)
    Base.metadata.create_all(engine)
    engine.dispose()


postgresql_noproc = factories.postgresql_noproc(
    host=_PG.host or "127.0.0.1",
    port=_PG.port or 5432,
    user=_PG.username or "postgres",
    password=_PG.password or "",
    dbname=os.environ["SESSIONERROR_BENCH_DB"],
    maintenance_dbname=_PG.database or "postgres",
    load=[load_schema],
)
postgresql = factories.postgresql("postgresql_noproc")


class _Current:
    connection = None


@pytest.fixture(scope="session")
def _engine():
    """One engine whose connections are the per-test database's psycopg connection."""
    engine = create_engine("postgresql+psycopg://", creator=lambda: _Current.connection,
                           poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def db(postgresql, _engine):
    _Current.connection = postgresql
    session = Session(_engine)
    yield session
    session.close()
'''


@dataclass
class Variant:
    """One generated suite and how to run it."""

    key: str
    label: str
    backend: str
    fixtures: str
    n_tests: int
    baseline: str | None
    uses_plugin: bool = False
    committed: bool = False
    slow: bool = False
    helpers: str = ""
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """Timings of one pytest process, in seconds."""

    steady_per_test: float
    cpu_per_test: float
    suite: float
    startup: float
    wall: float


@dataclass
class Summary:
    """Median over runs of one variant, with its overheads over the baseline."""

    variant: Variant
    runs: list[RunResult]
    #: One line per failed run (a failed run is retried in the next round, up to two failures).
    errors: list[str] = field(default_factory=list)
    overhead_ms: float | None = None
    cpu_overhead_ms: float | None = None
    amortised_ms: float | None = None
    startup_delta_ms: float | None = None

    def median(self, name: str) -> float:
        """Median of one RunResult field over the runs."""
        return statistics.median(getattr(run, name) for run in self.runs)


def build_variants(
    n_tests: int, slow_tests: int, pgpp_tests: int, pg_url: str, tag: str
) -> list[Variant]:
    """The suites: baselines, ours (rollback/committed), pytest-postgresql, naive."""
    pg_args = [
        "--sessionerror-backend",
        "postgresql",
        "--sessionerror-postgres-url",
        pg_url,
        "--sessionerror-require-postgres",
    ]
    sqlite_args = ["--sessionerror-backend", "sqlite"]
    off = ["-p", "no:sessionerror"]
    return [
        Variant(
            "base-sqlite",
            "baseline (shared session)",
            "sqlite",
            BASELINE_FIXTURES,
            n_tests,
            None,
            helpers=SQLITE_HELPERS,
            args=off,
        ),
        Variant(
            "base-pg",
            "baseline (shared session)",
            "postgresql",
            BASELINE_FIXTURES,
            n_tests,
            None,
            helpers=PG_HELPERS,
            env={"SESSIONERROR_BENCH_DB": f"{tag}base"},
            args=off,
        ),
        Variant(
            "ours-rb-sqlite",
            "ours: rollback",
            "sqlite",
            PLUGIN_FIXTURES,
            n_tests,
            "base-sqlite",
            uses_plugin=True,
            args=sqlite_args,
        ),
        Variant(
            "ours-rb-sqlite-mem",
            "diagnostic: ours rollback + journal_mode=MEMORY",
            "sqlite",
            PLUGIN_FIXTURES + JOURNAL_IN_MEMORY,
            n_tests,
            "base-sqlite",
            uses_plugin=True,
            args=sqlite_args,
        ),
        Variant(
            "ours-rb-pg",
            "ours: rollback",
            "postgresql",
            PLUGIN_FIXTURES,
            n_tests,
            "base-pg",
            uses_plugin=True,
            args=pg_args,
        ),
        Variant(
            "lib-rb-sqlite",
            "diagnostic: rolled_back_session() in a minimal fixture",
            "sqlite",
            LIBRARY_FIXTURES,
            n_tests,
            "base-sqlite",
            helpers=SQLITE_HELPERS,
            args=off,
        ),
        Variant(
            "lib-rb-pg",
            "diagnostic: rolled_back_session() in a minimal fixture",
            "postgresql",
            LIBRARY_FIXTURES,
            n_tests,
            "base-pg",
            helpers=PG_HELPERS,
            env={"SESSIONERROR_BENCH_DB": f"{tag}lib"},
            args=off,
        ),
        Variant(
            "ours-cm-sqlite",
            "ours: committed",
            "sqlite",
            PLUGIN_FIXTURES,
            n_tests,
            "base-sqlite",
            uses_plugin=True,
            committed=True,
            args=sqlite_args,
        ),
        Variant(
            "ours-cm-pg",
            "ours: committed",
            "postgresql",
            PLUGIN_FIXTURES,
            n_tests,
            "base-pg",
            uses_plugin=True,
            committed=True,
            args=pg_args,
        ),
        Variant(
            "naive-sqlite",
            "naive create_all/drop_all",
            "sqlite",
            NAIVE_FIXTURES,
            slow_tests,
            "base-sqlite",
            helpers=SQLITE_HELPERS,
            slow=True,
            args=off,
        ),
        Variant(
            "naive-pg",
            "naive create_all/drop_all",
            "postgresql",
            NAIVE_FIXTURES,
            slow_tests,
            "base-pg",
            helpers=PG_HELPERS,
            slow=True,
            env={"SESSIONERROR_BENCH_DB": f"{tag}naive"},
            args=off,
        ),
        Variant(
            "pgpp",
            "pytest-postgresql `postgresql`",
            "postgresql",
            PGPP_FIXTURES,
            pgpp_tests,
            "base-pg",
            slow=True,
            env={"SESSIONERROR_BENCH_DB": f"{tag}pgpp"},
            args=off,
        ),
    ]


def write_suite(root: Path, variant: Variant) -> Path:
    """Write the variant's conftest, test module and pytest.ini; return its directory."""
    directory = root / variant.key
    directory.mkdir(parents=True)
    (directory / "pytest.ini").write_text("[pytest]\n")
    parts = [TIMING_CONFTEST, variant.helpers, variant.fixtures]
    (directory / "conftest.py").write_text("\n\n".join(part for part in parts if part))
    marks = "@pytest.mark.sessionerror(committed=True)\n" if variant.committed else ""
    (directory / "test_bench.py").write_text(
        TEST_MODULE.format(marks=marks, n_tests=variant.n_tests)
    )
    return directory


def child_env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of the pytest processes: bytecode cached in ``root`` (never in the repo)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONHASHSEED="0", PYTHONPYCACHEPREFIX=str(root / "pycache"))
    env.update(extra or {})
    return env


def run_suite(
    directory: Path, variant: Variant, pg_url: str, *, warmup: bool = False
) -> RunResult | None:
    """Run one suite in a fresh pytest process and turn its timestamps into a RunResult."""
    out = directory / "times.json"
    out.unlink(missing_ok=True)
    env = child_env(
        directory.parent,
        {
            **variant.env,
            "SESSIONERROR_BENCH_OUT": str(out),
            "SESSIONERROR_BENCH_PG_URL": pg_url,
            "SESSIONERROR_BENCH_SQLITE": str(directory / "bench.db"),
            "SESSIONERROR_BENCH_WARMUP": "1" if warmup else "",
        },
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "test_bench.py"]
    launched = time.time()
    process = subprocess.run(
        [*command, *variant.args], cwd=directory, env=env, capture_output=True, text=True
    )
    exited = time.time()
    if process.returncode != 0 or not out.exists():
        tail = (process.stdout + process.stderr).strip().splitlines()[-12:]
        raise RuntimeError(f"exit {process.returncode}:\n    " + "\n    ".join(tail))
    if warmup:
        return None
    times: dict[str, Any] = json.loads(out.read_text())
    setup: list[float] = times["setup"]
    if len(setup) != variant.n_tests:
        raise RuntimeError(f"ran {len(setup)} tests, expected {variant.n_tests}")
    # Lower quartile of the per-test times (setup start to the next setup start, tests 2..n):
    # robust to the bursts of load other processes cause on a shared machine.
    steady = statistics.quantiles([later - earlier for earlier, later in pairwise(setup[1:])], n=4)[
        0
    ]
    cpu = statistics.median(later - earlier for earlier, later in pairwise(times["cpu"][1:]))
    # Process start to the end of the first test, less one steady test: interpreter, pytest,
    # plugins, collection and the session-scoped fixtures (database, schema).
    startup = times["first_setup_wall"] - launched + (setup[1] - setup[0]) - steady
    return RunResult(steady, cpu, times["finish"] - setup[0], startup, exited - launched)


# -- floors and start-up ---------------------------------------------------------------------


def psycopg2_cycle_ms(pg_url: str, cycles: int) -> float:
    """Median ms of BEGIN / SAVEPOINT / ROLLBACK TO SAVEPOINT / ROLLBACK with psycopg2."""
    import psycopg2

    params = make_url(pg_url).translate_connect_args(username="user", database="dbname")
    connection = psycopg2.connect(**params)
    connection.autocommit = True
    cursor = connection.cursor()

    def cycle() -> None:
        cursor.execute("BEGIN")
        cursor.execute("SAVEPOINT sp")
        cursor.execute("ROLLBACK TO SAVEPOINT sp")
        cursor.execute("ROLLBACK")

    try:
        return _median_ms(cycle, cycles)
    finally:
        connection.close()


def sqlite_cycle_ms(path: Path, cycles: int) -> float:
    """The same cycle with sqlite3 in autocommit mode (isolation_level=None) on a file."""
    connection = sqlite3.connect(path, isolation_level=None)

    def cycle() -> None:
        connection.execute("BEGIN")
        connection.execute("SAVEPOINT sp")
        connection.execute("ROLLBACK TO SAVEPOINT sp")
        connection.execute("ROLLBACK")

    try:
        return _median_ms(cycle, cycles)
    finally:
        connection.close()


def library_cycles(pg_url: str, root: Path, cycles: int) -> dict[str, tuple[float, float]]:
    """Per backend: ms of the plugin's isolation cycle in-process, and of the raw driver cycle.

    Both run one ``SELECT 1`` inside: ``engine.connect()`` + ``rolled_back_session()`` (BEGIN,
    SAVEPOINT, ROLLBACK TO, ROLLBACK, pool checkout/return, Session) against the same statements
    sent straight through the driver. No pytest, so little noise: the plugin's Python cost.
    """
    import psycopg2
    from sqlalchemy import create_engine, text

    from sessionerror.engines.sqlite import create_sqlite_engine
    from sessionerror.testing import rolled_back_session

    statement = text("SELECT 1")
    statements = ("BEGIN", "SAVEPOINT sp", "SELECT 1", "ROLLBACK TO SAVEPOINT sp", "ROLLBACK")
    results: dict[str, tuple[float, float]] = {}
    engines = {
        "sqlite": create_sqlite_engine(root / "cycle.db"),
        "postgresql": create_engine(pg_url),
    }
    params = make_url(pg_url).translate_connect_args(username="user", database="dbname")
    raw_connections: dict[str, Any] = {
        "sqlite": sqlite3.connect(root / "cycle-raw.db", isolation_level=None),
        "postgresql": psycopg2.connect(**params),
    }
    raw_connections["postgresql"].autocommit = True
    try:
        for backend, engine in engines.items():
            raw = raw_connections[backend].cursor()

            def ours(engine: Any = engine) -> None:
                with engine.connect() as connection, rolled_back_session(connection) as db:
                    db.execute(statement).scalar()

            def driver(raw: Any = raw) -> None:
                for sql in statements:
                    raw.execute(sql)
                    if sql == "SELECT 1":
                        raw.fetchone()

            results[backend] = (_median_ms(ours, cycles), _median_ms(driver, cycles))
    finally:
        for engine in engines.values():
            engine.dispose()
        for connection in raw_connections.values():
            connection.close()
    return results


def _median_ms(action: Callable[[], None], cycles: int) -> float:
    for _ in range(min(200, cycles)):
        action()
    samples = []
    for _ in range(cycles):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


@dataclass
class StartupCost:
    """What loading the plugin adds to pytest's start-up."""

    #: Median wall time of ``pytest --collect-only`` per project, with and without the plugin.
    walls: dict[str, tuple[float, float]]
    #: Median ms of ``import sessionerror.plugin`` after ``import pytest``.
    import_ms: float
    #: Heavy modules found in sys.modules after that import.
    heavy: list[str]

    def added_ms(self, project: str) -> float:
        """Start-up the plugin adds to ``project``, in ms."""
        with_plugin, without_plugin = self.walls[project]
        return (with_plugin - without_plugin) * 1000


def plugin_startup(root: Path, repeats: int) -> StartupCost:
    """Time ``pytest --collect-only`` with and without ``-p no:sessionerror``.

    Two projects: an empty one, and one whose conftest imports SQLAlchemy's ORM (as any project
    with SessionError models does), which separates the plugin's own cost from SQLAlchemy's.
    """
    projects = {"empty": "", "sqlalchemy": "import sqlalchemy.orm  # noqa: F401\n"}
    base = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly"]
    samples: dict[tuple[str, bool], list[float]] = {}
    env = child_env(root)
    for name, conftest in projects.items():
        directory = root / f"startup-{name}"
        directory.mkdir()
        (directory / "pytest.ini").write_text("[pytest]\n")
        (directory / "conftest.py").write_text(conftest)
        (directory / "test_empty.py").write_text("")
    for repeat in range(repeats + 1):  # the first round only warms the bytecode cache
        for name in projects:
            for enabled in (True, False):
                extra = [] if enabled else ["-p", "no:sessionerror"]
                start = time.perf_counter()
                subprocess.run(
                    [*base, *extra, "test_empty.py"],
                    cwd=root / f"startup-{name}",
                    env=env,
                    capture_output=True,
                    check=False,
                )
                if repeat:
                    samples.setdefault((name, enabled), []).append(time.perf_counter() - start)
    probe = textwrap.dedent(
        f"""
        import json, sys, time
        import pytest
        start = time.perf_counter()
        import sessionerror.plugin
        took = (time.perf_counter() - start) * 1000
        print(json.dumps([took, [m for m in {HEAVY_MODULES!r} if m in sys.modules]]))
        """
    )
    imports: list[float] = []
    heavy: list[str] = []
    for _ in range(repeats):
        output = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        ).stdout
        took, heavy = json.loads(output)
        imports.append(took)
    walls = {
        name: (
            statistics.median(samples[(name, True)]),
            statistics.median(samples[(name, False)]),
        )
        for name in projects
    }
    return StartupCost(walls, statistics.median(imports), heavy)


# -- reporting -------------------------------------------------------------------------------


def summarise(summaries: dict[str, Summary]) -> None:
    """Fill in each variant's overheads over the baseline of its backend."""
    for summary in summaries.values():
        baseline = summaries.get(summary.variant.baseline or "")
        if not summary.runs or baseline is None or not baseline.runs:
            continue
        summary.overhead_ms = (
            summary.median("steady_per_test") - baseline.median("steady_per_test")
        ) * 1000
        summary.cpu_overhead_ms = (
            summary.median("cpu_per_test") - baseline.median("cpu_per_test")
        ) * 1000
        summary.amortised_ms = (
            summary.median("suite") / summary.variant.n_tests
            - baseline.median("suite") / baseline.variant.n_tests
        ) * 1000
        summary.startup_delta_ms = (summary.median("startup") - baseline.median("startup")) * 1000


def targets(summaries: dict[str, Summary], pg_floor: float) -> dict[str, tuple[str, bool | None]]:
    """Each variant's target text and whether the measured overhead meets it."""
    out: dict[str, tuple[str, bool | None]] = {}
    ours_pg = summaries["ours-rb-pg"].overhead_ms
    theirs = summaries["pgpp"].overhead_ms

    def check(key: str, text: str, ok: Callable[[float], bool]) -> None:
        value = summaries[key].overhead_ms
        out[key] = (text, None if value is None else ok(value))

    check("ours-rb-sqlite", "≤ 0.5 ms", lambda v: v <= 0.5)
    limit = 1.5 * pg_floor
    check(
        "ours-rb-pg",
        f"≤ 1.5 x floor = {limit:.2f} ms; ≥ 100x under pytest-postgresql",
        lambda v: v <= limit and theirs is not None and theirs >= 100 * max(v, 1e-9),
    )
    check("ours-cm-pg", "≤ 3 ms", lambda v: v <= 3.0)
    if ours_pg is not None and theirs is not None:
        out["pgpp"] = (f"≥ 100x ours ({100 * max(ours_pg, 0):.1f} ms)", theirs >= 100 * ours_pg)
    return out


def fmt(value: float | None, digits: int = 2) -> str:
    """Format a number, or a dash for a missing one."""
    return "—" if value is None else f"{value:.{digits}f}"


def render_table(
    summaries: dict[str, Summary], goals: dict[str, tuple[str, bool | None]]
) -> list[str]:
    """The markdown results table."""
    lines = [
        "| variant | backend | tests x runs | overhead / test (ms) | client CPU (ms) "
        "| amortised (ms) | suite (s) | start-up (s) | Δ start-up (ms) | target | met? |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for summary in summaries.values():
        variant = summary.variant
        goal, met = goals.get(variant.key, ("—", None))
        verdict = "—" if met is None else ("yes" if met else "**NO**")
        if not summary.runs:
            lines.append(
                f"| {variant.label} | {variant.backend} | {variant.n_tests} x 0 | failed | "
                f"| | | | | {goal} | **NO** |"
            )
            continue
        reference = variant.baseline is None
        lines.append(
            "| "
            + " | ".join(
                [
                    variant.label,
                    variant.backend,
                    f"{variant.n_tests} x {len(summary.runs)}"
                    + (f" ({len(summary.errors)} failed)" if summary.errors else ""),
                    "0 (reference)" if reference else fmt(summary.overhead_ms, 3),
                    "0 (reference)" if reference else fmt(summary.cpu_overhead_ms, 3),
                    "0 (reference)" if reference else fmt(summary.amortised_ms, 3),
                    fmt(summary.median("suite"), 2),
                    fmt(summary.median("startup"), 2),
                    "—" if reference else fmt(summary.startup_delta_ms, 0),
                    goal,
                    verdict,
                ]
            )
            + " |"
        )
    return lines


def machine_info(pg_url: str) -> list[str]:
    """Date, CPUs, Python, library and server versions."""

    def version(name: str) -> str:
        try:
            return importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            return "not installed"

    server = "unreachable"
    try:
        import psycopg2

        params = make_url(pg_url).translate_connect_args(username="user", database="dbname")
        with psycopg2.connect(**params) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = str(cursor.fetchone()[0])  # type: ignore[index]
        connection.close()
    except Exception as exc:  # the report says why instead of failing
        server = f"unreachable ({type(exc).__name__})"
    return [
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {os.cpu_count()} CPUs (nproc), {platform.platform()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {server}",
        f"- SQLAlchemy {version('SQLAlchemy')}, pytest {version('pytest')}, "
        f"pytest-postgresql {version('pytest-postgresql')}, psycopg2 {version('psycopg2-binary')}, "
        f"psycopg {version('psycopg')}",
    ]


def drop_leftover_databases(pg_url: str, tag: str) -> list[str]:
    """Drop any database of this run still on the server (normally none)."""
    try:
        import psycopg2

        params = make_url(pg_url).translate_connect_args(username="user", database="dbname")
        connection = psycopg2.connect(**params)
    except Exception:
        return []
    connection.autocommit = True
    dropped = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{tag}%",))
        for (name,) in cursor.fetchall():
            if name.endswith("_tmpl"):
                cursor.execute(f'ALTER DATABASE "{name}" WITH is_template false')
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped.append(name)
    connection.close()
    return dropped


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="runs of each fast suite (5)")
    parser.add_argument(
        "--slow-runs", type=int, default=None, help="runs of the slow suites: naive PG, pgpp (2)"
    )
    parser.add_argument("--tests", type=int, default=None, help="tests per suite (300)")
    parser.add_argument(
        "--slow-tests", type=int, default=None, help="tests of the naive suites (100)"
    )
    parser.add_argument(
        "--pgpp-tests", type=int, default=None, help="tests of the pytest-postgresql suite (100)"
    )
    parser.add_argument("--quick", action="store_true", help="3 runs, 1 slow run, ≈2 minutes")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="SQLAlchemy URL of the server")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results.md", help="markdown report to write"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated suites")
    args = parser.parse_args(list(argv) if argv is not None else None)
    quick = args.quick
    args.runs = args.runs or (3 if quick else 5)
    args.slow_runs = args.slow_runs or (1 if quick else 2)
    args.tests = args.tests or (150 if quick else 300)
    args.slow_tests = args.slow_tests or (30 if quick else 100)
    args.pgpp_tests = args.pgpp_tests or (30 if quick else 100)
    args.startup_repeats = 3 if quick else 7
    if min(args.tests, args.slow_tests, args.pgpp_tests) < 10:
        parser.error("need at least 10 tests per suite")
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Run every suite, print the table and write the report."""
    args = parse_args(argv)
    started = time.perf_counter()
    tag = f"{DB_PREFIX}{os.getpid()}_"
    root = Path(tempfile.mkdtemp(prefix="sessionerror-bench-"))
    variants = build_variants(args.tests, args.slow_tests, args.pgpp_tests, args.pg_url, tag)
    directories = {variant.key: write_suite(root, variant) for variant in variants}
    summaries = {variant.key: Summary(variant, []) for variant in variants}
    try:
        print(f"suites in {root}; {args.runs} runs ({args.slow_runs} for the slow suites)")
        load_start = os.getloadavg()[0]
        for variant in variants:  # bytecode cache, first connections: not measured
            try:
                run_suite(directories[variant.key], variant, args.pg_url, warmup=True)
            except RuntimeError as exc:
                print(f"  {variant.key}: warm-up FAILED {exc}")
        pg_floor = psycopg2_cycle_ms(args.pg_url, 2000)
        sqlite_floor = sqlite_cycle_ms(root / "floor.db", 2000)
        print(f"floor: psycopg2 cycle {pg_floor:.3f} ms, sqlite3 cycle {sqlite_floor:.4f} ms")
        cycles = library_cycles(args.pg_url, root, 2000)
        for run in range(args.runs):
            for variant in variants:
                summary = summaries[variant.key]
                if len(summary.errors) >= 2 or (variant.slow and run >= args.slow_runs):
                    continue
                try:
                    result = run_suite(directories[variant.key], variant, args.pg_url)
                except RuntimeError as exc:
                    summary.errors.append(str(exc))
                    print(f"  run {run + 1} {variant.key}: FAILED {exc}")
                    continue
                assert result is not None
                summary.runs.append(result)
                print(
                    f"  run {run + 1} {variant.key:15} {result.steady_per_test * 1000:7.3f} ms/test"
                    f"  suite {result.suite:6.2f} s  start-up {result.startup:5.2f} s"
                )
        startup = plugin_startup(root, args.startup_repeats)
        pg_floor_after = psycopg2_cycle_ms(args.pg_url, 2000)
    finally:
        dropped = drop_leftover_databases(args.pg_url, tag)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(root)], check=False)
    summarise(summaries)
    goals = targets(summaries, pg_floor)
    startup_ms = startup.added_ms("empty")
    empty_with, empty_without = startup.walls["empty"]
    sa_with, sa_without = startup.walls["sqlalchemy"]
    lines = ["# Isolation benchmark", "", *machine_info(args.pg_url), ""]
    lines += render_table(summaries, goals)
    ours_pg = summaries["ours-rb-pg"].overhead_ms
    theirs = summaries["pgpp"].overhead_ms
    lines += [
        "",
        f"- floor, psycopg2 BEGIN / SAVEPOINT / ROLLBACK TO / ROLLBACK: {pg_floor:.3f} ms "
        f"(median of 2000; {pg_floor_after:.3f} ms again after the suites); "
        f"sqlite3: {sqlite_floor:.4f} ms",
        *[
            f"- in-process isolation cycle with one SELECT 1, {backend}: "
            f"`engine.connect()` + `rolled_back_session()` {ours_ms:.3f} ms vs the same "
            f"statements through the driver {raw_ms:.3f} ms ({ours_ms / raw_ms:.1f}x; "
            f"Python cost of the plugin's cycle {ours_ms - raw_ms:.3f} ms)"
            for backend, (ours_ms, raw_ms) in cycles.items()
        ],
        f"- ours PG rollback overhead / psycopg2 cycle: "
        f"{fmt(ours_pg / pg_floor if ours_pg is not None else None)}x",
        f"- pytest-postgresql overhead / ours PG rollback overhead: "
        f"{fmt(theirs / ours_pg if theirs is not None and ours_pg else None, 0)}x",
        f"- plugin start-up (`pytest --collect-only`, median of {args.startup_repeats}, "
        "with vs `-p no:sessionerror`): "
        f"empty project {empty_with:.3f} s vs {empty_without:.3f} s = {startup_ms:+.0f} ms "
        f"(target ≤ 100 ms: {'yes' if startup_ms <= 100 else '**NO**'}); project whose conftest "
        f"imports sqlalchemy.orm {sa_with:.3f} s vs {sa_without:.3f} s = "
        f"{startup.added_ms('sqlalchemy'):+.0f} ms; `import sessionerror.plugin` after "
        f"`import pytest`: {startup.import_ms:.0f} ms",
        f"- heavy modules in sys.modules after `import sessionerror.plugin`: "
        f"{', '.join(startup.heavy) if startup.heavy else 'none'} "
        f"(checked: {', '.join(HEAVY_MODULES)})",
        f"- load average (1 min) at start / end: {load_start:.2f} / {os.getloadavg()[0]:.2f} "
        "(other work on the machine shows up as noise)",
        "",
        "overhead / test = lower quartile of the per-test wall times (tests 2..n, setup start to "
        "the next setup start) minus the baseline's, median of the runs (the quartile, not the "
        "mean, so that load from other processes on the machine does not swamp it); client CPU = "
        "the same with the pytest process's median CPU time per test (excludes the server's "
        "work and time spent waiting for it); amortised = (suite time / tests) minus the "
        "baseline's, where suite time "
        "runs from the first test's setup to the session's end and so includes the session "
        "fixtures (database creation, schema, teardown); start-up = process start to the first "
        "test, including the session fixtures; Δ start-up = start-up minus the baseline's.",
    ]
    failures = [s for s in summaries.values() if s.errors]
    for summary in failures:
        first = summary.errors[0].splitlines()
        lines.append(f"- {summary.variant.key}: {len(summary.errors)} run(s) failed: {first[0]}")
        lines += [f"  {line}" for line in first[1:]]
    report = "\n".join(lines)
    print()
    print(report)
    elapsed = time.perf_counter() - started
    print(f"\nbenchmark runtime: {elapsed:.0f} s; leftover databases dropped: {dropped or 'none'}")
    args.output.write_text(report + "\n")
    print(f"wrote {args.output}")
    return 1 if any(not s.runs for s in summaries.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
