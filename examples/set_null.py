"""Deleting a file or ticket keeps the error: the link becomes NULL, its context stays.

Runs on a temporary SQLite database by default, or on any database given with --db URL
(postgresql://... uses psycopg2). The schema is created if missing and everything the scenario
writes is rolled back. Exit status 0 when the database behaves, 1 when it does not, 2 when
the scenario cannot run (bad --db URL, unreachable database, sessionerror not installed).

    .venv/bin/python examples/set_null.py [--db URL]    # or `python` with the venv activated

The logic lives in sessionerror.scenarios.run_set_null, reusable from tests.
"""

import sys

try:
    from sessionerror.scenarios import main
except ImportError as exc:  # run by a Python without the project installed
    print(
        f"set_null.py: error: {exc} (Python {sys.executable}). Fix: activate the virtualenv "
        "(source .venv/bin/activate) or run .venv/bin/python examples/set_null.py",
        file=sys.stderr,
    )
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(main("set_null"))
