"""Build the schema once per backend and run, and hand the templates to every worker.

An xdist controller builds in ``pytest_sessionstart``, before any worker starts; workers get
the templates through ``workerinput`` and only copy them. One process builds when the first
test needing a database is about to run (:mod:`sessionerror.plugin.lazy`, issue 19).
A migration or schema setup that fails stops the run there with one line.
"""

from __future__ import annotations

from typing import Any

import pytest

from sessionerror.plugin.state import get_state

__all__ = [
    "build_templates",
    "pytest_configure",
    "pytest_report_header",
    "pytest_sessionstart",
    "template_lines",
    "templates_key",
]

_WORKERINPUT_KEY = "sessionerror_templates"

#: The run's templates (``sessionerror.testdb.templates.BuiltTemplates``), when built.
templates_key = pytest.StashKey[Any]()
_BUILDER_KEY = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    """Workers adopt the controller's templates; the controller prepares the hand-off."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        handed = workerinput.get(_WORKERINPUT_KEY)
        if handed:
            from sessionerror.testdb.templates import BuiltTemplates

            config.stash[templates_key] = BuiltTemplates.from_dict(handed)
    elif config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistTemplateHooks(config), "sessionerror-templates-xdist")


def pytest_sessionstart(session: pytest.Session) -> None:
    """On an xdist controller, build each selected backend's template before workers start.

    Not on workers, not with --collect-only, and not in one process: there the first test
    that needs a database builds them (:mod:`sessionerror.plugin.lazy`, issue 19).
    """
    config = session.config
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
        state.config,
        postgres=state.postgres,
        cache_dir=cache.mkdir("sessionerror") if cache is not None else None,
        project=str(config.rootpath),  # as the workers' kept databases (fixtures.py)
    )
    config.add_cleanup(builder.close)
    try:
        config.stash[templates_key] = builder.build(state.config.backends)
    except MigrationError as exc:
        builder.close()
        raise pytest.UsageError(f"sessionerror: {exc}") from None
    except Exception:
        # A bad import path or a failing setup callable: no templates, so the fixtures build
        # per worker and report the problem on each test that needs a database, as before.
        builder.close()
        return
    config.stash[_BUILDER_KEY] = builder


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Name each backend's schema template and whether it was built or reused."""
    return template_lines(config)


def template_lines(config: pytest.Config) -> list[str]:
    """One line per built (or reused) template; none before they are built."""
    builder = config.stash.get(_BUILDER_KEY, None)
    if builder is None:
        return []
    return [
        f"sessionerror: {backend} schema template {where} "
        f"({'reused, no build' if backend in builder.reused else 'built once for this run'})"
        for backend, where in sorted(builder.built.items())
    ]


class _XdistTemplateHooks:
    """Hands the controller's templates to each xdist worker."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        """Put the template locations into the worker's ``workerinput``."""
        built = self.config.stash.get(templates_key, None)
        if built is not None:
            node.workerinput[_WORKERINPUT_KEY] = built.to_dict()
