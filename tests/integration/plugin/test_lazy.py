"""Issue 19: a run using none of the kit's database fixtures resolves, starts and builds nothing.

Fake ``initdb``/``pg_ctl`` scripts (given as the local server's binaries) write a marker when
called, and a schema-setup callable writes one when a template is built: the markers tell
whether the plugin did any work, whatever it cleaned up before the run ended.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

RunPytest = Callable[..., pytest.RunResult]

FAKE_BINARY = """#!/bin/sh
echo "$0 $*" >> {marker}
exit 1
"""
MARKING_SETUP = """
from pathlib import Path

def build(connection):
    with Path({marker!r}).open("a") as marker:
        marker.write(connection.dialect.name + "\\n")
    from sessionerror.models import Base
    Base.metadata.create_all(connection)
"""
PLAIN_TEST = """
import glob
import os
import tempfile

def test_plain():
    # The template directory and the PostgreSQL databases of this run carry its pid.
    assert not glob.glob(os.path.join(tempfile.gettempdir(), f"sessionerror-run-{os.getpid()}-*"))
    url = os.environ.get("PROBE_URL")
    if url:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as connection:
            names = connection.execute(
                text("select datname from pg_database where datname like :pattern"),
                {"pattern": f"sessionerror\\\\_{os.getpid()}\\\\_%"},
            ).all()
        engine.dispose()
        assert names == []
"""
DATABASE_TESTS = """
def test_db(sessionerror_db, sessionerror_backend):
    assert sessionerror_db.get_bind().dialect.name == sessionerror_backend

def test_dynamic(request, sessionerror_config):
    engine = request.getfixturevalue("sessionerror_engine")  # the first selected backend
    assert engine.dialect.name == sessionerror_config.backends[0]
"""


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user can enter: as root, the kit runs initdb as an unprivileged user."""
    with tempfile.TemporaryDirectory(prefix="sessionerror-issue19-") as name:
        Path(name).chmod(0o777)
        yield Path(name)


def _marking_project(pytester: pytest.Pytester, shared: Path) -> tuple[Path, Path]:
    """Fake server binaries and a marking schema setup; returns (binaries marker, setup marker)."""
    bin_dir = shared / "fake-pg-bin"
    bin_dir.mkdir(mode=0o755)
    called = shared / "binaries-called.txt"
    for name in ("initdb", "pg_ctl", "postgres"):
        script = bin_dir / name
        script.write_text(FAKE_BINARY.format(marker=called))
        script.chmod(0o755)
    built = pytester.path / "templates-built.txt"
    pytester.makepyfile(marksetup=MARKING_SETUP.format(marker=str(built)))
    pytester.syspathinsert()
    pytester.makeini(
        "[pytest]\n"
        "sessionerror_backend = all\n"
        f"sessionerror_pg_bin_dir = {bin_dir}\n"
        "sessionerror_no_containers = true\n"
        "sessionerror_schema_setup = marksetup:build\n"
    )
    return called, built


def test_plain_project_starts_and_builds_nothing(
    pytester: pytest.Pytester, run_pytest: RunPytest, shared_dir: Path
) -> None:
    called, built = _marking_project(pytester, shared_dir)
    pytester.makepyfile(test_plain=PLAIN_TEST)
    result = run_pytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["sessionerror: postgresql resolved on first use"])
    listing = run_pytest("--fixtures")
    assert listing.ret == pytest.ExitCode.OK
    listing.stdout.fnmatch_lines(["sessionerror_db*"])
    assert not called.exists(), called.read_text()
    assert not built.exists(), built.read_text()


def test_plain_project_creates_no_database_on_the_server(
    pytester: pytest.Pytester,
    run_pytest: RunPytest,
    monkeypatch: pytest.MonkeyPatch,
    server_url: str,
) -> None:
    pytester.makepyfile(test_plain=PLAIN_TEST)
    monkeypatch.setenv("PROBE_URL", server_url)
    result = run_pytest("--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url)
    result.assert_outcomes(passed=1)


def test_database_tests_resolve_and_build_once_on_first_use(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str, shared_dir: Path
) -> None:
    _called, built = _marking_project(pytester, shared_dir)
    pytester.makepyfile(test_db=DATABASE_TESTS)
    # No reuse: every run builds (kept templates would hide the builds counted here).
    url = ("--sessionerror-postgres-url", server_url, "--sessionerror-no-reuse-schema")
    # Decided after collection: before the first test, templates built once per backend.
    result = run_inprocess(*url)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["sessionerror: postgresql from *127.0.0.1*"])
    result.stdout.fnmatch_lines(["*sqlite schema template*built once for this run*"])
    assert sorted(built.read_text().split()) == ["postgresql", "sqlite"]
    # Only getfixturevalue: nothing to see at collection, the fixture resolves on first use.
    built.unlink()
    result = run_inprocess(*url, "-k", "dynamic", "--sessionerror-backend", "postgresql")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["sessionerror: postgresql from *127.0.0.1*"])
    assert built.read_text().split() == ["postgresql"]
    # A server that fails then is still one line, now on the test that needed it.
    bad = ("--sessionerror-postgres-url", "postgresql://app:s3cr3t@127.0.0.1:1/app")
    result = run_inprocess(*bad, "-k", "dynamic", "--sessionerror-backend", "postgresql")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*sessionerror: *PostgreSQL*127.0.0.1:1*connection refused*"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "s3cr3t" not in output


XDIST_PLAIN_TEST = """
import os

def test_one():
    # An xdist worker: its controller is its parent.
    with open("pids.txt", "a") as pids:
        pids.write(f"{os.getpid()} {os.getppid()}\\n")

def test_two():
    test_one()
"""


def _kit_databases(url: str, pids: set[str], project: Path) -> list[str]:
    """The databases on the server named for ``pids`` or kept for ``project``."""
    from sqlalchemy import create_engine, text

    from sessionerror.testdb.postgres.kept import KEEP_PREFIX, kept_owner_tag

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            user = connection.execute(text("select current_user")).scalar_one()
            names = connection.execute(
                text("select datname from pg_database where datname like 'sessionerror%'")
            ).scalars()
            kept = f"{KEEP_PREFIX}{kept_owner_tag(user, str(project))}_"
            return [name for name in names if name.startswith(kept) or name.split("_")[1] in pids]
    finally:
        engine.dispose()


def _run_dirs(pids: set[str]) -> list[Path]:
    tmp = Path(tempfile.gettempdir())
    return [path for pid in pids for path in tmp.glob(f"sessionerror-run-{pid}-*")]


def test_xdist_plain_run_creates_nothing_and_database_tests_build_once(
    pytester: pytest.Pytester, run_pytest: RunPytest, server_url: str, shared_dir: Path
) -> None:
    # run_pytest: a clean environment; the runs below need xdist, so a subprocess each.
    called, built = _marking_project(pytester, shared_dir)
    pytester.makepyfile(test_plain=XDIST_PLAIN_TEST)
    xdist = ("-p", "no:randomly", "-n", "2", "--sessionerror-postgres-url", server_url)
    # Schema reuse (the default) and --sessionerror-backend all: still nothing at all.
    result = pytester.runpytest_subprocess(*xdist, "--sessionerror-backend", "all")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["sessionerror: postgresql resolved on first use"])
    pids = set((pytester.path / "pids.txt").read_text().split())
    assert len(pids) == 3, pids  # two workers, one controller
    assert _kit_databases(server_url, pids, pytester.path) == []
    assert _run_dirs(pids) == []
    assert not built.exists(), built.read_text()
    assert not called.exists(), called.read_text()
    # Database tests: the first worker that needs them builds the templates, once per backend;
    # the controller drops the per-run template and the run directory at the end.
    (pytester.path / "pids.txt").unlink()
    pytester.makepyfile(test_plain=XDIST_PLAIN_TEST, test_db=DATABASE_TESTS)
    result = pytester.runpytest_subprocess(*xdist, "--sessionerror-no-reuse-schema")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*postgresql schema template sessionerror_*(built once*"])
    assert sorted(built.read_text().split()) == ["postgresql", "sqlite"]
    pids = set((pytester.path / "pids.txt").read_text().split())
    assert _kit_databases(server_url, pids, pytester.path) == []
    assert _run_dirs(pids) == []


LOCAL_PLAIN_TEST = """
import glob
import os
import tempfile

def test_plain():
    # No local server's data directory while the tests run (an eager controller made one).
    with open("pids.txt", "a") as pids:
        pids.write(f"{os.getpid()} {os.getppid()}\\n")
    with open("during.txt", "a") as during:
        for path in glob.glob(os.path.join(tempfile.gettempdir(), "sessionerror-pg-*")):
            during.write(path + "\\n")
"""
LOCAL_SERVER_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_local(sessionerror_connection, n):
    data_dir = sessionerror_connection.exec_driver_sql("show data_directory").scalar()
    with open("servers.txt", "a") as servers:
        servers.write(data_dir + "\\n")
"""


def _local_servers() -> set[str]:
    """The kit's local server data directories in the temp dir, and its running postmasters."""
    found = {str(path) for path in Path(tempfile.gettempdir()).glob("sessionerror-pg-*")}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if words and words[0].endswith(b"postgres") and b"sessionerror-pg-" in b" ".join(words):
            found.add(f"process {cmdline.parent.name}")
    return found


def test_xdist_local_server_is_started_by_the_first_worker_that_needs_it(
    pytester: pytest.Pytester, run_pytest: RunPytest, shared_dir: Path
) -> None:
    # run_pytest: a clean environment (no SESSIONERROR_POSTGRES_URL); xdist: a subprocess each.
    _called, built = _marking_project(pytester, shared_dir)
    pytester.makeini(
        "[pytest]\nsessionerror_backend = all\nsessionerror_schema_setup = marksetup:build\n"
    )
    pytester.makepyfile(test_plain=LOCAL_PLAIN_TEST)
    xdist = ("-p", "no:randomly", "-n", "2", "--sessionerror-no-containers")
    before = _local_servers()
    # Plain tests: no local server started (no initdb, no data directory), nothing built.
    result = pytester.runpytest_subprocess(*xdist)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["sessionerror: postgresql resolved on first use"])
    during = pytester.path / "during.txt"
    assert not during.exists() or set(during.read_text().split()) <= before
    assert _local_servers() == before
    assert not built.exists(), built.read_text()
    pids = set((pytester.path / "pids.txt").read_text().split())
    assert _run_dirs(pids) == []
    # Database tests: one worker starts the server, the other uses it; the controller stops it.
    (pytester.path / "pids.txt").unlink()
    pytester.makepyfile(test_plain=LOCAL_PLAIN_TEST, test_local=LOCAL_SERVER_TESTS)
    result = pytester.runpytest_subprocess(*xdist, "--sessionerror-backend", "postgresql")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["sessionerror: postgresql from local server PostgreSQL*(pg_ctl)*"])
    servers = set((pytester.path / "servers.txt").read_text().split())
    assert len(servers) == 1, servers
    assert not Path(servers.pop()).exists()
    assert _local_servers() == before
    pids = set((pytester.path / "pids.txt").read_text().split())
    assert _run_dirs(pids) == []
    assert built.read_text().split() == ["postgresql"]
