"""A Jira export is refused while the session has blocking errors, allowed once resolved.

Runs on a temporary SQLite database by default, or on any database given with --db URL
(postgresql://... uses psycopg2). The schema is created if missing and everything the scenario
writes is rolled back. Exit status 0 when the database behaves, 1 when it does not, 2 when
the scenario cannot run (bad --db URL, unreachable database, sessionerror not installed).

    .venv/bin/python examples/blocking_gate.py [--db URL]    # or `python` with the venv activated

The logic lives in sessionerror.scenarios.run_blocking_gate, reusable from tests.
"""

import sys

try:
    from sessionerror.scenarios import main
except ImportError as exc:  # run by a Python without the project installed
    print(
        f"blocking_gate.py: error: {exc} (Python {sys.executable}). Fix: activate the virtualenv "
        "(source .venv/bin/activate) or run .venv/bin/python examples/blocking_gate.py",
        file=sys.stderr,
    )
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(main("blocking_gate"))
