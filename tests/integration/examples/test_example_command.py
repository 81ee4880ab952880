"""What a user who installed the wheel runs (issue 19): ``sessionerror example`` and
``build-image``, ``python -m sessionerror.scenarios.NAME``, and messages that suggest only
commands that exist."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sessionerror.cli import build_parser, main
from sessionerror.scenarios import SCENARIOS
from sessionerror.scenarios.registry import EXAMPLES
from sessionerror.testdb.postgres.image import BUILD_SCRIPT, ENTRYPOINT

ROOT = Path(__file__).resolve().parents[3]
PW = "S3cretPw9x"
#: An address where no Docker engine can answer, whatever this machine runs.
NO_ENGINE = "tcp://127.0.0.1:1"


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sessionerror: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_example_list_names_every_scenario_and_how_to_run_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["example", "--list"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines()[:-1]]
    assert listed == list(EXAMPLES)
    assert set(EXAMPLES) == set(SCENARIOS)
    assert "removes its errors, files and tickets" in out
    assert out.splitlines()[-1] == "Run one: sessionerror example NAME [--db URL]"


def test_example_cascade_runs_on_a_temporary_sqlite_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["example", "cascade"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Scenario: deleting a session removes its errors")
    assert "database: sqlite" in captured.out
    assert "Result: PASSED" in captured.out and "[FAILED]" not in captured.out
    assert captured.err == ""


def test_example_that_finds_a_misbehaving_database_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["example", "set_null", "--sqlite-foreign-keys-off"]) == 1
    out = capsys.readouterr().out
    assert "Result: FAILED" in out and "PRAGMA foreign_keys=ON" in out


@pytest.mark.parametrize("argv", [["example", "nope"], ["example"]], ids=["unknown", "missing"])
def test_unknown_or_missing_example_name_is_one_line_listing_the_names(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = one_error_line(captured.err)
    assert all(name in line for name in EXAMPLES), line
    assert "sessionerror example --list" in line
    if len(argv) > 1:
        assert "no example named 'nope'" in line


def test_example_on_an_unreachable_server_masks_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["example", "cascade", "--db", f"postgresql://u:{PW}@127.0.0.1:1/x"]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert "cannot connect" in line and "Fix:" in line
    assert PW not in captured.out + captured.err


@pytest.mark.postgresql
@pytest.mark.parametrize("sessionerror_backend", ["postgresql"], indirect=True)
def test_example_with_db_on_postgresql_leaves_an_empty_database_empty(
    empty_postgres_url: str, sessionerror_backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for example in EXAMPLES:
        assert main(["example", example, "--db", empty_postgres_url]) == 0, capsys.readouterr()
        out = capsys.readouterr().out
        assert "database: postgresql" in out and "Result: PASSED" in out


def test_python_m_scenario_runs_it() -> None:
    # -W error: the package must not have loaded the module before runpy runs it.
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "sessionerror.scenarios.cascade"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT.parent,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Scenario: deleting a session removes its errors")
    assert "Result: PASSED" in done.stdout
    assert done.stderr == ""


def test_build_image_help_names_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build-image", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--tag IMAGE" in out and "--force" in out and "sessionerror/postgres:15-local" in out


def test_build_image_without_an_engine_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    assert main(["build-image"]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert captured.out == ""
    # The docker CLI may be missing here, or present with no engine at NO_ENGINE.
    assert "no Docker engine answers at DOCKER_HOST=tcp://127.0.0.1:1" in line or (
        "needs the docker command" in line
    ), line
    assert "Fix:" in line


def test_build_image_refuses_a_malformed_tag_before_asking_docker(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    assert main(["build-image", "--tag", "Not A/Tag"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "is not a Docker image name" in line and "Fix:" in line


def test_the_repository_script_runs_the_shipped_builder() -> None:
    assert BUILD_SCRIPT.is_file() and ENTRYPOINT.is_file()
    done = subprocess.run(
        ["bash", str(ROOT / "docker" / "build-postgres-image.sh")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "DOCKER_HOST": NO_ENGINE},
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith("build-postgres-image: "), done.stderr


def _subcommands() -> set[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


#: `sessionerror WORD` quoted, or after "Fix:"/"run": a command a user is told to type.
_SUGGESTED = re.compile(r"(?:`|Fix: |\brun )sessionerror ([a-z][a-z_-]*)")


def test_every_suggested_command_exists() -> None:
    commands = _subcommands()
    assert {"check", "export", "summary", "example", "build-image"} <= commands
    sources = [*sorted((ROOT / "sessionerror").rglob("*.py")), ROOT / "README.md"]
    sources += [ROOT / "examples" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    wrong = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for match in _SUGGESTED.finditer(text):
            if match.group(1) not in commands:
                wrong.append(f"{path.relative_to(ROOT)}: sessionerror {match.group(1)}")
        for stale in ("bash docker/", "python examples/", "docker/build-postgres-image.sh"):
            if path.suffix == ".py" and stale in text and path.parent.name != "image":
                wrong.append(f"{path.relative_to(ROOT)}: {stale} (not in the wheel)")
    assert not wrong, "\n".join(wrong)
