"""Query-count assertions, the contract fixture, fixture factories and leftover cleanup."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytester_runs import kill_when_ready
from sqlalchemy import create_engine, text

RunPytest = Callable[..., pytest.RunResult]


def test_query_count_assertions(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from sqlalchemy import text
        from sessionerror import SessionError, WorkflowSession

        def test_within_limit(sessionerror_db, sessionerror_assert_max_queries):
            session = WorkflowSession(name="q")
            sessionerror_db.add(session)
            sessionerror_db.commit()  # SAVEPOINT traffic is not counted
            session_id = session.id  # reloads the expired object: outside the counted block
            with sessionerror_assert_max_queries(1):
                assert SessionError.has_blocking_errors(session_id) is False

        def test_exact(sessionerror_db, sessionerror_assert_num_queries):
            with sessionerror_assert_num_queries(2):
                sessionerror_db.execute(text("select 1"))
                sessionerror_db.execute(text("select 2"))

        def test_exceeded_lists_statements(sessionerror_db, sessionerror_assert_max_queries):
            with sessionerror_assert_max_queries(1):
                sessionerror_db.execute(text("select 11"))
                sessionerror_db.execute(text("select 22"))

        def test_exact_not_met(sessionerror_db, sessionerror_assert_num_queries):
            with sessionerror_assert_num_queries(3):
                sessionerror_db.execute(text("select 1"))
        """
    )
    result = run_inprocess(
        "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url
    )
    result.assert_outcomes(passed=4, failed=4)
    result.stdout.fnmatch_lines(
        [
            "*Expected at most 1 queries, 2 were executed:",
            "*1. select 11",
            "*2. select 22",
        ]
    )
    result.stdout.fnmatch_lines(["*Expected exactly 3 queries, 1 were executed:*"])
    assert "SAVEPOINT" not in result.stdout.str()


def test_contract_fixture_passes_on_the_kit_schema_and_fails_on_a_broken_one(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(
        """
        from sqlalchemy import create_engine, event, text

        def test_reference(sessionerror_assert_contract):
            report = sessionerror_assert_contract()
            assert not report.failures

        def test_broken(sessionerror_assert_contract, tmp_path):
            engine = create_engine(f"sqlite:///{tmp_path / 'team.db'}")
            with engine.begin() as conn:
                conn.execute(text("create table sessions (id char(32) primary key)"))
                conn.execute(text(
                    "create table session_errors (id char(32) primary key, session_id char(32) "
                    "references sessions(id))"))
            sessionerror_assert_contract(engine)
        """
    )
    result = run_inprocess(
        "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url
    )
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*AssertionError*"])


def test_databases_is_the_0_1_0_name_of_the_provisioner(
    pytester: pytest.Pytester, run_inprocess: RunPytest
) -> None:
    pytester.makepyfile(
        """
        from sessionerror.testing import DatabaseProvisioner

        def test_same(sessionerror_provisioner, sessionerror_databases, sessionerror_database):
            assert isinstance(sessionerror_provisioner, DatabaseProvisioner)
            assert sessionerror_databases is sessionerror_provisioner
            assert sessionerror_provisioner.get("sqlite") is sessionerror_database
        """
    )
    run_inprocess("--sessionerror-backend", "sqlite").assert_outcomes(passed=1)


def test_fixture_factories_build_engines_for_another_schema(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str
) -> None:
    pytester.makeconftest(
        """
        from sqlalchemy import Column, Integer, MetaData, String, Table
        from sessionerror.testing import sessionerror_db_factory, sessionerror_engine_factory

        other = MetaData()
        Table("gadgets", other, Column("id", Integer, primary_key=True), Column("name", String(9)))

        gadget_engine = sessionerror_engine_factory(metadata=other)
        gadget_db = sessionerror_db_factory(engine="gadget_engine")
        gadget_db_committed = sessionerror_db_factory(engine="gadget_engine", committed=True)
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from sqlalchemy import inspect, text

        @pytest.mark.parametrize("i", range(3))
        def test_isolated(gadget_db, gadget_engine, sessionerror_backend, i):
            assert gadget_engine.dialect.name == sessionerror_backend
            assert inspect(gadget_engine).get_table_names() == ["gadgets"]
            assert gadget_db.scalar(text("select count(*) from gadgets")) == 0
            gadget_db.execute(text("insert into gadgets (name) values ('g')"))
            gadget_db.commit()

        @pytest.mark.parametrize("i", range(2))
        def test_committed(gadget_db_committed, i):
            gadget_engine = gadget_db_committed.get_bind()
            assert gadget_db_committed.scalar(text("select count(*) from gadgets")) == 0
            gadget_db_committed.execute(text("insert into gadgets (name) values ('c')"))
            gadget_db_committed.commit()
            with gadget_engine.connect() as other:
                assert other.scalar(text("select count(*) from gadgets")) == 1
        """
    )
    result = run_inprocess(
        "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url
    )
    result.assert_outcomes(passed=10)  # the db factory alone is parametrised per backend too


def _kit_databases(server_url: str) -> set[str]:
    engine = create_engine(server_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("select datname from pg_database where datname like 'sessionerror\\_%'")
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def test_leftovers_of_a_killed_run_are_removed_at_the_next_start(
    pytester: pytest.Pytester, server_url: str
) -> None:
    ready = pytester.path / "ready.txt"
    pytester.makepyfile(
        f"""
        import os, time
        from pathlib import Path

        def test_hangs(sessionerror_engine):
            # written then renamed: the parent must never read it half-written
            Path({str(ready)!r} + ".tmp").write_text(sessionerror_engine.url.database)
            os.replace({str(ready)!r} + ".tmp", {str(ready)!r})
            time.sleep(120)
        """
    )
    before = _kit_databases(server_url)
    kill_when_ready(
        [
            "-p",
            "no:randomly",
            "-p",
            "no:xdist",
            "--sessionerror-backend",
            "postgresql",
            "--sessionerror-postgres-url",
            server_url,
            "--sessionerror-no-reuse-schema",  # a per-run database: what a killed run leaves
        ],
        cwd=pytester.path,
        ready=ready,
        timeout=60,
    )
    leftover = ready.read_text()
    assert leftover in _kit_databases(server_url) - before, "a killed run leaves its database"
    pytester.makepyfile("def test_ok(sessionerror_engine): pass")
    result = pytester.runpytest_subprocess(
        "-p",
        "no:randomly",
        "-p",
        "no:xdist",
        "--sessionerror-backend",
        "postgresql",
        "--sessionerror-postgres-url",
        server_url,
        "--sessionerror-no-reuse-schema",
    )
    result.assert_outcomes(passed=1)
    assert leftover not in _kit_databases(server_url)
