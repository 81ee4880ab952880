"""Internal: build the schema once per backend and run, and hand the templates to every worker.

An xdist controller builds when the session starts, before any worker starts; workers get
the templates through ``workerinput`` and only copy them. One process builds when the first
test needing a database is about to run (:mod:`sessionerror.plugin.lazy`, issue 19).
A migration or schema setup that fails stops the run there with one line. The pytest hooks
that call these functions are in :mod:`sessionerror.plugin.hooks`.
"""

from __future__ import annotations

from typing import Any

import pytest

from sessionerror.plugin.server_resolution import full_server_line
from sessionerror.plugin.state import get_state

__all__ = [
    "WORKERINPUT_KEY",
    "adopt_controller_templates",
    "build_at_session_start",
    "build_templates",
    "template_lines",
    "templates_key",
    "templates_workerinput",
]

#: ``workerinput`` key of the templates a controller hands to its workers.
WORKERINPUT_KEY = "sessionerror_templates"

#: The run's templates (``sessionerror.testdb.templates.BuiltTemplates``), when built.
templates_key = pytest.StashKey[Any]()
_BUILDER_KEY = pytest.StashKey[Any]()


def adopt_controller_templates(config: pytest.Config, workerinput: dict[str, Any]) -> None:
    """On an xdist worker: take the templates the controller built, if it built them."""
    handed = workerinput.get(WORKERINPUT_KEY)
    if handed:
        from sessionerror.testdb.templates import BuiltTemplates

        config.stash[templates_key] = BuiltTemplates.from_dict(handed)


def build_at_session_start(config: pytest.Config) -> None:
    """On an xdist controller, build each selected backend's template before workers start.

    Not on workers, not with --collect-only, and not in one process: there the first test
    that needs a database builds them (:mod:`sessionerror.plugin.lazy`, issue 19).
    """
    if getattr(config, "workerinput", None) is not None or config.option.collectonly:
        return
    if get_state(config).lazy:
        return
    build_templates(config)


def build_templates(config: pytest.Config) -> None:
    """Build each selected backend's template once; a failing migration is a one-line error."""
    from sessionerror.testdb.migrations import MigrationError
    from sessionerror.testdb.templates import TemplateBuilder

    state = get_state(config)
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    builder = TemplateBuilder(
        state.config.schema,
        availability=state.availability,
        cache_dir=cache.mkdir("sessionerror") if cache is not None else None,
        project=str(config.rootpath),  # as the workers' kept databases (fixtures.py)
    )
    config.add_cleanup(builder.close)
    if state.config.drop_kept:
        _drop_kept(config, state)
    # One process (no xdist workers to copy for) works in a per-run template itself.
    adopt = getattr(config, "workerinput", None) is None and state.lazy

    def build() -> Any:
        return builder.build(state.config.backends, adopt=adopt, worker=state.worker)

    try:
        if state.shared_run is None:
            config.stash[templates_key] = build()
        else:  # an xdist worker of a lazy controller: the first one builds (issue 19)
            templates, built_here = state.shared_run.build_once(builder, build)
            config.stash[templates_key] = templates
            if not built_here:
                return  # its builder holds nothing; the lines are the builder's worker's
    except MigrationError as exc:
        builder.close()
        raise pytest.UsageError(f"sessionerror: {exc}") from None
    except Exception as exc:
        builder.close()
        full = full_server_line(state, exc)
        if full is not None:  # no connection slot left: building per worker would need more
            raise pytest.UsageError(full) from None
        # A bad import path or a failing setup callable: no templates, so the fixtures build
        # per worker and report the problem on each test that needs a database, as before.
        return
    config.stash[_BUILDER_KEY] = builder


def template_lines(config: pytest.Config) -> list[str]:
    """One line per built (or reused) template; none before they are built."""
    builder = config.stash.get(_BUILDER_KEY, None)
    if builder is None:
        return []
    lines = []
    for backend, where in sorted(builder.built.items()):
        reused = backend in builder.reused
        if backend in builder.adopted:  # the only process's kept database, no template
            done = "reused, no build" if reused else "built once, kept for the next run"
            lines.append(f"sessionerror: {backend} schema template {where} ({done})")
            continue
        done = "reused, no build" if reused else "built once for this run"
        lines.append(f"sessionerror: {backend} schema template {where} ({done})")
    return lines


def templates_workerinput(config: pytest.Config) -> dict[str, Any] | None:
    """The template locations for a worker's ``workerinput``; None before they are built."""
    built = config.stash.get(templates_key, None)
    return None if built is None else built.to_dict()


def _drop_kept(config: pytest.Config, state: Any) -> None:
    """``--sessionerror-drop-kept``: this project's kept databases and files go, in one line."""
    from sessionerror.testdb.sqlite.backend import drop_kept_files

    cache = getattr(config, "cache", None)
    dropped = drop_kept_files(cache.mkdir("sessionerror")) if cache is not None else []
    server = state.availability.get("postgresql")
    if server is not None and server.server is not None:
        from sessionerror.testdb.postgres.kept_cleanup import drop_kept_databases

        result = drop_kept_databases(server.server.url, project=str(config.rootpath))
        dropped += result.dropped
        state.warnings.extend(f"left kept database {line}" for line in result.left)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"sessionerror: dropped {len(dropped)} kept database(s) and file(s)")
