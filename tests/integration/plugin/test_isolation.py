"""Rollback and committed isolation on both backends, in any order, with and without xdist."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

RunPytest = Callable[..., pytest.RunResult]

# Each test writes a distinctive row and then, whatever the order, must find only its own rows.
LEAK_SUITE = """
import pytest
from sqlalchemy import func, select, text
from sessionerror import SessionError, WorkflowSession


def count(db):
    return db.scalar(select(func.count()).select_from(WorkflowSession))


@pytest.mark.parametrize("i", range(6))
def test_commit_inside_test_does_not_leak(sessionerror_db, i):
    assert count(sessionerror_db) == 0
    sessionerror_db.add(WorkflowSession(name=f"committed-{i}"))
    sessionerror_db.commit()
    sessionerror_db.add(WorkflowSession(name=f"second-{i}"))
    sessionerror_db.commit()
    assert count(sessionerror_db) == 2


@pytest.mark.parametrize("i", range(6))
def test_rollback_inside_test_keeps_earlier_commits(sessionerror_db, i):
    assert count(sessionerror_db) == 0
    sessionerror_db.add(WorkflowSession(name="kept"))
    sessionerror_db.commit()
    sessionerror_db.add(WorkflowSession(name="dropped"))
    sessionerror_db.flush()
    sessionerror_db.rollback()
    assert [s.name for s in sessionerror_db.scalars(select(WorkflowSession))] == ["kept"]


@pytest.mark.parametrize("i", range(6))
def test_raw_sql_through_the_connection(sessionerror_db, sessionerror_connection, i):
    assert count(sessionerror_db) == 0
    sessionerror_db.add(WorkflowSession(name="orm"))
    sessionerror_db.commit()
    # The connection fixture shares the test's transaction: it sees the ORM's row.
    assert sessionerror_connection.scalar(text("select count(*) from sessions")) == 1


@pytest.mark.sessionerror(committed=True)
@pytest.mark.parametrize("i", range(4))
def test_committed_mode_is_visible_to_other_connections(sessionerror_db, sessionerror_engine, i):
    assert count(sessionerror_db) == 0
    session = WorkflowSession(name="really committed")
    sessionerror_db.add(session)
    sessionerror_db.commit()
    with sessionerror_engine.connect() as other:
        assert other.scalar(text("select count(*) from sessions")) == 1


@pytest.mark.sessionerror(committed=True)
def test_committed_mode_failing_test_still_cleans(sessionerror_db):
    assert count(sessionerror_db) == 0
    sessionerror_db.add(WorkflowSession(name="left by a failing test"))
    sessionerror_db.commit()
    raise AssertionError("deliberate failure")
"""

EXPECTED_PASSED_PER_BACKEND = 6 + 6 + 6 + 4


@pytest.mark.parametrize("random_order", [False, True], ids=["in-order", "random-order"])
def test_no_leak_between_tests_on_both_backends(
    pytester: pytest.Pytester, run_inprocess: RunPytest, server_url: str, random_order: bool
) -> None:
    pytester.makepyfile(LEAK_SUITE)
    result = run_inprocess(
        "--sessionerror-backend",
        "all",
        "--sessionerror-postgres-url",
        server_url,
        random_order=random_order,
    )
    result.assert_outcomes(passed=2 * EXPECTED_PASSED_PER_BACKEND, failed=2)


def test_under_xdist_no_leak_and_each_worker_has_its_own_databases(
    pytester: pytest.Pytester, server_url: str
) -> None:
    # One two-worker run (three interpreters) checks both: the leak suite beside a probe that
    # records which database each worker's tests really use. The probe is collected first, so
    # xdist's first batches hand some of it to each worker.
    out = pytester.path / "where.jsonl"
    pytester.makepyfile(
        test_2_leak=LEAK_SUITE,
        test_1_where=f"""
        import json, os, pytest

        @pytest.mark.parametrize("i", range(8))
        def test_where(sessionerror_engine, sessionerror_backend, i):
            with open({str(out)!r}, "a") as handle:
                row = [os.environ["PYTEST_XDIST_WORKER"], sessionerror_backend,
                       sessionerror_engine.url.database]
                handle.write(json.dumps(row) + "\\n")
        """,
    )
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "no:randomly",
        "--sessionerror-backend",
        "all",
        "--sessionerror-postgres-url",
        server_url,
    )
    result.assert_outcomes(passed=2 * EXPECTED_PASSED_PER_BACKEND + 16, failed=2)
    seen = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(seen) == 16
    databases = {(worker, backend): db for worker, backend, db in seen}
    assert {worker for worker, _, _ in seen} == {"gw0", "gw1"}
    for backend in ("sqlite", "postgresql"):
        assert databases[("gw0", backend)] != databases[("gw1", backend)]
