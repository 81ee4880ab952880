"""The contract checker for async code: AsyncEngine / AsyncConnection binds.

``assert_contract(async_engine)`` (sync) checks the same database through the matching sync
driver (:func:`sessionerror.urls.sync_url`). ``await assert_contract_async(bind)`` runs the very
same checks through the async driver itself (``run_sync``), inside one transaction that is
rolled back, and gives the same verdict.
"""

from __future__ import annotations

from typing import Any

from sessionerror.check.api import assert_contract, run_checks
from sessionerror.check.report import ContractReport
from sessionerror.connect import async_bind_kind as _kind

__all__ = ["assert_contract_async", "run_checks_async"]


async def run_checks_async(bind: Any, *, behaviour: bool = True) -> ContractReport:
    """:func:`~sessionerror.check.run_checks` through an AsyncEngine or AsyncConnection."""
    kind = _kind(bind)
    if kind == "AsyncConnection":
        report: ContractReport = await bind.run_sync(run_checks, behaviour=behaviour)
        return report
    if kind != "AsyncEngine":
        raise TypeError(
            f"run_checks_async() needs an AsyncEngine or AsyncConnection, got "
            f"{type(bind).__name__}; for sync binds use run_checks()"
        )
    async with bind.connect() as conn:
        report = await conn.run_sync(run_checks, behaviour=behaviour)
    return report


async def assert_contract_async(bind: Any, *, behaviour: bool = True) -> ContractReport:
    """Async :func:`~sessionerror.check.assert_contract`: AssertionError listing every failure."""
    kind = _kind(bind)
    if kind == "AsyncConnection":
        report: ContractReport = await bind.run_sync(assert_contract, behaviour=behaviour)
        return report
    if kind != "AsyncEngine":
        raise TypeError(
            f"assert_contract_async() needs an AsyncEngine or AsyncConnection, got "
            f"{type(bind).__name__}; for sync binds use assert_contract()"
        )
    async with bind.connect() as conn:
        report = await conn.run_sync(assert_contract, behaviour=behaviour)
    return report
