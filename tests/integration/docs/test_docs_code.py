"""Every code block of the docs site runs: a snippet that no longer works fails here.

Python blocks are includes of files under ``docs/snippets`` (or of an example the example tests
run); scripts run in a fresh interpreter, test modules through pytester on both backends, the
migration snippets inside a real Alembic project. Console blocks: every ``sessionerror`` command
runs against a sample database, ``pytest`` commands use only registered options, ``pip install``
names only real extras, and the container page's commands are the ones ``.ci/run`` executes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from docs_blocks import ROOT, SNIPPETS, all_blocks, blocks, commands, included_snippets

from sessionerror.plugin.config import OPTIONS

#: Included from outside docs/snippets; each is run by the test named here.
TESTED_ELSEWHERE = {
    ROOT / "examples/fastapi_app/conftest.py": "tests/integration/async_/test_fastapi_example.py",
}
SCRIPTS = sorted(
    path
    for path in SNIPPETS.glob("*.py")
    if not path.name.startswith("test_") and path.name != "env.py"
)
#: Test snippets run by a test of their own (in a project set up as the page says).
OWN_PROJECT_TESTS = {"test_migrations_tour.py", "test_own_model_setting.py"}
PLAIN_TESTS = sorted(
    path for path in SNIPPETS.glob("test_*.py") if path.name not in OWN_PROJECT_TESTS
)
SERVER = os.environ.get(
    "SESSIONERROR_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESSIONERROR_", "PYTEST_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_every_python_block_is_a_tested_file() -> None:
    for block in all_blocks():
        if block.lang not in ("python", "py"):
            continue
        lines = [line for line in block.body.splitlines() if line.strip()]
        assert lines and len(block.includes) == len(lines), (
            f"{block.page.name}: a python block must only include files "
            f'(--8<-- "docs/snippets/..."), so the tests run it:\n{block.body}'
        )
        for path in block.includes:
            assert path.is_file(), f"{block.page.name} includes a missing file {path}"
            assert path.is_relative_to(SNIPPETS) or path in TESTED_ELSEWHERE, path


def test_every_snippet_is_shown_somewhere() -> None:
    assert set(SNIPPETS.glob("*.py")) == included_snippets()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_snippet_runs(script: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_test_snippets_pass_on_both_backends(
    pytester: pytest.Pytester, run_inprocess: Callable[..., pytest.RunResult]
) -> None:
    # Inline: the snippets use the kit's fixtures and models, nothing an interpreter start sets.
    for path in PLAIN_TESTS:
        shutil.copy(path, pytester.path / path.name)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = run_inprocess(
        "--sessionerror-backend=all",
        f"--sessionerror-postgres-url={SERVER}",
        "--sessionerror-require-postgres",
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0, result.stdout.str()
    assert "skipped" not in outcomes and outcomes["passed"] >= 2 * len(PLAIN_TESTS)


def test_own_model_setting_snippet_passes_on_both_backends(pytester: pytest.Pytester) -> None:
    """docs/own-model.md: a project naming its class with ``sessionerror_model`` (issue 18)."""
    for name in ("own_model_app.py", "test_own_model_setting.py"):
        shutil.copy(SNIPPETS / name, pytester.path / name)
    pytester.makeini(
        "[pytest]\nsessionerror_model = own_model_app:AppError\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:xdist", "--sessionerror-backend=all",
        f"--sessionerror-postgres-url={SERVER}", "--sessionerror-require-postgres",
    )  # fmt: skip
    result.assert_outcomes(passed=6)


REVISION = '''\
"""the reference schema"""
from alembic import op

from myapp.models import Base

revision = "0001"
down_revision = None


def upgrade():
    Base.metadata.create_all(op.get_bind())


def downgrade():
    bind = op.get_bind()
    Base.metadata.drop_all(bind)
    if bind.dialect.name == "postgresql":
        op.execute("DROP TYPE IF EXISTS error_category")
        op.execute("DROP TYPE IF EXISTS error_severity")
'''


def test_migration_snippets_run_in_an_alembic_project(pytester: pytest.Pytester) -> None:
    (pytester.path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    versions = pytester.path / "migrations" / "versions"
    versions.mkdir(parents=True)
    shutil.copy(SNIPPETS / "env.py", pytester.path / "migrations" / "env.py")
    (versions / "0001_schema.py").write_text(REVISION)
    (pytester.path / "myapp").mkdir()
    (pytester.path / "myapp" / "__init__.py").write_text("")
    (pytester.path / "myapp" / "models.py").write_text("from sessionerror.models import Base\n")
    shutil.copy(SNIPPETS / "test_migrations_tour.py", pytester.path)
    [(_page, command)] = [
        (page, command)
        for page, command in commands("pytest")
        if "test_migrations_tour.py" in command
    ]
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess(
        "-p",
        "no:randomly",
        "-p",
        "no:xdist",
        f"--sessionerror-postgres-url={SERVER}",
        "--sessionerror-require-postgres",
        *command[1:],
    )
    result.assert_outcomes(passed=6)


@pytest.fixture(scope="module")
def sample_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``app.db``: the reference schema with factory-made errors, as the checker page assumes."""
    folder = tmp_path_factory.mktemp("docs-cli")
    script = (
        "from sqlalchemy.orm import Session\n"
        "from sessionerror import Base, bind_session\n"
        "from sessionerror.factories import SessionErrorFactory\n"
        "from sessionerror.engines.sqlite import create_sqlite_engine\n"
        "engine = create_sqlite_engine('app.db')\n"
        "Base.metadata.create_all(engine)\n"
        "with Session(engine) as db, bind_session(db):\n"
        "    SessionErrorFactory.create_batch(12)\n"
        "    db.commit()\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=folder, env=_clean_env(), check=True)
    return folder


_CI_COMMANDS = {"containers.md"}


@pytest.mark.parametrize(
    "command",
    [command for page, command in commands("sessionerror") if page.name not in _CI_COMMANDS],
    ids=" ".join,
)
def test_sessionerror_command_runs(
    command: list[str], sample_database: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    shutil.copytree(sample_database, work)
    done = subprocess.run(
        [sys.executable, "-m", "sessionerror", *command[1:]],
        cwd=work,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_container_page_shows_what_ci_runs() -> None:
    """CI's container step runs the page's commands as they are written."""
    ci = " ".join((ROOT / ".ci" / "run").read_text().split())
    page = ROOT / "docs" / "containers.md"
    shown = [
        command for block in blocks(page) if block.lang == "console" for command in block.commands
    ]
    assert shown
    for command in shown:
        if command[0] == "export":
            assert f"export {command[1]}" in ci, command
        elif command[0] in ("apt-get", "dockerd"):
            assert command[0] in ci, command
            assert all(flag in ci for flag in command if flag.startswith("-")), command
        else:
            assert " ".join(command[:2]) in ci, f"{' '.join(command)} is not run by .ci/run"


def test_pytest_commands_use_registered_options() -> None:
    known = {option.cli for option in OPTIONS}
    for page, command in commands("pytest"):
        for word in command:
            if word.startswith("--sessionerror-"):
                assert word.split("=", 1)[0] in known, f"{page.name}: unknown option {word}"


def test_pip_install_names_real_extras() -> None:
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    shown = commands("pip")
    assert shown
    for page, command in shown:
        for word in command:
            if word.startswith("sessionerror["):
                named = set(word.removeprefix("sessionerror[").removesuffix("]").split(","))
                assert named <= extras, f"{page.name}: no such extra {named - extras}"
