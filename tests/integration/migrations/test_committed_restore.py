"""Committed mode restores the template (issue 15): seeded rows and ``alembic_version`` stay,
the test's rows go, session settings do not carry over, a dead cleanup connection is retried,
and a cleanup that cannot run fails the next test in one line. Sync and async, both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic_project import AlembicProject

RunPytest = Callable[..., pytest.RunResult]

# Revision 0004 seeds a lookup table and a child of it (ON DELETE CASCADE).
SEED_UPGRADE = """\
    kinds = op.create_table(
        'error_kinds',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('label', sa.String(40), nullable=False),
    )
    aliases = op.create_table(
        'kind_aliases',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('kind_id', sa.Integer(),
                  sa.ForeignKey('error_kinds.id', ondelete='CASCADE'), nullable=False),
        sa.Column('alias', sa.String(40), nullable=False),
    )
    op.bulk_insert(kinds, [{'id': 1, 'label': 'upload'}, {'id': 2, 'label': 'jira'},
                           {'id': 3, 'label': 'parse'}])
    op.bulk_insert(aliases, [{'id': 1, 'kind_id': 2, 'alias': 'ticket'}])"""
SEED_DOWNGRADE = "    op.drop_table('kind_aliases')\n    op.drop_table('error_kinds')"

COMMON = """
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sessionerror import WorkflowSession

TEMPLATE = ([(1, "upload"), (2, "jira"), (3, "parse")], [(1, 2, "ticket")], ["0004"], 0)
PG_SETTINGS = (
    "select current_setting('TimeZone'), current_setting('search_path'), "
    "current_setting('statement_timeout')"
)
DEFAULTS = {}


def state(connection):
    kinds = connection.execute(text("select id, label from error_kinds order by id")).all()
    aliases = connection.execute(text("select id, kind_id, alias from kind_aliases")).all()
    version = connection.execute(text("select version_num from alembic_version")).scalars()
    sessions = connection.execute(text("select count(*) from sessions")).scalar()
    return [tuple(r) for r in kinds], [tuple(r) for r in aliases], list(version), sessions


def dirty(connection):
    connection.execute(text("delete from error_kinds where id = 2"))  # cascades to its alias
    connection.execute(text("update error_kinds set label = 'changed' where id = 1"))
    connection.execute(text("insert into error_kinds (id, label) values (9, 'added')"))
    connection.execute(text("insert into kind_aliases (id, kind_id, alias) values (5, 1, 'x')"))
    connection.execute(text("delete from alembic_version"))
    if connection.dialect.name == "postgresql":
        connection.execute(text("set time zone 'Asia/Tokyo'"))
        connection.execute(text("set search_path = public, pg_catalog"))
        connection.execute(text("set statement_timeout = '4321ms'"))
    else:
        connection.exec_driver_sql("pragma cache_size = -4321")
        connection.exec_driver_sql("pragma recursive_triggers = on")


def settings(connection):
    if connection.dialect.name == "postgresql":
        return tuple(connection.execute(text(PG_SETTINGS)).one())
    return tuple(
        connection.exec_driver_sql(f"pragma {name}").scalar()
        for name in ("cache_size", "recursive_triggers")
    )


def kill_backends(url, maintenance=False):
    admin = create_engine(
        url.set(database="postgres") if maintenance else url,
        poolclass=NullPool, isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        if maintenance:
            connection.exec_driver_sql(
                f'ALTER DATABASE "{url.database}" WITH ALLOW_CONNECTIONS {maintenance}'
            )
        connection.execute(
            text("select pg_terminate_backend(pid) from pg_stat_activity "
                 "where datname = :db and pid <> pg_backend_pid()"),
            {"db": url.database},
        )
    admin.dispose()
"""

SYNC_SUITE = (
    COMMON
    + """

def test_0_template(sessionerror_db, sessionerror_connection, sessionerror_backend):
    assert state(sessionerror_connection) == TEMPLATE
    DEFAULTS[sessionerror_backend] = settings(sessionerror_connection)


@pytest.mark.sessionerror(committed=True)
def test_1_committed_changes_everything(sessionerror_db, sessionerror_engine):
    with sessionerror_engine.connect() as idle:  # an idle pooled connection before the session's
        idle.execute(text("select 1"))
    sessionerror_db.add(WorkflowSession(name="committed"))
    dirty(sessionerror_db.connection())
    sessionerror_db.commit()
    assert state(sessionerror_db.connection())[2:] == ([], 1)


def test_2_template_again(sessionerror_db, sessionerror_connection, sessionerror_engine,
                          sessionerror_backend):
    assert state(sessionerror_connection) == TEMPLATE
    # Five: every idle connection of the pool (pool_size 5), whichever the test got.
    connections = [sessionerror_engine.connect() for _ in range(5)]
    try:
        for connection in [sessionerror_connection, *connections]:
            assert settings(connection) == DEFAULTS[sessionerror_backend]
    finally:
        for connection in connections:
            connection.close()


@pytest.mark.sessionerror(committed=True, backends=["postgresql"])
def test_3_backend_killed_after_commit(sessionerror_db, sessionerror_engine):
    for _ in range(2):  # idle pooled connections the cleanup will meet first
        with sessionerror_engine.connect() as idle:
            idle.execute(text("select 1"))
    sessionerror_db.add(WorkflowSession(name="killed"))
    sessionerror_db.commit()
    kill_backends(sessionerror_engine.url)


def test_4_clean_after_the_kill(sessionerror_db, sessionerror_connection):
    assert state(sessionerror_connection) == TEMPLATE


@pytest.mark.sessionerror(committed=True, backends=["postgresql"])
def test_5_cleanup_cannot_connect(sessionerror_db, sessionerror_engine):
    sessionerror_db.add(WorkflowSession(name="stranded"))
    sessionerror_db.commit()
    kill_backends(sessionerror_engine.url, maintenance="false")


@pytest.mark.sessionerror(backends=["postgresql"])
def test_6_next_test_fails(sessionerror_db):
    raise AssertionError("must not run: the database still holds test_5's rows")


@pytest.mark.sessionerror(backends=["postgresql"])
def test_7_reopen(sessionerror_engine):
    kill_backends(sessionerror_engine.url, maintenance="true")


@pytest.mark.sessionerror(backends=["postgresql"])
def test_8_repaired(sessionerror_db, sessionerror_connection):
    assert state(sessionerror_connection) == TEMPLATE
"""
)

ASYNC_SUITE = (
    COMMON
    + """
import asyncio


async def sync_state(engine):
    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: (state(c), settings(c)))


async def test_a0_template(sessionerror_async_db, sessionerror_async_engine, sessionerror_backend):
    found, defaults = await sync_state(sessionerror_async_engine)
    assert found == TEMPLATE
    DEFAULTS[sessionerror_backend] = defaults


@pytest.mark.sessionerror(committed=True)
async def test_a1_committed_changes_everything(sessionerror_async_db, sessionerror_async_engine):
    async with sessionerror_async_engine.connect() as idle:
        await idle.execute(text("select 1"))
    sessionerror_async_db.add(WorkflowSession(name="committed"))
    await sessionerror_async_db.run_sync(lambda db: dirty(db.connection()))
    await sessionerror_async_db.commit()


async def test_a2_template_again(sessionerror_async_db, sessionerror_async_engine,
                                 sessionerror_backend):
    own = await sessionerror_async_db.run_sync(lambda db: settings(db.connection()))
    assert own == DEFAULTS[sessionerror_backend]
    connections = [await sessionerror_async_engine.connect() for _ in range(5)]  # all idle
    try:
        for connection in connections:
            found = await connection.run_sync(lambda c: (state(c), settings(c)))
            assert found == (TEMPLATE, DEFAULTS[sessionerror_backend])
    finally:
        for connection in connections:
            await connection.close()


@pytest.mark.sessionerror(committed=True, backends=["postgresql"])
async def test_a3_backend_killed_after_commit(sessionerror_async_db, sessionerror_async_engine):
    first = await sessionerror_async_engine.connect()
    second = await sessionerror_async_engine.connect()
    await first.close()
    await second.close()
    sessionerror_async_db.add(WorkflowSession(name="killed"))
    await sessionerror_async_db.commit()
    kill_backends(sessionerror_async_engine.sync_engine.url.set(drivername="postgresql"))
    await asyncio.sleep(0.2)  # the loop reads the server's FATAL message


async def test_a4_clean_after_the_kill(sessionerror_async_db, sessionerror_async_engine):
    found, _ = await sync_state(sessionerror_async_engine)
    assert found == TEMPLATE
"""
)

ASYNC_INI = (
    "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
    "asyncio_default_test_loop_scope = session\n"
)


@pytest.fixture
def seeded(project: AlembicProject) -> AlembicProject:
    """The Alembic project with revision 0004 creating and seeding two lookup tables."""
    project.add_revision("0004_seed_kinds", "0003", SEED_UPGRADE, SEED_DOWNGRADE)
    return project


def _args(server_url: str) -> list[str]:
    return [
        "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url,
        "--sessionerror-require-postgres", "--sessionerror-alembic-ini", "alembic.ini",
        "-W", "error",
    ]  # fmt: skip


def test_sync_committed_tests_leave_the_template_as_it_was(
    pytester: pytest.Pytester, seeded: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(test_sync=SYNC_SUITE)
    result = run_pytest(*_args(server_url), "-rA")
    outcomes = result.parseoutcomes()
    # sqlite: 0, 1, 2, 4; postgresql: 0-8 but 6 fails at setup, and 5 errors at teardown.
    assert (outcomes.get("passed"), outcomes.get("errors")) == (4 + 8, 2), result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_5_cleanup_cannot_connect*",
            "sessionerror: the cleanup of committed test test_sync.py::test_5_cleanup_cannot_"
            "connect* could not bring postgresql*/sessionerror_* back to the template's rows "
            "(OperationalError: *; retried on a fresh connection: *), so its rows may still "
            "be there",
            "*ERROR at setup of test_6_next_test_fails*",
            "sessionerror: the cleanup of committed test *test_5_cleanup_cannot_connect* so its "
            "rows may still be there; trying again before this test failed too: "
            "OperationalError: *not currently accepting connections",
        ]
    )
    assert "must not run" not in result.stdout.str()


def test_async_committed_tests_leave_the_template_as_it_was(
    pytester: pytest.Pytester, seeded: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    pytester.makeini(ASYNC_INI)
    pytester.makepyfile(test_async=ASYNC_SUITE)
    # The helper's -o sets function-scoped fixture loops: pooled engines need a session loop.
    loops = ["-o", "asyncio_default_fixture_loop_scope=session"]
    result = run_pytest(*_args(server_url), *loops)
    result.assert_outcomes(passed=4 + 5)  # a3 is PostgreSQL-only
