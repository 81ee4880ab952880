"""One backend's test database for this worker, as the fixtures hand it out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, MetaData

from sessionerror.testdb.querycount import StatementRecorder
from sessionerror.testdb.settings import Backend

__all__ = ["ProvidedDatabase"]


@dataclass
class ProvidedDatabase:
    """One backend's test database for this worker."""

    backend: Backend
    engine: Engine
    #: Masked URL, for messages.
    location: str
    #: Sees every statement sent through ``engine`` (for the query-count assertions).
    recorder: StatementRecorder = field(init=False)
    _tables: MetaData | None = field(default=None, init=False, repr=False)
    _cleanup: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.recorder = StatementRecorder.attach(self.engine)
        if self.backend == "postgresql":  # a full shared server: wait for a slot (issue 20)
            from sessionerror.testdb.postgres.capacity import wait_for_slots

            wait_for_slots(self.engine)

    @property
    def tables(self) -> MetaData:
        """The tables really in the database, reflected on first use (committed mode).

        Lazy (issue 11): reflecting a migrated schema of a hundred tables cost each worker
        about a second at start-up, also when no test used committed mode.
        """
        if self._tables is None:
            self._tables = MetaData()
            self._tables.reflect(self.engine)
        return self._tables

    def on_close(self, step: Callable[[], None]) -> None:
        """Run ``step`` when the provisioner closes (after the engine is disposed)."""
        self._cleanup.append(step)

    def close(self) -> None:
        """Dispose the engine, then run the clean-up steps, last added first."""
        self.engine.dispose()
        for step in reversed(self._cleanup):
            step()
