"""What the plugin costs a run that uses none of its fixtures (issue 19): wall time side by side.

A one-test plain project (no kit fixture) runs in a fresh pytest process per run, with the
plugin disabled (``-p no:sessionerror``), enabled with the default settings, enabled with
``sessionerror_backend = all`` (no URL: the local server tier), and with ``all`` plus
``SESSIONERROR_POSTGRES_URL``. Each variant's wall time is the median of ``--runs`` runs, the
variants interleaved so load bursts on a shared machine hit them alike; the CPU seconds
(user + system of pytest and what it starts, e.g. initdb) move far less with the load.

    python benchmarks/plugin_idle.py [--runs 7] [--pg-url URL] [--pythonpath DIR]

``--pythonpath`` puts another checkout's ``sessionerror`` first (e.g. the code before issue 19,
from ``git archive``) to compare. Not a test: it prints a table.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PLAIN_TEST = "def test_plain():\n    assert 1 + 1 == 2\n"


def _variants(pg_url: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Name -> (extra pytest arguments, extra environment)."""
    return {
        "-p no:sessionerror": (["-p", "no:sessionerror"], {}),
        "-p sessionerror (default)": ([], {}),
        "backend all, no URL": (["-o", "sessionerror_backend=all"], {}),
        "backend all, URL": (
            ["-o", "sessionerror_backend=all"],
            {"SESSIONERROR_POSTGRES_URL": pg_url},
        ),
    }


def _run_once(project: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the pytest process and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            *args,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    """Run every variant ``--runs`` times and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--pythonpath", default=None, help="a checkout to import first")
    options = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONERROR_")}
    if options.pythonpath:
        base_env["PYTHONPATH"] = options.pythonpath
    variants = _variants(options.pg_url)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="sessionerror-idle-") as name:
        project = Path(name)
        (project / "test_plain.py").write_text(PLAIN_TEST)
        (project / "pytest.ini").write_text("[pytest]\n")
        for _ in range(options.runs):
            for variant, (args, env) in variants.items():
                times[variant].append(_run_once(project, args, {**base_env, **env}))
    print(f"one plain test, median of {options.runs} runs, seconds (wall range)")
    print(f"{'variant':<28} {'wall':>6} {'CPU':>6}  wall range")
    for variant, values in times.items():
        wall = [value[0] for value in values]
        cpu = statistics.median(value[1] for value in values)
        print(
            f"{variant:<28} {statistics.median(wall):6.2f} {cpu:6.2f}  "
            f"{min(wall):.2f}-{max(wall):.2f}"
        )


if __name__ == "__main__":
    main()
