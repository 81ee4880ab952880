"""Per-worker provisioning with a long Alembic history: per-worker migrations vs build once + copy.

Generates an Alembic project with ``--revisions`` revisions (default 200: the reference schema,
then tables and columns), then for ``-n`` 1, 2, 4, 8 simulated xdist workers (processes started
together) measures, per backend:

* before — the old path: every worker creates its database and runs the whole history
  (``DatabaseProvisioner`` without templates);
* after  — the run's owner migrates one template once (``TemplateBuilder``), every worker copies
  it (``CREATE DATABASE ... TEMPLATE`` / sqlite3 backup);
* reuse  — ``--sessionerror-reuse-schema`` with an unchanged history: the owner finds the kept
  template by fingerprint (no migration), workers copy it.

Also: the bare ``CREATE DATABASE ... TEMPLATE`` time for a 10- and an N-revision history.
Prints a table; writes ``benchmarks/migrations.png`` when matplotlib is installed.

    SESSIONERROR_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python benchmarks/migrations.py [--revisions 200] [--workers 1 2 4 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sessionerror.testdb.backend import Availability
from sessionerror.testdb.postgres.janitor import DatabaseJanitor
from sessionerror.testdb.postgres.server import PostgresServer
from sessionerror.testdb.provisioning import DatabaseProvisioner
from sessionerror.testdb.settings import SchemaSettings
from sessionerror.testdb.templates import BuiltTemplates, TemplateBuilder
from sessionerror.urls import DatabaseURL

HERE = Path(__file__).resolve().parent

ENV_PY = """\
from alembic import context

config = context.config
context.configure(connection=config.attributes["connection"], target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
"""

REVISION = '''\
"""revision {number}"""
import sqlalchemy as sa
from alembic import op

revision = "r{number:04d}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
    pass
'''


def _upgrade_body(number: int) -> str:
    if number == 1:
        return (
            "    from sessionerror.models import Base\n    Base.metadata.create_all(op.get_bind())"
        )
    if number == 2:
        return "    op.create_table('bench_log', sa.Column('id', sa.Integer(), primary_key=True))"
    if number % 2:
        return (
            f"    op.create_table('bench_t{number}', sa.Column('id', sa.Integer(), "
            "primary_key=True),\n"
            "                    sa.Column('name', sa.String(50), nullable=False))\n"
            f"    op.create_index('ix_bench_t{number}_name', 'bench_t{number}', ['name'])"
        )
    return f"    op.add_column('bench_log', sa.Column('c{number}', sa.Integer(), nullable=True))"


def generate_project(root: Path, revisions: int) -> Path:
    """Write an Alembic project with ``revisions`` linear revisions; return its alembic.ini."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "script.py.mako").write_text("# not used\n")
    for number in range(1, revisions + 1):
        down = f"r{number - 1:04d}" if number > 1 else None
        (versions / f"r{number:04d}.py").write_text(
            REVISION.format(number=number, down=down, upgrade=_upgrade_body(number))
        )
    ini = root / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {root / 'migrations'}\n")
    return ini


def _config(ini: Path, *, reuse: bool = False) -> SchemaSettings:
    return SchemaSettings(alembic_ini=str(ini), reuse_schema=reuse)


def _worker(args: tuple[str, int, str, str, dict[str, Any] | None, str]) -> float:
    """One simulated xdist worker: provision its database, return the seconds it took."""
    backend, index, ini, server_url, templates, tmp = args
    server = PostgresServer(url=server_url, source="url", description="benchmark")
    started = time.perf_counter()
    provisioner = DatabaseProvisioner(
        _config(Path(ini)),
        worker=f"bench{index}",
        tmp_dir=Path(tmp),
        cache_dir=None,
        availability={"postgresql": Availability(server)},
        templates=BuiltTemplates.from_dict(templates) if templates else None,
    )
    provisioner.get(backend)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    provisioner.close()
    return elapsed


def _run_workers(
    backend: str, workers: int, ini: Path, server_url: str, templates: BuiltTemplates | None
) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory(prefix="sessionerror-bench-") as tmp:
        tasks = [
            (backend, i, str(ini), server_url, templates.to_dict() if templates else None, tmp)
            for i in range(workers)
        ]
        started = time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            durations = list(pool.map(_worker, tasks))
        return time.perf_counter() - started, durations


def _server(url: str) -> PostgresServer:
    return PostgresServer(
        url=DatabaseURL(url).require_postgres(), source="url", description="benchmark"
    )


def measure(backend: str, ini: Path, server_url: str, counts: list[int]) -> list[dict[str, Any]]:
    """before / after / reuse rows for one backend."""
    rows: list[dict[str, Any]] = []
    server = _server(server_url)
    with tempfile.TemporaryDirectory(prefix="sessionerror-bench-cache-") as cache:
        # Reuse: a first run keeps the template; the runs measured below find it.
        keeper = TemplateBuilder(
            _config(ini, reuse=True),
            availability={"postgresql": Availability(server)},
            cache_dir=Path(cache),
        )
        keeper.build((backend,))  # type: ignore[arg-type]
        try:
            for count in counts:
                before_wall, before = _run_workers(backend, count, ini, server.url.reveal(), None)

                started = time.perf_counter()
                builder = TemplateBuilder(
                    _config(ini), availability={"postgresql": Availability(server)}, cache_dir=None
                )
                templates = builder.build((backend,))  # type: ignore[arg-type]
                build = time.perf_counter() - started
                copy_wall, copies = _run_workers(
                    backend, count, ini, server.url.reveal(), templates
                )
                builder.close()

                started = time.perf_counter()
                finder = TemplateBuilder(
                    _config(ini, reuse=True),
                    availability={"postgresql": Availability(server)},
                    cache_dir=Path(cache),
                )
                kept = finder.build((backend,))  # type: ignore[arg-type]
                lookup = time.perf_counter() - started
                assert finder.reused == {backend}, "the kept template was not reused"
                reuse_wall, reuse_copies = _run_workers(
                    backend, count, ini, server.url.reveal(), kept
                )

                rows.append(
                    {
                        "backend": backend,
                        "workers": count,
                        "before_wall": before_wall,
                        "before_worker": statistics.mean(before),
                        "migrations_before": count,
                        "build": build,
                        "after_wall": build + copy_wall,
                        "copy_worker": statistics.mean(copies),
                        "copy_max": max(copies),
                        "migrations_after": 1,
                        "lookup": lookup,
                        "reuse_wall": lookup + reuse_wall,
                        "reuse_worker": statistics.mean(reuse_copies),
                    }
                )
                print(_format_row(rows[-1]), flush=True)
        finally:
            if backend == "postgresql" and "postgresql" in keeper.built:
                _drop(server.url.reveal(), keeper.built["postgresql"])
    return rows


def template_copy_ms(ini: Path, server_url: str, repeats: int = 7) -> float:
    """Median ms of one bare CREATE DATABASE ... TEMPLATE (and its DROP not counted)."""
    server = _server(server_url)
    builder = TemplateBuilder(
        _config(ini), availability={"postgresql": Availability(server)}, cache_dir=None
    )
    template = builder.build(("postgresql",)).for_backend("postgresql")
    times = []
    try:
        for _ in range(repeats):
            janitor = DatabaseJanitor(server.url, worker="benchcopy", template=template)
            started = time.perf_counter()
            janitor.create()
            times.append((time.perf_counter() - started) * 1000)
            janitor.drop()
    finally:
        builder.close()
    return statistics.median(times)


def _drop(server_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


HEADER = (
    "| backend | -n | before: wall | before: per worker | after: build once | after: wall "
    "| after: copy per worker | reuse: wall | reuse: copy per worker |\n"
    "| --- | --: | --: | --: | --: | --: | --: | --: | --: |"
)


def _format_row(row: dict[str, Any]) -> str:
    return (
        f"| {row['backend']} | {row['workers']} | {row['before_wall']:.2f} s "
        f"({row['migrations_before']} migrations) | {row['before_worker']:.2f} s "
        f"| {row['build']:.2f} s | {row['after_wall']:.2f} s (1 migration) "
        f"| {row['copy_worker'] * 1000:.0f} ms | {row['reuse_wall']:.2f} s (0 migrations) "
        f"| {row['reuse_worker'] * 1000:.0f} ms |"
    )


def plot(rows: list[dict[str, Any]], path: Path) -> bool:
    """Wall time of per-worker provisioning vs -n; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    backends = sorted({row["backend"] for row in rows})
    figure, axes = plt.subplots(1, len(backends), figsize=(5.5 * len(backends), 4), squeeze=False)
    for axis, backend in zip(axes[0], backends, strict=True):
        mine = [row for row in rows if row["backend"] == backend]
        counts = [row["workers"] for row in mine]
        for key, label in (
            ("before_wall", "before: migrations per worker"),
            ("after_wall", "after: build once + copy"),
            ("reuse_wall", "reuse: kept template + copy"),
        ):
            axis.plot(counts, [row[key] for row in mine], marker="o", label=label)
        axis.set_title(f"{backend}: provisioning wall time")
        axis.set_xlabel("xdist workers (-n)")
        axis.set_ylabel("seconds")
        axis.set_xticks(counts)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return True


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--png", type=Path, default=HERE / "migrations.png")
    parser.add_argument(
        "--local-postgres",
        action="store_true",
        help="start the kit's throwaway local server (fsync off) instead of the URL",
    )
    options = parser.parse_args()
    server_url = os.environ.get("SESSIONERROR_POSTGRES_URL")
    provider = None
    if options.local_postgres:
        from sessionerror.testdb.postgres.provider import PostgresProvider

        provider = PostgresProvider(allow_container=False)
        server_url = provider.start().url.reveal()
        print(f"PostgreSQL: {provider.server.description if provider.server else ''}")
    try:
        _main(options, server_url)
    finally:
        if provider is not None:
            provider.stop()


def _main(options: argparse.Namespace, server_url: str | None) -> None:
    parser = argparse.ArgumentParser()
    if "postgresql" in options.backends and not server_url:
        parser.error("set SESSIONERROR_POSTGRES_URL to a PostgreSQL server (or --backends sqlite)")
    with tempfile.TemporaryDirectory(prefix="sessionerror-bench-history-") as tmp:
        ini = generate_project(Path(tmp) / "long", options.revisions)
        short = generate_project(Path(tmp) / "short", 10)
        print(f"history: {options.revisions} revisions; workers: {options.workers}\n")
        print(HEADER, flush=True)
        rows: list[dict[str, Any]] = []
        for backend in options.backends:
            rows += measure(backend, ini, server_url or "", options.workers)
        if "postgresql" in options.backends:
            assert server_url
            long_ms = template_copy_ms(ini, server_url)
            short_ms = template_copy_ms(short, server_url)
            print(
                f"\nCREATE DATABASE ... TEMPLATE, median of 7: {short_ms:.0f} ms for a 10-revision "
                f"history, {long_ms:.0f} ms for {options.revisions} revisions"
            )
    if plot(rows, options.png):
        print(f"curve: {options.png}")
    else:
        print("matplotlib is not installed: no PNG")


if __name__ == "__main__":
    main()
