"""Probe: two real pytest runs with --sessionerror-reuse-schema at the same time never interfere.

With reuse, the schema is kept as a template (``sessionerror_keep_<owner>_tpl_<fingerprint>`` /
a kept SQLite file) and every run works in its own copy of it; on PostgreSQL one process works in
its kept database (``sessionerror_keep_<owner>_main_<fingerprint>``) when no other run holds it,
else in a copy of its own of the kept template, dropped after it. Run A commits a row into its
copy and holds it open while run B starts in the same project, once with the same schema and
once with another one. A's row and A's database (same oid, same file) must survive, B must get
databases of its own (dropped after it), the kept template must survive both, and a later run
must reuse it without building the schema again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

CONFTEST = """
import json, os
from pathlib import Path

from sqlalchemy import text


def identity(engine):
    # Which database this run really uses: PostgreSQL name + oid, SQLite path + inode.
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            name, oid = connection.execute(text(
                "SELECT datname, oid FROM pg_database WHERE datname = current_database()"
            )).one()
        return [name, int(oid)]
    path = engine.url.database
    return [path, os.stat(path).st_ino]


def record(engine):
    # Written then renamed: the waiting test polls for the file and must never read it half-written.
    label = os.environ["PROBE_LABEL"]
    Path(f"{label}.json.tmp").write_text(json.dumps(identity(engine)))
    os.replace(f"{label}.json.tmp", f"{label}.json")
"""

HOLDING_RUN = """
import json, time
from pathlib import Path

import pytest
from sqlalchemy import text

from sessionerror import WorkflowSession
from conftest import identity, record


@pytest.mark.sessionerror(committed=True)
def test_hold(sessionerror_db, sessionerror_engine):
    sessionerror_db.add(WorkflowSession(name="committed by run A"))
    sessionerror_db.commit()
    before = identity(sessionerror_engine)
    record(sessionerror_engine)
    deadline = time.monotonic() + 240
    while not Path("others_done").exists():
        assert time.monotonic() < deadline, "the other runs never finished"
        time.sleep(0.05)
    with sessionerror_engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM sessions")).scalars().all()
    assert names == ["committed by run A"], "another run deleted run A's committed rows"
    assert identity(sessionerror_engine) == before, "run A's database was replaced"
"""

SAME_SCHEMA_RUN = """
import pytest
from sqlalchemy import text

from sessionerror import WorkflowSession
from conftest import record


@pytest.mark.sessionerror(committed=True)
def test_same_schema(sessionerror_db, sessionerror_engine):
    record(sessionerror_engine)
    with sessionerror_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM sessions")).scalar() == 0
    sessionerror_db.add(WorkflowSession(name="committed by run B"))
    sessionerror_db.commit()
"""

OTHER_SCHEMA = """
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()
Table("widgets", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))
"""

OTHER_SCHEMA_RUN = """
import pytest
from sqlalchemy import inspect, text

from conftest import record


@pytest.mark.sessionerror(committed=True)
def test_other_schema(sessionerror_db, sessionerror_engine):
    record(sessionerror_engine)
    assert inspect(sessionerror_engine).get_table_names() == ["widgets"]
    sessionerror_db.execute(text("INSERT INTO widgets (name) VALUES ('b')"))
    sessionerror_db.commit()
"""


@pytest.fixture
def admin(server_url: str) -> Iterator[Engine]:
    """AUTOCOMMIT engine on the maintenance database, for looking and cleaning up."""
    engine = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _database_names(admin: Engine) -> set[str]:
    with admin.connect() as connection:
        return set(connection.execute(text("SELECT datname FROM pg_database")).scalars())


def _kept_templates(admin: Engine, project: Path) -> set[str]:
    """The kept databases of this test's project only: tests on the other xdist worker keep
    their own meanwhile, and must neither be counted nor dropped here."""
    from sessionerror.testdb.postgres.kept import KEEP_PREFIX, kept_owner_tag

    with admin.connect() as connection:
        user = connection.execute(text("SELECT current_user")).scalar_one()
    prefix = f"{KEEP_PREFIX}{kept_owner_tag(user, str(project))}_"
    return {name for name in _database_names(admin) if name.startswith(prefix)}


def _drop_kept(admin: Engine, names: set[str]) -> None:
    with admin.connect() as connection:
        for name in names:
            assert name.startswith("sessionerror_keep_")  # only what these runs kept
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _template_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "schema template" in line]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_concurrent_reuse_schema_runs_do_not_interfere(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    server_url: str,
    admin: Engine,
    backend: str,
) -> None:
    for name in list(os.environ):
        if name.startswith(("SESSIONERROR_", "PYTEST_XDIST_")):
            monkeypatch.delenv(name)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_hold=HOLDING_RUN,
        test_same=SAME_SCHEMA_RUN,
        test_other=OTHER_SCHEMA_RUN,
        otherschema=OTHER_SCHEMA,
    )
    common = [
        "-p",
        "no:randomly",
        "-p",
        "no:xdist",
        "--sessionerror-reuse-schema",
        "--sessionerror-backend",
        backend,
        "--sessionerror-postgres-url",
        server_url,
    ]
    kept_before = _kept_templates(admin, pytester.path)
    log = pytester.path / "run_a.log"
    monkeypatch.setenv("PROBE_LABEL", "a")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pytester.path), *sys.path]))
    with log.open("wb") as output:
        run_a = subprocess.Popen(
            [sys.executable, "-m", "pytest", *common, "test_hold.py"],
            cwd=pytester.path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not (pytester.path / "a.json").exists():
            assert run_a.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        a_name, _ = json.loads((pytester.path / "a.json").read_text())
        kept = set()
        if backend == "postgresql":
            kept = _kept_templates(admin, pytester.path) - kept_before
            # One process: run A works in its kept database (held: no other run gets it).
            assert kept == {a_name}, kept

        monkeypatch.setenv("PROBE_LABEL", "same")
        same = pytester.runpytest_subprocess(*common, "test_same.py")
        same.assert_outcomes(passed=1)
        same_name, _ = json.loads((pytester.path / "same.json").read_text())
        assert same_name != a_name, "run B shared run A's database"

        monkeypatch.setenv("PROBE_LABEL", "other")
        other = pytester.runpytest_subprocess(
            *common, "--sessionerror-metadata", "otherschema:metadata", "test_other.py"
        )
        other.assert_outcomes(passed=1)
        other_name, _ = json.loads((pytester.path / "other.json").read_text())
        assert other_name != a_name
        if backend == "postgresql":
            kept |= _kept_templates(admin, pytester.path) - kept_before
            present = _database_names(admin)
            assert a_name in present, "another run dropped run A's database"
            assert same_name not in present, "run B's own database was not dropped"
            # The other schema's run keeps its own copy (another fingerprint); A's stays.
            assert other_name in kept, "run B kept no copy of its own schema"
            assert kept <= present
        else:
            assert Path(a_name).exists(), "another run removed run A's database file"
        (pytester.path / "others_done").touch()
        assert run_a.wait(timeout=240) == 0, log.read_text()
        assert "1 passed" in log.read_text()  # A's row and database identity held (test_hold)
        # Run A finished: the kept template is reused by the next run, without a build.
        monkeypatch.setenv("PROBE_LABEL", "next")
        pytester.makepyfile(
            test_next="""
            from conftest import record

            def test_next(sessionerror_engine):
                record(sessionerror_engine)
            """
        )
        following = pytester.runpytest_subprocess(*common, "test_next.py")
        following.assert_outcomes(passed=1)
        # SQLite keeps the newest template file per project: the other-schema run replaced
        # A's once A had copied it. PostgreSQL: A committed a row into its kept database, so
        # the next run builds it again. Either way once: the run after that builds nothing.
        following = pytester.runpytest_subprocess(*common, "test_next.py")
        following.assert_outcomes(passed=1)
        assert any("reused, no build" in line for line in _template_lines(following)), (
            following.outlines
        )
    finally:
        (pytester.path / "others_done").touch()
        if run_a.poll() is None:
            run_a.kill()
            run_a.wait()
        if backend == "postgresql":
            _drop_kept(admin, _kept_templates(admin, pytester.path) - kept_before)
