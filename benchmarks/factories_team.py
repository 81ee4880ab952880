"""The factory benchmark on a team's own schema: ``factories_for(TeamError)`` against plain
factory-boy factories hand-written for the same models, sync (SQLite, PostgreSQL) and async
(aiosqlite).

The team schema is the one the tests use (``tests/unit/factories/team_schema.py``): its own Base,
``sessions`` with NOT NULL columns of seven types and no ``name``, the mixin model with a NOT NULL
``tenant``. The plain factories fill the same columns with constants, sequences and a Faker
sentence, and the same technical-details payload (the model redacts it for both). Async, the
plain factories run inside ``AsyncSession.run_sync`` (one greenlet hop per call, as a team's
helper does); ours are ``create_async`` / ``create_batch_async``. Run by ``factories.py``.
"""

# factory-boy's declarations are untyped callables; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from factories import (
    Comparison,
    Sizes,
    _create_each,
    _median,
    _ms_per_object,
    plain_error_factory,
)
from factory.alchemy import SQLAlchemyModelFactory
from factory.declarations import LazyFunction
from factory.declarations import Sequence as FactorySequence
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from sessionerror.engines.sqlite import install_sqlite_listeners
from sessionerror.factories import factories_for, seed_factories
from sessionerror.models.binding import bind_session
from sessionerror.models.binding_async import bind_async_session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit" / "factories"))
from team_schema import Plan, TeamBase, TeamError, TeamSession  # type: ignore[import-not-found]

__all__ = ["compare_async", "compare_sync", "plain_team_factories"]


def plain_team_factories(db: Session) -> tuple[type[Any], type[Any]]:
    """Plain factory-boy factories for the team's session and error classes, writing to ``db``."""

    class PlainTeamSessionFactory(SQLAlchemyModelFactory):
        class Meta:
            model = TeamSession
            sqlalchemy_session = db
            sqlalchemy_session_persistence = "flush"

        jira_user_id = FactorySequence(lambda n: f"jira-{n}")
        seats = FactorySequence(lambda n: n)
        archived = False
        opened_at = LazyFunction(lambda: datetime.now(UTC))
        workspace_id = LazyFunction(uuid.uuid4)
        plan = Plan.FREE
        settings = LazyFunction(dict)

    return PlainTeamSessionFactory, plain_error_factory(
        db, TeamError, PlainTeamSessionFactory, tenant="acme"
    )


def _comparisons(
    backend: str, samples: dict[tuple[str, str], list[tuple[float, float]]], labels: dict[str, str]
) -> list[Comparison]:
    return [
        Comparison(
            backend, label, _median(samples[("plain", key)]), _median(samples[("ours", key)])
        )
        for key, label in labels.items()
    ]


def compare_sync(engine: Engine, backend: str, sizes: Sizes, seed: int) -> list[Comparison]:
    """Plain and ours on the team schema, single creates and ``create_batch``, alternating."""
    TeamBase.metadata.create_all(engine)
    seed_factories(seed)
    ours = factories_for(TeamError)
    n = sizes.objects
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with Session(engine) as db, bind_session(db):
        plain_parent, plain_error = plain_team_factories(db)
        parents = {"plain": plain_parent(), "ours": ours.session()}
        errors: dict[str, Any] = {"plain": plain_error, "ours": ours.session_error}
        for round_index in range(sizes.rounds + 1):  # round 0 warms up
            order = ("plain", "ours") if round_index % 2 else ("ours", "plain")
            for name in order:
                factory_class = errors[name]
                single = _ms_per_object(partial(_create_each, factory_class, n), n)
                batch = _ms_per_object(
                    partial(factory_class.create_batch, n, session=parents[name]), n
                )
                if round_index:
                    samples.setdefault((name, "single"), []).append(single)
                    samples.setdefault((name, "batch"), []).append(batch)
        db.rollback()
    TeamBase.metadata.drop_all(engine)
    labels = {
        "single": "team schema: `Factory()` with a new parent each",
        "batch": f"team schema: `create_batch({n}, session=parent)`",
    }
    return _comparisons(backend, samples, labels)


async def _timed(action: Callable[[], Coroutine[Any, Any, Any]], n: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    await action()
    return (
        (time.perf_counter() - wall) * 1000.0 / n,
        (time.process_time() - cpu) * 1000.0 / n,
    )


async def _compare_async(url: str, sizes: Sizes, seed: int) -> list[Comparison]:
    engine = create_async_engine(url)
    install_sqlite_listeners(engine.sync_engine)
    async with engine.begin() as connection:
        await connection.run_sync(TeamBase.metadata.create_all)
    seed_factories(seed)
    ours = factories_for(TeamError)
    n = sizes.objects
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    async with AsyncSession(engine) as db:
        plain_parent, plain_error = plain_team_factories(db.sync_session)
        with bind_async_session(db):
            parents = {
                "plain": await db.run_sync(lambda _s: plain_parent()),
                "ours": await ours.session.create_async(),
            }

            async def plain_single() -> None:
                for _ in range(n):
                    await db.run_sync(lambda _s: plain_error())

            async def plain_batch() -> None:
                parent = parents["plain"]
                await db.run_sync(lambda _s: plain_error.create_batch(n, session=parent))

            async def ours_single() -> None:
                for _ in range(n):
                    await ours.session_error.create_async()

            async def ours_batch() -> None:
                await ours.session_error.create_batch_async(n, session=parents["ours"])

            actions = {"plain": (plain_single, plain_batch), "ours": (ours_single, ours_batch)}
            for round_index in range(sizes.rounds + 1):
                order = ("plain", "ours") if round_index % 2 else ("ours", "plain")
                for name in order:
                    single, batch = actions[name]
                    timings = (await _timed(single, n), await _timed(batch, n))
                    if round_index:
                        samples.setdefault((name, "single"), []).append(timings[0])
                        samples.setdefault((name, "batch"), []).append(timings[1])
        await db.rollback()
    await engine.dispose()
    labels = {
        "single": "team schema, async: `create_async()` with a new parent each",
        "batch": f"team schema, async: `create_batch_async({n}, session=parent)`",
    }
    return _comparisons("aiosqlite", samples, labels)


def compare_async(path: Path, sizes: Sizes, seed: int) -> list[Comparison]:
    """Plain (through ``run_sync``) and ours (``create_async``) on an aiosqlite file."""
    return asyncio.run(_compare_async(f"sqlite+aiosqlite:///{path}", sizes, seed))
