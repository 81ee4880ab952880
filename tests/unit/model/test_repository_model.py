"""The repositories write (and query) the team's own error model, never the kit's reference one
silently."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from sessionerror import AsyncSessionErrorRepository, SessionError, SessionErrorRepository
from sessionerror.testdb.isolation_async import create_async_test_engine
from sessionerror.testing import sessionerror_engine_factory

from .team_with_defaults import DefaultedError, DefaultsBase, TeamSession

RECORD: dict[str, Any] = {
    "category": "user_fixable",
    "severity": "blocking",
    "stage": "upload",
    "user_message": "The file has no header row",
    "recovery_actions": ["Add a header row"],
}

# One engine per backend (see test_mixin.py for why not a single factory fixture).
defaults_engine_sqlite = sessionerror_engine_factory(
    metadata=DefaultsBase.metadata, backend="sqlite"
)
defaults_engine_postgresql = sessionerror_engine_factory(
    metadata=DefaultsBase.metadata, backend="postgresql"
)


@pytest.fixture
def defaults_engine(request: pytest.FixtureRequest, sessionerror_backend: str) -> Engine:
    engine: Engine = request.getfixturevalue(f"defaults_engine_{sessionerror_backend}")
    return engine


def _stored_tenant(db: Session, error_id: uuid.UUID, backend: str) -> Any:
    raw = error_id.hex if backend == "sqlite" else str(error_id)
    return db.execute(
        text("SELECT tenant FROM session_errors WHERE id = :id"), {"id": raw}
    ).scalar_one()


def test_sync_repository_writes_the_model_of_the_sessions_schema(
    defaults_engine: Engine, sessionerror_backend: str
) -> None:
    with defaults_engine.connect() as connection:
        connection.begin()  # rolled back when the connection closes
        db = Session(bind=connection)
        owner = TeamSession(owner="team")
        db.add(owner)
        db.flush()

        error = SessionErrorRepository(db).record(session_id=owner.id, **RECORD)

        assert type(error) is DefaultedError
        assert _stored_tenant(db, error.id, sessionerror_backend) == "acme"


@pytest.mark.asyncio
async def test_async_repository_writes_the_model_of_the_sessions_schema(
    defaults_engine: Engine, sessionerror_backend: str
) -> None:
    engine = create_async_test_engine(defaults_engine.url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.begin()  # rolled back when the connection closes
            db = AsyncSession(bind=connection, expire_on_commit=False)
            owner = TeamSession(owner="team")
            db.add(owner)
            await db.flush()

            error = await AsyncSessionErrorRepository(db).record(session_id=owner.id, **RECORD)

            assert type(error) is DefaultedError
            assert await db.run_sync(_stored_tenant, error.id, sessionerror_backend) == "acme"
            await db.close()
    finally:
        await engine.dispose()


WARNING = {**RECORD, "severity": "warning", "user_message": "One row was skipped"}


def test_sync_repository_queries_the_team_model_in_one_statement_each(
    defaults_engine: Engine, sessionerror_assert_num_queries: Any
) -> None:
    with defaults_engine.connect() as connection:
        connection.begin()  # rolled back when the connection closes
        db = Session(bind=connection)
        blocked, warned = TeamSession(owner="team"), TeamSession(owner="team")
        db.add_all([blocked, warned])
        db.flush()
        repo = SessionErrorRepository(db)
        repo.record(session_id=blocked.id, **RECORD)
        warning = repo.record(session_id=warned.id, **WARNING)

        with sessionerror_assert_num_queries(1, engine=defaults_engine):
            assert repo.has_blocking_errors(blocked.id) is True
        with sessionerror_assert_num_queries(1, engine=defaults_engine):
            assert repo.has_blocking_errors(warned.id) is False
        with sessionerror_assert_num_queries(1, engine=defaults_engine):
            found = repo.find_by_category(warned.id, "user_fixable")
        assert found == [warning] and type(found[0]) is DefaultedError
        assert repo.find_by_category(warned.id, "temporary") == []


@pytest.mark.asyncio
async def test_async_repository_queries_the_team_model_in_one_statement_each(
    defaults_engine: Engine, sessionerror_assert_num_queries: Any
) -> None:
    engine = create_async_test_engine(defaults_engine.url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.begin()  # rolled back when the connection closes
            db = AsyncSession(bind=connection, expire_on_commit=False)
            blocked, warned = TeamSession(owner="team"), TeamSession(owner="team")
            db.add_all([blocked, warned])
            await db.flush()
            repo = AsyncSessionErrorRepository(db)
            await repo.record(session_id=blocked.id, **RECORD)
            warning = await repo.record(session_id=warned.id, **WARNING)

            with sessionerror_assert_num_queries(1, engine=engine):
                assert await repo.has_blocking_errors(blocked.id) is True
            with sessionerror_assert_num_queries(1, engine=engine):
                assert await repo.has_blocking_errors(warned.id) is False
            with sessionerror_assert_num_queries(1, engine=engine):
                found = await repo.find_by_category(warned.id, "user_fixable")
            assert found == [warning] and type(found[0]) is DefaultedError
            assert await repo.find_by_category(warned.id, "temporary") == []
            await db.close()
    finally:
        await engine.dispose()


def test_repositories_refuse_to_guess_between_mapped_models(defaults_engine: Engine) -> None:
    # A fresh session holds nothing to tell the schemas apart; this process maps the kit's
    # SessionError and the team's DefaultedError.
    with Session(defaults_engine) as db:
        with pytest.raises(TypeError, match=r"SessionErrorRepository\(db, model=") as info:
            SessionErrorRepository(db)
        assert "DefaultedError" in str(info.value) and "SessionError" in str(info.value)
        assert SessionErrorRepository(db, model=DefaultedError).model is DefaultedError
        assert SessionErrorRepository(db, model=SessionError).model is SessionError
        with pytest.raises(TypeError, match=r"model=\.\.\.\) needs a mapped model class"):
            SessionErrorRepository(db, model="DefaultedError")  # type: ignore[arg-type]
    async_db = AsyncSession()  # never connects: the model is chosen in the constructor
    with pytest.raises(TypeError, match=r"AsyncSessionErrorRepository\(db, model="):
        AsyncSessionErrorRepository(async_db)
    assert AsyncSessionErrorRepository(async_db, model=DefaultedError).model is DefaultedError


#: A team's app process: the public API and its own model, nothing else (as the README shows).
_TEAM_APP = """
import asyncio, json, sys
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from sessionerror import AsyncSessionErrorRepository, SessionErrorRepository
from team_with_defaults import TeamSession

RECORD = json.loads(sys.argv[2])
url = make_url(sys.argv[1])
out = {}
with create_engine(url).connect() as connection:
    connection.begin()  # never committed
    with Session(bind=connection) as setup:
        owner = TeamSession(owner="team")
        setup.add(owner)
        setup.flush()
        owner_id = owner.id
    with Session(bind=connection) as db:  # a fresh session, as in a request
        error = SessionErrorRepository(db).record(session_id=owner_id, **RECORD)
        out["sync"] = [type(error).__name__, db.execute(text(
            "SELECT tenant FROM session_errors WHERE user_message = :m"
        ), {"m": RECORD["user_message"]}).scalar_one()]
    connection.rollback()

async def main() -> None:
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    engine = create_async_engine(url.set(drivername=driver[url.get_backend_name()]))
    async with engine.connect() as connection:
        await connection.begin()
        async with AsyncSession(bind=connection) as setup:
            owner = TeamSession(owner="team")
            setup.add(owner)
            await setup.flush()
            owner_id = owner.id
        async with AsyncSession(bind=connection) as db:
            error = await AsyncSessionErrorRepository(db).record(session_id=owner_id, **RECORD)
            out["async"] = [type(error).__name__, (await db.execute(text(
                "SELECT tenant FROM session_errors WHERE user_message = :m"
            ), {"m": RECORD["user_message"]})).scalar_one()]
        await connection.rollback()
    await engine.dispose()

asyncio.run(main())
out["reference_loaded"] = "sessionerror.models.session_error" in sys.modules
print(json.dumps(out))
"""


def test_team_app_without_model_argument_writes_its_own_model(defaults_engine: Engine) -> None:
    # A fresh interpreter: only there is the team's model the one mapped.
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            _TEAM_APP,
            defaults_engine.url.render_as_string(hide_password=False),
            json.dumps(RECORD),
        ],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    out = json.loads(completed.stdout)
    assert out == {
        "sync": ["DefaultedError", "acme"],
        "async": ["DefaultedError", "acme"],
        "reference_loaded": False,
    }
