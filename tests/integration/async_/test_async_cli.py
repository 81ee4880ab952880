"""Async URLs in the CLI and async binds in the checker: same verdict as the sync driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from sessionerror import Base, assert_contract, assert_contract_async
from sessionerror.check import run_checks, run_checks_async
from sessionerror.cli import main

PASSWORD = "cli-pw-9931"


@pytest.fixture
def reference_url(sessionerror_empty_database_url: str) -> str:
    """A database of the current backend with the reference schema (sync URL)."""
    engine = create_engine(
        sessionerror_empty_database_url.replace("postgresql://", "postgresql+psycopg2://")
    )
    Base.metadata.create_all(engine)
    engine.dispose()
    return sessionerror_empty_database_url


def async_urls(url: str) -> list[str]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return [f"sqlite+aiosqlite:///{parsed.database}"]
    with_password = parsed.set(password=PASSWORD)  # trust auth: ignored by the server
    rest = with_password.render_as_string(hide_password=False).split("://", 1)[1]
    return [f"postgresql+asyncpg://{rest}", f"postgresql+psycopg_async://{rest}"]


def test_check_export_and_summary_accept_async_urls(
    reference_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for url in async_urls(reference_url):
        assert main(["check", "--db", url]) == 0
        out = capsys.readouterr().out
        scheme = url.split("://", 1)[0]
        assert out.startswith(f"SessionError contract check: {scheme}://")  # as given
        assert "contract satisfied" in out
        assert main(["summary", "--db", url, "--json"]) == 0
        assert main(["export", "--db", url, "--to", str(tmp_path / "e.db"), "--replace"]) == 0
        captured = capsys.readouterr()
        assert PASSWORD not in captured.out + captured.err


def test_unreachable_async_url_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:1/app"
    assert main(["check", "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("sessionerror: error: cannot connect to postgresql+asyncpg://app:***@")
    assert PASSWORD not in err


BLOCK_PSYCOPG2 = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "psycopg2":
            raise ImportError("No module named 'psycopg2' (blocked by the test)")
        return None

sys.meta_path.insert(0, Blocker())
"""


def test_missing_sync_driver_names_the_package(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCK_PSYCOPG2)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sessionerror",
            "check",
            "--db",
            f"postgresql+asyncpg://a:{PASSWORD}@h/db",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "psycopg2-binary" in lines[0] and "sessionerror[postgres]" in lines[0]
    assert PASSWORD not in result.stderr


def _break_blank_message_check(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "alter table session_errors "
                    "drop constraint ck_session_errors_user_message_not_blank"
                )
            )
        else:  # SQLite cannot drop a CHECK: rebuild the table without it
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            ddl = connection.exec_driver_sql(
                "select sql from sqlite_master where name = 'session_errors'"
            ).scalar_one()
            start = ddl.index("CONSTRAINT ck_session_errors_user_message_not_blank")
            end = ddl.index("CONSTRAINT", start + 10)
            connection.exec_driver_sql("alter table session_errors rename to old_errors")
            connection.exec_driver_sql(ddl[:start] + ddl[end:])
            connection.exec_driver_sql("drop table old_errors")
    engine.dispose()


@pytest.mark.asyncio
@pytest.mark.parametrize("broken", [False, True], ids=["reference", "no-blank-check"])
async def test_async_binds_give_the_sync_verdict(reference_url: str, broken: bool) -> None:
    if broken:
        _break_blank_message_check(reference_url)
    sync_engine = create_engine(reference_url.replace("postgresql://", "postgresql+psycopg2://"))
    from sessionerror.engines.sqlite import enable_foreign_keys

    if sync_engine.dialect.name == "sqlite":
        enable_foreign_keys(sync_engine)
    expected = run_checks(sync_engine)
    sync_engine.dispose()
    async_engine = create_async_engine(async_urls(reference_url)[0])
    if async_engine.dialect.name == "sqlite":
        from sessionerror.testdb.isolation_async import install_async_sqlite_listeners

        install_async_sqlite_listeners(async_engine)
    try:
        through_async = await run_checks_async(async_engine)
        through_sync_driver = run_checks(async_engine)
        failing = {r.id for r in expected.failures}
        assert {r.id for r in through_async.failures} == failing
        assert {r.id for r in through_sync_driver.failures} == failing
        assert ("behaviour.rejects_blank_message" in failing) is broken
        if broken:
            with pytest.raises(AssertionError, match="rejects_blank_message"):
                await assert_contract_async(async_engine)
            with pytest.raises(AssertionError, match="rejects_blank_message"):
                assert_contract(async_engine)
        else:
            await assert_contract_async(async_engine)
            async with async_engine.connect() as connection:
                await connection.run_sync(assert_contract)  # asyncpg: no false violation
    finally:
        await async_engine.dispose()


@pytest.mark.asyncio
async def test_async_connection_in_sync_checker_names_the_async_api(
    sessionerror_async_connection: Any,
) -> None:
    with pytest.raises(TypeError, match=r"await assert_contract_async\(conn\)"):
        assert_contract(sessionerror_async_connection)
