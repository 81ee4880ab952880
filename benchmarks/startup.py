"""Start-up benchmark: time from launching pytest to the first test's body, per PostgreSQL source.

Runs a one-test suite (the test uses ``sessionerror_db``, so the server, the kit's database and
its schema are ready when it starts) as its own pytest process, three times per source:

* ``url``       an existing server (``--sessionerror-postgres-url``, default 127.0.0.1:5432);
* ``local``     the throwaway local server (initdb + pg_ctl);
* ``container`` the container tier (Docker + the image from ``--image``).

    python benchmarks/startup.py
    python benchmarks/startup.py --repeats 5 --image postgres:15-alpine

Prints a markdown table (seconds; the "total" column is the whole pytest process, teardown
included). Not a test. Each source that cannot run is reported in one line, not skipped silently.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DEFAULT_IMAGE = "sessionerror/postgres:15-local"

SUITE = """\
import os, time

def test_first(sessionerror_db):
    with open(os.environ["BENCH_OUT"], "w") as out:
        out.write(repr(time.time()))
"""


def source_args(source: str, url: str, image: str) -> list[str]:
    """The pytest options that make ``source`` the only provider of PostgreSQL."""
    common = ["--sessionerror-backend", "postgresql", "--sessionerror-require-postgres"]
    if source == "url":
        return [*common, "--sessionerror-postgres-url", url]
    if source == "local":
        return [*common, "--sessionerror-no-containers"]
    return [
        *common,
        "--sessionerror-no-local-postgres",
        "--sessionerror-container-image",
        image,
    ]


def run_once(root: Path, args: list[str]) -> tuple[float, float]:
    """(seconds to the first test's body, seconds for the whole process)."""
    out = root / "first-test.txt"
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONERROR_")}
    env.update(BENCH_OUT=str(out), TESTCONTAINERS_RYUK_DISABLED="true")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:randomly"]
    command += ["-p", "no:cacheprovider", *args]
    launched = time.time()
    finished = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    total = time.time() - launched
    if finished.returncode != 0 or not out.exists():
        lines = (finished.stdout + finished.stderr).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"pytest exited {finished.returncode}")
    return float(out.read_text()) - launched, total


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--url", default=os.environ.get("SESSIONERROR_POSTGRES_URL", DEFAULT_PG_URL)
    )
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    parser.add_argument("--sources", default="url,local,container")
    options = parser.parse_args()

    rows = [
        "| PostgreSQL from | to first test: median (min to max) | whole run: median |",
        "| --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory(prefix="sessionerror-startup-") as tmp:
        root = Path(tmp)
        (root / "test_first.py").write_text(SUITE)
        for source in options.sources.split(","):
            args = source_args(source, options.url, options.image)
            try:
                runs = [run_once(root, args) for _ in range(options.repeats)]
            except RuntimeError as exc:
                rows.append(f"| {source} | failed: {exc} | |")
                continue
            first = [run[0] for run in runs]
            total = [run[1] for run in runs]
            rows.append(
                f"| {source} | {statistics.median(first):.2f} s "
                f"({min(first):.2f} to {max(first):.2f}) | {statistics.median(total):.2f} s |"
            )
    print(f"{options.repeats} runs each, {os.cpu_count()} CPUs")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
