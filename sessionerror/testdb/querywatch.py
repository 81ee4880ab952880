"""Query-count assertions that say which engines they watch and never pass vacuously.

While a block runs, one listener on the ``Engine`` class sees the statements of every engine
(sync engines and the ``sync_engine`` behind each AsyncEngine). Statements of the watched engines
are counted; when none of them ran but another engine did, the assertion fails instead of
passing on zero: the test was measuring the wrong engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from sessionerror.redaction import mask_url
from sessionerror.testdb.querycount import _INTERNAL, QueryCountError

__all__ = ["as_sync_engine", "watch_queries"]


def as_sync_engine(bind: Any) -> Engine:
    """The sync Engine behind an Engine, AsyncEngine, Connection, AsyncConnection or Session."""
    candidate = bind
    for attribute in ("sync_engine", "engine"):
        if isinstance(candidate, Engine):
            break
        candidate = getattr(candidate, attribute, candidate)
    if not isinstance(candidate, Engine) and hasattr(bind, "get_bind"):  # (Async)Session
        candidate = as_sync_engine(getattr(bind, "sync_session", bind).get_bind())
    if not isinstance(candidate, Engine):
        raise TypeError(
            f"engine= must be an Engine, AsyncEngine, Connection or Session, got "
            f"{type(bind).__name__}"
        )
    return candidate


def _label(engine: Engine) -> str:
    return mask_url(engine.url.render_as_string(hide_password=False))


@contextmanager
def watch_queries(
    limit: int, *, watched: Sequence[Engine], exact: bool = False
) -> Iterator[list[str]]:
    """Fail if the block sends more than ``limit`` statements (or not exactly ``limit``) through
    the ``watched`` engines, or sends none through them while another engine sends some."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"query limit must be a non-negative int, got {limit!r}")
    watched_ids = {id(engine) for engine in watched}
    statements: list[str] = []
    elsewhere: dict[str, int] = {}

    def on_execute(
        conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, executemany: bool
    ) -> None:
        if _INTERNAL.match(statement):
            return
        if id(conn.engine) not in watched_ids:
            label = _label(conn.engine)
            elsewhere[label] = elsewhere.get(label, 0) + 1
            return
        text = " ".join(statement.split())
        statements.append(text + ("  [executemany]" if executemany else ""))

    had_events = bool(getattr(Engine, "_has_events", False))
    event.listen(Engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
        if not had_events:
            Engine._has_events = False  # back on SQLAlchemy's fast path
    count = len(statements)
    names = ", ".join(sorted({_label(engine) for engine in watched})) or "(none)"
    if count == 0 and elsewhere:
        others = ", ".join(f"{n} on {label}" for label, n in sorted(elsewhere.items()))
        raise QueryCountError(
            f"No statement ran on the watched engine(s) {names}, but {others}: the query "
            "count would pass without measuring anything. Fix: pass engine=<the engine your "
            "code uses> (an Engine or AsyncEngine), e.g. sessionerror_assert_max_queries(n, "
            "engine=my_engine)"
        )
    if count > limit or (exact and count != limit):
        wanted = f"exactly {limit}" if exact else f"at most {limit}"
        listing = "\n".join(f"  {number}. {sql}" for number, sql in enumerate(statements, 1))
        raise QueryCountError(
            f"Expected {wanted} queries, {count} were executed:\n{listing or '  (none)'}\n"
            f"(watched engine(s): {names})"
        )
