"""PostgresProvider against real servers: the shared one, a local pg_ctl one, no Docker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from sessionerror.errors import BackendUnavailableError
from sessionerror.redaction import mask_url as mask_postgres_url
from sessionerror.testdb.postgres.binaries import find_pg_binaries
from sessionerror.testdb.postgres.provider import PostgresProvider
from sessionerror.testdb.postgres.server import PostgresUnavailableError, check_server
from sessionerror.urls import DatabaseURL

SECRET = "s3cr3t-Pa55"
DEBIAN_BIN = Path("/usr/lib/postgresql/15/bin")


def _with_password(url: str, user: str = "postgres") -> str:
    return make_url(url).set(username=user, password=SECRET).render_as_string(hide_password=False)


def _assert_clean_message(message: str, *, fix: str = "SESSIONERROR_POSTGRES_URL") -> None:
    """One line, names the backend and the fix, never the password."""
    assert SECRET not in message
    assert "\n" not in message
    assert "PostgreSQL" in message
    assert fix in message


# -- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+psycopg2://u:p@h/db"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("  PostgreSQL://h/db?sslmode=disable ", "postgresql+psycopg2://h/db?sslmode=disable"),
    ],
)
def test_require_postgres_spells_out_the_driver(given: str, expected: str) -> None:
    assert DatabaseURL(given).require_postgres().reveal() == expected


@pytest.mark.parametrize(
    "given",
    [f"mysql://u:{SECRET}@h/db", "postgresql+asyncpg://h/db", "127.0.0.1:5432", ""],
)
def test_require_postgres_rejects_other_urls_without_leaking_the_password(given: str) -> None:
    with pytest.raises(ValueError, match="URL") as info:
        DatabaseURL(given).require_postgres()
    assert SECRET not in str(info.value)


def test_mask_postgres_url_hides_userinfo_and_query_passwords() -> None:
    masked = mask_postgres_url(f"postgresql://u:{SECRET}@h/db?password={SECRET}")
    assert SECRET not in masked
    assert "u:***@h" in masked


# -- binaries -------------------------------------------------------------------------------


@pytest.mark.skipif(not DEBIAN_BIN.is_dir(), reason="needs /usr/lib/postgresql/15/bin")
def test_find_pg_binaries_default_and_explicit(tmp_path: Path) -> None:
    found = find_pg_binaries()
    assert found is not None
    assert (found / "initdb").exists() and (found / "pg_ctl").exists()
    assert find_pg_binaries(str(DEBIAN_BIN)) == DEBIAN_BIN
    # An explicit directory is the only place looked at.
    assert find_pg_binaries(str(tmp_path)) is None


def test_start_with_empty_pg_bin_dir_fails_clearly(tmp_path: Path) -> None:
    provider = PostgresProvider(pg_bin_dir=str(tmp_path))
    with pytest.raises(BackendUnavailableError) as info:
        provider.start()
    message = str(info.value)
    assert str(tmp_path) in message
    assert "initdb" in message and "pg_config --bindir" in message
    # A wrong explicit setting is an error, not a reason to try Docker.
    assert not any(entry.startswith("docker") for entry in provider.attempts)


# -- step 1: explicit URL -------------------------------------------------------------------


@pytest.mark.postgresql
def test_url_step_uses_a_reachable_server(server_url: str) -> None:
    with PostgresProvider(url=server_url.replace("postgresql+psycopg2://", "postgres://")) as srv:
        assert srv.source == "url"
        assert srv.url.reveal().startswith("postgresql+psycopg2://")
        assert srv.description.startswith("server PostgreSQL ")
        engine = create_engine(srv.url.reveal(), poolclass=NullPool)
        with engine.connect() as connection:
            assert connection.execute(text("select 1")).scalar_one() == 1
        engine.dispose()
    assert check_server(server_url)[0].isdigit()


@pytest.mark.postgresql
def test_url_step_unreachable_port_fails_fast_and_masked() -> None:
    provider = PostgresProvider(url=f"postgresql://postgres:{SECRET}@127.0.0.1:1/postgres")
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError) as info:
        provider.start()
    assert time.monotonic() - started < 3
    message = str(info.value)
    _assert_clean_message(message)
    assert "postgres:***@127.0.0.1:1" in message
    assert "connection refused" in message
    assert "start the server" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    # No fall-through to a local server or Docker.
    assert len(provider.attempts) == 1 and provider.attempts[0].startswith("url:")
    assert provider.local_dir is None


@pytest.mark.postgresql
def test_url_step_unknown_database(server_url: str) -> None:
    url = make_url(_with_password(server_url)).set(database="sessionerror_no_such_db")
    with pytest.raises(BackendUnavailableError) as info:
        PostgresProvider(url=url.render_as_string(hide_password=False)).start()
    message = str(info.value)
    _assert_clean_message(message)
    assert 'database "sessionerror_no_such_db" does not exist' in message


@pytest.mark.postgresql
def test_url_step_unknown_user(server_url: str) -> None:
    with pytest.raises(BackendUnavailableError) as info:
        PostgresProvider(url=_with_password(server_url, user="nosuchuser")).start()
    message = str(info.value)
    _assert_clean_message(message)
    assert 'role "nosuchuser" does not exist' in message
    assert "fix the user/password" in message
    assert "nosuchuser:***@" in message


@pytest.mark.postgresql
def test_url_step_missing_driver(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    with pytest.raises(BackendUnavailableError) as info:
        PostgresProvider(url=_with_password(server_url)).start()
    message = str(info.value)
    _assert_clean_message(message, fix='pip install "sessionerror[postgres]"')
    assert "psycopg2 driver is not installed" in message


def test_url_step_rejects_a_non_postgres_url() -> None:
    with pytest.raises(BackendUnavailableError) as info:
        PostgresProvider(url=f"mysql://u:{SECRET}@h/db").start()
    _assert_clean_message(str(info.value))


# -- step 2: a throwaway local server --------------------------------------------------------


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.postgresql
@pytest.mark.skipif(find_pg_binaries() is None, reason="needs initdb and pg_ctl")
def test_local_server_start_and_stop() -> None:
    provider = PostgresProvider(allow_container=False)
    started = time.monotonic()
    with provider as server:
        start_seconds = time.monotonic() - started
        assert server.source == "local"
        assert server.description.startswith("local server PostgreSQL ")
        assert "(pg_ctl) on 127.0.0.1:" in server.description
        local_dir = provider.local_dir
        assert local_dir is not None and local_dir.name.startswith("sessionerror-pg-")
        if os.geteuid() == 0:
            assert local_dir.stat().st_uid != 0  # the server runs unprivileged
        port = server.url.parse().port
        assert port is not None and port != 5432
        engine = create_engine(server.url.reveal(), poolclass=NullPool)
        with engine.connect() as connection:
            assert connection.execute(text("select 1")).scalar_one() == 1
            version = connection.execute(text("show server_version")).scalar_one()
            assert connection.execute(text("show fsync")).scalar_one() == "off"
        engine.dispose()
        assert version.split()[0] in server.description
        stopping = time.monotonic()
    stop_seconds = time.monotonic() - stopping
    assert not local_dir.exists()
    assert not _port_open(port)
    assert provider.server is None
    provider.stop()  # a second stop is harmless
    print(f"local server: start {start_seconds:.2f}s, stop {stop_seconds:.2f}s")


@pytest.mark.skipif(
    find_pg_binaries() is None or os.geteuid() != 0, reason="needs pg binaries and root"
)
def test_local_server_failure_shows_the_log_tail_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest's tmp_path is root-only (0700): the unprivileged server user cannot enter it.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    provider = PostgresProvider(allow_container=False)
    with pytest.raises(BackendUnavailableError) as info:
        provider.start()
    message = str(info.value)
    first_line, *tail = message.splitlines()
    assert "could not start a local server" in first_line
    assert "initdb as user" in first_line and "set TMPDIR" in first_line
    assert 1 <= len(tail) <= 6 and any("Permission denied" in line for line in tail)
    assert list(tmp_path.iterdir()) == []  # the temp dir was removed
    assert provider.attempts[-1].startswith("local: initdb")
    assert provider.local_dir is None


# -- step 3: containers ---------------------------------------------------------------------


def test_no_docker_engine_gives_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")  # no engine, explicitly
    provider = PostgresProvider(allow_local=False)
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError) as info:
        provider.start()
    assert time.monotonic() - started < 5
    message = str(info.value)
    _assert_clean_message(message)
    assert message.startswith("PostgreSQL unavailable: no URL given")
    assert "local: disabled" in message
    assert "no Docker engine answered" in message and "start Docker" in message
    assert isinstance(info.value, PostgresUnavailableError)
    assert [entry.split(":")[0] for entry in info.value.attempts] == ["url", "local", "docker"]
    assert info.value.attempts == provider.attempts


def test_without_testcontainers_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n.split(".")[0] == "testcontainers"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "testcontainers", None)
    with pytest.raises(BackendUnavailableError) as info:
        PostgresProvider(allow_local=False).start()
    message = str(info.value)
    _assert_clean_message(message)
    assert "docker: testcontainers is not installed (pip install sessionerror[containers])" in (
        message
    )


def test_everything_disabled_lists_each_step() -> None:
    provider = PostgresProvider(allow_local=False, allow_container=False)
    with pytest.raises(BackendUnavailableError, match=r"local: disabled; docker: disabled\. Set"):
        provider.start()


def test_modules_import_without_optional_dependencies() -> None:
    code = (
        "import sys\n"
        "import sessionerror.testdb.postgres.provider, sessionerror.testdb.postgres.janitor\n"
        "heavy = [m for m in ('psycopg2', 'testcontainers', 'docker') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
