"""Conformance: does a team's own SessionError *class* honour the specification?

``sessionerror conformance MODULE:CLASS [--db URL] [--json]`` and, in a test suite,
:func:`assert_conforms` run the spec's behaviour against the class: its fields and enum
storage, methods and properties, class queries (right answers, one statement each),
validation, log lines, redaction and delete rules. One concern per module:

- :mod:`~sessionerror.conformance.loading`: ``module:Class`` to a class (one-line errors);
- :mod:`~sessionerror.conformance.harness`: parent rows from the class's foreign keys,
  one rolled-back ORM session per clause, statement counting;
- :mod:`~sessionerror.conformance.fields`, ``methods``, ``queries``, ``validation``,
  ``log_lines``, ``redaction``, ``delete_rules``: the clauses;
- :mod:`~sessionerror.conformance.runner`: the database (throwaway or rolled back) and the API;
- :mod:`~sessionerror.conformance.report`: the report.
"""

from sessionerror.conformance.loading import load_model
from sessionerror.conformance.report import ClauseResult, ConformanceReport
from sessionerror.conformance.runner import CLAUSES, assert_conforms, run_conformance

__all__ = [
    "CLAUSES",
    "ClauseResult",
    "ConformanceReport",
    "assert_conforms",
    "load_model",
    "run_conformance",
]
