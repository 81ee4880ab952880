"""Every failure a user can cause in ``sessionerror check|export|summary``: the exit code the
README documents, one line on stderr naming the problem, no traceback, no password, nothing
written.

Rows are ``args -> (exit code, message fragment)``. Placeholders in the args: ``{pw}`` a
password that must never be printed, ``{ref}`` a SQLite database with the reference schema,
``{empty}`` a SQLite database without tables, ``{notdb}`` a text file, ``{dir}`` a directory,
``{out}`` a fresh export target, ``{file}`` an existing file that must stay as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sessionerror.cli import main
from sessionerror.models import Base

PW = "S3cretPw9x"
KEEP = "keep me"


@dataclass
class Places:
    ref: Path
    empty: Path
    notdb: Path
    dir: Path
    out: Path
    file: Path

    def fill(self, arg: str) -> str:
        return arg.format(
            pw=PW,
            ref=f"sqlite:///{self.ref}",
            empty=f"sqlite:///{self.empty}",
            notdb=f"sqlite:///{self.notdb}",
            dir=self.dir,
            out=self.out,
            file=self.file,
        )


@pytest.fixture
def places(tmp_path: Path) -> Places:
    ref = tmp_path / "ref.db"
    engine = create_engine(f"sqlite:///{ref}")
    Base.metadata.create_all(engine)
    engine.dispose()
    empty = tmp_path / "empty.db"
    engine = create_engine(f"sqlite:///{empty}")
    with engine.begin() as conn:  # a real SQLite file with an unrelated table
        conn.execute(text("CREATE TABLE unrelated (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    notdb = tmp_path / "notes.txt"
    notdb.write_text("not a database\n" * 200)
    directory = tmp_path / "a-directory"
    directory.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    existing = tmp_path / "existing.db"
    existing.write_text(KEEP)
    return Places(ref, empty, notdb, directory, out_dir / "errors.db", existing)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str, str, str]:
    """``main(argv)``; an escaping exception counts as a traceback in the output."""
    try:
        code: int | str = main(argv)
    except BaseException:  # that is exactly what the table must never see
        code = "raised"
        print(traceback.format_exc(), file=sys.stderr)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_clean_line(
    code: int | str, out: str, err: str, expected: int, fragment: str
) -> None:
    output = out + err
    assert "Traceback" not in output, output
    assert code == expected, output
    assert PW not in output, output
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sessionerror: error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "Fix:" in lines[0] or "--replace" in lines[0], lines[0]


def assert_nothing_written(places: Places) -> None:
    assert list(places.out.parent.iterdir()) == []  # no target, no partial, no journal
    assert places.file.read_text() == KEEP


# -- a bad --db, for each command ------------------------------------------------------------

BAD_URLS = [
    ("empty", "", "the database URL is empty"),
    ("typo-no-colon", "postgresql//user:{pw}@127.0.0.1/db", "invalid database URL"),
    ("typo-scheme", "postgres:/user:{pw}@127.0.0.1/db", "invalid database URL"),
    ("bad-port", "postgresql://user:{pw}@127.0.0.1:notaport/db", "invalid database URL"),
    ("unsupported", "mysql://user:{pw}@127.0.0.1/db", "only SQLite and PostgreSQL"),
    ("unknown-driver", "postgresql+nosuchdriver://user:{pw}@127.0.0.1/db", "is not available"),
    ("async-driver", "postgresql+asyncpg://user:{pw}@127.0.0.1/db", "asyncpg"),
    ("unreachable", "postgresql://user:{pw}@127.0.0.1:1/db", "cannot connect"),
    ("query-password", "postgresql://user@127.0.0.1:1/db?password={pw}", "cannot connect"),
    ("raw-at-in-password", "postgresql://user:{pw}@x@127.0.0.1:1/db", "%40"),
    ("bad-isolation-level", "{ref}?isolation_level=sometimes", "isolation_level"),
    ("sqlite-missing-file", "sqlite:///{dir}/missing.db", "does not exist"),
    ("sqlite-directory", "sqlite:///{dir}", "is a directory"),
    ("sqlite-not-a-database", "{notdb}", "file is not a database"),
]


def command_args(command: str, url: str) -> list[str]:
    if command == "export":
        return ["export", "--db", url, "--to", "{out}"]
    return [command, "--db", url]


@pytest.mark.parametrize(
    ("url", "fragment"), [r[1:] for r in BAD_URLS], ids=[r[0] for r in BAD_URLS]
)
@pytest.mark.parametrize("command", ["check", "export", "summary"])
def test_bad_database_url(
    places: Places, capsys: pytest.CaptureFixture[str], command: str, url: str, fragment: str
) -> None:
    argv = [places.fill(arg) for arg in command_args(command, url)]
    code, out, err = run(argv, capsys)
    assert_one_clean_line(code, out, err, 2, fragment)
    assert_nothing_written(places)
    assert not (places.dir / "missing.db").exists()  # SQLite files are never created


# -- bad usage and bad numbers ---------------------------------------------------------------

USAGE = [
    ("no-command", [], "required: COMMAND"),
    ("unknown-command", ["chek", "--db", "postgresql://u:{pw}@h/db"], "invalid choice: 'chek'"),
    ("url-without-db", ["check", "postgresql//user:{pw}@host/db"], "unrecognized arguments"),
    ("unknown-option", ["summary", "--db", "{ref}", "--nope"], "unrecognized arguments: --nope"),
    ("db-without-value", ["summary", "--db"], "expected one argument"),
    ("export-without-to", ["export", "--db", "{ref}"], "required: --to"),
    ("export-without-db", ["export", "--to", "{out}"], "required: --db"),
    (
        "batch-size-zero",
        ["export", "--db", "{ref}", "--to", "{out}", "--batch-size", "0"],
        "--batch-size",
    ),
    (
        "batch-size-negative",
        ["export", "--db", "{ref}", "--to", "{out}", "--batch-size", "-5"],
        ">= 1",
    ),
    (
        "batch-size-text",
        ["export", "--db", "{ref}", "--to", "{out}", "--batch-size", "many"],
        "'many'",
    ),
    (
        "top-negative",
        ["summary", "--db", "{ref}", "--top", "-1"],
        "--top: must be a whole number >= 0",
    ),
    ("top-text", ["summary", "--db", "{ref}", "--top", "ten"], "'ten'"),
    ("top-float", ["summary", "--db", "{ref}", "--top", "2.5"], "'2.5'"),
]


@pytest.mark.parametrize(("args", "fragment"), [r[1:] for r in USAGE], ids=[r[0] for r in USAGE])
def test_bad_usage(
    places: Places, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    code, out, err = run([places.fill(arg) for arg in args], capsys)
    assert_one_clean_line(code, out, err, 2, fragment)
    assert "usage:" not in err
    assert_nothing_written(places)


# -- bad export targets ----------------------------------------------------------------------

TARGETS = [
    ("to-missing-directory", ["--to", "{dir}/no/such/dir/errors.db"], "does not exist"),
    ("to-a-directory", ["--to", "{dir}"], "is a directory"),
    ("to-a-directory-replace", ["--to", "{dir}", "--replace"], "is a directory"),
    ("to-under-a-file", ["--to", "{file}/errors.db"], "is not a directory"),
    ("to-exists", ["--to", "{file}"], "already exists"),
]


@pytest.mark.parametrize(
    ("args", "fragment"), [r[1:] for r in TARGETS], ids=[r[0] for r in TARGETS]
)
def test_bad_export_target(
    places: Places, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    argv = ["export", "--db", "{ref}", *args]
    code, out, err = run([places.fill(arg) for arg in argv], capsys)
    assert_one_clean_line(code, out, err, 2, fragment)
    assert_nothing_written(places)
    assert list(places.dir.iterdir()) == []


def test_export_onto_its_own_source_loses_nothing(
    places: Places, capsys: pytest.CaptureFixture[str]
) -> None:
    before = places.ref.read_bytes()
    argv = ["export", "--db", f"sqlite:///{places.ref}", "--to", str(places.ref), "--replace"]
    code, out, err = run(argv, capsys)
    assert_one_clean_line(code, out, err, 2, "is the database being exported")
    assert places.ref.read_bytes() == before
    assert sorted(p.name for p in places.ref.parent.iterdir() if p.name.startswith(".")) == []


def _unwritable_directory(tmp_path: Path) -> Path:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    probe = locked / "probe"
    try:
        probe.touch()
    except OSError:
        return locked
    probe.unlink()  # root ignores the mode: try a read-only file system instead
    for candidate in (Path("/sys"), Path("/proc/sys")):
        try:
            (candidate / "sessionerror-probe").touch()
        except OSError:
            return candidate
    pytest.skip("no directory this user cannot write to")


def test_export_into_an_unwritable_directory(
    places: Places, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = _unwritable_directory(tmp_path)
    argv = ["export", "--db", f"sqlite:///{places.ref}", "--to", str(locked / "errors.db")]
    code, out, err = run(argv, capsys)
    assert_one_clean_line(code, out, err, 2, "cannot write")
    assert not (locked / "errors.db").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
@pytest.mark.parametrize("command", ["check", "summary"])
def test_unreadable_sqlite_file(
    places: Places, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    places.ref.chmod(0)
    code, out, err = run([command, "--db", f"sqlite:///{places.ref}"], capsys)
    assert_one_clean_line(code, out, err, 2, "not readable")


# -- databases without the contract's tables, on both backends ------------------------------


@pytest.mark.parametrize("command", ["export", "summary"])
def test_missing_tables(
    sessionerror_empty_database_url: str,
    places: Places,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    argv = command_args(command, sessionerror_empty_database_url)
    code, out, err = run([places.fill(arg) for arg in argv], capsys)
    assert_one_clean_line(code, out, err, 2, "session_errors table")
    assert_nothing_written(places)


def test_missing_tables_violate_the_contract(
    sessionerror_empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["check", "--db", sessionerror_empty_database_url], capsys)
    assert code == 1
    assert "contract VIOLATED" in out
    assert "Traceback" not in out + err


def test_missing_columns(places: Places, capsys: pytest.CaptureFixture[str]) -> None:
    engine = create_engine(f"sqlite:///{places.empty}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE sessions (id TEXT PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE session_errors (id TEXT PRIMARY KEY, session_id TEXT)"))
    engine.dispose()
    code, out, err = run(["summary", "--db", f"sqlite:///{places.empty}"], capsys)
    assert_one_clean_line(code, out, err, 2, "has no column operation_stage")
    code, out, err = run(
        ["export", "--db", f"sqlite:///{places.empty}", "--to", str(places.out)], capsys
    )
    assert_one_clean_line(code, out, err, 2, "has no column user_message")
    assert_nothing_written(places)


@pytest.mark.postgresql
@pytest.mark.parametrize("sessionerror_backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("command", ["check", "summary"])
def test_password_of_a_working_url_is_never_printed(
    sessionerror_empty_database_url: str,
    sessionerror_backend: str,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    from sqlalchemy.engine import make_url

    Base.metadata.create_all(engine := create_engine(sessionerror_empty_database_url))
    engine.dispose()
    # The test server trusts local connections: any password is accepted, so it is printed
    # nowhere only if the output masks it.
    base = make_url(sessionerror_empty_database_url)
    in_userinfo = base.set(password=PW).render_as_string(hide_password=False)
    in_query = base.update_query_dict({"password": PW}).render_as_string(hide_password=False)
    for url in (in_userinfo, in_query):
        for extra in ([], ["--json"]):
            code, out, err = run([command, "--db", url, *extra], capsys)
            assert code == 0, out + err
            assert PW not in out + err
            if command == "check":
                assert "***" in out


# -- the real console script -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected", "fragment"),
    [
        (["check", "--db", "postgresql//user:{pw}@host/db"], 2, "invalid database URL"),
        (["check", "postgresql//user:{pw}@host/db"], 2, "unrecognized arguments"),
        (["summary", "--db", "{ref}", "--top", "-1"], 2, "--top"),
        (["export", "--db", "{ref}", "--to", "{dir}", "--replace"], 2, "is a directory"),
    ],
    ids=["typo-url", "usage-echo", "top-negative", "to-directory"],
)
def test_console_script(places: Places, argv: list[str], expected: int, fragment: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sessionerror", *(places.fill(arg) for arg in argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert_one_clean_line(done.returncode, done.stdout, done.stderr, expected, fragment)
    assert done.stdout == ""
