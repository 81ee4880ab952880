"""The contract checker for async code: AsyncEngine / AsyncConnection binds.

``assert_contract(async_engine)`` (sync) checks the same database through the matching sync
driver (:meth:`sessionerror.urls.DatabaseURL.to_sync`). ``await assert_contract_async(bind)``
runs the very same checks through the async driver itself (``run_sync``), inside one
transaction that is rolled back, and gives the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sessionerror.check.api import assert_contract, run_checks
from sessionerror.check.report import ContractReport
from sessionerror.engines.kinds import async_kind

__all__ = ["assert_contract_async", "run_checks_async"]


async def run_checks_async(bind: Any, *, behaviour: bool = True) -> ContractReport:
    """:func:`~sessionerror.check.run_checks` through an AsyncEngine or AsyncConnection."""
    return await _run_sync_check(bind, run_checks, behaviour=behaviour)


async def assert_contract_async(bind: Any, *, behaviour: bool = True) -> ContractReport:
    """Async :func:`~sessionerror.check.assert_contract`: AssertionError listing every failure."""
    return await _run_sync_check(bind, assert_contract, behaviour=behaviour)


async def _run_sync_check(
    bind: Any, check: Callable[..., ContractReport], *, behaviour: bool
) -> ContractReport:
    """Run the sync ``check`` on ``bind``'s connection (``run_sync``); TypeError for other binds."""
    kind = async_kind(bind)
    if kind == "AsyncConnection":
        report: ContractReport = await bind.run_sync(check, behaviour=behaviour)
        return report
    if kind != "AsyncEngine":
        raise TypeError(
            f"{check.__name__}_async() needs an AsyncEngine or AsyncConnection, got "
            f"{type(bind).__name__}; for sync binds use {check.__name__}()"
        )
    async with bind.connect() as conn:
        report = await conn.run_sync(check, behaviour=behaviour)
    return report
