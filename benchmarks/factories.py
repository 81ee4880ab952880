"""Factory benchmark: the kit's factories side by side with a plain factory-boy factory.

Both factories create the same model (``SessionError`` with a new parent ``WorkflowSession``),
with the same columns filled (a user message, two recovery steps, technical details with a
session cookie the model redacts), in the same session, flushed and never committed (the
transaction is rolled back at the end). The plain one is a bare ``SQLAlchemyModelFactory``
(Faker text, constants, a ``SubFactory`` parent named by a sequence); ours is
``SessionErrorFactory`` with its traits, content templates and session lookup. Validation and
redaction are the model's and run for both. Rounds alternate plain/ours so that machine load
hits both alike; each ms/object is the median over the rounds, wall time and this process's CPU
time (the steadier one on a busy machine; it leaves out the PostgreSQL server's share, the same
for both), the ratio ours / plain.

The same comparison runs on a team's own schema (``factories_team.py``): the factories
``factories_for(TeamError)`` builds against plain factory-boy factories hand-written for the
team's classes, sync on both backends and async on aiosqlite.

    python benchmarks/factories.py            # SQLite and PostgreSQL, about a minute
    python benchmarks/factories.py --quick    # a few seconds

Not a test: it prints a markdown table.
"""

# factory-boy's declarations are untyped callables; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from factory.alchemy import SQLAlchemyModelFactory
from factory.declarations import LazyAttribute, LazyFunction, SubFactory
from factory.declarations import Sequence as FactorySequence
from factory.faker import Faker
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.factories import SessionErrorFactory, WorkflowSessionFactory, seed_factories
from sessionerror.factories.content import ERROR_TEMPLATES
from sessionerror.models import Base, SessionError, WorkflowSession
from sessionerror.models.binding import bind_session
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.redaction import mask_url
from sessionerror.testdb.postgres.janitor import DatabaseJanitor

__all__ = ["Comparison", "Timing", "compare", "main", "plain_error_factory", "plain_factories"]

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Sizes:
    """How much work one run does."""

    #: Objects per timed call (single creates one by one, or one ``create_batch``).
    objects: int
    #: Timed rounds per factory (plus one warm-up round).
    rounds: int


DEFAULT_SIZES = Sizes(objects=200, rounds=7)
QUICK_SIZES = Sizes(objects=50, rounds=3)


@dataclass(frozen=True)
class Timing:
    """Median ms/object over the rounds: wall time and this process's CPU time."""

    wall_ms: float
    cpu_ms: float


@dataclass(frozen=True)
class Comparison:
    """ms/object of the plain factory and of ours, for one way of creating objects."""

    backend: str
    operation: str
    plain: Timing
    ours: Timing

    @property
    def wall_ratio(self) -> float:
        """How many times the plain factory's wall time ours takes."""
        return self.ours.wall_ms / self.plain.wall_ms

    @property
    def cpu_ratio(self) -> float:
        """How many times the plain factory's CPU time ours takes."""
        return self.ours.cpu_ms / self.plain.cpu_ms


_UPLOAD_CHECK = ERROR_TEMPLATES[(OperationStage.UPLOAD, ErrorCategory.USER_FIXABLE)]


def plain_factories(db: Session) -> tuple[type[Any], type[Any]]:
    """A plain factory-boy parent factory and error factory writing to ``db``."""

    class PlainSessionFactory(SQLAlchemyModelFactory):
        class Meta:
            model = WorkflowSession
            sqlalchemy_session = db
            sqlalchemy_session_persistence = "flush"

        # Faker's "company" alone costs ~0.8 ms; a sequence keeps the baseline lean.
        name = FactorySequence(lambda n: f"Ticket import #{n + 1}")

    return PlainSessionFactory, plain_error_factory(db, SessionError, PlainSessionFactory)


def plain_error_factory(
    db: Session, error_model: type[Any], parent_factory: type[Any], **columns: Any
) -> type[Any]:
    """A plain factory-boy error factory for ``error_model`` (and ``columns`` of its own)."""

    class PlainErrorFactory(SQLAlchemyModelFactory):
        class Meta:
            model = error_model
            sqlalchemy_session = db
            sqlalchemy_session_persistence = "flush"

        session = SubFactory(parent_factory)
        error_category = ErrorCategory.USER_FIXABLE
        severity = ErrorSeverity.WARNING
        operation_stage = OperationStage.UPLOAD.value
        user_message = Faker("sentence")
        recovery_actions = LazyFunction(
            lambda: {"actions": ["Save the file as .xlsx or .csv.", "Upload it again."]}
        )
        # The same payload builder as ours (with the cookie the model redacts).
        technical_details = LazyAttribute(_UPLOAD_CHECK.details)
        error_code = "UPLOAD_UNSUPPORTED_FORMAT"

        class Params:
            filename = Faker("file_name", extension="xlsx")
            row = Faker("random_int", min=2, max=400)
            secret = Faker("pystr", min_chars=24, max_chars=24)

    if not columns:
        return PlainErrorFactory
    return type(f"Plain{error_model.__name__}Factory", (PlainErrorFactory,), columns)


def _progress(message: str) -> None:
    print(f"[factories] {message}", file=sys.stderr, flush=True)


def _ms_per_object(action: Callable[[], object], objects: int) -> tuple[float, float]:
    """Wall and CPU milliseconds per object of one call of ``action``."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return (
        (time.perf_counter() - wall) * 1000.0 / objects,
        (time.process_time() - cpu) * 1000.0 / objects,
    )


def _median(samples: list[tuple[float, float]]) -> Timing:
    return Timing(
        statistics.median(wall for wall, _cpu in samples),
        statistics.median(cpu for _wall, cpu in samples),
    )


def _create_each(factory_class: type[Any], n: int) -> None:
    for _ in range(n):
        factory_class()


def compare(engine: Engine, backend: str, sizes: Sizes, seed: int) -> list[Comparison]:
    """Time plain and ours, single creates and ``create_batch``, alternating, in one session."""
    Base.metadata.create_all(engine)
    seed_factories(seed)
    n = sizes.objects
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with Session(engine) as db, bind_session(db):
        plain_parent, plain_error = plain_factories(db)
        parents = {"plain": plain_parent(), "ours": WorkflowSessionFactory()}
        errors: dict[str, Any] = {"plain": plain_error, "ours": SessionErrorFactory}
        for round_index in range(sizes.rounds + 1):  # round 0 warms up
            order = ("plain", "ours") if round_index % 2 else ("ours", "plain")
            for name in order:
                single = _ms_per_object(partial(_create_each, errors[name], n), n)
                batch = _ms_per_object(
                    partial(errors[name].create_batch, n, session=parents[name]), n
                )
                if round_index:
                    samples.setdefault((name, "single"), []).append(single)
                    samples.setdefault((name, "batch"), []).append(batch)
        db.rollback()
    operations = {
        "single": "`Factory()` with a new parent each",
        "batch": f"`create_batch({n}, session=parent)`",
    }
    return [
        Comparison(
            backend,
            label,
            _median(samples[("plain", key)]),
            _median(samples[("ours", key)]),
        )
        for key, label in operations.items()
    ]


def run_sqlite(sizes: Sizes, seed: int) -> list[Comparison]:
    """The comparisons on temporary SQLite files: the reference schema, then the team's (sync
    and aiosqlite), each in its own file."""
    from factories_team import compare_async, compare_sync  # the team's schema, beside this

    backend = f"SQLite {sqlite3.sqlite_version}"
    with tempfile.TemporaryDirectory(prefix="sessionerror-factories-") as directory:
        comparisons = []
        for name, run in (("factories", compare), ("team", compare_sync)):
            engine = create_sqlite_engine(Path(directory) / f"{name}.sqlite3")
            try:
                comparisons += run(engine, backend, sizes, seed)
            finally:
                engine.dispose()
        _progress("aiosqlite (team schema)")
        return comparisons + compare_async(Path(directory) / "team-async.sqlite3", sizes, seed)


@contextmanager
def _postgres_database(server_url: str) -> Iterator[str]:
    janitor = DatabaseJanitor(server_url, worker="benchfactories")
    try:
        yield janitor.create()
    finally:
        janitor.drop()


def run_postgres(server_url: str, sizes: Sizes, seed: int) -> list[Comparison]:
    """The comparisons on fresh PostgreSQL databases (reference schema, team schema), dropped
    afterwards."""
    from factories_team import compare_sync

    comparisons = []
    for run in (compare, compare_sync):
        with _postgres_database(server_url) as url:
            engine = create_engine(url)
            try:
                with engine.connect() as connection:
                    version = connection.execute(text("SHOW server_version")).scalar_one()
                comparisons += run(engine, f"PostgreSQL {version}", sizes, seed)
            finally:
                engine.dispose()
    return comparisons


def render(comparisons: Sequence[Comparison], sizes: Sizes) -> str:
    """A markdown table: ms/object of each factory and the ratio."""
    lines = [
        f"Median over {sizes.rounds} alternating rounds of {sizes.objects} objects "
        "(flushed, rolled back; the model validates and redacts for both).",
        "",
        "ms/object as wall / CPU time; ratios: ours / plain (wall, CPU).",
        "",
        "| backend | operation | plain factory-boy | the kit's (`SessionErrorFactory`, "
        "`factories_for(TeamError)`) | wall | CPU |",
        "| --- | --- | --: | --: | --: | --: |",
    ]
    lines += [
        f"| {c.backend} | {c.operation} | {c.plain.wall_ms:.2f} / {c.plain.cpu_ms:.2f} ms "
        f"| {c.ours.wall_ms:.2f} / {c.ours.cpu_ms:.2f} ms | {c.wall_ratio:.2f}x "
        f"| {c.cpu_ratio:.2f}x |"
        for c in comparisons
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, compare on both backends (or SQLite only) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="fewer, smaller rounds")
    parser.add_argument("--seed", type=int, default=20_240_901, help="data seed")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else DEFAULT_SIZES
    _progress("sqlite")
    comparisons = run_sqlite(sizes, args.seed)
    if not args.sqlite_only:
        _progress(f"postgresql at {mask_url(args.pg_url)}")
        comparisons += run_postgres(args.pg_url, sizes, args.seed)
    print(render(comparisons, sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
