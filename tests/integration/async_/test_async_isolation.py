"""sessionerror_async_db isolates every test on both backends: loop scopes, modes, order, xdist."""

from __future__ import annotations

from collections.abc import Callable

import pytest

RunAsync = Callable[..., pytest.RunResult]

# Each test commits distinctive rows and must then see only its own, whatever ran before.
LEAK_SUITE = """
import pytest
from sqlalchemy import func, select, text
from sessionerror import WorkflowSession


async def count(db):
    return await db.scalar(select(func.count()).select_from(WorkflowSession))


{am}@pytest.mark.parametrize("i", range(5))
async def test_commit_inside_test_does_not_leak(sessionerror_async_db, i):
    assert await count(sessionerror_async_db) == 0
    session = WorkflowSession(name=f"committed-{{i}}")
    sessionerror_async_db.add(session)
    await sessionerror_async_db.commit()
    assert session.name == f"committed-{{i}}"  # expire_on_commit=False: no lazy load
    sessionerror_async_db.add(WorkflowSession(name="second"))
    await sessionerror_async_db.commit()
    assert await count(sessionerror_async_db) == 2


{am}@pytest.mark.parametrize("i", range(3))
async def test_rollback_inside_test_keeps_earlier_commits(sessionerror_async_db, i):
    assert await count(sessionerror_async_db) == 0
    sessionerror_async_db.add(WorkflowSession(name="kept"))
    await sessionerror_async_db.commit()
    sessionerror_async_db.add(WorkflowSession(name="dropped"))
    await sessionerror_async_db.flush()
    await sessionerror_async_db.rollback()
    names = (await sessionerror_async_db.scalars(select(WorkflowSession.name))).all()
    assert names == ["kept"]


{am}@pytest.mark.parametrize("i", range(3))
async def test_connection_shares_the_transaction(
    sessionerror_async_db, sessionerror_async_connection, i
):
    sessionerror_async_db.add(WorkflowSession(name="orm"))
    await sessionerror_async_db.commit()
    assert await sessionerror_async_connection.scalar(text("select count(*) from sessions")) == 1


@pytest.mark.parametrize("i", range(3))
def test_sync_tests_see_nothing(sessionerror_db, i):
    assert sessionerror_db.scalar(select(func.count()).select_from(WorkflowSession)) == 0


{am}@pytest.mark.sessionerror(committed=True)
@pytest.mark.parametrize("i", range(2))
async def test_committed_mode_is_visible_to_other_connections(
    sessionerror_async_db, sessionerror_async_engine, i
):
    assert await count(sessionerror_async_db) == 0
    sessionerror_async_db.add(WorkflowSession(name="really committed"))
    await sessionerror_async_db.commit()
    async with sessionerror_async_engine.connect() as other:
        assert await other.scalar(text("select count(*) from sessions")) == 1


{am}@pytest.mark.sessionerror(committed=True)
async def test_committed_mode_failing_test_still_cleans(sessionerror_async_db):
    sessionerror_async_db.add(WorkflowSession(name="left by a failing test"))
    await sessionerror_async_db.commit()
    raise AssertionError("deliberate failure")


{am}async def test_engine_is_the_async_driver(sessionerror_async_engine, sessionerror_backend):
    expected = {{"sqlite": "aiosqlite", "postgresql": "asyncpg"}}[sessionerror_backend]
    assert sessionerror_async_engine.dialect.driver == expected
"""
# 5 + 3 + 3 + 2 + 1 async-passing tests, 3 sync ones, per backend; one deliberate failure each.
PASSED_PER_BACKEND = 5 + 3 + 3 + 3 + 2 + 1


def suite(mode: str) -> str:
    """The leak suite; in auto mode without any asyncio mark."""
    return LEAK_SUITE.format(am="" if mode == "auto" else "@pytest.mark.asyncio\n")


@pytest.mark.parametrize(
    ("loop", "mode"),
    [("function", "strict"), ("session", "strict"), ("function", "auto"), ("session", "auto")],
)
def test_no_leak_for_each_loop_scope_and_mode(
    pytester: pytest.Pytester, run_async: RunAsync, loop: str, mode: str
) -> None:
    pytester.makepyfile(suite(mode))
    result = run_async(loop=loop, mode=mode)
    result.assert_outcomes(passed=2 * PASSED_PER_BACKEND, failed=2)
    result.stdout.fnmatch_lines(["*deliberate failure*"])


def test_no_leak_in_random_order(pytester: pytest.Pytester, run_async: RunAsync) -> None:
    pytester.makepyfile(suite("strict"))
    result = run_async(loop="session", random_order=True)
    result.assert_outcomes(passed=2 * PASSED_PER_BACKEND, failed=2)


def test_no_leak_under_xdist(pytester: pytest.Pytester, run_async: RunAsync) -> None:
    pytester.makepyfile(suite("strict"))
    result = run_async(xdist=True)
    result.assert_outcomes(passed=2 * PASSED_PER_BACKEND, failed=2)


def test_session_loop_reuses_one_pooled_engine_function_loops_share_one_unpooled(
    pytester: pytest.Pytester, run_async: RunAsync
) -> None:
    out = pytester.path / "engines.txt"
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.parametrize("i", range(4))
        async def test_engine(sessionerror_async_engine, sessionerror_backend, i):
            async with sessionerror_async_engine.connect() as connection:
                await connection.exec_driver_sql("select 1")
            pool = type(sessionerror_async_engine.sync_engine.pool).__name__
            engine = id(sessionerror_async_engine)
            with open({str(out)!r}, "a") as handle:
                handle.write(f"{{sessionerror_backend}} {{engine}} {{pool}}\\n")
        """
    )

    def engines_per_backend() -> dict[str, list[tuple[str, str]]]:
        seen: dict[str, list[tuple[str, str]]] = {}
        for line in out.read_text().splitlines():
            backend, engine, pool = line.split()
            seen.setdefault(backend, []).append((engine, pool))
        out.unlink()
        return seen

    run_async(loop="session").assert_outcomes(passed=8)
    for backend, engines in engines_per_backend().items():
        assert len(set(engines)) == 1, backend  # one pooled engine for the whole run
        assert engines[0][1] != "NullPool", backend
    # Function-scoped loops: the first test's pooled engine is disposed with its loop; every
    # later loop shares one engine without a pool (a connection per test, no engine set-up).
    run_async(loop="function").assert_outcomes(passed=8)
    for backend, engines in engines_per_backend().items():
        assert engines[0][1] != "NullPool", backend
        assert len(set(engines[1:])) == 1, backend
        assert engines[1][1] == "NullPool", backend


def test_markers_backends_and_data(pytester: pytest.Pytester, run_async: RunAsync) -> None:
    pytester.makepyfile(
        """
        import pytest
        from sqlalchemy import func, select
        from sessionerror import SessionError

        @pytest.mark.asyncio
        @pytest.mark.sessionerror(backends=["postgresql"])
        async def test_only_postgres(sessionerror_async_db, sessionerror_backend):
            assert sessionerror_backend == "postgresql"

        @pytest.mark.asyncio
        @pytest.mark.sessionerror_data("upload_rejected")
        async def test_data_set_loaded(sessionerror_async_db):
            n = await sessionerror_async_db.scalar(select(func.count()).select_from(SessionError))
            assert n > 0
        """
    )
    result = run_async("-rA")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["PASSED *test_only_postgres[[]postgresql[]]"])
    # A marker typo stops the run at collection, in one line (issue 19).
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.sessionerror(comitted=True)
        async def test_typo(sessionerror_async_db):
            pass
        """
    )
    result = run_async()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: Invalid @pytest.mark.sessionerror*comitted*"])


def test_fixture_and_test_on_different_loops_fail_clearly(
    pytester: pytest.Pytester, run_async: RunAsync
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_default_test_loop(sessionerror_async_db):
            pass

        @pytest.mark.asyncio(loop_scope="session")
        async def test_marked_session_loop(sessionerror_async_db):
            pass
        """
    )
    result = run_async(loop="mixed")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "the sessionerror async fixtures run on the 'session' event loop "
            "(asyncio_default_fixture_loop_scope) but this test runs on the 'function' loop;*"
        ]
    )
