"""History benchmark: factory throughput and per-session query latency on SQLite and PostgreSQL.

For each backend (a temporary SQLite file, and a fresh PostgreSQL database created and dropped
with :class:`~sessionerror.testdb.postgres.janitor.DatabaseJanitor`) it measures

1. objects per second of ``SessionErrorFactory()`` (one parent session per error), of
   ``SessionErrorFactory.create_batch(n, session=parent)`` and of ``bulk_create_history``
   (10,000 sessions x 10 errors), each phase committed so the numbers include the writes;
2. on that history (after ``ANALYZE``) the latency of ``SessionError.has_blocking_errors`` and
   ``SessionError.find_by_category(..., "user_fixable")`` over random sessions, and the plan of
   the exact SQL the two methods emit (captured with a ``before_cursor_execute`` listener and
   re-run under ``EXPLAIN (ANALYZE, BUFFERS)`` / ``EXPLAIN QUERY PLAN``).

    python benchmarks/history.py            # default: about 1-2 minutes on 2 cores
    python benchmarks/history.py --quick    # 10x smaller, a few seconds

Not a test: it prints markdown tables and writes them to ``benchmarks/history-results.md``.
Exits 1 (after writing the results) if a PostgreSQL plan does not use the session_id index.
"""

# factory-boy factories are untyped callables; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.orm import Session

from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.factories import (
    SessionErrorFactory,
    WorkflowSessionFactory,
    bulk_create_history,
    seed_factories,
)
from sessionerror.models import Base, SessionError, WorkflowSession
from sessionerror.models.binding import bind_session
from sessionerror.models.enums import ErrorCategory
from sessionerror.redaction import mask_url
from sessionerror.testdb.postgres.janitor import DatabaseJanitor

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "history-results.md"
#: The index both per-session queries are expected to use.
SESSION_INDEX = "idx_session_errors_session_id"
#: Index access nodes in a PostgreSQL plan, with the index they name.
_PG_INDEX_NODE = re.compile(
    r"(?P<node>Bitmap Index Scan|Index Only Scan|Index Scan)(?: Backward)? (?:using|on) "
    r"(?P<index>\w+)"
)
#: Index use in a SQLite ``EXPLAIN QUERY PLAN`` detail line.
_SQLITE_INDEX = re.compile(r"USING (?P<node>(?:COVERING )?INDEX) (?P<index>\w+)")
#: Warm-up calls per query before timing (connection, statement cache, buffers).
_WARMUP = 20
#: Share of blocking errors in the bulk history (``bulk_create_history``'s default).
BLOCKING_RATIO = 0.05


@dataclass(frozen=True)
class Sizes:
    """How much work one run does."""

    creates: int
    batch: int
    sessions: int
    errors_per_session: int
    lookups: int

    @property
    def history_errors(self) -> int:
        """Errors inserted by the bulk phase."""
        return self.sessions * self.errors_per_session


DEFAULT_SIZES = Sizes(creates=1000, batch=1000, sessions=10_000, errors_per_session=10, lookups=500)
QUICK_SIZES = Sizes(creates=100, batch=100, sessions=1000, errors_per_session=10, lookups=50)


@dataclass(frozen=True)
class Throughput:
    """One timed write phase."""

    backend: str
    operation: str
    n: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Objects (or rows) per second."""
        return self.n / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class Plan:
    """The plan of one captured statement and the indexes it uses."""

    backend: str
    query: str
    sql: str
    parameters: Any
    lines: list[str]
    #: ``(node, index)`` pairs found in the plan, in plan order.
    indexes: list[tuple[str, str]]

    @property
    def uses_session_index(self) -> bool:
        """Whether the plan reads :data:`SESSION_INDEX`."""
        return any(index == SESSION_INDEX for _node, index in self.indexes)

    def index_summary(self) -> str:
        """A short ``yes/no (node on index)`` verdict for the tables."""
        if not self.indexes:
            return "**no** (full scan)"
        used = ", ".join(f"{node} {index}" for node, index in self.indexes)
        return f"yes ({used})" if self.uses_session_index else f"**no** ({used})"


@dataclass(frozen=True)
class Latency:
    """Timed calls of one model query method."""

    backend: str
    query: str
    samples_ms: list[float]
    plan: Plan

    @property
    def median(self) -> float:
        """Median latency in milliseconds."""
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        """95th percentile latency in milliseconds."""
        return statistics.quantiles(self.samples_ms, n=20, method="inclusive")[18]


@dataclass
class BackendRun:
    """Everything measured on one backend."""

    backend: str
    version: str
    #: Durability settings that shape the write numbers.
    settings: str
    throughput: list[Throughput] = field(default_factory=list)
    latency: list[Latency] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _progress(message: str) -> None:
    print(f"[history] {message}", file=sys.stderr, flush=True)


# -- write phases ----------------------------------------------------------------------------


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure_writes(engine: Engine, run: BackendRun, sizes: Sizes, seed: int) -> set[uuid.UUID]:
    """Time the factory and bulk phases (each committed); return the bulk history's session ids."""
    seed_factories(seed)
    with Session(engine) as db, bind_session(db):

        def single_creates() -> None:
            for _ in range(sizes.creates):
                SessionErrorFactory()
            db.commit()

        seconds = _timed(single_creates)
        run.throughput.append(
            Throughput(
                run.backend, "`SessionErrorFactory()`, new parent each", sizes.creates, seconds
            )
        )

        parent = WorkflowSessionFactory()
        db.commit()

        def batch_create() -> None:
            SessionErrorFactory.create_batch(sizes.batch, session=parent)
            db.commit()

        seconds = _timed(batch_create)
        run.throughput.append(
            Throughput(run.backend, "`create_batch(n, session=parent)`", sizes.batch, seconds)
        )

        before = set(db.scalars(select(WorkflowSession.id)))
        stats_holder: list[Any] = []

        def bulk() -> None:
            stats_holder.append(
                bulk_create_history(
                    db,
                    sessions=sizes.sessions,
                    errors_per_session=sizes.errors_per_session,
                    seed=seed,
                    blocking_ratio=BLOCKING_RATIO,
                )
            )
            db.commit()

        cpu_started = time.process_time()
        seconds = _timed(bulk)
        cpu = time.process_time() - cpu_started
        stats = stats_holder[0]
        shape = f"{sizes.sessions:,} x {sizes.errors_per_session}"
        run.throughput.append(
            Throughput(run.backend, f"`bulk_create_history` {shape}: errors", stats.errors, seconds)
        )
        run.throughput.append(
            Throughput(
                run.backend,
                f"`bulk_create_history` {shape}: all rows (sessions + errors)",
                stats.sessions + stats.errors,
                seconds,
            )
        )
        run.notes.append(
            f"bulk_create_history: {stats.elapsed_seconds:.2f} s inside the function, "
            f"{seconds - stats.elapsed_seconds:.2f} s COMMIT, {cpu:.2f} s CPU in this process "
            f"({cpu / seconds:.0%} of the wall time); {stats.blocking_errors:,} blocking "
            f"errors ({stats.blocking_errors / max(stats.errors, 1):.1%})"
        )
        history = set(db.scalars(select(WorkflowSession.id))) - before
    if len(history) != sizes.sessions:
        raise RuntimeError(f"expected {sizes.sessions} new sessions, found {len(history)}")
    return history


# -- plans -----------------------------------------------------------------------------------


@contextmanager
def captured_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Collect ``(statement, parameters)`` of every cursor execute on ``engine`` in the block."""
    captured: list[tuple[str, Any]] = []

    def listener(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _last_select(captured: Sequence[tuple[str, Any]]) -> tuple[str, Any]:
    selects = [item for item in captured if item[0].lstrip().upper().startswith("SELECT")]
    if not selects:
        raise RuntimeError("the query method emitted no SELECT")
    return selects[-1]


def explain(engine: Engine, backend: str, query: str, call: Callable[[Session], object]) -> Plan:
    """Run ``call`` once, capture its SELECT and return the plan of exactly that statement."""
    with Session(engine) as db:
        with captured_statements(engine) as captured:
            call(db)
        sql, parameters = _last_select(captured)
        connection = db.connection()
        if engine.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", parameters)
            lines = [str(row[0]) for row in rows]
            indexes = [
                (match["node"], match["index"])
                for line in lines
                for match in _PG_INDEX_NODE.finditer(line)
            ]
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
            depth: dict[int, int] = {0: -1}
            lines = []
            for node_id, parent, _unused, detail in rows:
                depth[node_id] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node_id] + str(detail))
            indexes = [
                (match["node"], match["index"])
                for line in lines
                for match in _SQLITE_INDEX.finditer(line)
            ]
        db.rollback()
    return Plan(backend, query, sql, parameters, lines, indexes)


# -- latency ---------------------------------------------------------------------------------


def _queries(session_id: uuid.UUID) -> dict[str, Callable[[Session], object]]:
    return {
        "`has_blocking_errors(sid)`": lambda db: SessionError.has_blocking_errors(
            session_id, db=db
        ),
        '`find_by_category(sid, "user_fixable")`': lambda db: SessionError.find_by_category(
            session_id, ErrorCategory.USER_FIXABLE.value, db=db
        ),
    }


def measure_queries(
    engine: Engine,
    run: BackendRun,
    history: set[uuid.UUID],
    sizes: Sizes,
    seed: int,
    label: str | None = None,
) -> None:
    """Time both query methods over ``sizes.lookups`` random history sessions; plan each one.

    ``label`` names the rows in the tables (default: the backend).
    """
    label = label or run.backend
    rng = random.Random(seed)
    ordered = sorted(history)
    sample = rng.sample(ordered, min(sizes.lookups, len(ordered)))
    warmup = rng.sample(ordered, min(_WARMUP, len(ordered)))
    names = list(_queries(sample[0]))
    results: dict[str, list[object]] = {name: [] for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    with Session(engine) as db:
        for name in names:
            for session_id in warmup:
                _queries(session_id)[name](db)
                db.expunge_all()
            for session_id in sample:
                call = _queries(session_id)[name]
                started = time.perf_counter()
                result = call(db)
                samples[name].append((time.perf_counter() - started) * 1000.0)
                results[name].append(result)
                db.expunge_all()
        db.rollback()
    blocking, by_category = names
    share = sum(bool(found) for found in results[blocking]) / len(sample)
    rows = statistics.mean(len(found) for found in results[by_category])  # type: ignore[arg-type]
    per_session = sizes.errors_per_session
    expected_share = 1 - (1 - BLOCKING_RATIO) ** per_session
    expected_rows = per_session / len(ErrorCategory)
    run.notes.append(
        f"sanity ({label}), over the {len(sample)} timed sessions: {share:.0%} have a "
        f"blocking error "
        f"(expected about {expected_share:.0%}); find_by_category returned {rows:.2f} rows per "
        f"session (expected about {expected_rows:.1f} of {per_session})"
    )
    for name in names:
        plan = explain(engine, label, name, _queries(sample[0])[name])
        run.latency.append(Latency(label, name, samples[name], plan))


# -- backends --------------------------------------------------------------------------------


def _settings(engine: Engine) -> str:
    """The durability settings of ``engine``'s database, as ``name=value`` pairs."""
    names: tuple[str, ...]
    if engine.dialect.name == "postgresql":
        names = ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers")
        template = "SHOW {}"
    else:
        names = ("journal_mode", "synchronous")
        template = "PRAGMA {}"
    with engine.connect() as connection:
        values = [connection.exec_driver_sql(template.format(name)).scalar() for name in names]
    return ", ".join(f"{name}={value}" for name, value in zip(names, values, strict=True))


def run_backend(engine: Engine, backend: str, version: str, sizes: Sizes, seed: int) -> BackendRun:
    """Create the schema on ``engine``, then run the write and query phases."""
    run = BackendRun(backend, version, _settings(engine))
    Base.metadata.create_all(engine)
    _progress(f"{backend}: write phases")
    history = measure_writes(engine, run, sizes, seed)
    if backend == "sqlite":
        # SQLite has no statistics until ANALYZE (PostgreSQL's autovacuum gathers its own):
        # show what a database that was never analysed does.
        with engine.connect() as connection:
            order = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'session_errors' AND name LIKE 'idx%' ORDER BY rowid"
            ).scalars()
            run.notes.append(
                "index creation order (create_all iterates Table.indexes, a set, so it varies "
                "between runs; without statistics SQLite breaks the tie between equally rated "
                f"indexes by it): {', '.join(order)}"
            )
        _progress(f"{backend}: query latency before ANALYZE")
        measure_queries(engine, run, history, sizes, seed, label="sqlite, before ANALYZE")
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    _progress(f"{backend}: query latency over {sizes.lookups} sessions")
    measure_queries(engine, run, history, sizes, seed)
    return run


def run_sqlite(sizes: Sizes, seed: int) -> BackendRun:
    """The benchmark on a temporary SQLite file (deleted afterwards)."""
    with tempfile.TemporaryDirectory(prefix="sessionerror-history-") as directory:
        engine = create_sqlite_engine(Path(directory) / "history.sqlite3")
        try:
            return run_backend(engine, "sqlite", f"SQLite {sqlite3.sqlite_version}", sizes, seed)
        finally:
            engine.dispose()


def run_postgres(server_url: str, sizes: Sizes, seed: int) -> BackendRun:
    """The benchmark on a fresh PostgreSQL database, dropped afterwards (also on errors)."""
    janitor = DatabaseJanitor(server_url, worker="benchhistory")
    try:
        url = janitor.create()
        _progress(f"postgresql: created database {janitor.name}")
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                version = str(connection.execute(text("SHOW server_version")).scalar_one())
            return run_backend(engine, "postgresql", f"PostgreSQL {version}", sizes, seed)
        finally:
            engine.dispose()
    finally:
        name = janitor.name
        janitor.drop()
        if name:
            _progress(f"postgresql: dropped database {name}")


# -- report ----------------------------------------------------------------------------------


def _package_version(*names: str) -> str:
    """The installed version of the first of ``names`` that is installed."""
    for name in names:
        try:
            return importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return "not installed"


def _nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def render(runs: Sequence[BackendRun], sizes: Sizes, seed: int, elapsed: float, server: str) -> str:
    """The whole report as markdown."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    versions = ", ".join(run.version for run in runs)
    out = [
        "# History benchmark",
        "",
        f"- date: {dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}",
        f"- machine: {_nproc()} CPUs (nproc), {platform.platform()}; "
        f"load (1 min) at end {load:.2f}",
        f"- Python {platform.python_version()}, {versions}",
        f"- SQLAlchemy {_package_version('sqlalchemy')}, factory-boy "
        f"{_package_version('factory-boy')}, Faker {_package_version('faker')}, psycopg2 "
        f"{_package_version('psycopg2', 'psycopg2-binary')}",
        f"- PostgreSQL server: {server}; seed {seed}; run time {elapsed:.1f} s",
        *(f"- {run.backend} settings: {run.settings}" for run in runs),
        "",
        "## Write throughput (each phase committed, COMMIT included)",
        "",
        "| backend | operation | n | seconds | per second |",
        "|---|---|--:|--:|--:|",
    ]
    for run in runs:
        for row in run.throughput:
            out.append(
                f"| {row.backend} | {row.operation} | {row.n:,} | {row.seconds:.2f} | "
                f"{row.per_second:,.0f} |"
            )
    out += [
        "",
        f"## Query latency ({sizes.lookups} random sessions of the bulk history; "
        "after ANALYZE unless marked)",
        "",
        "| backend | query | median ms | p95 ms | index used? |",
        "|---|---|--:|--:|---|",
    ]
    for run in runs:
        for latency in run.latency:
            out.append(
                f"| {latency.backend} | {latency.query} | {latency.median:.3f} | "
                f"{latency.p95:.3f} | "
                f"{latency.plan.index_summary()} |"
            )
    for run in runs:
        title = (
            "EXPLAIN (ANALYZE, BUFFERS)" if run.backend == "postgresql" else "EXPLAIN QUERY PLAN"
        )
        out += ["", f"## {run.backend} plans ({title} of the captured SQL)"]
        for latency in run.latency:
            sql = " ".join(latency.plan.sql.split())
            out += [
                "",
                f"{latency.query} ({latency.backend}):",
                "",
                "```",
                f"-- {sql}",
                f"-- parameters: {latency.plan.parameters!r}",
                *latency.plan.lines,
                "```",
            ]
    out += ["", "## Notes", ""]
    for run in runs:
        out += [f"- {run.backend}: {note}" for note in run.notes]
    out += [
        "- latency = wall time of the model method in one open ORM session (statement build, "
        f"round trip, result loading), after {_WARMUP} warm-up calls; the session is expunged "
        "between calls, outside the timing",
    ]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, run both backends, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    parser.add_argument("--quick", action="store_true", help="10x smaller run")
    parser.add_argument("--seed", type=int, default=20_240_901, help="data and sampling seed")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="markdown file")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else DEFAULT_SIZES
    started = time.perf_counter()
    runs = [run_sqlite(sizes, args.seed), run_postgres(args.pg_url, sizes, args.seed)]
    elapsed = time.perf_counter() - started
    report = render(runs, sizes, args.seed, elapsed, mask_url(args.pg_url))
    print(report)
    args.output.write_text(report, encoding="utf-8")
    _progress(f"wrote {args.output} ({elapsed:.1f} s)")
    missing = [
        latency.query
        for run in runs
        if run.backend == "postgresql"
        for latency in run.latency
        if not latency.plan.uses_session_index
    ]
    if missing:
        _progress(f"PostgreSQL plans without {SESSION_INDEX}: {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
