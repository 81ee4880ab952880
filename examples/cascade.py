"""Deleting a session removes its errors, files and tickets (ON DELETE CASCADE).

Runs on a temporary SQLite database by default, or on any database given with --db URL
(postgresql://... uses psycopg2). The schema is created if missing and everything the scenario
writes is rolled back. Exit status 0 when the database behaves, 1 when it does not, 2 when
the scenario cannot run (bad --db URL, unreachable database, sessionerror not installed).

    .venv/bin/python examples/cascade.py [--db URL]    # or `python` with the venv activated

The logic lives in sessionerror.scenarios.run_cascade, reusable from tests.
"""

import sys

try:
    from sessionerror.scenarios import main
except ImportError as exc:  # run by a Python without the project installed
    print(
        f"cascade.py: error: {exc} (Python {sys.executable}). Fix: activate the virtualenv "
        "(source .venv/bin/activate) or run .venv/bin/python examples/cascade.py",
        file=sys.stderr,
    )
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(main("cascade"))
