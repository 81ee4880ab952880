"""The inner loop (issue 20): re-running tests of a downstream app, kit vs a hand-written conftest.

Builds a downstream app in a temporary folder (FastAPI-style async SQLAlchemy models, an Alembic
history of three revisions, the last one seeding a row, 10 async tests on pytest-asyncio's default
function-scoped loops), then runs ``pytest`` on it as a subprocess, two ways, interleaved:

* kit — ``sessionerror_async_db`` with ``sessionerror_alembic_ini``, defaults otherwise (schema
  reuse on);
* hand-written — the usual conftest: create a database, ``alembic upgrade head``, one engine and
  connection per test in a rolled-back transaction, drop the database at the end
  (``-p no:sessionerror``).

For each: the *first* run (nothing kept from an earlier run: the kit's kept databases of this
project are dropped first) and the *second* run (what a developer re-running a test pays), for
one test and for the ten. Prints median wall times and kit/hand-written ratios, and writes
``benchmarks/inner-loop-results.md``.

    SESSIONERROR_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python benchmarks/inner_loop.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy
from inner_loop_app import (  # the app's files
    ALEMBIC_INI,
    APP,
    ENV_PY,
    HAND_CONFTEST,
    HAND_INI,
    KIT_CONFTEST,
    KIT_INI,
    MODELS,
    REVISION,
    REVISIONS,
    TESTS,
)

HERE = Path(__file__).resolve().parent
KIT_ROOT = HERE.parent
RESULTS = HERE / "inner-loop-results.md"


def write_app(root: Path) -> None:
    """The downstream app: package, migrations, tests (shared by both variants)."""
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "main.py").write_text(APP)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    for revision, (down, body) in REVISIONS.items():
        text = REVISION.format(revision=revision, down=down, body=body)
        (versions / f"{revision}.py").write_text(text)
    (root / "tests").mkdir()
    (root / "tests" / "test_app.py").write_text(TESTS)


def make_variant(base: Path, name: str, conftest: str, ini: str) -> Path:
    """A copy of the app with its own conftest and pytest.ini."""
    root = base / name
    root.mkdir()
    write_app(root)
    (root / "tests" / "conftest.py").write_text(conftest)
    (root / "pytest.ini").write_text(ini)
    return root


def drop_kept(root: Path) -> None:
    """Forget what an earlier run kept for this project: the kit's first run again."""
    from sessionerror.testdb.postgres.kept_cleanup import drop_kept_databases

    drop_kept_databases(os.environ["SESSIONERROR_POSTGRES_URL"], project=str(root))


def run_pytest(root: Path, *, hand: bool, one: bool) -> float:
    """Wall time of one ``pytest`` subprocess on ``root``; a failing run stops the benchmark."""
    target = "tests/test_app.py::test_3_seeded_tier" if one else "tests"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"]
    if hand:
        args += ["-p", "no:sessionerror"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(KIT_ROOT)])}
    # As on a developer's machine: bytecode (and pytest's rewritten modules) cached, not
    # compiled again on every run; the first round warms the caches for both variants.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    done = subprocess.run([*args, target], cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pytest failed in {root}:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed


def measure(kit: Path, hand: Path, rounds: int) -> dict[str, list[float]]:
    """Interleaved rounds: kit first run, hand-written, kit second run, for 1 and 10 tests."""
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for one in (True, False):
            size = "1 test" if one else "10 tests"
            drop_kept(kit)
            times.setdefault(f"kit, first run, {size}", []).append(
                run_pytest(kit, hand=False, one=one)
            )
            times.setdefault(f"hand-written, {size}", []).append(
                run_pytest(hand, hand=True, one=one)
            )
            times.setdefault(f"kit, second run, {size}", []).append(
                run_pytest(kit, hand=False, one=one)
            )
    drop_kept(kit)
    return times


def report(times: dict[str, list[float]], rounds: int) -> str:
    """The results table (median wall time, ratio to the hand-written conftest)."""
    lines = [
        f"Median wall time of `pytest` on the downstream app over {rounds} interleaved rounds "
        f"(Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"{os.cpu_count()} CPUs).",
        "",
        "| run | kit | hand-written conftest | kit / hand-written |",
        "| --- | --: | --: | --: |",
    ]
    for size in ("1 test", "10 tests"):
        hand = statistics.median(times[f"hand-written, {size}"])
        for which in ("first run", "second run"):
            kit = statistics.median(times[f"kit, {which}, {size}"])
            lines.append(f"| {size}, {which} | {kit:.2f} s | {hand:.2f} s | {kit / hand:.2f}x |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Build the app twice, measure, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    options = parser.parse_args()
    if not os.environ.get("SESSIONERROR_POSTGRES_URL"):
        raise SystemExit("set SESSIONERROR_POSTGRES_URL to a PostgreSQL server")
    with tempfile.TemporaryDirectory(prefix="inner-loop-") as tmp:
        base = Path(tmp)
        kit = make_variant(base, "kit", KIT_CONFTEST, KIT_INI)
        hand = make_variant(base, "hand", HAND_CONFTEST, HAND_INI)
        text = report(measure(kit, hand, options.rounds), options.rounds)
    print(text)
    if not options.no_write:
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
