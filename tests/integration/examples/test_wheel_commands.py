"""The wheel carries what its commands need (issue 19): the scenarios and the image builder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = (
    "sessionerror/scenarios/registry.py",
    "sessionerror/scenarios/cascade.py",
    "sessionerror/testdb/postgres/image/__init__.py",
    "sessionerror/testdb/postgres/image/build-postgres-image.sh",
    "sessionerror/testdb/postgres/image/postgres-entrypoint.sh",
)


def test_wheel_runs_the_examples_and_ships_the_image_builder(
    built_dist: Path, tmp_path: Path
) -> None:
    wheel = next(built_dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        script = archive.read("sessionerror/testdb/postgres/image/build-postgres-image.sh")
    assert set(SHIPPED) <= names, sorted(set(SHIPPED) - names)
    assert (ROOT / "sessionerror/testdb/postgres/image/build-postgres-image.sh").read_bytes() == (
        script
    )

    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet"]
    install = subprocess.run(
        [*pip, "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    # The wheel's copy comes first; the virtualenv supplies SQLAlchemy and the drivers.
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-m", "sessionerror.scenarios.cascade"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Result: PASSED" in done.stdout
    probe = (
        "import sessionerror.scenarios.registry as r, sessionerror.testdb.postgres.image as i; "
        "print(r.__file__); print(i.BUILD_SCRIPT.is_file(), i.ENTRYPOINT.is_file())"
    )
    where = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert where.returncode == 0, where.stderr
    module_file, found = where.stdout.strip().split("\n")
    assert module_file.startswith(str(target))
    assert found == "True True"
