"""Issue 19: the workers of a lazy xdist controller build the templates once between them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sessionerror.plugin.config import SessionErrorConfig
from sessionerror.plugin.xdist_run import SharedRun, controller_is_lazy
from sessionerror.testdb.postgres import binaries, local_server
from sessionerror.testdb.postgres.local_server import LocalServer
from sessionerror.testdb.postgres.server import PostgresServer, PostgresUnavailableError
from sessionerror.testdb.sqlite.run_dir import SERVER_RECORD, remove_stale_run_dirs
from sessionerror.testdb.template_copy import BuiltTemplates
from sessionerror.urls import DatabaseURL


class _Builder:
    """What build_once needs of a TemplateBuilder: settings, share()."""

    def __init__(self, *, reuse: bool) -> None:
        self.settings = SimpleNamespace(reuse_schema=reuse)
        self.shared: tuple[Any, ...] | None = None

    def share(self, owner_pid: int, token: str, run_dir: Path) -> None:
        self.shared = (owner_pid, token, run_dir)


def test_the_first_worker_builds_the_others_copy_and_the_owner_removes_all() -> None:
    run = SharedRun.new()
    assert SharedRun.from_dict(run.to_dict()) == run
    assert not run.run_dir.exists()  # nothing is made before a worker needs a template
    builds: list[str] = []

    def build() -> BuiltTemplates:
        builds.append("built")
        return BuiltTemplates({"sqlite": "/tmp/t.db", "postgresql": "sessionerror_1_tplx_0"})

    first, second = _Builder(reuse=False), _Builder(reuse=False)
    templates, built_here = run.build_once(first, build)  # type: ignore[arg-type]
    assert built_here and first.shared == (run.owner_pid, run.token, run.run_dir)
    again, built_again = run.build_once(second, build)  # type: ignore[arg-type]
    assert not built_again and again.locations == templates.locations
    assert builds == ["built"]
    # No URL: the per-run PostgreSQL template cannot be dropped here, the directory goes.
    assert run.finish(SessionErrorConfig()) == []
    assert not run.run_dir.exists()


def test_a_controller_is_lazy_unless_it_must_own_a_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert controller_is_lazy(SessionErrorConfig(backends=("sqlite",)))
    with_url = SessionErrorConfig.from_sources(
        cli={"postgres_url": "postgresql://u@127.0.0.1:1/db", "backend": "all"}, ini={}, environ={}
    )
    assert controller_is_lazy(with_url)

    def settings(**cli: str) -> SessionErrorConfig:
        return SessionErrorConfig.from_sources(cli={"backend": "all", **cli}, ini={}, environ={})

    found: list[Path | None] = [tmp_path]
    monkeypatch.setattr(binaries, "locate_pg_binaries", lambda _bin_dir: (found[0], []))
    # Local initdb/pg_ctl: the first worker that needs the server starts it.
    assert controller_is_lazy(settings())
    assert controller_is_lazy(settings(no_containers="true"))
    # None found, containers allowed: a container, which the controller owns.
    found[0] = None
    assert not controller_is_lazy(settings())
    assert not controller_is_lazy(settings(no_local_postgres="true"))
    assert controller_is_lazy(settings(no_local_postgres="true", no_containers="true"))
    drop = {"backend": "sqlite", "drop_kept": "true"}
    assert not controller_is_lazy(SessionErrorConfig.from_sources(cli=drop, ini={}, environ={}))


class _Provider:
    """What start_server_once needs of a PostgresProvider: start(), attempts, release_local()."""

    def __init__(self, local: LocalServer | None, problem: str | None = None) -> None:
        self.local, self.problem, self.attempts, self.starts = local, problem, ["local: x"], 0

    def start(self) -> PostgresServer:
        self.starts += 1
        if self.problem is not None:
            raise PostgresUnavailableError(self.problem, attempts=self.attempts)
        url = DatabaseURL("postgresql://postgres@127.0.0.1:5999/postgres")
        return PostgresServer(url=url, source="local", description="local server (pg_ctl)")

    def release_local(self) -> LocalServer | None:
        local, self.local = self.local, None
        return local


def test_the_first_worker_starts_the_local_server_and_the_owner_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[Path] = []
    monkeypatch.setattr(local_server, "stop_local_server", lambda s: stopped.append(s.tmpdir))
    run = SharedRun.new()
    local = LocalServer(bindir=tmp_path, tmpdir=tmp_path / "pg", port=5999, run_as=None)
    first, second = _Provider(local), _Provider(None)
    server = run.start_server_once(first)  # type: ignore[arg-type]
    again = run.start_server_once(second)  # type: ignore[arg-type]
    assert (first.starts, second.starts) == (1, 0)
    assert (again.url.reveal(), again.description) == (server.url.reveal(), server.description)
    assert stopped == []
    assert run.finish(SessionErrorConfig()) == []
    assert stopped == [tmp_path / "pg"] and not run.run_dir.exists()
    # A failure is recorded: the other workers get the same error without trying again.
    failing = SharedRun.new()
    with pytest.raises(PostgresUnavailableError, match="no initdb"):
        failing.start_server_once(_Provider(None, problem="no initdb"))  # type: ignore[arg-type]
    later = _Provider(None)
    with pytest.raises(PostgresUnavailableError, match="no initdb"):
        failing.start_server_once(later)  # type: ignore[arg-type]
    assert later.starts == 0 and later.attempts == ["local: x"]
    failing.finish(SessionErrorConfig())


def test_a_killed_runs_local_server_is_stopped_with_its_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[Path] = []
    monkeypatch.setattr(local_server, "stop_local_server", lambda s: stopped.append(s.tmpdir))
    local = LocalServer(bindir=tmp_path, tmpdir=tmp_path / "pg", port=5999, run_as=None)
    run = SharedRun(owner_pid=2**22 + 1, token="dead01")  # above pid_max: never alive
    run.start_server_once(_Provider(local))  # type: ignore[arg-type]
    assert (run.run_dir / SERVER_RECORD).is_file()
    assert run.run_dir in remove_stale_run_dirs()
    assert stopped == [tmp_path / "pg"] and not run.run_dir.exists()
