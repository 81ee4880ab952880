"""The contract checker: does a database honour the ``session_errors`` contract?"""

from sessionerror.check.api import (
    CheckResult,
    CheckStatus,
    ContractReport,
    DatabaseUnavailableError,
    Fix,
    assert_contract,
    check_reference_schema,
    connect_url,
    connection_for,
    normalise_url,
    run_checks,
)

__all__ = [
    "CheckResult",
    "CheckStatus",
    "ContractReport",
    "DatabaseUnavailableError",
    "Fix",
    "assert_contract",
    "check_reference_schema",
    "connect_url",
    "connection_for",
    "normalise_url",
    "run_checks",
]
