"""A new user's first steps, verbatim: the wheel in a fresh virtualenv, in an empty folder.

Builds the wheel, makes a virtualenv, and runs the ``pip install`` and ``pytest`` commands of
docs/use-in-your-project.md exactly as written (pip finds the wheel through PIP_FIND_LINKS, its
dependencies on the package index), with the page's test file. Nothing of this checkout is on
the path: only what the wheel installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from docs_blocks import DOCS, ROOT, blocks

PAGE = DOCS / "use-in-your-project.md"
SERVER = os.environ.get(
    "SESSIONERROR_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX virtualenv layout")
def test_the_use_in_your_project_page_works_from_the_wheel(
    built_dist: Path, tmp_path: Path
) -> None:
    [wheel] = built_dist.glob("sessionerror-*.whl")

    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / "bin"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SESSIONERROR_", "PYTEST_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PIP_FIND_LINKS=str(wheel.parent),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        SESSIONERROR_POSTGRES_URL=SERVER,
        SESSIONERROR_REQUIRE_POSTGRES="1",
    )
    page_blocks = blocks(PAGE)
    [test_block] = [block for block in page_blocks if block.lang == "python"]
    [test_file] = test_block.includes
    steps = [
        command for block in page_blocks if block.lang == "console" for command in block.commands
    ]
    assert [step[0] for step in steps] == ["pip", "pytest"], steps
    (project / "tests" / "test_errors.py").write_text(test_file.read_text())

    installed = _run(steps[0], project, env)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    where = _run(
        ["python", "-c", "import sessionerror; print(sessionerror.__file__)"], project, env
    )
    assert str(tmp_path / "venv") in where.stdout, where.stdout + where.stderr

    ran = _run(steps[1], project, env)
    from sessionerror.testdb.postgres.kept_cleanup import drop_kept_databases

    drop_kept_databases(SERVER, project=str(project))  # schema reuse keeps them by default
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert "2 passed" in ran.stdout, ran.stdout[-3000:]


def test_the_license_ships_in_the_wheel_and_the_sdist(tmp_path: Path) -> None:
    import tarfile
    import zipfile

    built = _run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path), str(ROOT)],
        ROOT,
        dict(os.environ),
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("*.whl")
    [sdist] = tmp_path.glob("*.tar.gz")
    assert any(name.endswith("/licenses/LICENSE") for name in zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(name.endswith("/LICENSE") for name in names)
    assert any(name.endswith("/CHANGELOG.md") for name in names)
