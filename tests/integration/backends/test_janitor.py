"""DatabaseJanitor against the real shared server: it only ever touches its own databases."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from sessionerror.errors import BackendUnavailableError
from sessionerror.testdb.postgres.janitor import (
    NAME_PATTERN,
    PREFIX,
    DatabaseJanitor,
    parse_marker,
)
from sessionerror.testdb.postgres.kept import KEEP_PREFIX

pytestmark = pytest.mark.postgresql

SECRET = "s3cr3t-Pa55"


@pytest.fixture
def admin(server_url: str) -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the maintenance database, for looking and cleaning up."""
    engine = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _databases(admin: Engine) -> dict[str, str | None]:
    """Every database on the server with its comment."""
    with admin.connect() as connection:
        rows = connection.execute(
            text("SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database")
        ).all()
    return {name: comment for name, comment in rows}


def _force_drop(admin: Engine, *names: str) -> None:
    with admin.connect() as connection:
        for name in names:
            assert name.startswith(PREFIX)  # this test only ever cleans up its own
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_create_marks_and_drop_removes(server_url: str, admin: Engine) -> None:
    janitor = DatabaseJanitor(server_url, worker="gw1")
    url = janitor.create()
    name = janitor.name
    try:
        assert name is not None and make_url(url).database == name
        match = NAME_PATTERN.match(name)
        assert match is not None
        assert match["pid"] == str(os.getpid()) and match["worker"] == "gw1"
        assert parse_marker(_databases(admin)[name]) == (socket.gethostname(), os.getpid())
        engine = create_engine(url, poolclass=NullPool)
        connection = engine.connect()  # still open at drop(): drop() disconnects it
        assert connection.execute(text("select current_database()")).scalar_one() == name
        janitor.drop()
        assert name not in _databases(admin)
        assert janitor.name is None
        janitor.drop()  # idempotent
        with pytest.raises(DBAPIError, match=r"terminat|closed"):
            connection.execute(text("select 1"))
        connection.invalidate()
        engine.dispose()
    finally:
        if name is not None:
            _force_drop(admin, name)


def test_context_manager_and_template(server_url: str, admin: Engine) -> None:
    with DatabaseJanitor(server_url, worker="tpl") as template_url:
        engine = create_engine(template_url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE marker_table (id int)"))
        engine.dispose()
        template = make_url(template_url).database
        assert template is not None
        with DatabaseJanitor(server_url, worker="copy", template=template) as copy_url:
            engine = create_engine(copy_url, poolclass=NullPool)
            with engine.connect() as connection:
                assert connection.execute(text("select count(*) from marker_table")).scalar() == 0
            engine.dispose()
            copy = make_url(copy_url).database
    remaining = _databases(admin)
    assert template not in remaining and copy not in remaining


def test_worker_is_sanitised_into_the_name(server_url: str) -> None:
    janitor = DatabaseJanitor(server_url, worker="GW-1/../;drop")
    assert janitor.worker == "gw1drop"
    assert DatabaseJanitor(server_url, worker="--").worker == "main"


def test_bad_urls_fail_masked() -> None:
    with pytest.raises(BackendUnavailableError) as info:
        DatabaseJanitor(f"mysql://u:{SECRET}@h/db")
    assert SECRET not in str(info.value)
    janitor = DatabaseJanitor(f"postgresql://postgres:{SECRET}@127.0.0.1:1/postgres")
    with pytest.raises(BackendUnavailableError) as info:
        janitor.create()
    message = str(info.value)
    assert SECRET not in message and "postgres:***@127.0.0.1:1" in message
    assert "connection refused" in message
    assert janitor.name is None


# A run that is killed (SIGKILL) right after creating its databases leaves them behind.
_KILLED_RUN = """
import json, os, signal, sys
from sessionerror.testdb.postgres.janitor import DatabaseJanitor
url = sys.argv[1]
names = {}
for key in ("dead", "busy", "elsewhere"):
    janitor = DatabaseJanitor(url, worker=key)
    if key == "elsewhere":
        janitor.hostname = "another-host.example"
    janitor.create()
    names[key] = janitor.name
print(json.dumps(names), flush=True)
sys.stdin.readline()  # the test connects to "busy" first: no other run may drop it meanwhile
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_remove_leftovers_drops_only_databases_of_killed_runs(
    server_url: str, admin: Engine
) -> None:
    killed = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN, server_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert killed.stdout is not None and killed.stdin is not None
    names: dict[str, str] = json.loads(killed.stdout.readline() or "{}")
    assert names, killed.stderr.read() if killed.stderr else ""
    busy_engine = create_engine(
        make_url(server_url).set(database=names["busy"]), poolclass=NullPool
    )
    busy = busy_engine.connect()  # someone still works in it
    killed.stdin.write("go\n")
    killed.stdin.flush()
    assert killed.wait(timeout=120) == -signal.SIGKILL
    killed.stdout.close()
    killed.stdin.close()
    if killed.stderr:
        killed.stderr.close()
    dead_pid = int(NAME_PATTERN.match(names["dead"])["pid"])  # type: ignore[index]

    # Our prefix, a dead pid in the name, but no marker: not provably ours.
    unmarked = f"{PREFIX}{dead_pid}_main_deadbeef"
    # Our marker with a dead pid, but a name outside the pattern.
    odd_name = f"{PREFIX}{dead_pid}_main_notahexx"
    alive = DatabaseJanitor(server_url, worker="alive")  # this process: alive
    test_comment_before = _databases(admin).get("test")
    created = [*names.values(), unmarked, odd_name]
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{unmarked}"'))
            connection.execute(text(f'CREATE DATABASE "{odd_name}"'))
            marker = f"created by sessionerror on host {socket.gethostname()} pid {dead_pid}"
            connection.execute(text(f"COMMENT ON DATABASE \"{odd_name}\" IS '{marker}'"))
        alive.create()
        assert alive.name is not None
        created.append(alive.name)
        dropped = DatabaseJanitor(server_url, worker="cleaner").remove_leftovers()
        # Another run on this host may have dropped "dead" first: gone is what counts.
        kept = {names["busy"], names["elsewhere"], unmarked, odd_name, alive.name}
        assert not kept & set(dropped)
        assert all(name.startswith(PREFIX) for name in dropped)
        remaining = _databases(admin)
        assert names["dead"] not in remaining
        assert kept <= remaining.keys()
        assert remaining.get("test") == test_comment_before
        assert {"postgres", "template0", "template1"} <= remaining.keys()
        busy.close()
        # Once nobody is connected, the busy one of the killed run goes too.
        DatabaseJanitor(server_url).remove_leftovers()
        assert names["busy"] not in _databases(admin)
    finally:
        busy.close()
        busy_engine.dispose()
        alive.drop()
        _force_drop(admin, *created)
    assert not set(created) & _databases(admin).keys()


# -- kept databases (--sessionerror-reuse-schema) ---------------------------------------------


def _oid(admin: Engine, name: str) -> int | None:
    with admin.connect() as connection:
        oid = connection.execute(
            text("SELECT oid FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
    return int(oid) if oid is not None else None


def test_a_held_kept_database_is_neither_shared_nor_dropped(server_url: str, admin: Engine) -> None:
    project = f"janitor-test-{secrets.token_hex(4)}"
    first = DatabaseJanitor(server_url, worker="kw").keep("aa" * 8, project=project)
    assert first is not None and first.created and first.held
    names = [first.name]
    try:
        assert first.name.startswith(KEEP_PREFIX) and first.name.endswith("_kw_" + "aa" * 8)
        assert "postgres" not in repr(first)  # no URL (and so no password) in its repr
        oid = _oid(admin, first.name)
        # Same schema while the first run holds it: refused, not shared.
        assert DatabaseJanitor(server_url, worker="kw").keep("aa" * 8, project=project) is None
        # Another schema of the same worker would drop the first as stale: not while held.
        janitor = DatabaseJanitor(server_url, worker="kw")
        second = janitor.keep("bb" * 8, project=project)
        assert second is not None
        names.append(second.name)
        assert _oid(admin, first.name) == oid
        assert janitor.warnings == []
        # Another project (or role) never even looks at them.
        other = DatabaseJanitor(server_url, worker="kw").keep("aa" * 8, project=project + "x")
        assert other is not None and other.name != first.name
        names.append(other.name)
        other.release()
        first.release()
        assert not first.held
        # Released and idle: the next run of a third schema removes both stale ones.
        second.release()
        third = DatabaseJanitor(server_url, worker="kw").keep("cc" * 8, project=project)
        assert third is not None
        names.append(third.name)
        third.release()
        remaining = _databases(admin)
        assert first.name not in remaining and second.name not in remaining
        assert other.name in remaining and third.name in remaining
        # Reused, not created, by the next run of the same schema.
        again = DatabaseJanitor(server_url, worker="kw").keep("cc" * 8, project=project)
        assert again is not None and not again.created and again.name == third.name
        again.release()
    finally:
        _force_drop(admin, *names)


def test_require_createdb_names_the_role_and_the_fix(server_url: str, admin: Engine) -> None:
    role = f"sessionerror_nocreatedb_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'"))
    try:
        url = make_url(server_url).set(username=role, password=SECRET)
        janitor = DatabaseJanitor(url.render_as_string(hide_password=False))
        with pytest.raises(BackendUnavailableError) as info:
            janitor.require_createdb()
        message = str(info.value)
        assert f"role '{role}' may not create databases" in message
        assert f"ALTER ROLE {role} CREATEDB" in message and "SESSIONERROR_POSTGRES_URL" in message
        assert SECRET not in message and "\n" not in message
        DatabaseJanitor(server_url).require_createdb()  # the test server's role may
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
