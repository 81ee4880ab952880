"""What a worker needs of the run's schema templates: where they are, per backend.

:class:`BuiltTemplates` travels from the run's owner to each xdist worker (``workerinput``);
each backend copies its own (:meth:`~sessionerror.testdb.backend.DatabaseBackend.from_template`).
The owner's build is :mod:`sessionerror.testdb.templates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BuiltTemplates"]


@dataclass(frozen=True)
class BuiltTemplates:
    """Where this run's templates are: a location (path or database name) per backend."""

    locations: Mapping[str, str] = field(default_factory=dict)
    #: Backends whose per-run template the run's only process uses as its database itself
    #: (issue 20: one CREATE and one DROP, no copy). Never handed to xdist workers.
    adoptable: frozenset[str] = frozenset()
    #: The only process's kept databases, handed over whole (never to xdist workers).
    databases: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def for_backend(self, backend: str) -> str | None:
        """The template of ``backend``, if one was built."""
        return self.locations.get(backend)

    def to_dict(self) -> dict[str, str]:
        """Plain values for xdist's ``workerinput``."""
        return dict(self.locations)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BuiltTemplates:
        """Rebuild from :meth:`to_dict` output."""
        return cls({name: str(where) for name, where in values.items() if where})
