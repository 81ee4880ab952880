"""Issue 19: the workers of a lazy xdist controller build the templates once between them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sessionerror.plugin.config import SessionErrorConfig
from sessionerror.plugin.xdist_run import SharedRun, controller_is_lazy
from sessionerror.testdb.template_copy import BuiltTemplates


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


def test_a_controller_is_lazy_unless_it_must_own_a_server() -> None:
    assert controller_is_lazy(SessionErrorConfig(backends=("sqlite",)))
    with_url = SessionErrorConfig.from_sources(
        cli={"postgres_url": "postgresql://u@127.0.0.1:1/db", "backend": "all"}, ini={}, environ={}
    )
    assert controller_is_lazy(with_url)
    local = SessionErrorConfig.from_sources(cli={"backend": "all"}, ini={}, environ={})
    assert not controller_is_lazy(local)  # a local server or container: the controller owns it
    drop = {"backend": "sqlite", "drop_kept": "true"}
    assert not controller_is_lazy(SessionErrorConfig.from_sources(cli=drop, ini={}, environ={}))
