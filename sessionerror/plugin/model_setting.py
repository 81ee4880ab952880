"""Internal: ``sessionerror_model`` put in force for the run.

Once the tests are collected, the class the setting names is imported and handed to
:func:`sessionerror.runtime.model_choice.configure_model`: from then on the kit's factories
(``SessionErrorFactory()`` and the row fixtures), the repositories' default and the data sets
write the team's class and its parents. The previous choice is restored when the run ends (an
inline pytester run leaves its outer process as it found it). Unset, nothing is imported.
"""

from __future__ import annotations

import pytest

from sessionerror.plugin.state import get_state

__all__ = ["activate_model", "model_problems"]

_active_key = pytest.StashKey[bool]()


def model_problems(config: pytest.Config) -> list[str]:
    """The ``sessionerror_model`` setting's problem (one line), if it is set and cannot work."""
    settings = get_state(config).config
    if not settings.is_explicit("model"):
        return []
    try:
        settings.load_model()
    except ValueError as exc:
        return [f"sessionerror: {exc}"]
    return []


def activate_model(config: pytest.Config) -> None:
    """Hand the configured class to the kit, once per run; a bad setting is one UsageError line."""
    state = get_state(config)
    if not state.config.is_explicit("model") or config.stash.get(_active_key, False):
        return
    try:
        model = state.config.load_model()
    except ValueError as exc:
        raise pytest.UsageError(f"sessionerror: {exc}") from None
    from sessionerror.runtime.model_choice import configure_model

    previous = configure_model(model)
    config.stash[_active_key] = True

    def restore() -> None:
        configure_model(previous)

    state.cleanups.append(restore)
