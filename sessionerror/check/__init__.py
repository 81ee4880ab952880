"""The contract checker: does a database honour the ``session_errors`` contract?"""

from sessionerror.check.api import assert_contract, check_reference_schema, run_checks
from sessionerror.check.api_async import assert_contract_async, run_checks_async
from sessionerror.check.report import CheckResult, CheckStatus, ContractReport, Fix
from sessionerror.connect import connect_url, connection_for, normalise_url
from sessionerror.errors import DatabaseUnavailableError

__all__ = [
    "CheckResult",
    "CheckStatus",
    "ContractReport",
    "DatabaseUnavailableError",
    "Fix",
    "assert_contract",
    "assert_contract_async",
    "check_reference_schema",
    "connect_url",
    "connection_for",
    "normalise_url",
    "run_checks",
    "run_checks_async",
]
