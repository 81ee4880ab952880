"""DatabaseJanitor against the real shared server: it only ever touches its own databases."""

from __future__ import annotations

import json
import os
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

from sessionerror.backends.janitor import (
    NAME_PATTERN,
    PREFIX,
    DatabaseJanitor,
    parse_marker,
)
from sessionerror.errors import BackendUnavailableError

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
from sessionerror.backends.janitor import DatabaseJanitor
url = sys.argv[1]
names = {}
for key in ("dead", "busy", "elsewhere"):
    janitor = DatabaseJanitor(url, worker=key)
    if key == "elsewhere":
        janitor.hostname = "another-host.example"
    janitor.create()
    names[key] = janitor.name
print(json.dumps(names), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_remove_leftovers_drops_only_databases_of_killed_runs(
    server_url: str, admin: Engine
) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, server_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    names: dict[str, str] = json.loads(killed.stdout)
    dead_pid = int(NAME_PATTERN.match(names["dead"])["pid"])  # type: ignore[index]

    # Our prefix, a dead pid in the name, but no marker: not provably ours.
    unmarked = f"{PREFIX}{dead_pid}_main_deadbeef"
    # Our marker with a dead pid, but a name outside the pattern.
    odd_name = f"{PREFIX}{dead_pid}_main_notahexx"
    alive = DatabaseJanitor(server_url, worker="alive")  # this process: alive
    busy_engine = create_engine(
        make_url(server_url).set(database=names["busy"]), poolclass=NullPool
    )
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
        with busy_engine.connect():  # someone still works in it
            dropped = DatabaseJanitor(server_url, worker="cleaner").remove_leftovers()
        assert names["dead"] in dropped
        kept = {names["busy"], names["elsewhere"], unmarked, odd_name, alive.name}
        assert not kept & set(dropped)
        assert all(name.startswith(PREFIX) for name in dropped)
        remaining = _databases(admin)
        assert names["dead"] not in remaining
        assert kept <= remaining.keys()
        assert remaining.get("test") == test_comment_before
        assert {"postgres", "template0", "template1"} <= remaining.keys()
        # Once nobody is connected, the busy one of the killed run goes too.
        assert names["busy"] in DatabaseJanitor(server_url).remove_leftovers()
    finally:
        busy_engine.dispose()
        alive.drop()
        _force_drop(admin, *created)
    assert not set(created) & _databases(admin).keys()
