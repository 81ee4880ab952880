"""SIGTERM / SIGINT during a real ``sessionerror export``: exit 143 / 130, one line, and no
partial file (nor SQLite journal) left next to the target; an existing target is untouched."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from sessionerror.cli import EXIT_INTERRUPTED, EXIT_TERMINATED, main
from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.factories import bulk_create_history
from sessionerror.models import Base

SESSIONS, ERRORS_PER_SESSION = 2_000, 10  # ~20,000 errors: several seconds of export


@pytest.fixture
def big_database_url(sessionerror_empty_database_url: str) -> str:
    """A database of the current backend with the reference schema and 20,000 errors."""
    url = sessionerror_empty_database_url
    engine = create_sqlite_engine(url) if url.startswith("sqlite") else create_engine(url)
    try:
        Base.metadata.create_all(engine)
        with Session(engine) as db:
            bulk_create_history(db, sessions=SESSIONS, errors_per_session=ERRORS_PER_SESSION)
            db.commit()
    finally:
        engine.dispose()
    return url


def _interrupt_export(url: str, target: Path, signum: int, *, replace: bool = False) -> str:
    """Start an export, wait until its partial file holds rows, send ``signum``; return stderr
    after asserting the documented exit code."""
    argv = ["export", "--db", url, "--to", str(target), "--batch-size", "200"]
    process = subprocess.Popen(
        [sys.executable, "-m", "sessionerror", *argv, *(["--replace"] if replace else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            partials = list(target.parent.glob(f".{target.name}.*.partial"))
            if partials and partials[0].stat().st_size > 256 * 1024:
                break
            time.sleep(0.02)
        assert process.poll() is None, "the export finished before it could be interrupted"
        assert partials, "no partial file appeared"
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    expected = EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_INTERRUPTED
    assert process.returncode == expected, err
    assert "Traceback" not in out + err
    assert err.strip().splitlines()[-1] == (
        f"sessionerror: export interrupted by {signal.Signals(signum).name}; "
        "stopped, nothing was written"
    )
    assert out == ""
    return err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_export_leaves_nothing(
    big_database_url: str, tmp_path: Path, signum: int
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    _interrupt_export(big_database_url, out_dir / "errors.db", signum)
    assert list(out_dir.iterdir()) == []  # no target, no .partial, no -journal


@pytest.mark.sqlite
@pytest.mark.parametrize("sessionerror_backend", ["sqlite"], indirect=True)
def test_terminated_export_keeps_the_existing_target(
    big_database_url: str, sessionerror_backend: str, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "errors.db"
    target.write_bytes(b"the previous export")
    _interrupt_export(big_database_url, target, signal.SIGTERM, replace=True)
    assert target.read_bytes() == b"the previous export"
    assert list(out_dir.iterdir()) == [target]


def test_signal_handlers_are_restored_after_main(capsys: pytest.CaptureFixture[str]) -> None:
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    assert main(["summary", "--db", ""]) == 2
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    capsys.readouterr()


@pytest.mark.postgresql
@pytest.mark.parametrize("sessionerror_backend", ["postgresql"], indirect=True)
def test_connection_killed_mid_export_is_one_line_and_leaves_nothing(
    big_database_url: str, sessionerror_backend: str, tmp_path: Path
) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "errors.db"
    # Small batches: the export stays busy long enough to be cut off even on a fast server.
    argv = ["export", "--db", big_database_url, "--to", str(target), "--batch-size", "20"]
    process = subprocess.Popen(
        [sys.executable, "-m", "sessionerror", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    admin = create_engine(big_database_url)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            partials = list(out_dir.glob(".errors.db.*.partial"))
            if partials and partials[0].stat().st_size > 0:
                break
            time.sleep(0.005)
        assert process.poll() is None, "the export finished before its connection was killed"
        with admin.connect() as conn:  # what a DBA or a failover does to a running export
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": make_url(big_database_url).database},
            ).scalar_one()
        assert killed >= 1
        out, err = process.communicate(timeout=60)
    finally:
        admin.dispose()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 2, err
    assert "Traceback" not in out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("sessionerror: error: export stopped on a database error")
    assert "OperationalError" in last and "nothing was written" in last
    assert "Fix: check that the database is up" in last
    assert list(out_dir.iterdir()) == []
