"""Secrets never reach any output path, on both backends (issue 16).

Each secret of ``tests/unit/probes/secret_corpus.json`` is recorded through the application's path
(``SessionErrorRepository.record``, then an AUDIT resolution attempt) into a database of its
own, once per backend. The secret must then be absent from the stored row (raw SQL, every
column of ``session_errors``, JSON keys included), every log record of the ``sessionerror``
logger (DEBUG and up, AUDIT included, message and ``extra``), ``to_user_dict()``, the file
``sessionerror export`` writes (its bytes) and what ``sessionerror summary`` prints (text and
JSON). The CLI runs in-process. Ordinary texts must come back unchanged.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from sessionerror.cli import main
from sessionerror.models import Base, WorkflowSession
from sessionerror.models.audit import LOGGER_NAME, audit_resolution_attempt
from sessionerror.plugin.lazy import ensure_for_test
from sessionerror.plugin.state import get_state
from sessionerror.runtime.repository import SessionErrorRepository

CORPUS_FILE = Path(__file__).with_name("secret_corpus.json")


def _corpus() -> tuple[list[dict[str, str]], list[str]]:
    data = json.loads(CORPUS_FILE.read_text(encoding="utf-8"))
    return list(data["secrets"]), list(data["ordinary"])


SECRETS, ORDINARY = _corpus()


@dataclass
class Outputs:
    """Everything the kit produced for the recorded corpus, by output path."""

    rows: dict[str, str] = field(default_factory=dict)  # kind -> stored row, as text
    user_dicts: dict[str, str] = field(default_factory=dict)
    ordinary_messages: dict[str, str] = field(default_factory=dict)
    logs: str = ""
    export: str = ""
    summary: str = ""

    def places(self, kind: str) -> dict[str, str]:
        """Every output path's text for corpus entry ``kind``, by name."""
        return {
            "stored row": self.rows[kind],
            "to_user_dict()": self.user_dicts[kind],
            "log records": self.logs,
            "export file": self.export,
            "summary output": self.summary,
        }

    def leaks(self, kind: str, secret: str) -> list[str]:
        """The output paths that show ``secret`` (recorded as corpus entry ``kind``)."""
        return [name for name, shown in self.places(kind).items() if secret in shown]

    def contexts(self, names: list[str], kind: str, secret: str) -> str:
        """Where ``secret`` shows in each output path of ``names``, 80 characters either side."""
        found = []
        for name in names:
            text = self.places(kind)[name]
            at = text.find(secret)
            found.append(f"{name}: ...{text[max(0, at - 80) : at + len(secret) + 80]!r}...")
        return "\n".join(found)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extra = getattr(record, "sessionerror", None)
        self.lines.append(f"{record.levelname} {record.getMessage()} {extra!r}")


def _database_url(request: pytest.FixtureRequest, backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'corpus.db'}"
        return
    ensure_for_test(request.config)  # the plugin resolves PostgreSQL on first use (issue 19)
    state = get_state(request.config)
    server = state.postgres.server
    if server is None:
        pytest.skip(f"no PostgreSQL: {state.postgres.problem}")
    from sessionerror.testdb.postgres.janitor import DatabaseJanitor

    janitor = DatabaseJanitor(server.url, worker=f"{state.worker}o")
    janitor.create()
    try:
        yield janitor.database_url()
    finally:
        janitor.drop()


def _record(db: Session, raw: str) -> tuple[uuid.UUID, str]:
    session = WorkflowSession(name="corpus")
    db.add(session)
    db.flush()
    error = SessionErrorRepository(db).record(
        session_id=session.id,
        category="admin_required",
        severity="blocking",
        stage="jira_export",
        user_message=f"Export failed: {raw}",
        recovery_actions=[f"Check {raw}", "Retry"],
        technical_details={"trace": raw, "lines": [raw], raw[:200]: "as a key"},
        error_code=raw if len(raw) <= 64 else None,
    )
    audit_resolution_attempt(error, action=f"retry after {raw}", succeeded=False, actor=raw)
    return error.id, json.dumps(error.to_user_dict(), default=str)


def _stored_row(db: Session, error_id: uuid.UUID) -> str:
    assert db.bind is not None
    key = error_id.hex if db.bind.dialect.name == "sqlite" else str(error_id)
    row = db.execute(text("SELECT * FROM session_errors WHERE id = :id"), {"id": key}).one()
    return " | ".join(v if isinstance(v, str) else json.dumps(v, default=str) for v in row)


def _cli(argv: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    assert code == 0, out.getvalue() + err.getvalue()
    return out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def outputs(
    request: pytest.FixtureRequest,
    sessionerror_backend: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Outputs]:
    """The corpus recorded on this backend, and every output the kit made of it."""
    tmp = tmp_path_factory.mktemp(f"corpus-{sessionerror_backend}")
    for url in _database_url(request, sessionerror_backend, tmp):
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        found = Outputs()
        handler = _Records()
        logger = logging.getLogger(LOGGER_NAME)
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            with Session(engine) as db:
                ids = {}
                for entry in SECRETS:
                    ids[entry["kind"]], found.user_dicts[entry["kind"]] = _record(db, entry["text"])
                for ordinary in ORDINARY:
                    _, shown = _record(db, ordinary)
                    found.ordinary_messages[ordinary] = json.loads(shown)["user_message"]
                db.commit()
                found.rows = {kind: _stored_row(db, error_id) for kind, error_id in ids.items()}
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            engine.dispose()
        found.logs = "\n".join(handler.lines)
        target = tmp / "export.db"
        found.export = _cli(["export", "--db", url, "--to", str(target)])
        found.export += target.read_bytes().decode("utf-8", "replace")
        found.summary = _cli(["summary", "--db", url, "--top", "1000"])
        found.summary += _cli(["summary", "--db", url, "--top", "1000", "--json"])
        yield found


def _secret_params() -> list[Any]:
    return [pytest.param(entry["kind"], entry["secret"], id=entry["kind"]) for entry in SECRETS]


@pytest.mark.parametrize(("kind", "secret"), _secret_params())
def test_secret_reaches_no_output(outputs: Outputs, kind: str, secret: str) -> None:
    assert outputs.logs.count("AUDIT") >= len(SECRETS)  # the AUDIT lines were captured
    assert "Export failed" in outputs.rows[kind]  # the row really was read back
    leaks = outputs.leaks(kind, secret)
    assert leaks == [], outputs.contexts(leaks, kind, secret)


def test_ordinary_text_comes_back_unchanged(outputs: Outputs) -> None:
    changed = {
        ordinary: shown
        for ordinary, shown in outputs.ordinary_messages.items()
        if shown != f"Export failed: {ordinary}"
    }
    assert changed == {}
