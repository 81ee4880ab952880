"""Schema reuse on by default (issue 20, the inner loop): kept template and kept worker copy.

The second run neither creates nor drops a database: it checks that the kept copy is as its
template left it (seeded rows included) and sets its sequences back; a copy that changed is
copied again. ``--sessionerror-no-reuse-schema`` keeps nothing; ``--sessionerror-drop-kept``
drops what was kept; a team's database on the same server is never touched.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from pytester_runs import RunPytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from sessionerror.testdb.postgres.kept import KEEP_PREFIX, kept_owner_tag

SEEDED_SCHEMA = """
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()
tiers = Table("tiers", metadata, Column("id", Integer, primary_key=True),
              Column("name", String(20)))

def build(connection):
    from pathlib import Path
    marker = Path(__file__).with_name("setup_calls.txt")
    marker.write_text(marker.read_text() + "x" if marker.exists() else "x")
    metadata.create_all(connection)
    connection.execute(tiers.insert().values(name="gold"))  # a migration's seeded row
"""

SEEDED_TEST = """
from sqlalchemy import text

def test_seeded_row_and_sequence(sessionerror_db):
    names = sessionerror_db.execute(text("SELECT name FROM tiers")).scalars().all()
    assert names == ["gold"]
    new_id = sessionerror_db.execute(
        text("INSERT INTO tiers (name) VALUES ('silver') RETURNING id")
    ).scalar_one()
    assert new_id == 2  # the sequence starts where the template left it, every run
"""


@pytest.fixture
def admin(server_url: str) -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the server's maintenance database."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    yield engine
    engine.dispose()


def _kept(admin: Engine, project: str) -> list[str]:
    with admin.connect() as connection:
        user = connection.execute(text("SELECT current_user")).scalar_one()
        prefix = f"{KEEP_PREFIX}{kept_owner_tag(user, project)}_"
        return list(
            connection.execute(
                text(
                    "SELECT datname FROM pg_database WHERE starts_with(datname, :prefix) "
                    "ORDER BY datname"
                ),
                {"prefix": prefix},
            ).scalars()
        )


def _project(pytester: pytest.Pytester) -> list[str]:
    pytester.makepyfile(myschema=SEEDED_SCHEMA, test_seeded=SEEDED_TEST)
    pytester.syspathinsert()
    return [
        "-p",
        "cacheprovider",
        "--sessionerror-schema-setup",
        "myschema:build",
        "--sessionerror-backend",
        "postgresql",
    ]


def test_second_run_reuses_the_kept_copy_and_restores_a_changed_one(
    pytester: pytest.Pytester,
    run_inprocess: RunPytest,
    server_url: str,
    admin: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [*_project(pytester), "--sessionerror-postgres-url", server_url]
    run_inprocess(*args).assert_outcomes(passed=1)
    kept = _kept(admin, str(pytester.path))
    # One process: its kept database is built directly, no template (one CREATE, no DROP).
    assert len(kept) == 1 and "_main_" in kept[0], kept
    copy = kept[0]
    run_inprocess(*args).assert_outcomes(passed=1)
    assert _kept(admin, str(pytester.path)) == kept, "an unchanged copy is used as is"
    assert (pytester.path / "setup_calls.txt").read_text() == "x"
    # A killed committed test (or an app engine that committed) leaves rows behind, and a
    # seeded row deleted: the next run builds it again, seeded row back.
    url = make_url(server_url).set(database=copy)
    dirty = create_engine(url, poolclass=NullPool)
    with dirty.begin() as connection:
        connection.execute(text("DELETE FROM tiers"))
        connection.execute(text("INSERT INTO tiers (id, name) VALUES (7, 'left over')"))
    dirty.dispose()
    run_inprocess(*args).assert_outcomes(passed=1)
    assert (pytester.path / "setup_calls.txt").read_text() == "xx", "a changed one is rebuilt"
    run_inprocess(*args).assert_outcomes(passed=1)
    assert (pytester.path / "setup_calls.txt").read_text() == "xx"
    # With xdist the workers copy a kept template: each keeps its copy, checked the same way.
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    xdist = [*args, "-p", "no:randomly", "-n", "2"]
    pytester.runpytest_subprocess(*xdist).assert_outcomes(passed=1)
    names = _kept(admin, str(pytester.path))
    assert sum("_tpl_" in name for name in names) == 1, names
    pytester.runpytest_subprocess(*xdist).assert_outcomes(passed=1)
    assert (pytester.path / "setup_calls.txt").read_text() == "xxx", "the template: once"


def test_no_reuse_keeps_nothing_and_drop_kept_drops(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str, admin: Engine
) -> None:
    args = [*_project(pytester), "--sessionerror-postgres-url", server_url]
    run_inprocess(*args, "--sessionerror-no-reuse-schema").assert_outcomes(passed=1)
    assert _kept(admin, str(pytester.path)) == []
    run_inprocess(*args).assert_outcomes(passed=1)
    assert len(_kept(admin, str(pytester.path))) == 1
    result = run_inprocess(*args, "--sessionerror-drop-kept", "--sessionerror-no-reuse-schema")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*sessionerror: dropped 1 kept database(s) and file(s)*"])
    assert _kept(admin, str(pytester.path)) == []


def test_a_teams_database_is_never_touched(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str, admin: Engine
) -> None:
    # A team's database, and one that only looks like the kit's (its name, not its comment).
    with admin.connect() as connection:
        user = connection.execute(text("SELECT current_user")).scalar_one()
    lookalike = f"{KEEP_PREFIX}{kept_owner_tag(user, str(pytester.path))}_main_{'0' * 16}"
    team = f"team_app_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        for name in (team, lookalike):
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        for name in (team, lookalike):
            engine = create_engine(make_url(server_url).set(database=name), poolclass=NullPool)
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE tiers (id int, name text)"))
                connection.execute(text("INSERT INTO tiers VALUES (1, 'team row')"))
            engine.dispose()
        args = [*_project(pytester), "--sessionerror-postgres-url", server_url]
        run_inprocess(*args).assert_outcomes(passed=1)
        run_inprocess(*args).assert_outcomes(passed=1)
        run_inprocess(*args, "--sessionerror-drop-kept").assert_outcomes(passed=1)
        for name in (team, lookalike):
            engine = create_engine(make_url(server_url).set(database=name), poolclass=NullPool)
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT id, name FROM tiers")).all()
            engine.dispose()
            assert rows == [(1, "team row")], name
    finally:
        with admin.connect() as connection:
            for name in (team, lookalike):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_one_process_without_reuse_works_in_its_template_itself(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    """No copy: one CREATE DATABASE and one DROP, as a hand-written conftest."""
    pytester.makepyfile(
        """
        def test_database(sessionerror_engine):
            assert "_tpl" in sessionerror_engine.url.database
        """
    )
    args = ["--sessionerror-backend", "postgresql", "--sessionerror-postgres-url", server_url]
    run_inprocess(*args, "--sessionerror-no-reuse-schema").assert_outcomes(passed=1)
